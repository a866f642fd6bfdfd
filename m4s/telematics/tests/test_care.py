"""Mileage chain, maintenance reminders, parked mode and geofences, isolation, retention."""

import datetime as dt
import random

import pytest
from django.utils import timezone

from m4s.core.errors import DomainError
from m4s.core.tests.factories import owner_token, staff_token
from m4s.notify.models import Message
from m4s.telematics import services
from m4s.telematics.models import (
    AlarmEvent,
    DailyOdometer,
    Geofence,
    MaintenanceReminder,
    RescueCase,
    Telemetry,
    VehicleState,
)
from m4s.telematics.storage import purge_old_telemetry
from m4s.telematics.writer import write_batch


@pytest.fixture
def connected(workshop):
    """The test owner's Camry with a terminal; the owner consented to telematics in the app."""
    from m4s.owners.services import update_owner_profile

    w = workshop
    w.owner = update_owner_profile(w.owner, {"telematics_consent": True})
    w.device, _secret = services.register_device(
        w.admin_a, device_id="obd-1", protocol="http", vehicle=w.my_car
    )
    return w


def _remind(lead_days: int) -> int:
    """The care scan's maintenance pass (it replaced remind_due_maintenance) with this lead."""
    from m4s.care.models import ReminderRule
    from m4s.care.rules import ensure_rules
    from m4s.care.scan import run_scan

    ensure_rules()
    ReminderRule.objects.unscoped().filter(kind="maintenance").update(lead_days=[lead_days])
    return run_scan(["maintenance"])["written"]["maintenance"]


def _msg(seq, when, **kw):
    return {"device_id": "obd-1", "seq": seq, "ts": when.isoformat(), **kw}


def test_the_forecast_spreads_gaps_and_counts_a_rare_long_trip():
    """No reports at weekends (the gap shares out what it hides) and one long trip at the end:
    the trip counts at its share (the per-car median it replaced ignored it)."""
    from m4s.telematics import forecast

    d0 = dt.date(2026, 1, 1)
    points = [
        (d0 + dt.timedelta(days=i), 1000 + 40 * i) for i in range(0, 60) if i % 7 not in (5, 6)
    ]
    f = forecast.estimate(points, today=points[-1][0])
    assert f.km_per_day == pytest.approx(40) and f.confidence > 0.5 and f.days == len(points)
    points.append((d0 + dt.timedelta(days=61), 1000 + 40 * 61 + 900))  # one long trip
    f = forecast.estimate(points, today=points[-1][0])
    assert 41 < f.km_per_day < 40 + 900 / 7 and f.low < f.km_per_day < f.high
    assert forecast.estimate(points[:1], today=d0) is None


def test_forecast_projects_items_and_reminds_once(connected, api_client):
    w = connected
    today = timezone.localdate()
    rng = random.Random(3)
    km = 18000.0
    DailyOdometer.objects.bulk_create(
        DailyOdometer(
            dealer_group=w.group_a,
            vehicle=w.my_car,
            date=today - dt.timedelta(days=60 - i),
            odometer_km=(km := km + rng.uniform(45, 55)),
            source="can",
        )
        for i in range(60)
    )
    forecast = services.compute_forecast(w.my_car.pk, today=today)
    assert 45 <= forecast.km_per_day <= 55 and forecast.confidence > 0.5
    r = api_client.get(f"/api/v1/me/vehicles/{w.my_car.pk}/forecast", token=owner_token(w.owner))
    items = {i["item"]: i for i in r.json()["items"]}
    # Tyre rotation: every 10,000 km, none done since purchase → 20,000 at ~50 km/day.
    rotation = items["Tyre rotation"]
    assert rotation["by"] == "km" and rotation["projected_on"] is not None
    assert w.my_car.odometer_km == 18500  # not moved by the daily table alone
    sent = _remind(30)
    assert sent >= 1
    assert _remind(30) == 0  # once per item and cycle
    reminder = MaintenanceReminder.objects.for_group(w.group_a).filter(vehicle=w.my_car).first()
    inbox = Message.objects.filter(owner=w.owner, kind="care.maintenance").first()
    assert reminder.sent_at and "/app/service/book/?vehicle=" in inbox.link
    r = api_client.get(f"/api/v1/me/vehicles/{w.my_car.pk}/forecast", token=owner_token(w.owner_b))
    assert r.status_code == 404


def test_recompute_all_forecasts_matches_per_car(connected):
    w = connected
    today = timezone.localdate()
    DailyOdometer.objects.bulk_create(
        DailyOdometer(
            dealer_group=w.group_a,
            vehicle=w.my_car,
            date=today - dt.timedelta(days=30 - i),
            odometer_km=18000 + 30 * i,
            source="can",
        )
        for i in range(30)
    )
    assert services.recompute_all_forecasts(today=today) == 1
    forecast = w.my_car.forecast
    assert (
        forecast.km_per_day == pytest.approx(30, abs=0.5)
        and forecast.last_odometer_km == 18000 + 30 * 29
    )


def test_parked_mode_alerts_the_owner_once(connected, sms_outbox):
    w = connected
    t0 = timezone.now() - dt.timedelta(minutes=30)
    write_batch(w.device, [_msg(1, t0, lat=39.9, lon=116.4, ignition=False)], via="http")
    with pytest.raises(DomainError):
        services.arm_parked(w.owner, w.my_car, armed=True, auto_arm_minutes=1)
    services.arm_parked(w.owner, w.my_car, armed=True)
    # armed a minute after parking (the reports below come after it; older ones are ignored)
    VehicleState.objects.for_group(w.group_a).filter(vehicle=w.my_car).update(
        parked_armed_at=t0 + dt.timedelta(minutes=1)
    )
    write_batch(
        w.device, [_msg(2, t0 + dt.timedelta(minutes=5), lat=39.9001, lon=116.4)], via="http"
    )  # 11 m
    assert not AlarmEvent.objects.for_group(w.group_a).exists()
    write_batch(
        w.device,
        [_msg(3, t0 + dt.timedelta(minutes=6), lat=39.91, lon=116.41, speed_kmh=20)],
        via="http",
    )
    write_batch(
        w.device,
        [_msg(4, t0 + dt.timedelta(minutes=7), lat=39.92, lon=116.42, speed_kmh=30)],
        via="http",
    )
    alarms = AlarmEvent.objects.for_group(w.group_a).filter(kind="movement")
    assert alarms.count() == 1 and alarms.get().armed
    assert Message.objects.filter(owner=w.owner, kind="car.theft", channel="sms").count() == 1


def test_auto_arm_after_ignition_off(connected):
    w = connected
    t0 = timezone.now() - dt.timedelta(minutes=40)
    write_batch(w.device, [_msg(1, t0, lat=39.9, lon=116.4, ignition=True)], via="http")
    VehicleState.objects.for_group(w.group_a).filter(vehicle=w.my_car).update(auto_arm_minutes=10)
    write_batch(w.device, [_msg(2, t0 + dt.timedelta(minutes=1), ignition=False)], via="http")
    write_batch(w.device, [_msg(3, t0 + dt.timedelta(minutes=15), ignition=False)], via="http")
    assert VehicleState.objects.for_group(w.group_a).get(vehicle=w.my_car).parked_armed


def test_geofence_enter_and_leave(connected):
    w = connected
    with pytest.raises(DomainError):
        services.set_geofence(w.owner, w.my_car, name="Home", lat=39.9, lon=116.4, radius_m=10)
    w.owner.language = "en"  # the alert is written in the owner's language
    w.owner.save()
    fence = services.set_geofence(w.owner, w.my_car, name="Home", lat=39.9, lon=116.4, radius_m=500)
    t0 = timezone.now() - dt.timedelta(minutes=30)
    write_batch(w.device, [_msg(1, t0, lat=39.9, lon=116.4)], via="http")
    write_batch(
        w.device, [_msg(2, t0 + dt.timedelta(minutes=5), lat=39.95, lon=116.45)], via="http"
    )
    write_batch(
        w.device, [_msg(3, t0 + dt.timedelta(minutes=9), lat=39.9005, lon=116.4)], via="http"
    )
    fence.refresh_from_db()
    assert fence.inside is True
    subjects = list(
        Message.objects.filter(owner=w.owner, kind="car.geofence")
        .order_by("id")
        .values_list("subject", flat=True)
    )
    assert len(subjects) == 2 and "left" in subjects[0] and "entered" in subjects[1]
    assert Geofence.objects.for_group(w.group_b).count() == 0


def test_geofences_over_the_api(connected, api_client):
    w = connected
    base = f"/api/v1/me/vehicles/{w.my_car.pk}/geofences"
    mine, other = owner_token(w.owner), owner_token(w.owner_b)
    r = api_client.post(
        base, {"name": "Office", "lat": 39.9, "lon": 116.4, "radius_m": 300}, token=mine
    )
    assert r.status_code == 201
    fence_id = r.json()["id"]
    r = api_client.post(base, {"name": "Far", "lat": 95, "lon": 116.4, "radius_m": 300}, token=mine)
    assert (
        r.status_code == 422 and r.json()["code"] == "validation_error"
    )  # lat is -90..90 in the schema
    assert [f["name"] for f in api_client.get(base, token=mine).json()] == ["Office"]
    # Another group's owner sees nothing and removes nothing.
    assert api_client.get(base, token=other).status_code == 404
    assert api_client.delete(f"{base}/{fence_id}", token=other).status_code == 404
    assert Geofence.objects.for_group(w.group_a).count() == 1
    assert api_client.delete(f"{base}/{fence_id}", token=mine).status_code == 204
    assert api_client.get(base, token=mine).json() == []
    r = api_client.delete(f"{base}/{fence_id}", token=mine)
    assert r.status_code == 404 and r.json()["code"] == "not_found"


def test_health_isolation_and_device_binding(fleet, api_client, client):
    w = fleet
    t = timezone.now() - dt.timedelta(minutes=5)
    client.post(
        "/api/v1/telematics/ingest",
        [
            {
                "device_id": "tbox-a1",
                "seq": 1,
                "ts": t.isoformat(),
                "odometer_km": 100.0,
                "odometer_source": "can",
            }
        ],
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {w.token_a}",
    )
    # Group B's terminal cannot write for group A's terminal id, even with its own valid key.
    r = client.post(
        "/api/v1/telematics/ingest",
        [{"device_id": "tbox-a1", "seq": 2, "ts": t.isoformat()}],
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {w.token_b}",
    )
    assert r.json()["dead_lettered"] == 1
    assert not Telemetry.objects.for_group(w.group_b).exists()
    assert (
        api_client.get(
            f"/api/v1/staff/vehicles/{w.car.pk}/health", token=staff_token(w.advisor_a)
        ).json()["state"]["odometer_km"]
        == 100.0
    )
    assert (
        api_client.get(
            f"/api/v1/staff/vehicles/{w.car.pk}/health", token=staff_token(w.advisor_b)
        ).status_code
        == 404
    )
    devices = api_client.get(
        "/api/v1/staff/telematics/devices", token=staff_token(w.advisor_b)
    ).json()
    assert [d["device_id"] for d in devices] == ["tbox-b1"]
    r = api_client.post(
        "/api/v1/staff/telematics/devices",
        {"device_id": "x1", "protocol": "http", "vehicle_id": w.car.pk},
        token=staff_token(w.admin_b),
    )
    assert r.status_code == 404


def test_registering_terminals(fleet, api_client):
    w = fleet
    admin = staff_token(w.admin_a)
    r = api_client.post(
        "/api/v1/staff/telematics/devices",
        {"device_id": "tbox-a1", "protocol": "http"},
        token=admin,
    )
    assert r.status_code == 409 and r.json()["code"] == "device_exists"
    r = api_client.post(
        "/api/v1/staff/telematics/devices", {"device_id": "jt-1", "protocol": "jt808"}, token=admin
    )
    assert r.status_code == 400 and r.json()["code"] == "invalid_terminal_phone"
    r = api_client.post(
        "/api/v1/staff/telematics/devices", {"device_id": "a/b", "protocol": "mqtt"}, token=admin
    )
    assert r.status_code == 422 and r.json()["code"] == "validation_error"  # the device id pattern
    assert (
        api_client.post(
            "/api/v1/staff/telematics/devices",
            {"device_id": "m-1", "protocol": "mqtt"},
            token=staff_token(w.advisor_a),
        ).status_code
        == 403
    )


def test_retention_purges_raw_telemetry_but_keeps_the_daily_odometer(fleet, settings):
    w = fleet
    settings.TELEMETRY_RETENTION_DAYS = 10
    old = timezone.now() - dt.timedelta(days=20)
    write_batch(
        w.device_a,
        [
            {
                "device_id": "tbox-a1",
                "seq": 1,
                "ts": old.isoformat(),
                "odometer_km": 50.0,
                "odometer_source": "can",
            }
        ],
        via="http",
        now=old + dt.timedelta(minutes=1),
    )
    write_batch(
        w.device_a,
        [{"device_id": "tbox-a1", "seq": 2, "ts": timezone.now().isoformat()}],
        via="http",
    )
    assert purge_old_telemetry() >= 1
    assert list(Telemetry.objects.for_group(w.group_a).values_list("seq", flat=True)) == [2]
    assert DailyOdometer.objects.for_group(w.group_a).filter(vehicle=w.car).exists()


def test_back_office_terminals_and_dead_letters_are_scoped(fleet, client):
    import re

    from m4s.telematics.models import DeadLetter, Device

    w = fleet
    DeadLetter.objects.create(
        dealer_group=w.group_b,
        device_id="tbox-b1",
        received_at=timezone.now(),
        via="http",
        reason="bad_seq",
        payload={},
    )
    client.force_login(w.admin_a)
    r = client.post(
        "/admin/telematics/device/add/",
        {"device_id": "obd-9", "protocol": "http", "is_active": "on"},
        follow=True,
    )
    token = re.search(r"\b([0-9a-f]{20}\.[\w-]+)", r.content.decode()).group(1)
    device = Device.objects.for_group(w.group_a).get(device_id="obd-9")
    key, _dot, secret = token.rpartition(".")
    assert key == device.key and services.device_for_secret(key, secret) == device
    # an id another group uses is fine; one of our own group is a form error, not a crash
    for device_id in ("tbox-b1", "obd-9"):
        r = client.post(
            "/admin/telematics/device/add/",
            {"device_id": device_id, "protocol": "http", "is_active": "on"},
        )
        assert r.status_code == (302 if device_id == "tbox-b1" else 200)
    assert Device.objects.for_group(w.group_a).filter(device_id="obd-9").count() == 1
    assert Device.objects.for_group(w.group_a).filter(device_id="tbox-b1").count() == 1
    assert "tbox-b1" not in client.get("/admin/telematics/deadletter/").content.decode()
    assert client.get(f"/admin/telematics/device/{w.device_b.pk}/change/").status_code == 404


def test_the_advisor_sees_cars_falling_due_on_the_service_board(connected, client):
    w = connected
    today = timezone.localdate()
    DailyOdometer.objects.bulk_create(
        DailyOdometer(
            dealer_group=w.group_a,
            vehicle=w.my_car,
            date=today - dt.timedelta(days=30 - i),
            odometer_km=19500 + 30 * i,
            source="can",
        )
        for i in range(30)
    )
    services.compute_forecast(w.my_car.pk, today=today)
    assert _remind(30) >= 1
    client.force_login(w.advisor_a)
    page = client.get(
        f"/console/service/?store={w.store_a.pk}", HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert 'data-testid="due-soon"' in page and w.my_car.plate in page and "Tyre rotation" in page
    client.force_login(w.advisor_b)
    assert w.my_car.plate not in client.get("/console/service/").content.decode()


def test_the_owner_gets_a_to_do_with_a_one_tap_booking_link(connected):
    from m4s.web.todo import owner_todos

    w = connected
    today = timezone.localdate()
    # Oil was changed at 18,000 km, so nothing is overdue; tyres rotate at 20,000 km.
    from m4s.service.models import MaintenanceItem, MaintenanceRecord

    for item in MaintenanceItem.objects.for_group(w.group_a).filter(schedule__brand="Toyota"):
        MaintenanceRecord.objects.create(
            dealer_group=w.group_a,
            vehicle=w.my_car,
            item=item,
            done_on=today,
            done_km=18000 if item.name != "Tyre rotation" else 10000,
        )
    DailyOdometer.objects.bulk_create(
        DailyOdometer(
            dealer_group=w.group_a,
            vehicle=w.my_car,
            date=today - dt.timedelta(days=30 - i),
            odometer_km=18500 + 60 * i,
            source="can",
        )
        for i in range(30)
    )
    services.compute_forecast(w.my_car.pk, today=today)
    _remind(30)
    todos = {t.key: t for t in owner_todos(w.owner)}
    todo = todos[f"maintenance:{w.my_car.pk}"]
    assert "Tyre rotation falls due around" in todo.title and f"vehicle={w.my_car.pk}" in todo.url


def test_turning_parked_mode_off_keeps_it_off_until_the_next_parking(connected):
    """The page's Turn-off sends the auto-arm delay too: the car must not re-arm at once, only
    after it has been driven and switched off again."""
    w = connected
    t0 = timezone.now() - dt.timedelta(minutes=240)
    write_batch(w.device, [_msg(1, t0, lat=39.9, lon=116.4, ignition=True)], via="http")
    write_batch(w.device, [_msg(2, t0 + dt.timedelta(minutes=1), ignition=False)], via="http")
    services.arm_parked(w.owner, w.my_car, armed=True, auto_arm_minutes=30)
    services.arm_parked(w.owner, w.my_car, armed=False, auto_arm_minutes=30)
    now = timezone.now()
    write_batch(w.device, [_msg(3, now - dt.timedelta(minutes=2), ignition=False)], via="http")
    state = VehicleState.objects.for_group(w.group_a).get(vehicle=w.my_car)
    assert not state.parked_armed
    assert not AlarmEvent.objects.for_group(w.group_a).filter(kind="movement").exists()
    # Driven and parked again: after 30 minutes off it arms itself.
    later = now + dt.timedelta(minutes=1)
    write_batch(w.device, [_msg(4, later, ignition=True)], via="http", now=later)
    off = later + dt.timedelta(minutes=10)
    write_batch(w.device, [_msg(5, off, ignition=False)], via="http", now=off)
    after = off + dt.timedelta(minutes=31)
    write_batch(w.device, [_msg(6, after, ignition=False)], via="http", now=after)
    assert VehicleState.objects.for_group(w.group_a).get(vehicle=w.my_car).parked_armed


def test_an_unfixed_position_is_kept_but_never_taken_as_where_the_car_is(connected, sms_outbox):
    """A report whose terminal says it has no fix keeps its lat/lon (fix_valid False); the
    car's state, geofences and parked mode go on from the last valid fix."""
    w = connected
    fence = services.set_geofence(w.owner, w.my_car, name="Home", lat=39.9, lon=116.4, radius_m=500)
    t0 = timezone.now() - dt.timedelta(minutes=30)
    write_batch(w.device, [_msg(1, t0, lat=39.9, lon=116.4, ignition=False)], via="http")
    services.arm_parked(w.owner, w.my_car, armed=True)
    VehicleState.objects.for_group(w.group_a).filter(vehicle=w.my_car).update(
        parked_armed_at=t0 + dt.timedelta(minutes=1)
    )
    far = {"lat": 31.23, "lon": 121.47, "fix_valid": False}  # Shanghai: a stale, unfixed place
    write_batch(w.device, [_msg(2, t0 + dt.timedelta(minutes=5), **far)], via="http")
    write_batch(w.device, [_msg(3, t0 + dt.timedelta(minutes=6), alarm="crash", **far)], via="http")
    row = Telemetry.objects.for_group(w.group_a).get(seq=2)
    assert (row.lat, row.lon, row.fix_valid) == (31.23, 121.47, False)
    state = VehicleState.objects.for_group(w.group_a).get(vehicle=w.my_car)
    assert (state.lat, state.lon) == (39.9, 116.4)  # the last good fix
    assert state.ts == t0 + dt.timedelta(minutes=6)
    fence.refresh_from_db()
    assert fence.inside is True  # not "left Home"
    assert not AlarmEvent.objects.for_group(w.group_a).filter(kind="movement").exists()
    crash = AlarmEvent.objects.for_group(w.group_a).get(kind="crash")
    assert (crash.lat, crash.lon) == (39.9, 116.4)  # where the car was last known to be
    case = RescueCase.objects.for_group(w.group_a).get()
    assert (case.lat, case.lon) == (39.9, 116.4)
    # a valid fix moves it again
    write_batch(
        w.device,
        [_msg(4, t0 + dt.timedelta(minutes=7), lat=39.95, lon=116.45, fix_valid=True)],
        via="http",
    )
    state.refresh_from_db()
    assert (state.lat, state.lon) == (39.95, 116.45)


def test_every_alarm_kind_is_recorded_and_only_some_tell_the_owner(connected):
    w = connected
    t0 = timezone.now() - dt.timedelta(minutes=30)
    write_batch(
        w.device,
        [
            _msg(1, t0, alarm="blind_spot", alarm_word=1 << 17, status_word=3),
            _msg(2, t0 + dt.timedelta(minutes=1), alarm="tyre_warn", alarm_word=1 << 16),
        ],
        via="http",
    )
    rows = Telemetry.objects.for_group(w.group_a).order_by("seq")
    assert [(r.alarm, r.alarm_word, r.status_word) for r in rows] == [
        ("blind_spot", 1 << 17, 3),
        ("tyre_warn", 1 << 16, None),
    ]
    assert sorted(AlarmEvent.objects.for_group(w.group_a).values_list("kind", flat=True)) == [
        "blind_spot",
        "tyre_warn",
    ]
    kinds = set(Message.objects.filter(owner=w.owner).values_list("kind", flat=True))
    assert "car.tyre_warn" in kinds and "car.blind_spot" not in kinds
    bad = write_batch(w.device, [_msg(3, t0, alarm_word=2**32)], via="http")
    assert bad.dead == 1 and bad.dead_reasons[0]["reason"] == "bad_field"
