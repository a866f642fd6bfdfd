"""HTTP ingest into the one batched writer: validation to the dead-letter table, dedupe,
out-of-order, odometer hygiene, state, daily odometer, crash cases, per-device credentials."""

import datetime as dt

from django.utils import timezone

from m4s.core.tests.factories import staff_token
from m4s.telematics.models import (
    AlarmEvent,
    DailyOdometer,
    DeadLetter,
    RescueCase,
    Telemetry,
    VehicleState,
)


def _post(client, token, batch):
    return client.post(
        "/api/v1/telematics/ingest",
        batch,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def _m(seq, minutes_ago, **kw):
    ts = timezone.now() - dt.timedelta(minutes=minutes_ago)
    return {"device_id": "tbox-a1", "seq": seq, "ts": ts.isoformat(), **kw}


def test_batch_is_stored_once_and_state_moves(fleet, client):
    w = fleet
    # the three messages fall on one local day: just after the store's midnight they are all
    # sent a little before it (one daily odometer row either way)
    local = timezone.localtime(timezone.now(), w.store_a.tz)
    since_midnight = local.hour * 60 + local.minute
    early = since_midnight + 5 if since_midnight < 45 else 0
    batch = [
        _m(
            1,
            30 + early,
            lat=39.9,
            lon=116.4,
            speed_kmh=40,
            odometer_km=12000.0,
            odometer_source="can",
            ignition=True,
            fuel_pct=60,
            battery_v=14.1,
        ),
        _m(
            2,
            20 + early,
            lat=39.91,
            lon=116.41,
            speed_kmh=50,
            odometer_km=12010.0,
            odometer_source="can",
            ignition=True,
        ),
        _m(
            3,
            10 + early,
            lat=39.92,
            lon=116.42,
            speed_kmh=0,
            odometer_km=12015.5,
            odometer_source="can",
            ignition=False,
            dtcs=["P0301"],
        ),
    ]
    r = _post(client, w.token_a, batch)
    assert r.status_code == 200 and r.json()["accepted"] == 3
    again = _post(client, w.token_a, batch)  # redelivered after a lost acknowledgement
    assert again.json() == {"accepted": 0, "duplicates": 3, "dead_lettered": 0, "errors": []}
    assert Telemetry.objects.for_group(w.group_a).count() == 3
    state = VehicleState.objects.for_group(w.group_a).get(vehicle=w.car)
    assert (state.odometer_km, state.ignition, state.dtcs, state.fuel_pct) == (
        12015.5,
        False,
        ["P0301"],
        60,
    )
    assert DailyOdometer.objects.for_group(w.group_a).get(vehicle=w.car).odometer_km == 12015.5
    # An older message arriving late is stored but does not move the state back.
    late = _post(
        client,
        w.token_a,
        [_m(0, 40 + early, lat=39.0, lon=116.0, odometer_km=11995.0, odometer_source="can")],
    )
    assert late.json()["accepted"] == 1
    state.refresh_from_db()
    assert state.lat == 39.92 and state.odometer_km == 12015.5


def test_bad_messages_go_to_the_dead_letter_table_with_a_reason(fleet, client):
    w = fleet
    r = _post(
        client,
        w.token_a,
        [
            _m(1, 5, lat=91, lon=0),
            {"device_id": "tbox-a1", "seq": -1, "ts": timezone.now().isoformat()},
            _m(3, 5, odometer_km=5),  # no source
            _m(4, -60),  # an hour in the future
            {**_m(5, 5), "device_id": "tbox-b1"},  # another terminal's id with this key
            _m(6, 5, speed_kmh=50),
        ],
    )
    assert r.status_code == 200 and r.json()["accepted"] == 1 and r.json()["dead_lettered"] == 5
    reasons = sorted(DeadLetter.objects.values_list("reason", flat=True))
    assert reasons == ["bad_field", "bad_seq", "out_of_range", "ts_in_future", "wrong_device"]
    assert _post(client, w.token_a, {"not": "a list"}).status_code == 400
    assert (
        client.post(
            "/api/v1/telematics/ingest",
            "{",
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {w.token_a}",
        ).json()["code"]
        == "bad_json"
    )
    assert _post(client, "tbox-a1.wrong", [_m(7, 1)]).status_code == 401
    assert not Telemetry.objects.for_group(w.group_b).exists()


def test_odometer_hygiene_records_why(fleet, client):
    w = fleet
    _post(client, w.token_a, [_m(1, 120, odometer_km=20000.0, odometer_source="can")])
    _post(
        client,
        w.token_a,
        [
            _m(2, 110, odometer_km=19990.0, odometer_source="can"),  # backwards
            _m(3, 100, odometer_km=20900.0, odometer_source="can"),  # 900 km in 20 min
            _m(4, 90, odometer_km=20005.0, odometer_source="gps", lat=0.0, lon=0.0),  # null island
            _m(
                5, 118, odometer_km=20001.0, odometer_source="gps", lat=39.9, lon=116.4
            ),  # worse source, soon after CAN
            _m(6, 60, odometer_km=20030.0, odometer_source="can"),
        ],
    )
    notes = dict(Telemetry.objects.for_group(w.group_a).values_list("seq", "odometer_note"))
    assert notes == {
        1: "",
        2: "backwards",
        3: "impossible_jump",
        4: "null_island_fix",
        5: "worse_source",
        6: "",
    }
    assert VehicleState.objects.for_group(w.group_a).get(vehicle=w.car).odometer_km == 20030.0


def test_a_crash_opens_one_case_for_the_store(fleet, client, api_client):
    w = fleet
    crash = [
        _m(1, 2, lat=39.9, lon=116.4, speed_kmh=62, alarm="crash"),
        _m(2, 1, lat=39.9, lon=116.4, speed_kmh=0, alarm="crash"),
    ]
    _post(client, w.token_a, crash)
    _post(client, w.token_a, crash)
    assert AlarmEvent.objects.for_group(w.group_a).count() == 2
    case = RescueCase.objects.for_group(w.group_a).get()
    assert case.repeats == 1 and case.store == w.store_a and case.customer == w.known
    cases = api_client.get("/api/v1/staff/telematics/cases", token=staff_token(w.advisor_a)).json()
    assert [c["phone"] for c in cases] == [w.known.phone]
    assert (
        api_client.get("/api/v1/staff/telematics/cases", token=staff_token(w.advisor_b)).json()
        == []
    )
    r = api_client.post(
        f"/api/v1/staff/telematics/cases/{case.pk}/acknowledge",
        {"tow_partner": "Beijing Tow"},
        token=staff_token(w.advisor_b),
    )
    assert r.status_code == 404
    r = api_client.post(
        f"/api/v1/staff/telematics/cases/{case.pk}/acknowledge",
        {"tow_partner": "Beijing Tow"},
        token=staff_token(w.advisor_a),
    )
    assert (
        r.json()["status"] == "acknowledged" and r.json()["acknowledged_by"] == w.advisor_a.username
    )


def test_a_device_id_another_group_uses_registers_like_a_free_one(fleet, client, api_client):
    """Device ids are unique per dealer group: group B learns nothing about group A's ids and
    cannot take one first; each terminal's token still names exactly one device."""
    w = fleet
    admin_b = staff_token(w.admin_b)
    answers = []
    for device_id in ("tbox-a1", "never-used"):  # group A's id, and a free one
        r = api_client.post(
            "/api/v1/staff/telematics/devices",
            {"device_id": device_id, "protocol": "http", "vehicle_id": w.other_car.pk},
            token=admin_b,
        )
        answers.append((r.status_code, sorted(r.json())))
        if device_id == "tbox-a1":
            token_b2 = r.json()["token"]
    assert answers[0] == answers[1] and answers[0][0] == 201
    # each token writes to its own group's car
    assert _post(client, w.token_a, [_m(1, 5)]).json()["accepted"] == 1
    assert _post(client, token_b2, [_m(1, 5), _m(2, 4)]).json()["accepted"] == 2
    assert Telemetry.objects.for_group(w.group_a).filter(vehicle_id=w.car.pk).count() == 1
    assert Telemetry.objects.for_group(w.group_b).filter(vehicle_id=w.other_car.pk).count() == 2
    # the same id twice in one's own group is still refused
    r = api_client.post(
        "/api/v1/staff/telematics/devices",
        {"device_id": "tbox-a1", "protocol": "http"},
        token=admin_b,
    )
    assert r.status_code == 409 and r.json()["code"] == "device_exists"


def test_tokens_issued_before_keys_still_work(fleet, client):
    """A device registered before keys existed has key = device id (migration 0006): its old
    token `<device_id>.<secret>` keeps working."""
    from m4s.telematics import services
    from m4s.telematics.models import Device

    w = fleet
    device, secret = services.register_device(
        w.admin_a, device_id="old-box", protocol="http", vehicle=w.car
    )
    Device.objects.for_group(w.group_a).filter(pk=device.pk).update(key="old-box")
    old_token = f"old-box.{secret}"
    r = _post(client, old_token, [dict(_m(1, 5), device_id="old-box")])
    assert r.status_code == 200 and r.json()["accepted"] == 1
    assert _post(client, f"old-box.{secret}x", [_m(2, 5)]).status_code == 401
