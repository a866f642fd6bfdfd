"""Regression tests for a review's findings: scope of transfer decisions, stale store links,
odd digits in forms, damaged spreadsheets."""

import io
import re

import pytest
from django.test import TestCase

from m4s.core.tests.factories import PASSWORD, make_staff, staff_token
from m4s.customers import services
from m4s.customers.models import TransferRequest
from m4s.owners.models import Owner
from m4s.staff.choices import Role


@pytest.mark.django_db
def test_front_line_staff_cannot_decide_transfers_of_customers_they_cannot_see(
    client, api_client, cars
):
    from m4s.core.tests.factories import StoreFactory

    other_store = StoreFactory(dealer_group=cars.group_a, name="Alpha West")
    remote_advisor = make_staff("adv-west", Role.SERVICE_ADVISOR, cars.group_a, [other_store])
    services.bind_vehicle_for_owner(cars.owner, cars.car.plate, cars.car.vin)
    transfer = TransferRequest.objects.for_group(cars.group_a).get()
    cars.group_a.limit_front_line_to_own_store = True
    cars.group_a.save()
    r = api_client.post(
        f"/api/v1/staff/transfers/{transfer.pk}/decide",
        {"approve": True},
        token=staff_token(remote_advisor),
    )
    assert r.status_code == 404
    assert client.login(username="adv-west", password=PASSWORD)
    assert (
        client.post(f"/console/transfers/{transfer.pk}/decide/", {"approve": "1"}).status_code
        == 404
    )
    transfer.refresh_from_db()
    assert transfer.status == "open"


@pytest.mark.django_db
def test_stale_store_link_does_not_break_sign_in(client, api_client, world, sms_outbox):
    phone = "+8613944445555"
    client.get("/app/login/", {"store": "987653"})
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post("/app/login/?store=987653", {"phone": phone})
    code = re.search(r"\b(\d{6})\b", sms_outbox[-1]["body"]).group(1)
    r = client.post("/app/login/", {"phone": phone, "code": code})
    assert r.status_code == 302
    assert Owner.objects.get(phone=phone).home_store is None
    bad = api_client.post(
        "/api/v1/auth/otp/verify", {"phone": phone, "code": "123456", "store": 10**25}
    )
    assert bad.status_code == 422


@pytest.mark.django_db
def test_odd_digits_in_forms_are_4xx_not_500(client, cars):
    assert client.get("/app/login/", {"store": "²"}).status_code == 200
    assert client.login(username="admin-a", password=PASSWORD)
    r = client.post(f"/console/customers/{cars.known.pk}/assign/", {"cs_agent": "²"}, follow=True)
    assert r.status_code == 200 and 'role="alert"' in r.content.decode()
    cars.known.refresh_from_db()
    assert cars.known.cs_agent is None and cars.known.service_advisor == cars.advisor_a


@pytest.mark.django_db
def test_damaged_xlsx_is_a_clear_error(client, cars):
    import openpyxl
    from django.core.files.uploadedfile import SimpleUploadedFile

    book = openpyxl.Workbook()
    book.active.append(["name", "phone"])
    buffer = io.BytesIO()
    book.save(buffer)
    data = buffer.getvalue()
    import zipfile

    damaged = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(damaged, "w") as dst:
        for item in src.infolist():
            content = src.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                content = content[: len(content) // 2]
            dst.writestr(item, content)
    assert client.login(username="admin-a", password=PASSWORD)
    r = client.post(
        "/console/customers/import/", {"file": SimpleUploadedFile("c.xlsx", damaged.getvalue())}
    )
    assert r.status_code == 200 and 'data-testid="import-error"' in r.content.decode()
