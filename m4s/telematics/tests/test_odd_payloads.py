"""Whatever a terminal sends, the good messages are stored and each bad one is dead-lettered
with a reason: no 500, no batch lost to one odd element. Delayed batches raise no false alarms."""

import datetime as dt
import json

from django.utils import timezone

from m4s.telematics import services
from m4s.telematics.models import AlarmEvent, DeadLetter, Geofence, RescueCase, Telemetry
from m4s.telematics.writer import write_batch

from .test_ingest import _m, _post


def test_odd_elements_are_dead_lettered_and_the_rest_stored(fleet, client):
    w = fleet
    odd = [
        None,
        _m(2, 9, lat=10**400, lon=1),
        _m(3, 8, speed_kmh=float("nan")),
        _m(4, 7, speed_kmh=float("inf")),
        {"device_id": "\ud800", "seq": 5, "ts": _m(5, 6)["ts"]},
        [[[["deep"]]]],
    ]
    good = [_m(10, 5, lat=39.9, lon=116.4), _m(11, 4, lat=39.9, lon=116.4)]
    body = json.dumps(odd + good, allow_nan=True)
    r = client.post(
        "/api/v1/telematics/ingest",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {w.token_a}",
    )
    assert r.status_code == 200, r.content
    assert (r.json()["accepted"], r.json()["dead_lettered"]) == (2, len(odd))
    assert Telemetry.objects.for_group(w.group_a).count() == 2
    assert DeadLetter.objects.count() == len(odd)
    deep = "[" * 100_000 + "]" * 100_000
    r = client.post(
        "/api/v1/telematics/ingest",
        deep,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {w.token_a}",
    )
    assert r.status_code == 400 and r.json()["code"] == "bad_json"


def test_nul_in_codes_is_a_dead_letter_not_a_database_error(fleet):
    """MQTT and JT/T 808 do not pass the HTTP middleware: the writer itself refuses NUL."""
    w = fleet
    t = timezone.now() - dt.timedelta(minutes=3)
    raw = [
        {"device_id": "tbox-a1", "seq": 1, "ts": t.isoformat(), "dtcs": ["P03\x00"]},
        {"device_id": "tbox-a1\x00", "seq": 2, "ts": t.isoformat()},
        {"device_id": "tbox-a1", "seq": 3, "ts": t.isoformat(), "dtcs": ["P0300"]},
    ]
    result = write_batch(w.device_a, raw, via="mqtt")
    assert (result.accepted, result.dead) == (1, 2)
    assert Telemetry.objects.for_group(w.group_a).get().dtcs == ["P0300"]


def test_a_crash_from_a_long_device_id_opens_its_case(cars):
    w = cars
    long_id = "L" * 40
    device, _secret = services.register_device(
        w.admin_a, device_id=long_id, protocol="http", vehicle=w.car
    )
    t = timezone.now() - dt.timedelta(minutes=1)
    msg = {"device_id": long_id, "seq": 1234567890123456789, "ts": t.isoformat()}
    write_batch(device, [{**msg, "alarm": "crash", "lat": 39.9, "lon": 116.4}], via="http")
    assert AlarmEvent.objects.for_group(w.group_a).count() == 1
    assert RescueCase.objects.for_group(w.group_a).count() == 1


def test_a_delayed_batch_neither_crosses_a_geofence_nor_moves_a_parked_car(fleet, client):
    w = fleet
    assert _post(client, w.token_a, [_m(1, 2, lat=39.9, lon=116.4, ignition=False)]).status_code
    fence = services.set_geofence(w.owner, w.car, name="Home", lat=39.9, lon=116.4, radius_m=500)
    Geofence.objects.for_group(w.group_a).filter(pk=fence.pk).update(inside=True)
    state = services.arm_parked(w.owner, w.car, armed=True) if w.car.current_owner else None
    # 60 and 40 minutes ago, 5 km away: old news.
    r = _post(
        client, w.token_a, [_m(0, 60, lat=39.95, lon=116.45), _m(-1, 40, lat=39.95, lon=116.45)]
    )
    assert r.status_code == 200
    fence.refresh_from_db()
    assert fence.inside is True
    assert not AlarmEvent.objects.for_group(w.group_a).filter(kind="movement").exists()
    assert state is None or state.parked_armed


def test_a_continuing_event_stays_one_case_and_an_acknowledged_case_stays_open(fleet, client):
    """Crash alarms every 10 minutes for 40 minutes are one event (the window runs from the
    newest alarm): one case, one alert. A new crash after a quiet hour never closes the case
    staff acknowledged (a tow may be on its way): it joins it and alerts the store again."""
    from m4s.notify.models import Message

    w = fleet
    for seq, minutes_ago in enumerate((120, 110, 100, 90, 80), start=1):
        _post(client, w.token_a, [_m(seq, minutes_ago, lat=39.9, lon=116.4, alarm="crash")])
    case = RescueCase.objects.for_group(w.group_a).get()
    assert case.repeats == 4
    alerts = Message.objects.filter(kind="rescue.opened", owner__isnull=True)
    first_alerts = alerts.count()
    assert first_alerts >= 1
    services.acknowledge_case(w.advisor_a, case, tow_partner="Jingcheng Towing")
    _post(client, w.token_a, [_m(9, 5, lat=39.95, lon=116.45, alarm="crash")])
    case = RescueCase.objects.for_group(w.group_a).get()
    assert case.status == "acknowledged" and case.repeats == 5
    assert alerts.count() > first_alerts


def test_a_late_reading_from_a_worse_source_does_not_make_a_daily_odometer(fleet, client):
    """CAN says 12,000 km now; a delayed GPS-derived 500 km from three days ago would give a
    forecast of thousands of km a day. It is kept with its note, not counted."""
    from m4s.telematics.models import DailyOdometer

    w = fleet
    now_msg = _m(1, 1, lat=39.9, lon=116.4, odometer_km=12000, odometer_source="can")
    _post(client, w.token_a, [now_msg])
    late = timezone.now() - dt.timedelta(days=3)
    old = {**_m(2, 0, lat=39.9, lon=116.4), "ts": late.isoformat()}
    _post(client, w.token_a, [{**old, "odometer_km": 500, "odometer_source": "gps"}])
    day_ago = {**old, "seq": 3, "ts": (timezone.now() - dt.timedelta(days=1)).isoformat()}
    _post(client, w.token_a, [{**day_ago, "odometer_km": 900, "odometer_source": "can"}])
    notes = dict(
        Telemetry.objects.for_group(w.group_a)
        .exclude(odometer_note="")
        .values_list("seq", "odometer_note")
    )
    assert notes == {2: "worse_source", 3: "impossible_jump"}  # 11,100 km in a day: no
    assert not DailyOdometer.objects.for_group(w.group_a).filter(odometer_km__lt=12000).exists()
