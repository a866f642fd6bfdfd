"""The care API: an owner's reminders (snooze, done elsewhere, dismiss) and violations, the care
week, the violations integration with a group key. Every endpoint: another owner's or another
group's object is 404, a third user sees nothing."""

import datetime as dt

import pytest
from django.utils import timezone

from m4s.care import scan, violations
from m4s.care.choices import Status
from m4s.care.models import DoneElsewhere, Reminder, Violation
from m4s.core.tests.factories import OwnerFactory, owner_token, staff_token
from m4s.service.models import MaintenanceItem, MaintenanceRecord
from m4s.vehicles.models import Vehicle

from .conftest import days


@pytest.fixture
def due(care):
    """The test owner has an insurance reminder (group A); group B's customer Li Si (no app
    account) has one for their car."""
    w = care
    Vehicle.objects.unscoped().filter(pk__in=[w.my_car.pk, w.other_car.pk]).update(
        insurance_expiry=w.today + days(20)
    )
    scan.run_scan(["insurance"])
    w.reminder = Reminder.objects.unscoped().get(vehicle=w.my_car)
    w.reminder_b = Reminder.objects.unscoped().get(vehicle=w.other_car)
    w.me = owner_token(w.owner)
    w.stranger = owner_token(OwnerFactory())
    return w


def test_my_reminders_lists_only_mine(due, api_client):
    w = due
    r = api_client.get("/api/v1/me/reminders", token=w.me)
    assert r.status_code == 200
    (row,) = r.json()
    assert row["id"] == w.reminder.pk and row["kind"] == "insurance" and row["action"] == "quote"
    assert row["title"] == f"Your car insurance ends on {w.today + days(20)}"
    assert row["vehicle"]["plate"] == "京A12345" and row["status"] == "sent"
    assert api_client.get("/api/v1/me/reminders", token=w.stranger).json() == []
    assert api_client.get(f"/api/v1/me/reminders/{w.reminder.pk}", token=w.me).status_code == 200
    for path in (
        f"/api/v1/me/reminders/{w.reminder_b.pk}",
        f"/api/v1/me/reminders/{w.reminder.pk}",
    ):
        token = w.me if w.reminder_b.pk in (int(path.rsplit("/", 1)[1]),) else w.stranger
        assert api_client.get(path, token=token).status_code == 404


def test_snooze_and_its_limits(due, api_client):
    w = due
    path = f"/api/v1/me/reminders/{w.reminder.pk}/snooze"
    for bad in (0, 91, -1, "3", True, 2.5):
        r = api_client.post(path, {"days": bad}, token=w.me)
        assert r.status_code == 422, bad
    assert api_client.post(path, {"days": 7}, token=w.stranger).status_code == 404
    other = f"/api/v1/me/reminders/{w.reminder_b.pk}/snooze"
    assert api_client.post(other, {"days": 7}, token=w.me).status_code == 404
    r = api_client.post(path, {"days": 7}, token=w.me)
    assert r.status_code == 200 and r.json()["status"] == "snoozed"
    assert r.json()["snoozed_until"] == str(timezone.localdate() + days(7))
    Reminder.objects.unscoped().filter(pk=w.reminder.pk).update(status=Status.DISMISSED)
    r = api_client.post(path, {"days": 7}, token=w.me)
    assert r.status_code == 409 and r.json()["code"] == "reminder_closed"
    assert Reminder.objects.unscoped().get(pk=w.reminder_b.pk).status == Status.SENT


def test_done_elsewhere_moves_the_maintenance_schedule(care, api_client):
    from m4s.service.selectors import maintenance_due
    from m4s.telematics.models import MileageForecast

    w = care
    MileageForecast.objects.create(
        dealer_group=w.group_a,
        vehicle=w.my_car,
        km_per_day=40,
        confidence=0.8,
        days=30,
        last_odometer_km=18500,
        last_date=w.today,
        computed_at=timezone.now(),
    )
    scan.run_scan(["maintenance"])
    reminder = Reminder.objects.unscoped().filter(kind="maintenance").order_by("due_on").first()
    item = MaintenanceItem.objects.for_group(w.group_a).get(pk=reminder.payload["item_id"])
    me = owner_token(w.owner)
    path = f"/api/v1/me/reminders/{reminder.pk}/done-elsewhere"
    for bad in (
        {"done_on": str(w.today + days(1))},
        {"done_on": str(w.today - days(400))},
        {"done_on": "1999-01-01"},
        {"done_on": str(w.today), "odometer_km": -5},
        {},
    ):
        r = api_client.post(path, bad, token=me)
        assert r.status_code in (400, 422), bad
    assert not DoneElsewhere.objects.unscoped().exists()
    assert (
        api_client.post(path, {"done_on": str(w.today)}, token=owner_token(w.owner_b)).status_code
        == 404
    )
    r = api_client.post(path, {"done_on": str(w.today - days(3)), "odometer_km": 18400}, token=me)
    assert r.status_code == 200 and r.json()["status"] == "done_elsewhere"
    record = DoneElsewhere.objects.for_group(w.group_a).get()
    assert record.reminder_id == reminder.pk and record.odometer_km == 18400
    served = MaintenanceRecord.objects.for_group(w.group_a).get(vehicle=w.my_car, item=item)
    assert served.done_on == w.today - days(3) and served.repair_order_id is None
    after = next(d for d in maintenance_due(w.my_car) if d.item.pk == item.pk)
    assert after.last_on == w.today - days(3)
    r = api_client.post(path, {"done_on": str(w.today)}, token=me)
    assert r.status_code == 409
    # kept on the customer's timeline (a retention signal)
    from m4s.customers.models import TimelineEvent

    assert (
        TimelineEvent.objects.for_group(w.group_a)
        .filter(customer=w.customer, data__care="done_elsewhere")
        .exists()
    )


def test_done_elsewhere_is_only_for_services(due, api_client):
    w = due
    Reminder.objects.unscoped().filter(pk=w.reminder.pk).update(kind="birthday")
    r = api_client.post(
        f"/api/v1/me/reminders/{w.reminder.pk}/done-elsewhere",
        {"done_on": str(w.today)},
        token=w.me,
    )
    assert r.status_code == 400 and r.json()["code"] == "not_a_service"


def test_dismiss(due, api_client):
    w = due
    path = f"/api/v1/me/reminders/{w.reminder.pk}/dismiss"
    assert api_client.post(path, token=w.stranger).status_code == 404
    assert api_client.post(path, token=w.me).json()["status"] == "dismissed"
    assert api_client.get("/api/v1/me/reminders", token=w.me).json() == []
    closed = api_client.get("/api/v1/me/reminders?include_closed=true", token=w.me).json()
    assert [r["id"] for r in closed] == [w.reminder.pk]


# --- violations ---------------------------------------------------------------------------------
@pytest.fixture
def keyed(care):
    w = care
    w.key_row, w.key = violations.create_integration_key(w.group_a.pk, "traffic police feed")
    w.key_row_b, w.key_b = violations.create_integration_key(w.group_b.pk, "feed B")
    return w


def _violation(w, **kw):
    body = {
        "plate": "京A12345",
        "occurred_at": (timezone.now() - dt.timedelta(days=2)).isoformat(),
        "description": "Speeding 20%",
        "place": "G4 km 12",
        "fine_cny": "200.00",
        "points": 3,
        "external_ref": "JJ-2026-0001",
    }
    body.update(kw)
    return body


def test_the_violations_integration_records_once_per_reference(keyed, api_client):
    w = keyed
    r = api_client.post("/api/v1/integrations/violations", _violation(w), token=w.key)
    assert r.status_code == 201, r.content
    assert r.json()["created"] is True and r.json()["vehicle_id"] == w.my_car.pk
    r = api_client.post("/api/v1/integrations/violations", _violation(w), token=w.key)
    assert r.status_code == 200 and r.json()["created"] is False
    assert Violation.objects.for_group(w.group_a).count() == 1
    v = Violation.objects.for_group(w.group_a).get()
    assert v.source == "api" and v.customer_id == w.customer.pk and v.points == 3
    # by VIN, through the X-Api-Key header
    r = api_client.post(
        "/api/v1/integrations/violations",
        _violation(w, plate="", vin=w.my_car.vin, external_ref="JJ-2"),
        HTTP_X_API_KEY=w.key,
    )
    assert r.status_code == 201
    # the owner sees them, and group B's key cannot see or add to group A's cars
    mine = api_client.get("/api/v1/me/violations", token=owner_token(w.owner)).json()
    assert {m["description"] for m in mine} == {"Speeding 20%"} and len(mine) == 2
    assert api_client.get("/api/v1/me/violations", token=owner_token(w.owner_b)).json() == []


@pytest.mark.parametrize(
    ("token", "status"),
    [(None, 401), ("nonsense", 401), ("m4sk_abcdef_wrongsecret", 401), ("revoked", 401)],
)
def test_a_bad_key_is_refused_and_nothing_is_stored(keyed, api_client, token, status):
    w = keyed
    if token == "revoked":
        violations.revoke_integration_key(w.admin_a, w.key_row.pk)
        token = w.key
    elif token and token.startswith("m4sk_abcdef"):
        token = f"m4sk_{w.key_row.prefix}_wrongsecret"
    r = api_client.post("/api/v1/integrations/violations", _violation(w), token=token)
    assert r.status_code == status and r.json()["code"]
    assert not Violation.objects.unscoped().exists()


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"plate": "京B99999"}, 404, "unknown_vehicle"),
        ({"plate": "OTHER"}, 404, "unknown_vehicle"),  # group B's car
        ({"occurred_at": "2010-01-01T08:00:00+08:00"}, 400, "date_out_of_range"),
        ({"occurred_at": "2099-01-01T08:00:00+08:00"}, 400, "date_out_of_range"),
        ({"fine_cny": "100000.00"}, 422, "validation_error"),
        ({"occurred_at": "1900-01-01T08:00:00+08:00"}, 422, "validation_error"),
        ({"fine_cny": "-1"}, 422, "validation_error"),
        ({"points": 13}, 422, "validation_error"),
        ({"description": " "}, 422, "validation_error"),
        ({"plate": "", "vin": ""}, 422, "validation_error"),
    ],
)
def test_bad_violations_are_refused_with_a_code(keyed, api_client, change, status, code):
    w = keyed
    if change.get("plate") == "OTHER":
        change = {"plate": w.other_car.plate}
    r = api_client.post("/api/v1/integrations/violations", _violation(w, **change), token=w.key)
    assert r.status_code == status and r.json()["code"] == code, r.content
    assert not Violation.objects.unscoped().exists()


def test_group_bs_key_cannot_post_for_group_as_car(keyed, api_client):
    w = keyed
    r = api_client.post("/api/v1/integrations/violations", _violation(w), token=w.key_b)
    assert r.status_code == 404 and r.json()["code"] == "unknown_vehicle"
    r = api_client.post(
        "/api/v1/integrations/violations", _violation(w, plate=w.other_car.plate), token=w.key_b
    )
    assert r.status_code == 201
    assert Violation.objects.for_group(w.group_b).get().vehicle_id == w.other_car.pk


def test_only_a_hash_of_the_key_is_kept(keyed):
    w = keyed
    assert w.key not in (w.key_row.key_hash, w.key_row.prefix) and len(w.key_row.key_hash) == 64
    assert violations.group_of_key(w.key) == w.group_a.pk
    assert violations.group_of_key(w.key + "x") is None


def test_have_the_store_clear_it(keyed, api_client):
    w = keyed
    api_client.post("/api/v1/integrations/violations", _violation(w), token=w.key)
    v = Violation.objects.for_group(w.group_a).get()
    path = f"/api/v1/me/violations/{v.pk}/clear"
    assert api_client.post(path, token=owner_token(w.owner_b)).status_code == 404
    r = api_client.post(path, token=owner_token(w.owner))
    assert r.status_code == 200 and r.json()["status"] == "clearing"
    violations.set_violation_status(w.advisor_a, v.pk, "cleared")
    r = api_client.post(path, token=owner_token(w.owner))
    assert r.status_code == 409 and r.json()["code"] == "violation_cleared"


# --- the care week ------------------------------------------------------------------------------
def test_the_care_week_shows_my_groups_customers_only(due, api_client):
    w = due
    r = api_client.get("/api/v1/staff/care/week", token=staff_token(w.advisor_a))
    assert r.status_code == 200, r.content
    assert [row["id"] for row in r.json()] == [w.reminder.pk]
    assert r.json()[0]["customer_name"] == w.customer.name
    r = api_client.get("/api/v1/staff/care/week", token=staff_token(w.advisor_b))
    assert [row["id"] for row in r.json()] == [w.reminder_b.pk]
    r = api_client.get(
        f"/api/v1/staff/care/week?store_id={w.store_b.pk}", token=staff_token(w.advisor_a)
    )
    assert r.status_code == 404
    assert api_client.get("/api/v1/staff/care/week", token=staff_token(w.tech_a)).status_code == 403
    # handled: off the list; another group's reminder: 404
    path = f"/api/v1/staff/care/reminders/{w.reminder_b.pk}/handled"
    assert api_client.post(path, token=staff_token(w.advisor_a)).status_code == 404
    path = f"/api/v1/staff/care/reminders/{w.reminder.pk}/handled"
    assert api_client.post(path, token=staff_token(w.advisor_a)).status_code == 200
    assert api_client.get("/api/v1/staff/care/week", token=staff_token(w.advisor_a)).json() == []
    r = api_client.get("/api/v1/staff/care/week", token=staff_token(w.hq))
    assert r.status_code == 200, r.content


def test_owner_endpoints_need_an_owner_and_staff_endpoints_need_staff(due, api_client):
    w = due
    staff = staff_token(w.advisor_a)
    assert api_client.get("/api/v1/me/reminders", token=staff).status_code == 401
    assert api_client.get("/api/v1/staff/care/week", token=w.me).status_code == 401
    assert api_client.get("/api/v1/me/reminders").status_code == 401
