"""Regression tests for the service area's defects (issue 10): the staff wording of the board,
the quality-check step offered only when the work is done, the figures' month range."""

import pytest
from django.core.cache import cache
from django.test import Client

from m4s.core.tests.factories import PASSWORD, staff_token
from m4s.owners.middleware import SESSION_KEY
from m4s.service import billing as billing_services
from m4s.service import booking as booking_services
from m4s.service import workshop as workshop_services

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()


@pytest.fixture
def client():
    return Client(HTTP_ACCEPT_LANGUAGE="en")


def login(client, username):
    client.logout()
    assert client.login(username=username, password=PASSWORD)


def two_approved_jobs(w):
    """A walk-in with two approved jobs, the order in repair."""
    ro = workshop_services.check_in(
        w.advisor_a,
        store=w.store_a,
        customer=w.customer,
        vehicle=w.my_car,
        odometer=18600,
        fuel_pct=50,
        symptoms="Rattle from the back",
    )
    lines = []
    for code in ("BULB", "WIPE"):
        line = workshop_services.add_line(
            w.advisor_a, ro, operation_id=w.catalogue.operations[code].pk, reason="found"
        )
        workshop_services.decide_line(ro, line.pk, True, owner=w.owner)
        lines.append(line)
    return ro, lines


QC_BUTTON = 'value="quality_check"'


def test_quality_check_is_offered_only_when_every_approved_job_is_done(
    client, workshop, api_client
):
    w = workshop
    ro, (bulb, wipe) = two_approved_jobs(w)
    order = f"/console/service/orders/{ro.pk}/"
    workshop_services.clock_on(w.tech_a, ro, bulb.pk)
    workshop_services.clock_off(w.tech_a, ro, bulb.pk, done=True)
    login(client, "tech-a")
    body = client.get(order).content.decode()
    assert QC_BUTTON not in body  # the wipers are not done yet

    # The service refuses the step too, with a code, through the API and the page.
    r = api_client.post(
        f"/api/v1/staff/repair-orders/{ro.pk}/status",
        {"to": "quality_check"},
        token=staff_token(w.tech_a),
    )
    assert r.status_code == 409 and r.json()["code"] == "work_not_finished"
    body = client.post(f"{order}status/", {"to": "quality_check"}, follow=True).content.decode()
    assert "Finish every approved job first." in body
    ro.refresh_from_db()
    assert ro.status == "in_repair"

    workshop_services.clock_on(w.tech_a, ro, wipe.pk)
    workshop_services.clock_off(w.tech_a, ro, wipe.pk, done=True)
    assert QC_BUTTON in client.get(order).content.decode()


def test_staff_read_the_owner_approval_column_in_their_own_words(client, workshop):
    w = workshop
    ro = workshop_services.check_in(
        w.advisor_a,
        store=w.store_a,
        customer=w.customer,
        vehicle=w.my_car,
        odometer=18600,
        fuel_pct=50,
        symptoms="noise",
    )
    workshop_services.add_line(
        w.advisor_a, ro, operation_id=w.catalogue.operations["BULB"].pk, reason="found"
    )
    login(client, "advisor-a")
    board = client.get(f"/console/service/?store={w.store_a.pk}").content.decode()
    assert "Waiting for the owner&#x27;s approval" in board
    assert "Waiting for your approval" not in board
    body = client.get(f"/console/service/orders/{ro.pk}/").content.decode()
    assert "Waiting for your approval" not in body


# --- 4. a booking for a car that is in the workshop -----------------------------------------------
def test_a_car_in_the_workshop_cannot_be_booked_on_the_page_nor_by_the_api(
    client, workshop, api_client
):
    from django.conf import settings

    from m4s.core.tests.factories import owner_token
    from m4s.service.models import Appointment
    from m4s.service.tests.helpers import at

    w = workshop
    ro = workshop_services.check_in(
        w.advisor_a,
        store=w.store_a,
        customer=w.customer,
        vehicle=w.my_car,
        odometer=18600,
        fuel_pct=50,
        symptoms="Rattle from the back",
    )
    slot = at(w.day, 9, 0, w.store_a).isoformat()
    r = api_client.post(
        "/api/v1/me/appointments",
        {
            "vehicle_id": w.my_car.pk,
            "store_id": w.store_a.pk,
            "starts_at": slot,
            "package_id": w.s10k.pk,
            "mode": "waiting",
        },
        token=owner_token(w.owner),
    )
    assert r.status_code == 409, r.content
    assert r.json()["code"] == "car_in_workshop" and ro.number in r.json()["message"]

    session = client.session
    session[SESSION_KEY] = w.owner.pk
    session.save()
    form = {
        "idempotency_key": "k" * 32,
        "vehicle": w.my_car.pk,
        "service": w.s10k.pk,
        "store": w.store_a.pk,
        "date": w.day.isoformat(),
        "mode": "waiting",
        "slot": slot,
    }
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    r = client.post("/app/service/book/", form)
    assert r.status_code == 409 and "Your car is in our workshop now" in r.content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    r = client.post("/app/service/book/", form)
    assert r.status_code == 409 and "您的车辆正在我们的车间" in r.content.decode()
    assert not Appointment.objects.for_group(w.group_a).exists()


# --- 6. each part on the line of the operation it serves -----------------------------------------
def test_a_20000_km_service_puts_each_part_on_its_own_job(client, workshop):
    from django.conf import settings

    from m4s.service.models import RepairLine
    from m4s.service.tests.helpers import at

    w = workshop
    appointment, _created = booking_services.book_appointment(
        customer=w.customer,
        vehicle=w.my_car,
        store=w.store_a,
        starts_at=at(w.day, 9, 0, w.store_a),
        package_id=w.catalogue.packages["S20K"].pk,
        owner=w.owner,
    )
    ro = workshop_services.check_in(
        w.advisor_a, store=w.store_a, appointment=appointment, odometer=18600, fuel_pct=50
    )
    parts = {
        ln.operation.code: sorted(p.part.part_number for p in ln.parts.all())
        for ln in RepairLine.objects.for_group(w.group_a).filter(repair_order=ro)
    }
    assert parts == {
        "OIL": ["08880-83325", "90915-YZZE1"],
        "AIRF": ["17801-21050"],
        "CABF": ["87139-YZZ08"],
        "ROT": [],
        "INSP": [],
    }

    # The owner's view and the invoice show the air filter under "Air filter replacement".
    session = client.session
    session[SESSION_KEY] = w.owner.pk
    session.save()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(f"/app/service/orders/{ro.pk}/").content.decode()
    air = page.index("Air filter replacement")
    assert page.index("Air filter element", air) < page.index("Cabin filter replacement", air)
    oil = page.index("Engine oil and filter change")
    assert "Air filter element" not in page[oil : page.index("</li>", oil)]


# --- 7. owners see prices with tax, and pay what they approved -----------------------------------
def test_owners_see_tax_inclusive_prices_and_pay_what_they_approved(client, workshop, api_client):
    from decimal import Decimal

    from django.conf import settings

    from m4s.core.tests.factories import owner_token
    from m4s.service.tests.helpers import ready_order

    w = workshop
    session = client.session
    session[SESSION_KEY] = w.owner.pk
    session.save()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    me = owner_token(w.owner)

    # Package lists: the 10,000 km service is ¥546.00 net, ¥616.98 with 13 % VAT.
    page = client.get(f"/app/service/book/?vehicle={w.my_car.pk}").content.decode()
    assert "¥616.98" in page and "¥546.00" not in page
    r = api_client.get(f"/api/v1/stores/{w.store_a.pk}/packages", token=me)
    s10k = next(p for p in r.json() if p["code"] == "S10K")
    assert (s10k["total"], s10k["tax"], s10k["total_incl_tax"]) == ("546.00", "70.98", "616.98")

    # The approval view and the API: ¥200.00 of work is ¥226.00 to the owner.
    ro, _lines = ready_order(w, (("BULB", "90981-13046"), ("WIPE", "85222-33180")))
    page = client.get(f"/app/service/orders/{ro.pk}/").content.decode()
    assert 'data-testid="total-approved">¥226.00<' in page
    assert "Prices include 13% VAT" in page
    r = api_client.get(f"/api/v1/me/repair-orders/{ro.pk}", token=me)
    body = r.json()
    assert body["totals"]["approved_incl_tax"] == "226.00"
    assert sorted(ln["amount_incl_tax"] for ln in body["lines"]) == ["107.35", "118.65"]

    # The invoice: net, tax and gross; the owner pays exactly what they approved.
    invoice = billing_services.settle(w.advisor_a, ro)
    assert (invoice.net_total, invoice.tax, invoice.total) == (
        Decimal("200.00"),
        Decimal("26.00"),
        Decimal("226.00"),
    )
    assert invoice.customer_pay_total == Decimal(body["totals"]["approved_incl_tax"])


def test_the_tax_is_each_lines_so_the_bill_matches_the_approved_prices_to_the_fen(workshop):
    """Prices whose taxes round differently one by one than all together."""
    from decimal import Decimal

    from m4s.service.models import Price, RepairLine
    from m4s.service.selectors import line_amount_incl_tax, tax_rate_for
    from m4s.service.tests.helpers import ready_order

    w = workshop
    Price.objects.for_group(w.group_a).filter(operation__code__in=["BULB", "WIPE", "DIAG"]).update(
        amount=Decimal("0.05")
    )  # 0.0065 of tax each: 0.01 each, 0.02 for three
    ro, lines = ready_order(w, (("BULB", None), ("WIPE", None), ("DIAG", None)))
    rate = tax_rate_for(w.store_a)
    approved = sum(
        (
            line_amount_incl_tax(ln, rate)
            for ln in RepairLine.objects.for_group(w.group_a).filter(repair_order=ro)
        ),
        Decimal("0"),
    )
    invoice = billing_services.settle(w.advisor_a, ro)
    assert approved == Decimal("0.18")
    assert invoice.customer_pay_total == invoice.total == approved
    assert invoice.net_total + invoice.tax == invoice.total


# --- 5. overdue items on the advisor's list -------------------------------------------------------
def test_the_due_list_shows_overdue_items_as_overdue_and_drops_served_ones(client, workshop):
    import datetime as dt

    from django.utils import timezone

    from m4s.service.models import MaintenanceItem, MaintenanceRecord
    from m4s.telematics.models import MaintenanceReminder

    w = workshop
    today = timezone.localdate()
    oil, cabin = (
        MaintenanceItem.objects.for_group(w.group_a).get(
            schedule__brand="Toyota", schedule__model="", name=name
        )
        for name in ("Engine oil and filter", "Cabin filter")
    )
    # Never serviced since it was bought 700 days ago with 18,500 km: due by both rules.
    for item, cycle in ((oil, "new"), (cabin, "new")):
        MaintenanceReminder.objects.create(
            dealer_group=w.group_a,
            vehicle=w.my_car,
            item=item,
            cycle=cycle,
            due_on=w.my_car.purchase_date + dt.timedelta(days=365),
            confidence=1.0,
            created_at=timezone.now() - dt.timedelta(days=3),
        )
    # The cabin filter was changed yesterday: its reminder is done with.
    MaintenanceRecord.objects.create(
        dealer_group=w.group_a,
        vehicle=w.my_car,
        item=cabin,
        done_on=today - dt.timedelta(days=1),
        done_km=18400,
    )
    login(client, "advisor-a")
    board = client.get(f"/console/service/?store={w.store_a.pk}").content.decode()
    due = board[board.index('data-testid="due-soon"') :]
    assert "(100%)" not in due
    assert "Engine oil and filter" in due and "Cabin filter" not in due
    assert "11 months, 8,500 km overdue" in due
