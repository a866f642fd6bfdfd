"""The complaints pages: the owner files a complaint (with a photo, once per submit), follows it,
replies, confirms and rates; the console desk, case page and figures with their actions. Another
owner's complaint is a 404, another group's staff get a 404, staff without the capability a 403;
bad input is a 4xx that changes nothing."""

import datetime as dt
import io

import openpyxl
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from m4s.complaints import services
from m4s.complaints.models import Complaint, ComplaintPhoto, CorrectiveAction
from m4s.core.tests.factories import make_staff
from m4s.customers import services as customer_services
from m4s.demo import synthetic
from m4s.owners.middleware import SESSION_KEY
from m4s.staff.choices import Role
from m4s.vehicles.models import Vehicle

pytestmark = pytest.mark.django_db


def png(name="dent.png") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, "PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def owner_client(owner) -> Client:
    client = Client()
    session = client.session
    session[SESSION_KEY] = owner.pk
    session.save()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def staff_client(user) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def text(response) -> str:
    return response.content.decode()


@pytest.fixture
def desk(cars, rng):
    """The test owner is a customer of store A with a bound car; group B's owner of store B."""
    w = cars
    w.manager_a = make_staff("manager-a", Role.STORE_MANAGER, w.group_a, [w.store_a])
    w.customer = customer_services.get_or_create_customer_for_owner(w.owner, w.store_a)
    w.my_car = Vehicle.objects.create(
        dealer_group=w.group_a,
        vin=synthetic.make_vin(rng),
        plate=synthetic.make_plate(rng),
        brand="Toyota",
        model="RAV4",
    )
    customer_services.bind_customer_vehicle(
        w.customer, w.my_car, via="desk", invitation=None, staff=w.advisor_a
    )
    w.customer_b = customer_services.get_or_create_customer_for_owner(w.owner_b, w.store_b)
    w.category = services.categories_for(w.group_a.pk)[0]
    w.category_b = services.categories_for(w.group_b.pk)[0]
    return w


def file(w, description="The car came back dirty and scratched", **extra) -> Complaint:
    return services.file_complaint(
        w.owner, description=description, category_id=w.category.pk, store_id=w.store_a.pk, **extra
    )


# --- owner ---------------------------------------------------------------------------------------
def test_the_tile_leads_to_my_complaints_and_the_form(desk):
    client = owner_client(desk.owner)
    group = text(client.get("/app/g/community/"))
    assert 'href="/app/complaints/"' in group
    r = client.get("/app/complaints/")
    assert r.status_code == 200 and 'data-testid="no-complaints"' in text(r)
    form = text(client.get("/app/complaints/new/"))
    assert 'name="idempotency_key"' in form and desk.my_car.plate in form
    assert f'value="{desk.category.pk}"' in form


def test_an_owner_files_a_complaint_with_a_photo_once(desk):
    w = desk
    client = owner_client(w.owner)
    data = {
        "idempotency_key": "key-12345678",
        "store": w.store_a.pk,
        "category": w.category.pk,
        "vehicle": w.my_car.pk,
        "description": "Scratch on the door after the visit",
    }
    r = client.post("/app/complaints/new/", {**data, "photos": png()})
    assert r.status_code == 302, text(r)
    c = Complaint.objects.for_group(w.group_a).get()
    assert r["Location"] == f"/app/complaints/{c.pk}/"
    assert c.vehicle_id == w.my_car.pk and c.channel == "app"
    assert ComplaintPhoto.objects.for_group(w.group_a).filter(complaint=c).count() == 1
    page = text(client.get(r["Location"]))
    assert c.reference in page and "Scratch on the door" in page
    assert 'data-step="received"' in page and 'data-step="resolved"' in page
    listing = text(client.get("/app/complaints/"))
    assert c.reference in listing and 'data-testid="status"' in listing
    # the same submit again (a double tap, a retry): still one complaint
    from inspect import signature

    if "idempotency_key" in signature(services.file_complaint).parameters:
        again = client.post("/app/complaints/new/", {**data, "photos": png()})
        assert again.status_code == 302 and again["Location"] == r["Location"]
        assert Complaint.objects.for_group(w.group_a).count() == 1


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"description": "   "}, "empty"),
        ({"description": "x" * 4001}, "too long"),
        ({"category": "999999"}, "unknown category"),
        ({"vehicle": "OTHER"}, "another customer's car"),
        ({"photos": "NOT_IMAGE"}, "not an image"),
    ],
)
def test_bad_input_is_a_4xx_and_files_nothing(desk, change, why):
    w = desk
    client = owner_client(w.owner)
    data = {
        "idempotency_key": "key-abcdefgh",
        "store": w.store_a.pk,
        "category": w.category.pk,
        "description": "It squeaks",
    }
    data.update(change)
    if data.get("vehicle") == "OTHER":
        data["vehicle"] = w.car.pk  # Zhang San's car, not this owner's
    if data.get("photos") == "NOT_IMAGE":
        data["photos"] = SimpleUploadedFile("x.png", b"<svg onload=alert(1)>", "image/png")
    r = client.post("/app/complaints/new/", data)
    assert 400 <= r.status_code < 500, (why, r.status_code)
    assert 'data-testid="error"' in text(r)
    assert not Complaint.objects.unscoped().exists()


def test_another_owners_complaint_is_a_404(desk):
    w = desk
    c = file(w)
    stranger = owner_client(w.owner_b)
    assert stranger.get(f"/app/complaints/{c.pk}/").status_code == 404
    for action in ("reply", "confirm", "reopen", "rate"):
        r = stranger.post(f"/app/complaints/{c.pk}/{action}/", {"body": "x", "reason": "x"})
        assert r.status_code == 404, action
    assert c.reference not in text(stranger.get("/app/complaints/"))
    assert owner_client(w.owner).get("/app/complaints/999999/").status_code == 404
    # a visitor who is not signed in goes to sign-in
    r = Client().get(f"/app/complaints/{c.pk}/")
    assert r.status_code == 302 and "/app/login/" in r["Location"]


def test_owner_and_agent_talk_until_the_owner_confirms_and_rates(desk):
    w = desk
    c = file(w)
    owner = owner_client(w.owner)
    agent = staff_client(w.cs_a)
    r = agent.post(f"/console/complaints/{c.pk}/reply/", {"body": "Sorry! We will repaint it."})
    assert r.status_code == 302
    page = text(owner.get(f"/app/complaints/{c.pk}/"))
    assert "We will repaint it." in page
    r = owner.post(
        f"/app/complaints/{c.pk}/reply/", {"body": "Thanks, here it is", "photos": png()}
    )
    assert r.status_code == 302
    assert "Thanks, here it is" in text(agent.get(f"/console/complaints/{c.pk}/"))
    cause = services.root_causes_for(w.group_a.pk)[0]
    r = agent.post(
        f"/console/complaints/{c.pk}/resolve/",
        {
            "root_cause": cause.pk,
            "resolution": "Door repainted free of charge",
            "action": "Cover doors with protective film at reception",
            "responsible": w.manager_a.pk,
            "due_date": (dt.date.today() + dt.timedelta(days=10)).isoformat(),
        },
    )
    assert r.status_code == 302, text(r)
    page = text(owner.get(f"/app/complaints/{c.pk}/"))
    assert 'data-testid="confirm"' in page and "Door repainted" in page
    assert owner.post(f"/app/complaints/{c.pk}/confirm/").status_code == 302
    c.refresh_from_db()
    assert c.status == "closed"
    page = text(owner.get(f"/app/complaints/{c.pk}/"))
    assert 'data-testid="rate"' in page
    bad = owner.post(f"/app/complaints/{c.pk}/rate/", {"rating": "9"})
    assert 400 <= bad.status_code < 500
    assert owner.post(f"/app/complaints/{c.pk}/rate/", {"rating": "4"}).status_code == 302
    c.refresh_from_db()
    assert c.rating == 4


# --- console -------------------------------------------------------------------------------------
def test_the_desk_lists_new_complaints_and_polls(desk):
    w = desk
    c = file(w)
    for user in (w.cs_a, w.manager_a, w.admin_a):
        client = staff_client(user)
        page = text(client.get("/console/complaints/?queue=store"))
        assert c.reference in page and 'hx-trigger="every' in page, user
        rows = client.get("/console/complaints/queue/?queue=store")
        assert rows.status_code == 200 and c.reference in text(rows)
        for queue in ("mine", "breaching"):
            assert client.get(f"/console/complaints/?queue={queue}").status_code == 200
    # filters
    client = staff_client(w.admin_a)
    assert c.reference in text(
        client.get(f"/console/complaints/queue/?queue=store&category={w.category.pk}&status=new")
    )
    assert c.reference not in text(
        client.get("/console/complaints/queue/?queue=store&status=closed")
    )


def test_console_permissions_and_isolation(desk):
    w = desk
    c = file(w)
    # another group's staff: the desk is theirs, the complaint is a 404
    other = staff_client(w.admin_b)
    assert c.reference not in text(other.get("/console/complaints/?queue=store"))
    assert other.get(f"/console/complaints/{c.pk}/").status_code == 404
    assert other.post(f"/console/complaints/{c.pk}/reply/", {"body": "x"}).status_code == 404
    # without the capability: 403
    tech = staff_client(w.tech_a)
    assert tech.get("/console/complaints/").status_code == 403
    assert tech.get(f"/console/complaints/{c.pk}/").status_code == 403
    assert tech.post(f"/console/complaints/{c.pk}/reply/", {"body": "x"}).status_code == 403
    # figures: managers only
    assert staff_client(w.cs_a).get("/console/complaints/figures/").status_code == 403
    assert staff_client(w.manager_a).get("/console/complaints/figures/").status_code == 200
    # an unknown action is a 404, not a 500
    assert staff_client(w.cs_a).post(f"/console/complaints/{c.pk}/explode/").status_code == 404
    # the owner's photo: the staff of the group see it, another group's staff and owner do not
    photo_complaint = file(w, photos=[png()])
    photo = ComplaintPhoto.objects.for_group(w.group_a).get(complaint=photo_complaint)
    url = photo.image.url
    assert staff_client(w.cs_a).get(url).status_code == 200
    assert owner_client(w.owner).get(url).status_code == 200
    assert other.get(url).status_code == 404
    assert owner_client(w.owner_b).get(url).status_code == 404


def test_case_actions_and_the_managers_check(desk):
    w = desk
    c = file(w)
    agent = staff_client(w.cs_a)
    page = text(agent.get(f"/console/complaints/{c.pk}/"))
    assert f'href="/console/customers/{w.customer.pk}/"' in page  # the customer 360
    assert 'data-testid="clock"' in page
    assert agent.post(f"/console/complaints/{c.pk}/acknowledge/").status_code == 302
    assert (
        agent.post(f"/console/complaints/{c.pk}/note/", {"body": "Check the CCTV"}).status_code
        == 302
    )
    assert (
        agent.post(
            f"/console/complaints/{c.pk}/call/",
            {"summary": "Called", "direction": "out", "minutes": "3"},
        ).status_code
        == 302
    )
    # the owner does not see the internal note
    assert "Check the CCTV" not in text(owner_client(w.owner).get(f"/app/complaints/{c.pk}/"))
    assert (
        agent.post(f"/console/complaints/{c.pk}/wait/", {"question": "Which door?"}).status_code
        == 302
    )
    c.refresh_from_db()
    assert c.status == "waiting_customer"
    assert agent.post(f"/console/complaints/{c.pk}/resume/").status_code == 302
    assert (
        agent.post(
            f"/console/complaints/{c.pk}/change/", {"severity": "high", "category": w.category.pk}
        ).status_code
        == 302
    )
    # empty text is refused and changes nothing
    before = c.events.count()
    r = agent.post(f"/console/complaints/{c.pk}/reply/", {"body": "  "})
    assert 400 <= r.status_code < 500 and c.events.count() == before
    assert (
        agent.post(
            f"/console/complaints/{c.pk}/escalate/", {"note": "Owner threatens media"}
        ).status_code
        == 302
    )
    c.refresh_from_db()
    assert c.level == 2 and c.severity == "high"
    cause = services.root_causes_for(w.group_a.pk)[0]
    manager = staff_client(w.manager_a)
    r = manager.post(
        f"/console/complaints/{c.pk}/resolve/",
        {
            "root_cause": cause.pk,
            "resolution": "Repainted",
            "action": "Protective film on every car at reception",
            "responsible": w.manager_a.pk,
            "due_date": (dt.date.today() + dt.timedelta(days=7)).isoformat(),
        },
    )
    assert r.status_code == 302, text(r)
    action = CorrectiveAction.objects.for_group(w.group_a).get(complaint=c)
    figures = text(manager.get("/console/complaints/figures/"))
    assert "Protective film on every car" in figures
    assert (
        manager.post(
            f"/console/complaints/actions/{action.pk}/check/", {"note": "Seen at reception"}
        ).status_code
        == 302
    )
    action.refresh_from_db()
    assert action.checked_by_id == w.manager_a.pk
    # another group's manager cannot check it
    assert (
        staff_client(w.admin_b).post(f"/console/complaints/actions/{action.pk}/check/").status_code
        == 404
    )


def test_figures_and_the_workbook(desk):
    w = desk
    file(w)
    admin = staff_client(w.admin_a)
    page = admin.get(f"/console/complaints/figures/?store={w.store_a.pk}")
    assert page.status_code == 200
    assert 'data-testid="fr-attainment"' in text(page) and "m4s-chart" in text(page)
    for bad in ("month=13-2026", "month=0001-01", "store=abc", "month=2026-99"):
        assert admin.get(f"/console/complaints/figures/?{bad}").status_code == 200
    r = admin.get("/console/complaints/figures/export.xlsx")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxml")
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    assert {"Summary", "By category", "By store", "By month", "Root causes"} <= set(book.sheetnames)
    assert staff_client(w.cs_a).get("/console/complaints/figures/export.xlsx").status_code == 403


def test_staff_record_a_phone_complaint(desk):
    w = desk
    agent = staff_client(w.cs_a)
    form = agent.get(f"/console/complaints/record/?customer={w.customer.pk}")
    assert form.status_code == 200
    r = agent.post(
        "/console/complaints/record/",
        {
            "customer": w.customer.pk,
            "channel": "phone",
            "category": w.category.pk,
            "severity": "normal",
            "description": "Called: waited two hours for pick-up",
        },
    )
    assert r.status_code == 302, text(r)
    c = Complaint.objects.for_group(w.group_a).get()
    assert c.channel == "phone" and c.recorded_by_id == w.cs_a.pk
    # another group's customer is a 404
    assert agent.get(f"/console/complaints/record/?customer={w.customer_b.pk}").status_code == 404


def test_staff_close_a_resolved_complaint_the_customer_confirmed_by_phone(desk):
    w = desk
    agent = staff_client(w.cs_a)
    c = services.record_complaint(
        w.cs_a,
        customer_id=w.known.pk,
        channel="phone",
        description="Waited two hours",
        category_id=w.category.pk,
    )
    services.resolve(
        w.cs_a,
        c,
        root_cause_id=services.root_causes_for(w.group_a.pk)[0].pk,
        resolution="Apologised, free car wash",
        action="Extra reception staff on Saturdays",
        responsible_id=w.manager_a.pk,
        due_date=dt.date.today() + dt.timedelta(days=20),
    )
    page = text(agent.get(f"/console/complaints/{c.pk}/"))
    assert 'data-testid="close"' in page
    assert 400 <= agent.post(f"/console/complaints/{c.pk}/close/", {"note": " "}).status_code < 500
    r = agent.post(f"/console/complaints/{c.pk}/close/", {"note": "Confirmed by phone"})
    assert r.status_code == 302
    c.refresh_from_db()
    assert c.status == "closed"
    assert (
        staff_client(w.admin_b)
        .post(f"/console/complaints/{c.pk}/close/", {"note": "x"})
        .status_code
        == 404
    )


def test_the_customer_360_lists_the_complaints_and_records_one(desk):
    w = desk
    c = file(w)
    page = text(staff_client(w.cs_a).get(f"/console/customers/{w.customer.pk}/"))
    assert 'data-testid="customer-complaints"' in page and c.reference in page
    assert f"/console/complaints/record/?customer={w.customer.pk}" in page
    # a salesperson sees the customer but does not handle complaints: no panel
    sales = text(staff_client(w.sales_a).get(f"/console/customers/{w.customer.pk}/"))
    assert 'data-testid="customer-complaints"' not in sales
