import pytest
from django.core.cache import cache

from m4s.core.tests.factories import PASSWORD
from m4s.customers import services
from m4s.customers.models import Attribution, Binding
from m4s.demo import synthetic
from m4s.owners.middleware import SESSION_KEY


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()


def login(client, username):
    assert client.login(username=username, password=PASSWORD)


@pytest.mark.django_db
def test_customer_search_page_and_360_are_scoped(client, cars):
    login(client, "advisor-a")
    body = client.get("/console/customers/", {"q": cars.car.plate}).content.decode()
    assert "Zhang San" in body
    partial = client.get(
        "/console/customers/", {"q": "Zhang", "partial": "1"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Zhang San" in partial and "<html" not in partial
    page = client.get(f"/console/customers/{cars.known.pk}/").content.decode()
    assert (
        cars.car.plate in page and 'data-testid="timeline"' in page and "110***********002X" in page
    )
    assert client.get(f"/console/customers/{cars.other.pk}/").status_code == 404
    assert "Li Si" not in client.get("/console/customers/", {"q": "Li"}).content.decode()


@pytest.mark.django_db
def test_group_admin_assigns_consultants_on_the_page(client, cars):
    login(client, "admin-a")
    page = client.get(f"/console/customers/{cars.known.pk}/").content.decode()
    assert (
        'name="cs_agent"' in page and "11010519491231002X" in page
    )  # full ID number for this role
    r = client.post(
        f"/console/customers/{cars.known.pk}/assign/",
        {"sales_consultant": "", "service_advisor": cars.advisor_a.pk, "cs_agent": cars.cs_a.pk},
    )
    assert r.status_code == 302
    cars.known.refresh_from_db()
    assert cars.known.cs_agent == cars.cs_a and cars.known.sales_consultant is None
    client.logout()
    login(client, "advisor-a")
    assert (
        client.post(f"/console/customers/{cars.known.pk}/assign/", {"cs_agent": ""}).status_code
        == 403
    )


@pytest.mark.django_db
def test_desk_binding_on_the_page_shows_errors_clearly(client, cars, rng):
    login(client, "advisor-a")
    r = client.post(
        f"/console/customers/{cars.known.pk}/bind/",
        {"plate": "京A12345", "vin": "1M8GDM9A5KP042788"},
        follow=True,
    )
    assert r.status_code == 200 and 'role="alert"' in r.content.decode()
    plate = synthetic.make_plate(rng)
    r = client.post(
        f"/console/customers/{cars.known.pk}/bind/",
        {"plate": plate, "vin": synthetic.make_vin(rng), "brand": "BYD"},
        follow=True,
    )
    assert plate in r.content.decode()
    assert Binding.objects.for_group(cars.group_a).filter(customer=cars.known).count() == 2


@pytest.mark.django_db
def test_invitation_page_qr_codes_and_card(client, cars):
    login(client, "advisor-a")
    page = client.get("/console/invitations/").content.decode()
    invitation = services.get_or_create_invitation(cars.store_a, cars.advisor_a)
    assert f"/i/{invitation.code}/" in page
    png = client.get(f"/console/invitations/{invitation.code}.png")
    assert png["Content-Type"] == "image/png" and png.content.startswith(b"\x89PNG")
    svg = client.get(f"/console/invitations/{invitation.code}.svg")
    assert svg["Content-Type"] == "image/svg+xml" and b"<svg" in svg.content
    assert client.get(f"/console/invitations/{invitation.code}.gif").status_code == 404
    card = client.get("/console/card/").content.decode()
    assert 'data-testid="staff-card"' in card and str(cars.advisor_a) in card
    # another group's invitation QR is not theirs to fetch
    theirs = services.get_or_create_invitation(cars.store_b, cars.advisor_b)
    assert client.get(f"/console/invitations/{theirs.code}.png").status_code == 404
    assert client.get(f"/console/staff/{cars.advisor_b.pk}/card/").status_code == 404


@pytest.mark.django_db
def test_invitation_link_to_sign_in_to_binding_is_attributed(client, cars, rng, sms_outbox):
    import re

    from django.test import TestCase

    invitation = services.get_or_create_invitation(cars.store_a, cars.sales_a)
    r = client.get(f"/i/{invitation.code}/")
    assert r.status_code == 302 and r["Location"] == "/app/login/"
    client.get(f"/i/{invitation.code}/")  # opening twice counts once
    assert Attribution.objects.for_group(cars.group_a).filter(invitation=invitation).count() == 1
    phone = "+8613966667777"
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post("/app/login/", {"phone": phone})
    code = re.search(r"\b(\d{6})\b", sms_outbox[-1]["body"]).group(1)
    r = client.post("/app/login/", {"phone": phone, "code": code})
    assert r["Location"] == "/app/cars/"
    plate, vin = synthetic.make_plate(rng), synthetic.make_vin(rng)
    page = client.post("/app/cars/", {"plate": plate, "vin": vin}).content.decode()
    assert 'data-testid="bind-result"' in page and plate in page
    binding = Binding.objects.for_group(cars.group_a).get(vehicle__vin=vin)
    assert binding.staff == cars.sales_a and binding.via == "staff_qr"
    funnel = Attribution.objects.for_group(cars.group_a).get(invitation=invitation)
    assert funnel.signed_in_at and funnel.bound_at
    client.logout()
    login(client, "admin-a")
    rates = client.get("/console/invitations/").content.decode()
    assert "100%" in rates and str(cars.sales_a) in rates


@pytest.mark.django_db
def test_unknown_invitation_is_404(client, world):
    assert client.get("/i/nope123/").status_code == 404


@pytest.mark.django_db
def test_owner_consultants_page(client, cars):
    session = client.session
    session[SESSION_KEY] = cars.owner.pk
    session.save()
    assert (
        "/app/cars/" in client.get("/app/consultants/").content.decode()
    )  # nobody yet: bind first
    customer = services.get_or_create_customer_for_owner(cars.owner, cars.store_a)
    services.assign_consultants(
        cars.admin_a, customer, {"service_advisor": cars.advisor_a.pk, "cs_agent": cars.cs_a.pk}
    )
    page = client.get("/app/consultants/").content.decode()
    assert page.count('data-testid="consultant"') == 2 and str(cars.advisor_a) in page


@pytest.mark.django_db
def test_import_page_checks_then_imports_and_exports(client, cars, rng):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile

    from m4s.customers.models import Customer

    login(client, "admin-a")
    vin, plate = synthetic.make_vin(rng), synthetic.make_plate(rng)
    good = f"name,phone,store_code,vin,plate\n王芳,13912340000,{cars.store_a.code},{vin},{plate}\n".encode()
    bad = f"name,phone,store_code,vin,plate\n王芳,12345,{cars.store_a.code},{vin[:-1]}X,{plate}\n".encode()
    r = client.post("/console/customers/import/", {"file": SimpleUploadedFile("c.csv", bad)})
    assert (
        'data-testid="import-errors"' in r.content.decode()
        and 'data-testid="import-confirm"' not in r.content.decode()
    )
    r = client.post("/console/customers/import/", {"file": SimpleUploadedFile("c.csv", good)})
    assert 'data-testid="import-confirm"' in r.content.decode()
    assert (
        not Customer.objects.for_group(cars.group_a).filter(phone="+8613912340000").exists()
    )  # a check writes nothing
    token = client.session["m4s_import"]["token"]
    r = client.post("/console/customers/import/", {"confirm": token})
    assert (
        r.status_code == 200
        and Customer.objects.for_group(cars.group_a).filter(phone="+8613912340000").exists()
    )
    again = client.post(
        "/console/customers/import/", {"confirm": token}
    )  # a replayed confirm does nothing
    assert 'data-testid="import-error"' in again.content.decode()
    export = client.get("/console/customers/export.csv")
    text = export.content.decode("utf-8-sig")
    assert "+8613912340000" in text and vin in text and "11010519491231002X" not in text
    xlsx = client.get("/console/customers/export.xlsx")
    assert xlsx.content[:2] == b"PK" and io.BytesIO(xlsx.content)
    client.logout()
    login(client, "advisor-a")
    assert client.get("/console/customers/import/").status_code == 403
    assert client.get("/console/customers/export.csv").status_code == 403
