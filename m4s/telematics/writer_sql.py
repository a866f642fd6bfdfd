"""The writer's set-based statements (writer.py): on PostgreSQL the duplicate check of a whole
batch in one statement, the rows by binary COPY, the cars' state rows in one UPDATE, the daily
odometer and the cars' odometers in one upsert; on SQLite the ORM equivalents."""

import datetime as dt
import json
from collections import defaultdict

from django.db import IntegrityError, connection, transaction

from m4s.vehicles.services import record_odometer

from . import messages as msg
from .choices import Alarm
from .models import DailyOdometer, Device, Telemetry, VehicleState

_ALARMS = {value: value for value in Alarm.values}  # plain str, for COPY


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


# --- PostgreSQL: dedupe by one range scan, rows by COPY ------------------------------------------
_COLUMNS = (
    "dealer_group_id, device_id, vehicle_id, seq, ts, received_at, lat, lon, speed_kmh, heading, "
    "odometer_km, odometer_source, odometer_note, ignition, fuel_pct, soc_pct, battery_v, dtcs, "
    "alarm, fix_valid, alarm_word, status_word, pack_v, pack_a, charge_state, alarm_level"
)
_COPY = f"COPY {Telemetry._meta.db_table} ({_COLUMNS}) FROM STDIN (FORMAT BINARY)"
_COPY_TYPES = (  # binary COPY: no text formatting of floats and times on either side
    *("int8", "int8", "int8", "int8", "timestamptz", "timestamptz"),
    *("float8", "float8", "float8", "int2", "float8", "text", "text", "bool"),
    *("float8", "float8", "float8", "bytea", "text"),  # dtcs: jsonb's binary form, made here
    *("bool", "int8", "int8"),
    *("float8", "float8", "int2", "int2"),
)
_JSONB_EMPTY_LIST = b"\x01[]"  # jsonb binary format: version 1, then the JSON text


def _jsonb(value: list) -> bytes:
    return b"\x01" + json.dumps(value).encode() if value else _JSONB_EMPTY_LIST


_INSERT_IGNORE = (
    f"INSERT INTO {Telemetry._meta.db_table} ({_COLUMNS}) "  # noqa: S608 - constants
    "SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], "
    "%s::timestamptz[], %s::timestamptz[], %s::float8[], %s::float8[], %s::float8[], "
    "%s::smallint[], %s::float8[], %s::text[], %s::text[], %s::boolean[], %s::float8[], "
    "%s::float8[], %s::float8[], %s::jsonb[], %s::text[], %s::boolean[], %s::bigint[], "
    "%s::bigint[], %s::float8[], %s::float8[], %s::smallint[], %s::smallint[]) "
    "ON CONFLICT DO NOTHING"
)


_STORED_SPANS = (
    "SELECT t.device_id, t.seq, t.ts FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], "  # noqa: S608 - constants
    "%s::timestamptz[], %s::timestamptz[]) AS r(device_id, low, high, since, until) "
    f"JOIN {Telemetry._meta.db_table} t ON t.device_id = r.device_id "
    "AND t.seq BETWEEN r.low AND r.high AND t.ts BETWEEN r.since AND r.until"
)


def _stored_keys(subs: list, postgres: bool) -> dict[int, set]:
    """The (seq, ts) of each terminal's batch already stored, by device pk. PostgreSQL: one
    index range scan per terminal over its batch's seq and ts span (the ts bounds prune the
    monthly partitions), all in one statement; scattered sequence numbers (a counter that
    wrapped) are looked up one by one."""
    out: dict[int, set] = defaultdict(set)
    if not postgres:
        wanted = {(sub.device.pk, key) for sub in subs for key in sub.unique}
        found = (
            Telemetry.objects.unscoped()
            .filter(
                device_id__in={sub.device.pk for sub in subs},
                seq__in={seq for sub in subs for seq, _ts in sub.unique},
            )
            .values_list("device_id", "seq", "ts")
        )
        for device_pk, seq, ts in found:
            if (device_pk, (seq, ts)) in wanted:
                out[device_pk].add((seq, ts))
        return out
    spans: list[list] = [[], [], [], [], []]
    with connection.cursor() as cur:
        for sub in subs:
            seqs = [seq for seq, _ts in sub.unique]
            stamps = [ts for _seq, ts in sub.unique]
            low, high = min(seqs), max(seqs)
            if high - low <= 4 * len(seqs) + 1000:
                for column, value in zip(
                    spans, (sub.device.pk, low, high, min(stamps), max(stamps)), strict=True
                ):
                    column.append(value)
                continue
            cur.execute(
                f"SELECT device_id, seq, ts FROM {Telemetry._meta.db_table} "  # noqa: S608
                "WHERE device_id = %s AND seq = ANY(%s) AND ts BETWEEN %s AND %s",
                [sub.device.pk, sorted(set(seqs)), min(stamps), max(stamps)],
            )
            for device_pk, seq, ts in cur.fetchall():
                out[device_pk].add((seq, ts))
        if spans[0]:
            cur.execute(_STORED_SPANS, spans)
            for device_pk, seq, ts in cur.fetchall():
                out[device_pk].add((seq, ts))
    return out


def _rows_pg(device: Device, fresh: list, notes: dict, now, *, loose: bool) -> list[tuple]:
    g, device_pk, vehicle_id = device.dealer_group_id, device.pk, device.vehicle_id
    if loose:
        return [_loose_row(g, device_pk, vehicle_id, m, notes, now) for m in fresh]
    alarms, jsonb = _ALARMS, _jsonb
    return [
        (
            g,
            device_pk,
            vehicle_id,
            m.seq,
            m.ts,
            now,
            m.lat,
            m.lon,
            m.speed_kmh,
            m.heading,
            m.odometer_km,
            m.odometer_source,
            notes.get((m.seq, m.ts), "") if notes else "",
            m.ignition,
            m.fuel_pct,
            m.soc_pct,
            m.battery_v,
            jsonb(m.dtcs),
            alarms[m.alarm],
            m.fix_valid,
            m.alarm_word,
            m.status_word,
            m.pack_v,
            m.pack_a,
            m.charge_state,
            m.alarm_level,
        )
        for m in fresh
    ]


def _as(kind, value):
    return value if value is None or type(value) is kind else kind(value)


def _loose_row(g, device_pk, vehicle_id, m: msg.Message, notes: dict, now) -> tuple:
    """A row from a Message built by a decoder, with the conversions the ORM would make."""
    return (
        g,
        device_pk,
        vehicle_id,
        int(m.seq),
        m.ts,
        now,
        _as(float, m.lat),
        _as(float, m.lon),
        _as(float, m.speed_kmh),
        _as(int, m.heading),
        _as(float, m.odometer_km),
        _as(str, m.odometer_source),
        notes.get((m.seq, m.ts), ""),
        _as(bool, m.ignition),
        _as(float, m.fuel_pct),
        _as(float, m.soc_pct),
        _as(float, m.battery_v),
        _jsonb(list(m.dtcs or ())),
        _as(str, m.alarm),
        _as(bool, m.fix_valid),
        _as(int, m.alarm_word),
        _as(int, m.status_word),
        _as(float, m.pack_v),
        _as(float, m.pack_a),
        _as(int, m.charge_state),
        _as(int, m.alarm_level),
    )


def _copy_pg(rows: list[tuple]) -> None:
    # wrap_database_errors: COPY goes past Django's cursor wrapper; its errors should not.
    with connection.wrap_database_errors, connection.cursor() as cur, cur.copy(_COPY) as copy:
        copy.set_types(_COPY_TYPES)
        write = copy.write_row
        for row in rows:
            write(row)


def _insert_pg(
    device: Device, fresh: list, notes: dict, now, *, first_batch: bool, loose: bool
) -> None:
    _insert_rows_pg(_rows_pg(device, fresh, notes, now, loose=loose), first_batch=first_batch)


def _insert_rows_pg(rows: list[tuple], *, first_batch: bool) -> None:
    if not first_batch:
        _copy_pg(rows)
        return
    # No state row was locked (the car's first batch): a concurrent first batch could store the
    # same message between our dedupe and our COPY. Rare; then skip what it stored.
    try:
        with transaction.atomic():
            _copy_pg(rows)
    except IntegrityError:
        with connection.cursor() as cur:
            columns = [list(column) for column in zip(*rows, strict=True)]
            columns[17] = [dtcs[1:].decode() for dtcs in columns[17]]  # JSON text
            cur.execute(_INSERT_IGNORE, columns)


def _merge_daily(group_id, vehicle_id, daily: dict, *, vehicle_km: int | None = None):
    """Each day's best reading (a day's reading only ever goes up); `vehicle_km`: also raise the
    car's odometer to it."""
    _merge_daily_all(
        [(group_id, vehicle_id, day, km, source, vehicle_km) for day, (km, source) in daily.items()]
    )


_DAILY_UPSERT = (
    f"INSERT INTO {DailyOdometer._meta.db_table} AS d "  # noqa: S608 - constants
    "(dealer_group_id, vehicle_id, date, odometer_km, source) "
    "SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::date[], %s::float8[], %s::text[]) "
    "ON CONFLICT (vehicle_id, date) DO UPDATE SET "
    "odometer_km = EXCLUDED.odometer_km, source = EXCLUDED.source "
    "WHERE d.odometer_km < EXCLUDED.odometer_km"
)


def _merge_daily_all(rows: list[tuple]) -> None:
    """(group, car, day, km, source, raise the car's odometer to km or None) rows, each (car,
    day) once. PostgreSQL: one statement for the daily upsert and the cars' odometers (as
    record_odometer(): never lowered)."""
    from m4s.vehicles.models import Vehicle

    if is_postgres():
        columns = [list(column) for column in zip(*rows, strict=True)]
        raised = {(g, v): km for g, v, _d, _k, _s, km in rows if km is not None}
        sql, params = _DAILY_UPSERT, columns[:5]
        if raised:
            sql = (
                f"WITH daily AS ({sql}) UPDATE {Vehicle._meta.db_table} AS c "  # noqa: S608
                "SET odometer_km = r.km FROM unnest(%s::bigint[], %s::bigint[], %s::int[]) "
                "AS r(g, id, km) WHERE c.dealer_group_id = r.g AND c.id = r.id "
                "AND (c.odometer_km IS NULL OR c.odometer_km < r.km)"
            )
            params += [[g for g, _v in raised], [v for _g, v in raised], list(raised.values())]
        with connection.cursor() as cur:
            cur.execute(sql, params)
        return
    by_car: dict[tuple, dict] = defaultdict(dict)
    for g, vehicle_id, day, km, source, vehicle_km in rows:
        by_car[(g, vehicle_id, vehicle_km)][day] = (km, source)
    for (g, vehicle_id, vehicle_km), daily in by_car.items():
        _merge_daily_sqlite(g, vehicle_id, daily, vehicle_km=vehicle_km)


def _merge_daily_sqlite(group_id, vehicle_id, daily: dict, *, vehicle_km: int | None):
    if vehicle_km is not None:
        record_odometer(group_id, vehicle_id, vehicle_km)
    existing = {
        d.date: d
        for d in DailyOdometer.objects.for_group(group_id).filter(
            vehicle_id=vehicle_id, date__in=list(daily)
        )
    }
    new = []
    for day, (km, source) in daily.items():
        row = existing.get(day)
        if row is None:
            new.append(
                DailyOdometer(
                    dealer_group_id=group_id,
                    vehicle_id=vehicle_id,
                    date=day,
                    odometer_km=km,
                    source=source,
                )
            )
        elif km > row.odometer_km:
            DailyOdometer.objects.for_group(group_id).filter(pk=row.pk).update(
                odometer_km=km, source=source
            )
    if new:
        DailyOdometer.objects.bulk_create(new, ignore_conflicts=True)


def _touch_all(devices: list[Device], now) -> None:
    """last_seen_at, at most every 30 s per terminal: one statement for the batch."""
    stale = {
        d.pk: d
        for d in devices
        if d.last_seen_at is None or now - d.last_seen_at > dt.timedelta(seconds=30)
    }
    if stale:
        Device.objects.unscoped().filter(pk__in=list(stale)).update(last_seen_at=now)
        for d in devices:
            if d.pk in stale:
                d.last_seen_at = now


_STATE_MOVED = (
    "device_id",
    "ts",
    "lat",
    "lon",
    "speed_kmh",
    "heading",
    "ignition",
    "ignition_off_at",
    "fuel_pct",
    "soc_pct",
    "battery_v",
    "pack_v",
    "pack_a",
    "charge_state",
    "alarm_level",
    "dtcs",
    "odometer_km",
    "odometer_ts",
    "odometer_source",
    "updated_at",
)
_STATE_TYPES = (
    *("bigint", "timestamptz", "float8", "float8", "float8", "smallint", "boolean"),
    *("timestamptz", "float8", "float8", "float8", "float8", "float8", "smallint", "smallint"),
    *("jsonb", "float8", "timestamptz"),
    *("text", "timestamptz"),
)
_COERCE = {"float8": float, "smallint": int, "boolean": bool, "text": str}
_UPDATE_STATES = (
    f"UPDATE {VehicleState._meta.db_table} AS s SET "  # noqa: S608 - constants
    + ", ".join(f"{name} = v.{name}" for name in _STATE_MOVED)
    + " FROM unnest(%s::bigint[], "
    + ", ".join(f"%s::{kind}[]" for kind in _STATE_TYPES)
    + f") AS v(id, {', '.join(_STATE_MOVED)}) WHERE s.id = v.id"
)


def _update_states(states: list[VehicleState]) -> None:
    """What the writer moves of each car's state row: one statement for the batch."""
    if not is_postgres():
        fields = [name.removesuffix("_id") for name in _STATE_MOVED]
        VehicleState.objects.unscoped().bulk_update(states, fields)
        return
    columns: list[list] = [[s.pk for s in states]]
    for name, kind in zip(_STATE_MOVED, _STATE_TYPES, strict=True):
        values = [getattr(s, name) for s in states]
        if name == "dtcs":
            values = [json.dumps(v) for v in values]
        elif kind in _COERCE:  # one Python type per column (a decoder may hand ints)
            cast = _COERCE[kind]
            values = [v if v is None else cast(v) for v in values]
        columns.append(values)
    with connection.cursor() as cur:
        cur.execute(_UPDATE_STATES, columns)
