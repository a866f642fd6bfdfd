"""Cutting and measuring trips on simulated traces (pure: no database)."""

import datetime as dt
import zoneinfo

from m4s.driving import scoring
from m4s.driving.trips import (
    Limits,
    cut,
    decode_polyline,
    encode_polyline,
    measure,
    simplify,
)

from .traces import Trace

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 11, 3, 9, 0, tzinfo=TZ)
LATER = T0 + dt.timedelta(days=1)


def test_ignition_on_to_off_is_one_trip_with_distance_from_the_odometer():
    t = Trace(T0).ignition_on().ramp(50, 10).drive(50, 600).ramp(0, 10).ignition_off()
    trips = cut(t.points, Limits(), now=LATER)
    assert len(trips) == 1 and trips[0].end_reason == "ignition"
    m = measure(trips[0], Limits(), TZ)
    assert m["started_at"] == T0  # from the report with the engine on
    assert m["ended_at"] == t.points[-1].ts
    # 10 min at 50 km/h ≈ 8.33 km plus the ramps
    assert 8.55 < m["distance_km"] < 8.8
    assert m["top_kmh"] == 50 and 45 < m["avg_kmh"] < 50
    assert m["harsh_accel"] == m["harsh_brake"] == m["harsh_corner"] == 0
    assert m["speeding_s"] == 0 and m["night_min"] == 0
    assert m["end_reason"] == "ignition" and not m["is_open"]
    assert 2 <= len(decode_polyline(m["route"])) <= 40


def test_a_long_stop_ends_a_trip_and_a_short_one_does_not():
    t = Trace(T0).ignition_on().ramp(40, 10).drive(40, 300).ramp(0, 10)
    t.stand(120)  # a traffic light: not a stop
    t.ramp(40, 10).drive(40, 300).ramp(0, 10)
    stop_from = t.points[-1].ts
    t.stand(6 * 60)  # engine running, standing 6 minutes: the trip ended where it stood
    t.ramp(30, 10).drive(30, 300).ramp(0, 10).ignition_off()
    trips = cut(t.points, Limits(), now=LATER)
    assert [x.end_reason for x in trips] == ["stop", "ignition"]
    first = measure(trips[0], Limits(), TZ)
    assert first["ended_at"] <= stop_from + dt.timedelta(seconds=5)
    assert 6.9 < first["distance_km"] < 7.3
    # the second trip starts where the car stood with the engine on
    assert trips[1].points[0].speed_kmh == 0 and trips[1].points[1].speed_kmh > 0


def test_the_stop_minutes_come_from_the_group():
    t = Trace(T0).ignition_on().ramp(40, 10).drive(40, 300).ramp(0, 10).stand(180)
    t.ramp(40, 10).drive(40, 300).ramp(0, 10).ignition_off()
    assert len(cut(t.points, Limits(), now=LATER)) == 1
    assert len(cut(t.points, Limits(stop_s=120), now=LATER)) == 2


def test_the_last_trip_stays_open_until_reports_stop_for_long():
    t = Trace(T0).ignition_on().ramp(40, 10).drive(40, 300)
    last = t.points[-1].ts
    open_trip = cut(t.points, Limits(), now=last + dt.timedelta(minutes=1))
    assert [x.end_reason for x in open_trip] == ["open"]
    gone = cut(t.points, Limits(), now=last + dt.timedelta(minutes=6))
    assert [x.end_reason for x in gone] == ["gap"]


def test_harsh_braking_acceleration_and_cornering_from_consecutive_reports():
    t = Trace(T0, step=1).ignition_on()
    t.ramp(50, 14)  # 14 km/h per second = 3.9 m/s²: one harsh acceleration (one run)
    t.drive(50, 60)
    t.ramp(0, 16)  # 16 km/h per second = -4.4 m/s²: one harsh braking
    t.stand(20)
    t.ramp(50, 8)  # 2.2 m/s²: not harsh
    t.drive(50, 30)
    t.ramp(10, 15).drive(10, 5).ramp(60, 8)  # a second harsh braking
    t.drive(60, 10, turn_per_step=15)  # 60 km/h turning 15°/s: 16.7 m/s × 0.26 rad/s = 4.4 m/s²
    t.drive(60, 30, turn_per_step=3)  # a gentle bend: 0.87 m/s²
    t.ramp(0, 5).ignition_off()
    (trip,) = cut(t.points, Limits(), now=LATER)
    m = measure(trip, Limits(), TZ)
    assert (m["harsh_accel"], m["harsh_brake"], m["harsh_corner"]) == (1, 2, 1)


def test_reports_far_apart_give_no_harsh_events():
    t = Trace(T0, step=30).ignition_on().ramp(90, 90).drive(90, 600).ramp(0, 90).ignition_off()
    (trip,) = cut(t.points, Limits(), now=LATER)
    m = measure(trip, Limits(), TZ)
    assert m["harsh_accel"] == m["harsh_brake"] == 0


def test_speeding_against_the_band_the_speed_profile_shows():
    # a burst in town is judged by the town's limit (the stretch's median speed stays urban)
    t = Trace(T0).ignition_on().ramp(45, 15).drive(45, 600)
    t.drive(75, 60)  # one minute at 75 in a stretch that is mostly 45: urban limit 60 → over
    t.drive(45, 600)
    t.ramp(130, 15).drive(130, 900)  # highway: 130 is within 120 × 1.1
    t.drive(140, 300)  # 140 > 132: over
    t.ramp(0, 20).ignition_off()
    (trip,) = cut(t.points, Limits(), now=LATER)
    m = measure(trip, Limits(), TZ)
    assert 5 * 60 + 50 <= m["speeding_s"] <= 6 * 60 + 10
    assert m["band"] in ("urban", "highway")
    # a group with a 70 urban limit does not flag the 75
    m70 = measure(trip, Limits(urban=70), TZ)
    assert m70["speeding_s"] < m["speeding_s"]


def test_night_minutes_in_the_cars_local_time():
    night = dt.datetime(2026, 11, 3, 21, 50, tzinfo=TZ)
    t = Trace(night).ignition_on().ramp(50, 10).drive(50, 30 * 60).ramp(0, 10).ignition_off()
    (trip,) = cut(t.points, Limits(), now=LATER)
    m = measure(trip, Limits(), TZ)
    assert 19 <= m["night_min"] <= 21  # 22:00 to about 22:20
    # the same trip read in UTC (14:00 UTC) has no night minutes
    assert measure(trip, Limits(), zoneinfo.ZoneInfo("UTC"))["night_min"] == 0


def test_no_fix_reports_and_a_bad_odometer_fall_back_to_positions():
    t = Trace(T0).ignition_on().ramp(50, 10).drive(50, 600).ramp(0, 10).ignition_off()
    for p in t.points:
        p.odometer_km = None
    (trip,) = cut(t.points, Limits(), now=LATER)
    assert 8.5 < measure(trip, Limits(), TZ)["distance_km"] < 8.8


def test_a_car_moved_in_its_parking_space_is_not_a_trip_and_parked_reports_are_nothing():
    t = Trace(T0).stand(600, ignition=False)
    assert cut(t.points, Limits(), now=LATER) == []


def test_douglas_peucker_keeps_the_shape_in_few_points_and_the_polyline_round_trips():
    t = Trace(T0, step=2).ignition_on().drive(60, 600).drive(60, 120, turn_per_step=3)
    t.drive(60, 600)
    pts = [(p.lat, p.lon) for p in t.points]
    small = simplify(pts, 40)
    assert 3 <= len(small) <= 40 and small[0] == pts[0] and small[-1] == pts[-1]
    text = encode_polyline(small)
    back = decode_polyline(text)
    assert all(
        abs(a[0] - b[0]) < 1e-5 and abs(a[1] - b[1]) < 1e-5
        for a, b in zip(small, back, strict=True)
    )
    assert len(text) < 12 * len(small)


def test_score_and_reasons():
    value, reasons = scoring.score(
        {"harsh_braking": 3, "speeding": 12, "night": 40, "harsh_acceleration": 0}
    )
    assert value == 100 - 15 - 12 - 10
    assert [r["code"] for r in reasons] == ["harsh_braking", "speeding", "night"]
    assert [scoring.reason_text(r) for r in reasons] == [
        "3× harsh braking",
        "12 min over the limit",
        "40 min at night",
    ]
    assert scoring.score({})[0] == 100
    assert scoring.score({"harsh_braking": 50, "speeding": 500, "night": 500})[0] == 100 - 75
