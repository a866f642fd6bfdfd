"""Raw telemetry storage: PostgreSQL partitioning (migration 0002) and partition-based retention;
and the writer's fast paths (validation, state walk, COPY, daily upsert), which must give exactly
what the plain paths give."""

import dataclasses
import datetime as dt
import random

import pytest
from django.db import connection
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from m4s.telematics import messages as msg
from m4s.telematics import storage, writer
from m4s.telematics.choices import Alarm, OdometerSource
from m4s.telematics.models import DailyOdometer, Telemetry, VehicleState
from m4s.telematics.writer import write_batch

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="partitioning is PostgreSQL-only"
)


def _partition_of(seq: int) -> str:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT tableoid::regclass::text FROM telematics_telemetry WHERE seq = %s", [seq]
        )
        return cur.fetchone()[0]


def _row(w, seq: int, ts: dt.datetime) -> Telemetry:
    return Telemetry(
        dealer_group=w.group_a,
        device_id=w.device_a.pk,
        vehicle_id=w.car.pk,
        seq=seq,
        ts=ts,
        received_at=ts,
    )


def test_sqlite_keeps_a_plain_table(db):
    if connection.vendor == "postgresql":
        pytest.skip("SQLite only")
    assert storage.ensure_partitions() == [] and storage.monthly_partitions() == []


@postgres_only
def test_telemetry_is_partitioned_by_month_and_rows_land_in_their_month(fleet):
    w = fleet
    with connection.cursor() as cur:
        cur.execute(
            "SELECT c.relkind, pg_get_partkeydef(c.oid) FROM pg_class c "
            "WHERE c.oid = 'telematics_telemetry'::regclass"
        )
        assert cur.fetchone() == ("p", "RANGE (ts)")
        cur.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'telematics_telemetry'::regclass AND contype IN ('p', 'u') "
            "ORDER BY contype"
        )
        assert [d for (d,) in cur.fetchall()] == [
            "PRIMARY KEY (id, ts)",
            "UNIQUE (device_id, seq, ts)",
        ]
    now = timezone.now()
    this_month = storage.partition_name(now.astimezone(dt.UTC).date())
    assert this_month in storage.monthly_partitions()
    assert storage.ensure_partitions() == []  # made by the migration already
    r = write_batch(
        w.device_a,
        [{"device_id": "tbox-a1", "seq": 1, "ts": now.isoformat(), "speed_kmh": 30}],
        via="http",
    )
    assert r.accepted == 1 and _partition_of(1) == this_month
    # Redelivery is deduped across the partitioned unique index; the ORM's own path works too.
    again = write_batch(
        w.device_a, [{"device_id": "tbox-a1", "seq": 1, "ts": now.isoformat()}], via="http"
    )
    assert (again.accepted, again.duplicates) == (0, 1)
    Telemetry.objects.bulk_create([_row(w, 1, now), _row(w, 2, now)], ignore_conflicts=True)
    assert Telemetry.objects.for_group(w.group_a).count() == 2


@postgres_only
def test_rows_outside_the_monthly_partitions_move_when_their_month_is_made(fleet):
    w = fleet
    far = timezone.now() + dt.timedelta(days=400)
    Telemetry.objects.bulk_create([_row(w, 7, far)])
    assert _partition_of(7) == storage.DEFAULT_PARTITION
    made = storage.ensure_partitions(months_ahead=0, today=far.astimezone(dt.UTC).date())
    month = storage.partition_name(far.astimezone(dt.UTC).date())
    assert month in made and _partition_of(7) == month


@postgres_only
def test_purge_drops_whole_old_partitions(fleet, settings):
    w = fleet
    settings.TELEMETRY_RETENTION_DAYS = 180
    now = timezone.now()
    old = now - dt.timedelta(days=300)
    storage.ensure_partitions(months_ahead=1, today=old.astimezone(dt.UTC).date())
    old_month = storage.partition_name(old.astimezone(dt.UTC).date())
    Telemetry.objects.bulk_create([_row(w, 1, old), _row(w, 2, now)])
    assert _partition_of(1) == old_month
    with connection.cursor() as cur:  # the test's one transaction: check the deferred FK now
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert storage.purge_old_telemetry() >= 1
    assert old_month not in storage.monthly_partitions()
    assert storage.partition_name(now.astimezone(dt.UTC).date()) in storage.monthly_partitions()
    assert list(Telemetry.objects.for_group(w.group_a).values_list("seq", flat=True)) == [2]


# --- the writer's fast paths give what the plain ones give ---------------------------------------
NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
_anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**64), max_value=2**64),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=9),
    st.lists(st.text(max_size=9), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=1),
)
_fields = {
    "device_id": st.one_of(st.sampled_from(["tbox-a1", "", "x" * 41]), _anything),
    "seq": st.one_of(st.integers(min_value=-1, max_value=2**63), _anything),
    "ts": st.one_of(
        st.integers(min_value=-60 * 24 * 40, max_value=60).map(
            lambda minutes: (NOW + dt.timedelta(minutes=minutes)).isoformat()
        ),
        st.sampled_from(["2026-06-01T11:00:00Z", "2026-06-01T11:00:00", "yesterday"]),
        st.floats(min_value=NOW.timestamp() - 1e7, max_value=NOW.timestamp() + 1e4),
        _anything,
    ),
    "lat": st.one_of(st.floats(min_value=-95, max_value=95), _anything),
    "lon": st.one_of(st.floats(min_value=-185, max_value=185), _anything),
    "speed_kmh": st.one_of(st.integers(min_value=-5, max_value=405), _anything),
    "heading": st.one_of(st.floats(min_value=-1, max_value=361), _anything),
    "odometer_km": st.one_of(st.floats(min_value=-1, max_value=3_000_001), _anything),
    "odometer_source": st.one_of(st.sampled_from(["can", "terminal", "gps", "obd", ""]), _anything),
    "ignition": _anything,
    "fuel_pct": st.one_of(st.floats(min_value=-1, max_value=101), _anything),
    "soc_pct": _anything,
    "battery_v": st.one_of(st.floats(min_value=-1, max_value=61), _anything),
    "dtcs": st.one_of(
        st.lists(st.text(max_size=9), max_size=52), st.sampled_from([[" p0301 "], []]), _anything
    ),
    "alarm": st.one_of(st.sampled_from(["crash", "none", "sos", "fire", ""]), _anything),
}
_raw = st.fixed_dictionaries({}, optional=_fields)


def _same_message(a: msg.Message, b: msg.Message) -> bool:
    return all(
        getattr(a, f.name) == getattr(b, f.name)
        and type(getattr(a, f.name)) is type(getattr(b, f.name))
        for f in dataclasses.fields(msg.Message)
    )


@given(raw=_raw)
@settings(max_examples=600, deadline=None)
def test_fast_parse_accepts_only_what_parse_accepts_and_builds_the_same_message(raw):
    fast = writer._parse_fast(raw, NOW)
    if fast is not None:  # otherwise messages.parse decides, with its reasons
        assert _same_message(fast, msg.parse(raw, now=NOW))


def test_fast_parse_takes_the_common_messages():
    clean = {
        "device_id": "tbox-a1",
        "seq": 7,
        "ts": (NOW - dt.timedelta(minutes=1)).isoformat(),
        "lat": 39.9,
        "lon": 116,
        "speed_kmh": 50,
        "heading": 90,
        "odometer_km": 12000.5,
        "odometer_source": "can",
        "ignition": True,
        "fuel_pct": 60,
        "battery_v": 14.1,
        "dtcs": ["p0301 "],
        "alarm": "crash",
    }
    for raw in (clean, {"device_id": "tbox-a1", "seq": 8, "ts": clean["ts"]}):
        fast = writer._parse_fast(raw, NOW)
        assert fast is not None and _same_message(fast, msg.parse(dict(raw), now=NOW))


def _original_state_walk(state, group_id, vehicle_id, fresh):
    """writer.py's state loop before it was made faster (the reference)."""
    newest = fresh[-1]
    state = state or VehicleState(dealer_group_id=group_id, vehicle_id=vehicle_id, ts=newest.ts)
    previous_ignition = state.ignition
    for m in fresh:
        if state.pk and m.ts < state.ts:
            continue
        state.ts = m.ts
        for f in (
            "lat",
            "lon",
            "speed_kmh",
            "heading",
            "ignition",
            "fuel_pct",
            "soc_pct",
            "battery_v",
        ):
            value = getattr(m, f)
            if value is not None and not (f in ("lat", "lon") and m.fix_valid is False):
                setattr(state, f, value)
        if m.dtcs or m.ignition:
            state.dtcs = m.dtcs
        if m.ignition is False and previous_ignition is not False:
            state.ignition_off_at = m.ts
        previous_ignition = m.ignition if m.ignition is not None else previous_ignition
    return state


_STATE = (
    "ts",
    "lat",
    "lon",
    "speed_kmh",
    "heading",
    "ignition",
    "fuel_pct",
    "soc_pct",
    "battery_v",
    "dtcs",
    "ignition_off_at",
)


def test_state_walk_matches_the_original_loop():
    rng = random.Random(5)
    maybe = lambda value: value if rng.random() < 0.6 else None  # noqa: E731
    for case in range(400):
        fresh = sorted(
            (
                msg.Message(
                    device_id="d",
                    seq=rng.randrange(50),
                    ts=NOW + dt.timedelta(seconds=rng.randrange(-30, 30)),
                    lat=maybe(rng.random()),
                    lon=maybe(rng.random()),
                    speed_kmh=maybe(rng.random()),
                    heading=maybe(rng.randrange(360)),
                    ignition=rng.choice([True, False, None]),
                    fuel_pct=maybe(rng.random()),
                    soc_pct=maybe(rng.random()),
                    battery_v=maybe(rng.random()),
                    dtcs=rng.choice([[], ["P0301"], ["P0420", "B1000"]]),
                    fix_valid=rng.choice([True, False, None]),
                )
                for _ in range(rng.randrange(1, 8))
            ),
            key=lambda m: (m.ts, m.seq),
        )

        state = None
        if rng.random() < 0.7:  # a car that reported before, maybe later than some of these
            state = dict(
                pk=1,
                dealer_group_id=1,
                vehicle_id=2,
                ts=fresh[-1].ts - dt.timedelta(seconds=rng.randrange(0, 40)),
                lat=0.5,
                ignition=rng.choice([True, False, None]),
                dtcs=["U0100"],
            )
        a = VehicleState(**state) if state else None
        b = VehicleState(**state) if state else None
        got = writer._move_state(a, 1, 2, fresh)
        want = _original_state_walk(b, 1, 2, fresh)
        assert [getattr(got, f) for f in _STATE] == [getattr(want, f) for f in _STATE], case


def test_daily_odometer_only_goes_up(fleet):
    w = fleet
    day = timezone.localdate()
    writer._merge_daily(w.group_a.pk, w.car.pk, {day: (100.0, "can")})
    writer._merge_daily(
        w.group_a.pk, w.car.pk, {day: (90.0, "gps"), day - dt.timedelta(1): (80.0, "gps")}
    )
    rows = DailyOdometer.objects.for_group(w.group_a).filter(vehicle=w.car)
    assert sorted(rows.values_list("date", "odometer_km", "source")) == [
        (day - dt.timedelta(1), 80.0, "gps"),
        (day, 100.0, "can"),
    ]
    writer._merge_daily(w.group_a.pk, w.car.pk, {day: (110.0, "terminal")}, vehicle_km=99_999)
    assert rows.get(date=day).odometer_km == 110.0 and rows.get(date=day).source == "terminal"
    w.car.refresh_from_db()
    assert w.car.odometer_km == 99_999


@postgres_only
def test_a_racing_first_batch_skips_what_the_other_stored(fleet):
    """No state row to lock on a car's first batch: if a concurrent first batch stored the same
    message after our dedupe, the COPY fails in its savepoint and the rows go in again with
    ON CONFLICT DO NOTHING."""
    w = fleet
    now = timezone.now()
    fresh = [writer._parse_fast(_raw_msg(seq, now), now) for seq in (1, 2, 3)]
    Telemetry.objects.bulk_create([_row(w, 2, fresh[1].ts)])  # the other batch's row
    writer._insert_pg(w.device_a, fresh, {}, now, first_batch=True, loose=False)
    rows = Telemetry.objects.for_group(w.group_a).order_by("seq")
    assert [(t.seq, t.dtcs, t.alarm) for t in rows] == [
        (1, ["P0301"], "none"),
        (2, [], "none"),
        (3, ["P0301"], "none"),
    ]


@postgres_only
def test_decoded_messages_are_stored_with_the_orm_s_conversions(fleet):
    """JT/T 808 hands the writer Message objects: their loosely typed fields are converted as the
    ORM would (heading to an integer, choice members to their value)."""
    w = fleet
    now = timezone.now()
    m = msg.Message(
        device_id="tbox-a1",
        seq=5,
        ts=now,
        heading=271.9,
        speed_kmh=42,
        odometer_km=1500,
        odometer_source=OdometerSource.TERMINAL,
        ignition=True,
        alarm=Alarm.SOS,
    )
    r = write_batch(w.device_a, [m], via="jt808")
    assert r.accepted == 1
    t = Telemetry.objects.for_group(w.group_a).get(seq=5)
    assert (t.heading, t.speed_kmh, t.odometer_km, t.odometer_source, t.alarm, t.dtcs) == (
        271,
        42.0,
        1500.0,
        "terminal",
        "sos",
        [],
    )


def _raw_msg(seq, now):
    return {
        "device_id": "tbox-a1",
        "seq": seq,
        "ts": (now - dt.timedelta(seconds=10 - seq)).isoformat(),
        "dtcs": [] if seq == 2 else ["P0301"],
    }
