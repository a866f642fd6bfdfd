"""The service area's console pages: the board, appointments, staff booking, walk-ins, the
repair-order workbench through a whole visit, the invoice, the figures with their follow-up list,
and who may see what (403 without the capability, 404 for another group's objects)."""

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from m4s.core.tests.factories import PASSWORD
from m4s.service import billing as billing_services
from m4s.service import booking as booking_services
from m4s.service import surveys as survey_services
from m4s.service import workshop as workshop_services
from m4s.service.choices import Approval, ApprovalChannel, PhotoKind
from m4s.service.models import (
    Appointment,
    Invoice,
    PriceOverride,
    RepairLine,
    RepairOrder,
    RepairPhoto,
    Survey,
)
from m4s.service.tests.helpers import at

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()


@pytest.fixture
def client():
    """The console in English, whatever translations exist (the default language is Chinese)."""
    return Client(HTTP_ACCEPT_LANGUAGE="en")


def login(client, username):
    client.logout()
    assert client.login(username=username, password=PASSWORD)


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def photo(name="photo.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def book_visit(w, *, hour=9, problem="Squeak when braking", vehicle=None, customer=None):
    appointment, _created = booking_services.book_appointment(
        customer=customer or w.customer,
        vehicle=vehicle or w.my_car,
        store=w.store_a,
        starts_at=at(w.day, hour, store=w.store_a),
        package_id=w.s10k.pk,
        problem=problem,
        owner=w.owner if customer is None else None,
    )
    return appointment


def walk_in(w, **kw):
    return workshop_services.check_in(
        w.advisor_a,
        store=w.store_a,
        customer=kw.get("customer", w.customer),
        vehicle=kw.get("vehicle", w.my_car),
        odometer=kw.get("odometer", 18600),
        fuel_pct=50,
        symptoms="Rattle from the back",
    )


def deliver_a_visit(w) -> RepairOrder:
    """A walk-in with one approved job, worked, settled and delivered (through the services)."""
    ro = walk_in(w)
    line = workshop_services.add_line(
        w.advisor_a,
        ro,
        operation_id=w.catalogue.operations["BULB"].pk,
        parts=[{"part_id": w.catalogue.parts["90981-13046"].pk, "quantity": 1}],
        reason="Left headlamp out",
    )
    workshop_services.decide_line(ro, line.pk, True, actor=w.advisor_a, reason="At the desk")
    workshop_services.clock_on(w.tech_a, ro, line.pk)
    workshop_services.clock_off(w.tech_a, ro, line.pk, done=True)
    workshop_services.advance(w.tech_a, ro, "quality_check")
    workshop_services.advance(w.advisor_a, ro, "ready")
    billing_services.settle(w.advisor_a, ro)
    workshop_services.deliver(w.advisor_a, ro, odometer=18610)
    return ro


def answer_unhappy_survey(w, ro) -> Survey:
    survey_services.open_due_surveys(now=timezone.now() + dt.timedelta(days=1, hours=1))
    survey = Survey.objects.for_group(w.group_a).get(repair_order=ro)
    return survey_services.answer_survey(
        w.owner,
        survey.pk,
        scores={"initiation": 9, "advisor": 8, "facility": 9, "pickup": 9, "quality": 4},
        nps=3,
        comment="The headlamp flickers again",
    )


def follow(client, url, data=None, **kw):
    """POST a form the way a browser does and land on the page it redirects to."""
    return client.post(url, data or {}, follow=True, **kw)


# --- who sees what -------------------------------------------------------------------------------
def test_pages_render_for_the_right_roles_and_refuse_others(client, workshop):
    w = workshop
    appointment = book_visit(w)
    ro = walk_in(w, customer=w.known, vehicle=w.car, odometer=100)
    board = f"/console/service/?store={w.store_a.pk}&date={w.day}"
    order = f"/console/service/orders/{ro.pk}/"
    appt_url = f"/console/service/appointments/{appointment.pk}/"
    figures = "/console/service/figures/"
    book = f"/console/service/book/?customer={w.customer.pk}"
    walk = f"/console/service/check-in/?customer={w.customer.pk}"

    # Not signed in: to the sign-in page.
    r = client.get(board)
    assert r.status_code == 302 and r.url.startswith("/console/login/")

    login(client, "advisor-a")
    body = page(client.get(board))
    assert w.my_car.plate in body and w.customer.name in body and "10,000 km service" in body
    assert f'href="{appt_url}#check-in"' in body  # the check-in button
    assert 'data-testid="column-checked_in"' in body and w.car.plate in body
    assert re.search(r"Checked in\s*<span class=\"pill\">1</span>", body)
    home = page(client.get("/console/"))
    assert 'href="/console/service/"' in home and 'data-testid="service-today"' in home
    assert 'href="/console/service/figures/"' not in home
    assert "Squeak when braking" in page(client.get(appt_url))
    assert w.known.name in page(client.get(order))
    assert 'name="odometer"' in page(client.get(walk))
    assert 'name="starts_at"' in page(client.get(f"{book}&date={w.day}&service={w.s10k.pk}"))
    assert client.get(figures).status_code == 403
    customer_page = page(client.get(f"/console/customers/{w.customer.pk}/"))
    assert f'href="/console/service/book/?customer={w.customer.pk}"' in customer_page
    assert f'href="/console/service/check-in/?customer={w.customer.pk}"' in customer_page

    login(client, "tech-a")  # works on cars, books nothing
    assert w.car.plate in page(client.get(board))
    assert 'name="rating_' in page(client.get(order))
    assert client.get(book).status_code == 403

    login(client, "cs-a")  # books visits, does not work on cars
    assert "Check in" not in re.sub(r"<nav>.*?</nav>", "", page(client.get(board)), flags=re.S)
    assert page(client.get(book))
    assert client.get(walk).status_code == 403

    login(client, "sales-a")  # no service capability at all
    for url in (board, order, appt_url, figures, book, walk, f"{order}invoice/"):
        assert client.get(url).status_code == 403, url
    assert 'href="/console/service/"' not in page(client.get("/console/"))
    assert (
        client.post(f"/console/service/orders/{ro.pk}/status/", {"to": "ready"}).status_code == 403
    )

    login(client, "admin-a")  # sees figures and can read an order, does not book or work
    assert client.get(board).status_code == 403
    assert 'data-testid="kpis"' in page(client.get(figures))
    body = page(client.get(order))
    assert w.known.name in body and 'name="rating_' not in body
    home = page(client.get("/console/"))
    assert 'href="/console/service/figures/"' in home and 'data-testid="service-today"' not in home

    login(client, "manager-a")
    assert 'data-testid="kpis"' in page(client.get(figures))
    assert 'data-testid="appointments"' in page(client.get(board))


def test_board_queries_do_not_grow_with_the_rows(client, workshop, django_assert_max_num_queries):
    w = workshop
    book_visit(w)
    book_visit(w, hour=10, customer=w.known, vehicle=w.car, problem="")
    walk_in(w, customer=w.known, vehicle=w.car, odometer=100)
    login(client, "advisor-a")
    with django_assert_max_num_queries(11):  # + the shell's conversations badge (one count)
        body = page(client.get(f"/console/service/?date={w.day}"))
    assert body.count('data-testid="appointment-') == 2


# --- tenancy ----------------------------------------------------------------------------------------
def test_staff_of_another_group_get_404(client, workshop):
    w = workshop
    ro = deliver_a_visit(w)
    appointment = book_visit(w, customer=w.known, vehicle=w.car)
    survey = answer_unhappy_survey(w, ro)
    line = ro.lines.first()
    for username in ("advisor-b", "admin-b"):
        login(client, username)
        for url in (
            f"/console/service/orders/{ro.pk}/",
            f"/console/service/orders/{ro.pk}/invoice/",
            f"/console/service/appointments/{appointment.pk}/",
        ):
            assert client.get(url).status_code == 404, (username, url)
    login(client, "advisor-b")
    assert client.get(f"/console/service/?store={w.store_a.pk}").status_code == 404
    assert client.get(f"/console/service/book/?customer={w.customer.pk}").status_code == 404
    for url, data in (
        (
            f"/console/service/orders/{ro.pk}/lines/{line.pk}/decide/",
            {"approve": "1", "reason": "x"},
        ),
        (f"/console/service/orders/{ro.pk}/deliver/", {"odometer": "20000"}),
        (f"/console/service/appointments/{appointment.pk}/cancel/", {"reason": "x"}),
        (f"/console/service/appointments/{appointment.pk}/check-in/", {"odometer": "1"}),
    ):
        assert client.post(url, data).status_code == 404, url
    login(client, "admin-b")
    r = client.post(f"/console/service/figures/follow-ups/{survey.pk}/", {"note": "called"})
    assert r.status_code == 404
    assert "The headlamp flickers again" not in page(client.get("/console/service/figures/"))
    appointment.refresh_from_db()
    survey.refresh_from_db()
    assert appointment.status == "booked" and survey.followed_up_at is None


# --- booking and walk-ins --------------------------------------------------------------------------
def test_staff_book_a_visit_on_the_page(client, workshop):
    w = workshop
    login(client, "advisor-a")
    url = "/console/service/book/"
    body = page(client.get(url, {"customer": w.customer.pk, "date": w.day, "service": w.s10k.pk}))
    key = re.search(r'name="key" value="([0-9a-f]+)"', body).group(1)
    nine = at(w.day, 9, store=w.store_a).isoformat()
    assert f'value="{nine}"' in body and ">09:00<" in body
    partial = page(
        client.get(
            "/console/service/book/slots/",
            {"store": w.store_a.pk, "date": w.day, "service": "problem", "mode": "dropoff"},
            HTTP_HX_REQUEST="true",
        )
    )
    assert "<html" not in partial and 'name="starts_at"' in partial

    form = {
        "customer": w.customer.pk,
        "store": w.store_a.pk,
        "vehicle": w.my_car.pk,
        "service": w.s10k.pk,
        "problem": "Also check the wipers",
        "mode": "waiting",
        "channel": "phone",
        "date": w.day.isoformat(),
        "starts_at": "not a time",
        "key": key,
    }
    r = client.post(url, form)
    assert r.status_code == 400 and "Choose one of the free times." in r.content.decode()
    assert not Appointment.objects.for_group(w.group_a).exists()

    form["starts_at"] = nine
    r = client.post(url, form)
    appointment = Appointment.objects.for_group(w.group_a).get()
    assert r.status_code == 302 and r.url == f"/console/service/appointments/{appointment.pk}/"
    assert (appointment.channel, appointment.booked_by, appointment.package) == (
        "phone",
        w.advisor_a,
        w.s10k,
    )
    assert appointment.problem == "Also check the wipers"
    # A double submit with the same key books nothing new.
    r = client.post(url, form)
    assert r.status_code == 302 and Appointment.objects.for_group(w.group_a).count() == 1
    assert "Visit booked for" in page(client.get(r.url))

    # The car is booked: a second visit is refused with the service's message.
    form["key"] = "another-key"
    r = client.post(url, form)
    assert r.status_code == 400 and "already has a visit booked" in r.content.decode()

    # The board shows it with its parts reserved; cancelling needs a reason.
    body = page(client.get(f"/console/service/?date={w.day}"))
    row = re.search(rf'data-testid="appointment-{appointment.pk}".*?</tr>', body, re.S).group(0)
    assert "09:00" in row and "Waiting" in row and '<span class="pill ok">yes</span>' in row
    cancel = f"/console/service/appointments/{appointment.pk}/cancel/"
    r = client.post(cancel, {"reason": " "})
    assert r.status_code == 400 and "Say why the visit is cancelled." in r.content.decode()
    r = client.post(cancel, {"reason": "Owner is travelling"}, follow=True)
    assert "The visit is cancelled" in page(r)
    appointment.refresh_from_db()
    assert appointment.status == "cancelled"


def test_walk_in_check_in_on_the_page(client, workshop):
    w = workshop
    login(client, "advisor-a")
    url = "/console/service/check-in/"
    body = page(client.get(url, {"customer": w.customer.pk}))
    assert 'value="18500"' in body  # the last odometer reading, prefilled
    form = {
        "customer": w.customer.pk,
        "store": w.store_a.pk,
        "vehicle": w.my_car.pk,
        "odometer": "18000",
        "fuel": "30",
        "symptoms": "Engine light on",
        "belongings": "umbrella",
    }
    r = client.post(url, form)
    assert r.status_code == 400 and "lower than the last reading (18500 km)" in r.content.decode()
    form["odometer"] = "18550"
    r = client.post(url, {**form, "photos": [SimpleUploadedFile("x.png", b"not an image")]})
    assert r.status_code == 400 and "Only pictures in JPEG, PNG or WebP" in r.content.decode()
    assert not RepairOrder.objects.for_group(w.group_a).exists()
    r = client.post(url, {**form, "photos": [photo("front.png"), photo("back.png")]})
    ro = RepairOrder.objects.for_group(w.group_a).get()
    assert r.status_code == 302 and r.url == f"/console/service/orders/{ro.pk}/"
    assert (ro.symptoms, ro.belongings, ro.odometer_in, ro.appointment) == (
        "Engine light on",
        "umbrella",
        18550,
        None,
    )
    assert RepairPhoto.objects.for_group(w.group_a).filter(kind=PhotoKind.WALK_ROUND).count() == 2
    body = page(client.get(r.url))
    assert (
        "Engine light on" in body
        and "umbrella" in body
        and len(re.findall(r'src="/media/service-ro/\d+/[0-9a-f]{32}\.png"', body)) == 2
    )


# --- a whole visit through the pages ---------------------------------------------------------------
def test_one_visit_through_the_workbench(client, workshop):
    w = workshop
    appointment = book_visit(w)
    login(client, "advisor-a")

    # Reception: the owner's words are prefilled; a bad reading is refused and nothing changes.
    body = page(client.get(f"/console/service/appointments/{appointment.pk}/"))
    assert re.search(r'name="symptoms"[^>]*>Squeak when braking</textarea>', body)
    check_in = f"/console/service/appointments/{appointment.pk}/check-in/"
    form = {"odometer": "100", "fuel": "40", "symptoms": "Squeak when braking"}
    r = client.post(check_in, form)
    assert r.status_code == 400 and "lower than the last reading" in r.content.decode()
    r = client.post(check_in, {**form, "odometer": "18620", "belongings": "child seat"})
    ro = RepairOrder.objects.for_group(w.group_a).get()
    order = f"/console/service/orders/{ro.pk}/"
    assert r.status_code == 302 and r.url == order
    appointment.refresh_from_db()
    assert appointment.status == "checked_in" and ro.belongings == "child seat"
    body = page(client.get(order))
    assert "Checked in: repair order" in body and "child seat" in body
    assert w.customer.name in body and w.customer.phone in body and w.my_car.plate in body

    # Inspection by the technician: pads red with a photo, wipers amber, the rest green.
    login(client, "tech-a")
    points = {p.name: p.pk for p in w.template.points.all()}
    data = {f"rating_{pk}": "green" for pk in points.values()}
    pads, wipers = points["Front brake pads"], points["Wipers"]
    data |= {
        f"rating_{pads}": "red",
        f"note_{pads}": "2 mm left",
        f"measure_{pads}": "2.0",
        f"photo_{pads}": photo("pads.png"),
        f"rating_{wipers}": "amber",
        f"note_{wipers}": "streaking",
        "action": "complete",
    }
    body = page(follow(client, f"{order}inspection/", data))
    assert "the owner is asked to approve" in body
    ro.refresh_from_db()
    assert ro.status == "waiting_approval"
    lines = {ln.operation.code: ln for ln in RepairLine.objects.for_group(w.group_a)}
    assert lines["PADF"].approval == lines["WIPE"].approval == Approval.PENDING
    assert (
        RepairPhoto.objects.for_group(w.group_a).get(kind=PhotoKind.INSPECTION).result.point_id
        == pads
    )
    assert "2 mm left" in body and "Record verbal approval" in body

    # Verbal answers need a reason; with one they are recorded with who, how and when.
    login(client, "advisor-a")
    decide = f"{order}lines/{lines['PADF'].pk}/decide/"
    body = page(follow(client, decide, {"approve": "1", "reason": "  "}))
    assert "Record how and why the owner decided" in body
    lines["PADF"].refresh_from_db()
    assert lines["PADF"].approval == Approval.PENDING
    page(follow(client, decide, {"approve": "1", "reason": "Phone call at 10:20"}))
    page(
        follow(
            client,
            f"{order}lines/{lines['WIPE'].pk}/decide/",
            {"approve": "0", "reason": "Owner will buy them himself"},
        )
    )
    lines["PADF"].refresh_from_db()
    assert (lines["PADF"].approval, lines["PADF"].approval_channel) == (
        Approval.APPROVED,
        ApprovalChannel.VERBAL,
    )
    assert lines["PADF"].approval_staff == w.advisor_a
    ro.refresh_from_db()
    assert ro.status == "in_repair"

    # Work found later waits for approval too.
    body = page(
        follow(
            client,
            f"{order}lines/",
            {"operation": w.catalogue.operations["BULB"].pk, "reason": " "},
        )
    )
    assert "Say why this work is needed." in body
    body = page(
        follow(
            client,
            f"{order}lines/",
            {
                "operation": w.catalogue.operations["BULB"].pk,
                "part": w.catalogue.parts["90981-13046"].pk,
                "quantity": "1",
                "reason": "Number plate lamp out",
            },
        )
    )
    bulb = RepairLine.objects.for_group(w.group_a).get(operation__code="BULB")
    assert bulb.approval == Approval.PENDING and "Number plate lamp out" in body
    page(follow(client, f"{order}lines/{bulb.pk}/decide/", {"approve": "0", "reason": "Call"}))
    assert "Phone call at 10:20" in page(client.get(order))

    # The technician clocks on and off; unapproved work cannot be started.
    login(client, "tech-a")
    body = page(follow(client, f"{order}lines/{lines['WIPE'].pk}/clock/", {"action": "on"}))
    assert "The owner has not approved this work." in body
    approved = list(
        RepairLine.objects.for_group(w.group_a).filter(repair_order=ro, approval="approved")
    )
    assert {ln.operation.code for ln in approved} == {"OIL", "INSP", "PADF"}
    body = page(follow(client, f"{order}status/", {"to": "quality_check"}))
    assert "Finish every approved job first." in body
    first = approved[0]
    body = page(follow(client, f"{order}lines/{first.pk}/clock/", {"action": "on"}))
    assert "Clocked on." in body and "Clock off" in body
    body = page(follow(client, f"{order}lines/{first.pk}/clock/", {"action": "off"}))
    first.refresh_from_db()
    assert "Clocked off." in body and first.work_status == "in_progress"
    for ln in approved:
        body = page(follow(client, f"{order}lines/{ln.pk}/clock/", {"action": "on"}))
        assert "Clocked on." in body and "Clock off" in body
        page(follow(client, f"{order}lines/{ln.pk}/clock/", {"action": "done"}))
    assert all(entry.ended_at for ln in approved for entry in ln.time_entries.all())
    assert {
        ln.work_status
        for ln in RepairLine.objects.for_group(w.group_a).filter(pk__in=[ln.pk for ln in approved])
    } == {"done"}
    page(follow(client, f"{order}status/", {"to": "quality_check"}))
    ro.refresh_from_db()
    assert ro.status == "quality_check"

    login(client, "advisor-a")
    body = page(follow(client, f"{order}status/", {"to": "ready"}))
    ro.refresh_from_db()
    assert ro.status == "ready" and 'data-testid="settle"' in body

    # Settlement: the form carries the list prices; above the list is refused, so is a discount
    # without a reason; neither writes anything.
    oil = next(ln for ln in approved if ln.operation.code == "OIL")
    pads_line = next(ln for ln in approved if ln.operation.code == "PADF")
    form = {}
    for ln in approved:
        form[f"labour_{ln.pk}"] = str(ln.labour_list_price)
        form[f"payer_{ln.pk}"] = "customer"
        form[f"reason_{ln.pk}"] = ""
        for lp in ln.parts.all():
            form[f"part_{lp.pk}"] = str(lp.list_price)
    assert f'name="labour_{oil.pk}" value="120.00"' in body
    body = page(follow(client, f"{order}settle/", {**form, f"labour_{oil.pk}": "130.00"}))
    assert "cannot be charged above the published price 120.00" in body
    body = page(follow(client, f"{order}settle/", {**form, f"labour_{oil.pk}": "100.00"}))
    assert "Say why Engine oil and filter change is charged below the list price." in body
    assert not Invoice.objects.for_group(w.group_a).exists()
    body = page(
        follow(
            client,
            f"{order}settle/",
            {
                **form,
                f"labour_{oil.pk}": "100.00",
                f"reason_{oil.pk}": "loyal customer",
                f"payer_{pads_line.pk}": "warranty",
            },
        )
    )
    invoice = Invoice.objects.for_group(w.group_a).get()
    # Oil 120−20 + oil filter 58 + oil 368 + inspection 0 = 526 customer; pads 820 warranty.
    assert (invoice.customer_pay_net, invoice.net_total, invoice.discount_total) == (
        Decimal("526.00"),
        Decimal("1346.00"),
        Decimal("20.00"),
    )
    assert PriceOverride.objects.for_group(w.group_a).get().reason == "loyal customer"
    assert f"Settled: invoice {invoice.number}" in body and 'data-testid="deliver"' in body

    # The printable invoice.
    body = page(client.get(f"{order}invoice/"))
    assert invoice.number in body and ro.number in body and "data-print" in body  # app.js prints
    totals = re.search(r'data-testid="invoice-totals".*?</table>', body, re.S).group(0)
    for label, amount in (
        ("net", "1346.00"),
        ("tax", "174.98"),
        ("total", "1520.98"),
        ("customer-pays", "594.38"),
    ):
        assert f'data-testid="{label}">¥{amount}<' in totals, label
    assert "Paid by: Customer" in body and "Paid by: Warranty" in body
    assert "loyal customer" in body and "−¥20.00" in body
    assert "Front brake pads (set)" in body and "Wiper" not in body  # declined lines not billed

    # Delivery.
    body = page(follow(client, f"{order}deliver/", {"odometer": "100"}))
    assert "The odometer must be at least the check-in reading (18620 km)." in body
    body = page(follow(client, f"{order}deliver/", {"odometer": "18622"}))
    ro.refresh_from_db()
    assert ro.status == "delivered" and ro.odometer_out == 18622
    assert "Delivered. The revisit survey is scheduled." in body
    assert Survey.objects.for_group(w.group_a).filter(repair_order=ro).exists()


def test_a_settle_form_refuses_users_who_may_not_settle(client, workshop):
    w = workshop
    ro = walk_in(w)
    login(client, "tech-a")
    assert client.post(f"/console/service/orders/{ro.pk}/settle/", {}).status_code == 403
    assert client.post(f"/console/service/orders/{ro.pk}/deliver/", {}).status_code == 403
    body = page(client.get(f"/console/service/orders/{ro.pk}/invoice/", follow=True))
    assert "This repair order is not settled yet." in body


# --- figures ------------------------------------------------------------------------------------
def test_figures_show_a_low_survey_to_follow_up(client, workshop):
    w = workshop
    ro = deliver_a_visit(w)
    survey = answer_unhappy_survey(w, ro)
    assert survey.needs_follow_up
    login(client, "manager-a")
    body = page(client.get("/console/service/figures/"))
    expected_csi = (9 * 17 + 8 * 18 + 9 * 21 + 9 * 20 + 4 * 24) / 10
    assert re.search(rf'data-testid="csi">{expected_csi:.1f}<', body)
    assert 'data-testid="nps">-100<' in body  # one detractor
    assert 'data-testid="ftfr">100%<' in body
    assert "<svg" in body and "<polyline" in body
    follow_ups = re.search(r'data-testid="follow-ups".*?</section>', body, re.S).group(0)
    assert "The headlamp flickers again" in follow_ups and w.customer.name in follow_ups
    assert ro.number in follow_ups and '<span class="score low"' in follow_ups

    url = f"/console/service/figures/follow-ups/{survey.pk}/"
    assert "Write what was done." in page(follow(client, url, {"note": " "}))
    body = page(follow(client, url, {"note": "Called; re-check booked for Friday"}))
    survey.refresh_from_db()
    assert survey.followed_up_by == w.manager_a
    assert survey.follow_up_note == "Called; re-check booked for Friday"
    assert "Follow-up recorded" in body and "The headlamp flickers again" not in body
