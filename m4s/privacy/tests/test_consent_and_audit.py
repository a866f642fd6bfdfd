"""Telematics consent enforced at ingest (no position stored without it; crash and theft
alarms kept for safety; withdrawal at once), and sensitive staff reads audited."""

import datetime as dt

import pytest
from django.utils import timezone

from m4s.core.models import AuditEntry
from m4s.core.tests.factories import owner_token, staff_token
from m4s.owners.services import update_owner_profile
from m4s.telematics import services as telematics
from m4s.telematics.models import AlarmEvent, RescueCase, Telemetry, VehicleState
from m4s.telematics.writer import write_batch


@pytest.fixture
def car(workshop):
    w = workshop
    w.device, _ = telematics.register_device(
        w.admin_a, device_id="obd-c1", protocol="http", vehicle=w.my_car
    )
    return w


def _batch(device_id, start, n, **extra):
    base = timezone.now() - dt.timedelta(minutes=30)
    return [
        {
            "device_id": device_id,
            "seq": start + i,
            "ts": (base + dt.timedelta(seconds=10 * (start + i))).isoformat(),
            "lat": 39.91,
            "lon": 116.41,
            "speed_kmh": 40,
            "odometer_km": 18600 + start + i,
            "odometer_source": "can",
            **(extra if i == n - 1 else {}),
        }
        for i in range(n)
    ]


def _positions(w):
    return Telemetry.objects.for_group(w.group_a).filter(vehicle_id=w.my_car.pk, lat__isnull=False)


def test_without_consent_no_position_is_stored_only_safety_alarms(car):
    w = car
    assert not w.owner.telematics_consent
    result = write_batch(w.device, _batch("obd-c1", 1, 5), via="http")
    assert result.withheld == 5 and result.accepted == 0
    assert not Telemetry.objects.for_group(w.group_a).exists()
    # a crash: kept (someone has to find the car), its position on the alarm and case only
    result = write_batch(w.device, _batch("obd-c1", 10, 3, alarm="crash"), via="http")
    assert result.accepted == 1 and result.withheld == 2
    assert not _positions(w).exists()
    assert Telemetry.objects.for_group(w.group_a).get().alarm == "crash"
    state = VehicleState.objects.for_group(w.group_a).get(vehicle=w.my_car)
    assert state.lat is None and state.lon is None
    alarm = AlarmEvent.objects.for_group(w.group_a).get(kind="crash")
    assert alarm.lat == pytest.approx(39.91)
    assert RescueCase.objects.for_group(w.group_a).get().lat == pytest.approx(39.91)


def test_consent_given_then_withdrawn_takes_effect_at_once(
    car, api_client, django_capture_on_commit_callbacks
):
    w = car
    w.owner = update_owner_profile(w.owner, {"telematics_consent": True})
    write_batch(w.device, _batch("obd-c1", 1, 4), via="http")
    assert _positions(w).count() == 4
    assert VehicleState.objects.for_group(w.group_a).get(vehicle=w.my_car).lat is not None
    with django_capture_on_commit_callbacks(execute=True):
        api_client.patch("/api/v1/me", {"telematics_consent": False}, token=owner_token(w.owner))
    # the car's live position is gone at once, and the next reports store none
    assert VehicleState.objects.for_group(w.group_a).get(vehicle=w.my_car).lat is None
    write_batch(w.device, _batch("obd-c1", 20, 4), via="http")
    assert _positions(w).count() == 4  # only what was sent with consent
    # the health pages say why they are empty
    r = api_client.get(f"/api/v1/me/vehicles/{w.my_car.pk}/health", token=owner_token(w.owner))
    assert r.json()["telematics_consent"] is False
    assert r.json()["state"]["lat"] is None


def test_health_pages_say_why_there_is_no_position(car, client):
    from m4s.owners.middleware import SESSION_KEY

    w = car
    session = client.session
    session[SESSION_KEY] = w.owner.pk
    session.save()
    page = client.get(f"/app/cars/{w.my_car.pk}/health/")
    assert page.status_code == 200 and b'data-testid="no-consent"' in page.content
    client.force_login(w.advisor_a)
    page = client.get(f"/console/telematics/vehicles/{w.my_car.pk}/")
    assert page.status_code == 200 and b'data-testid="no-consent"' in page.content


def test_staff_reading_an_id_number_or_a_position_leaves_an_audit_row(cars, api_client):
    w = cars
    token = staff_token(w.admin_a)  # may see full ID numbers
    r = api_client.get(f"/api/v1/staff/customers/{w.known.pk}", token=token)
    assert r.json()["id_number"] == "11010519491231002X"
    entry = AuditEntry.objects.for_group(w.group_a).get(action="view")
    assert entry.changes == {"viewed": "id_number"} and entry.actor == w.admin_a
    assert "11010519491231002X" not in str(entry.changes)
    # a role that sees the masked number only leaves none
    api_client.get(f"/api/v1/staff/customers/{w.known.pk}", token=staff_token(w.advisor_a))
    assert AuditEntry.objects.for_group(w.group_a).filter(action="view").count() == 1
    # live position and position history of a car
    device, _ = telematics.register_device(
        w.admin_a, device_id="obd-k1", protocol="http", vehicle=w.car
    )
    write_batch(device, _batch("obd-k1", 1, 3, alarm="theft"), via="http")
    api_client.get(f"/api/v1/staff/vehicles/{w.car.pk}/health", token=token)
    viewed = set(
        AuditEntry.objects.for_group(w.group_a)
        .filter(action="view", object_type="vehicles.vehicle")
        .values_list("changes__viewed", flat=True)
    )
    assert viewed == {"live_position", "position_history"}
    # the other group sees none of it
    assert not AuditEntry.objects.for_group(w.group_b).filter(action="view").exists()
    assert (
        api_client.get(
            f"/api/v1/staff/vehicles/{w.car.pk}/health", token=staff_token(w.admin_b)
        ).status_code
        == 404
    )
