"""The one batched writer every ingest path ends in (HTTP, MQTT, JT/T 808).

`write_batch(device, messages, via=...)` validates, dedupes, cleans odometer readings, appends
telemetry, moves the car's current state and daily odometer, records alarms (opening rescue
cases, theft alerts, geofence crossings) — all in ONE transaction. It returns only after the
commit, so a caller acknowledges a message (HTTP 200, MQTT PUBACK, JT/T 808 0x8001) only once it
is stored; a message delivered again after a crash is stored once (dedupe on device, seq, ts).
Queries per batch are constant in the batch size (set-based), apart from alarms.

Speed (PostgreSQL): per message the work is plain Python on tuples — the common, clean message
is validated by `_parse_fast` (exactly `messages.parse`, without its per-call overheads; anything
unusual goes to `messages.parse` itself, which decides and names the reason) — and the rows go
in with one `COPY` straight into the partitioned table. Duplicates are found before, with one
index range scan of this terminal's (seq, ts) span, under the car's state row lock (taken
first, so a concurrent batch of the same car cannot slip in between); the first batch of a
car, with no state row to lock yet, runs its COPY in a savepoint and falls back to
`INSERT … ON CONFLICT DO NOTHING` if a concurrent batch stored the same message. The daily
odometer and the car's odometer are one statement. SQLite keeps the ORM path (pre-query, then
bulk_create).
"""

import dataclasses
import datetime as dt
import json
import math
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from m4s.core.observability import INGESTED
from m4s.vehicles.services import record_odometer

from . import consent
from . import messages as msg
from .choices import SOURCE_RANK, Alarm, OdometerSource
from .models import DailyOdometer, DeadLetter, Device, Telemetry, VehicleState

MAX_KMH = 250.0  # faster odometer growth than this is not physically a car
BACKWARDS_TOLERANCE_KM = 0.5
SOURCE_STICKY = dt.timedelta(minutes=30)  # a better source heard this recently wins


@dataclass
class BatchResult:
    accepted: int = 0
    duplicates: int = 0
    dead: int = 0
    alarms: list = field(default_factory=list)
    dead_reasons: list = field(default_factory=list)
    withheld: int = 0  # acknowledged and dropped: the owner has not consented (consent.py)

    def as_dict(self) -> dict:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "dead_lettered": self.dead,
            "errors": self.dead_reasons,
        }


def dead_letter(
    raw, reason: str, detail: str = "", *, via: str, device: Device | None = None, now=None
):
    claimed = raw.get("device_id") if isinstance(raw, dict) else ""
    DeadLetter.objects.create(
        dealer_group_id=getattr(device, "dealer_group_id", None),
        device_id=_jsonable(str(getattr(device, "device_id", None) or claimed or ""))[:40],
        received_at=now or timezone.now(),
        via=via,
        reason=reason,
        detail=_jsonable(detail[:300]),
        payload=_jsonable(raw),
    )


def _jsonable(raw, depth: int = 0):
    """What was received, in a form any database's JSON column takes: NaN and Infinity and
    huge integers as strings, NUL and unpaired surrogates replaced, deep nesting cut, anything
    else as its repr. A dead letter can always be written, so it never takes a batch down."""
    if isinstance(raw, msg.Message):
        raw = raw.as_dict()
    if depth > 20:
        return "…"
    if raw is None:
        return None if depth else "null"  # the column itself must not be NULL
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int):
        return raw if -(2**53) < raw < 2**53 else str(raw)[:40]
    if isinstance(raw, float):
        return raw if math.isfinite(raw) else str(raw)
    if isinstance(raw, str):
        return raw.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")
    if isinstance(raw, dict):
        return {_jsonable(str(k), depth + 1): _jsonable(v, depth + 1) for k, v in raw.items()}
    if isinstance(raw, list | tuple):
        return [_jsonable(v, depth + 1) for v in raw]
    return _jsonable(repr(raw)[:2000], depth + 1)


def _local_date(ts: dt.datetime, tz) -> dt.date:
    return ts.astimezone(tz).date()


# --- validation: the common case without the per-call costs of messages.parse ---------------------
_SOURCES = frozenset(OdometerSource.values)
_ALARMS = {value: value for value in Alarm.values}  # plain str, for COPY
_RANGES = (  # as messages.parse checks them
    ("lat", -90, 90),
    ("lon", -180, 180),
    ("speed_kmh", 0, 400),
    ("heading", 0, 360),
    ("odometer_km", 0, 3_000_000),
    ("fuel_pct", 0, 100),
    ("soc_pct", 0, 100),
    ("battery_v", 0, 60),
)
_NO_NUMBERS = dict.fromkeys(name for name, _low, _high in _RANGES)
_MAX_SEQ = 2**63
_WORD = 2**32


def _parse_fast(raw, now: dt.datetime) -> msg.Message | None:
    """`messages.parse(raw, now=now)` for a clean JSON object, or None when anything is out of
    the ordinary (then messages.parse decides, with its reasons). Never accepts what parse
    refuses, and builds the same Message; it only skips parse's per-call overheads."""
    if type(raw) is not dict:
        return None
    get = raw.get
    device_id = get("device_id")
    if type(device_id) is not str or not 1 <= len(device_id) <= 40:
        return None
    seq = get("seq")
    if type(seq) is not int or not 0 <= seq < _MAX_SEQ:
        return None
    source = get("odometer_source") or ""
    if source and (type(source) is not str or source not in _SOURCES):
        return None
    alarm = get("alarm")
    if not alarm:
        alarm = Alarm.NONE
    elif type(alarm) is not str or alarm not in _ALARMS:
        return None
    ignition = get("ignition")
    if ignition is not None and type(ignition) is not bool:
        return None
    dtcs = get("dtcs")
    if not dtcs:
        dtcs = []
    elif type(dtcs) is not list or len(dtcs) > 50:
        return None
    else:
        for code in dtcs:
            if type(code) is not str or len(code) > 8 or "\x00" in code:
                return None
        dtcs = [code.strip().upper() for code in dtcs]
    numbers = dict(_NO_NUMBERS)
    for name, low, high in _RANGES:
        value = get(name)
        if value is None:
            continue
        kind = type(value)
        if (kind is not float and kind is not int) or not low <= value <= high:  # NaN fails too
            return None
        numbers[name] = float(value)
    lat, lon, heading, odometer = (
        numbers["lat"],
        numbers["lon"],
        numbers["heading"],
        numbers["odometer_km"],
    )
    if (lat is None) != (lon is None) or (odometer is not None and not source):
        return None
    fix_valid = get("fix_valid")
    if fix_valid is not None and type(fix_valid) is not bool:
        return None
    alarm_word, status_word = get("alarm_word"), get("status_word")
    for word in (alarm_word, status_word):
        if word is not None and (type(word) is not int or not 0 <= word < _WORD):
            return None
    try:
        ts = msg._ts(get("ts"), now)
    except msg.Invalid:
        return None
    return msg.Message(
        device_id=device_id,
        seq=seq,
        ts=ts,
        lat=lat,
        lon=lon,
        speed_kmh=numbers["speed_kmh"],
        heading=int(heading) if heading is not None else None,
        odometer_km=odometer,
        odometer_source=source,
        ignition=ignition,
        fuel_pct=numbers["fuel_pct"],
        soc_pct=numbers["soc_pct"],
        battery_v=numbers["battery_v"],
        dtcs=dtcs,
        alarm=alarm,
        fix_valid=fix_valid,
        alarm_word=alarm_word,
        status_word=status_word,
    )


def write_batch(
    device: Device, raws: list, *, via: str, now: dt.datetime | None = None
) -> BatchResult:
    now = now or timezone.now()
    result = BatchResult()
    with transaction.atomic():
        _write(device, raws, via=via, now=now, result=result)
    # counted after the commit, like the acknowledgement (the ingest rate on /metrics)
    for outcome, n in (
        ("stored", result.accepted),
        ("duplicate", result.duplicates),
        ("dead", result.dead),
        ("withheld", result.withheld),  # no telematics consent: acknowledged and dropped
    ):
        if n:
            INGESTED.labels(via=via, result=outcome).inc(n)
    return result


def _write(device: Device, raws: list, *, via: str, now, result: BatchResult):
    good: list[msg.Message] = []
    dead: list[DeadLetter] = []
    loose = False  # a Message object came in (JT/T 808): its field types were not checked
    for i, raw in enumerate(raws):
        try:
            m = _parse_fast(raw, now)
            if m is None:
                m = msg.parse(raw, now=now)
                loose = loose or type(raw) is not dict
            if m.device_id != device.device_id and m.device_id != device.key:
                raise msg.Invalid(
                    "wrong_device", f"message for {m.device_id} sent with {device.device_id}'s key"
                )
            good.append(m)
        except msg.Invalid as e:
            dead.append(
                DeadLetter(
                    dealer_group_id=device.dealer_group_id,
                    device_id=device.device_id,
                    received_at=now,
                    via=via,
                    reason=e.reason,
                    detail=_jsonable(e.detail[:300]),
                    payload=_jsonable(raw),
                )
            )
            result.dead_reasons.append(
                {"index": i, "reason": e.reason, "detail": _jsonable(e.detail[:300])}
            )
    if dead:
        DeadLetter.objects.bulk_create(dead)
        result.dead = len(dead)
    if not good:
        return
    if device.vehicle_id is None:
        DeadLetter.objects.bulk_create(
            DeadLetter(
                dealer_group_id=device.dealer_group_id,
                device_id=device.device_id,
                received_at=now,
                via=via,
                reason="no_vehicle",
                detail="the terminal is not fitted to a car",
                payload=m.as_dict(),
            )
            for m in good
        )
        result.dead += len(good)
        result.dead_reasons += [{"index": None, "reason": "no_vehicle", "detail": ""}]
        return

    # Without the owner's telematics consent only safety alarms are kept, and their positions
    # go to the alarm and rescue case only (consent.py); the consent is read once per batch.
    positions: dict[tuple, msg.Message] | None = None
    if consent.vehicles_without_consent(device.dealer_group_id, {device.vehicle_id}):
        consent.forget_positions(device.dealer_group_id, [device.vehicle_id])
        safety = [m for m in good if m.alarm in consent.SAFETY_ALARMS]
        result.withheld = len(good) - len(safety)
        positions = {(m.seq, m.ts): m for m in safety}
        good = [
            dataclasses.replace(m, lat=None, lon=None, speed_kmh=None, heading=None) for m in safety
        ]
        if not good:
            _touch(device, now)
            return

    # Dedupe: drop repeats inside the batch and rows already stored.
    unique: dict[tuple, msg.Message] = {}
    for m in good:
        unique.setdefault((m.seq, m.ts), m)
    vehicle_id = device.vehicle_id
    g = device.dealer_group_id
    postgres = is_postgres()
    if postgres:
        # The car's state row first: it serialises the batches of this car, so the duplicates
        # found next cannot be stored by someone else before our COPY.
        state = _locked_state(g, vehicle_id)
        stored = _stored_keys_pg(device, unique)
    else:
        stored = set(
            Telemetry.objects.for_group(g)
            .filter(device=device, seq__in={seq for seq, _ts in unique})
            .values_list("seq", "ts")
        )
    fresh = sorted(
        (m for key, m in unique.items() if key not in stored), key=lambda m: (m.ts, m.seq)
    )
    result.duplicates = len(good) - len(fresh)
    if not fresh:
        _touch(device, now)
        return

    if not postgres:
        state = _locked_state(g, vehicle_id)
    from m4s.vehicles.models import Vehicle

    # The owner's store's time zone comes with the car; the owner and stores themselves are
    # loaded only if an alarm needs them.
    vehicle = (
        Vehicle.objects.for_group(g)
        .annotate(owner_store_timezone=F("current_owner__store__timezone"))
        .get(pk=vehicle_id)
    )
    tz = timezone.get_current_timezone()
    if vehicle.owner_store_timezone:
        tz = zoneinfo.ZoneInfo(vehicle.owner_store_timezone)

    notes, daily, last_km, last_ts, last_src = _odometer_hygiene(fresh, state, tz)
    if postgres:
        _insert_pg(device, fresh, notes, now, first_batch=state is None, loose=loose)
    else:
        Telemetry.objects.bulk_create(
            [
                Telemetry(
                    dealer_group_id=g,
                    device_id=device.pk,
                    vehicle_id=vehicle_id,
                    seq=m.seq,
                    ts=m.ts,
                    received_at=now,
                    lat=m.lat,
                    lon=m.lon,
                    speed_kmh=m.speed_kmh,
                    heading=m.heading,
                    odometer_km=m.odometer_km,
                    odometer_source=m.odometer_source,
                    odometer_note=notes.get((m.seq, m.ts), ""),
                    ignition=m.ignition,
                    fuel_pct=m.fuel_pct,
                    soc_pct=m.soc_pct,
                    battery_v=m.battery_v,
                    dtcs=m.dtcs,
                    alarm=m.alarm,
                    fix_valid=m.fix_valid,
                    alarm_word=m.alarm_word,
                    status_word=m.status_word,
                )
                for m in fresh
            ],
            ignore_conflicts=True,
            batch_size=2000,
        )
    result.accepted = len(fresh)

    # Current state: the newest message wins field by field (out-of-order ones only fill gaps).
    newest = fresh[-1]
    if state is None or newest.ts >= state.ts:
        state = _move_state(state, g, vehicle_id, fresh)
        if last_ts is not None and (state.odometer_ts is None or last_ts >= state.odometer_ts):
            state.odometer_km, state.odometer_ts, state.odometer_source = last_km, last_ts, last_src
        state.device = device
        state.save()
    if daily:
        raise_odometer = last_km is not None and (vehicle.odometer_km or 0) < last_km
        _merge_daily(g, vehicle_id, daily, vehicle_km=int(last_km) if raise_odometer else None)
    _touch(device, now)

    from . import services

    alarms = [m for m in fresh if m.alarm != Alarm.NONE]
    if positions is not None:  # no consent: the alarm itself keeps where it happened
        alarms = [positions[(m.seq, m.ts)] for m in alarms]
    result.alarms = services.handle_alarms(device, vehicle, state, alarms) if alarms else []
    services.watch_parked_and_geofences(device, vehicle, state, fresh)
    if daily:
        transaction.on_commit(lambda: services.enqueue_forecast(vehicle_id))


def _locked_state(group_id, vehicle_id) -> VehicleState | None:
    return (
        VehicleState.objects.for_group(group_id)
        .select_for_update()
        .filter(vehicle_id=vehicle_id)
        .first()
    )


def _odometer_hygiene(fresh: list, state: VehicleState | None, tz):
    """Odometer hygiene, in time order, against the last accepted reading. Returns the note of
    each refused reading by (seq, ts), the best reading of each local day, and the last
    accepted reading (km, ts, source)."""
    last_km = state.odometer_km if state else None
    last_ts = state.odometer_ts if state else None
    last_src = state.odometer_source if state else ""
    notes: dict[tuple, str] = {}
    daily: dict[dt.date, tuple[float, str]] = {}
    for m in fresh:
        if m.odometer_km is None:
            continue
        note = ""
        if m.odometer_source == "gps" and m.lat == 0 and m.lon == 0:
            note = "null_island_fix"
        elif last_ts is not None and m.ts <= last_ts:
            # An older reading must fit below the newer one: not above it, not from a worse
            # source than what we trust now, and not further below than the car could drive.
            gap_h = max((last_ts - m.ts).total_seconds() / 3600, 1 / 3600)
            if m.odometer_km > (last_km or 0) + BACKWARDS_TOLERANCE_KM:
                note = "out_of_order"
            elif last_src and SOURCE_RANK.get(m.odometer_source, 0) < SOURCE_RANK.get(last_src, 0):
                note = "worse_source"
            elif last_km is not None and last_km - m.odometer_km > max(1, MAX_KMH * gap_h):
                note = "impossible_jump"
            if not note:  # an older reading that fits: counts for its own day only
                day = _local_date(m.ts, tz)
                if day not in daily or daily[day][0] < m.odometer_km:
                    daily[day] = (m.odometer_km, m.odometer_source)
                continue
        elif last_km is not None and m.odometer_km < last_km - BACKWARDS_TOLERANCE_KM:
            note = "backwards"
        elif (
            last_src
            and SOURCE_RANK.get(m.odometer_source, 0) < SOURCE_RANK.get(last_src, 0)
            and last_ts is not None
            and m.ts - last_ts < SOURCE_STICKY
        ):
            note = "worse_source"
        elif last_km is not None and last_ts is not None:
            hours = max((m.ts - last_ts).total_seconds() / 3600, 1 / 3600)
            if (m.odometer_km - last_km) / hours > MAX_KMH and m.odometer_km - last_km > 1:
                note = "impossible_jump"
        if note:
            notes[(m.seq, m.ts)] = note
            continue
        last_km, last_ts, last_src = max(m.odometer_km, last_km or 0), m.ts, m.odometer_source
        day = _local_date(m.ts, tz)
        if day not in daily or daily[day][0] < m.odometer_km:
            daily[day] = (m.odometer_km, m.odometer_source)
    return notes, daily, last_km, last_ts, last_src


_STATE_FIELDS = (
    "speed_kmh",
    "heading",
    "ignition",
    "fuel_pct",
    "soc_pct",
    "battery_v",
)


def _move_state(state: VehicleState | None, group_id, vehicle_id, fresh: list) -> VehicleState:
    """Walk the state forward through the fresh messages (sorted by time) that are not older
    than it: each field takes its newest non-empty value (the position only from a report with
    a valid fix, so the state keeps the car's last known good position); the trouble codes those of the newest
    message with codes or with the engine running; `ignition_off_at` the last switch-off."""
    newest = fresh[-1]
    if state is None:
        state = VehicleState(dealer_group_id=group_id, vehicle_id=vehicle_id, ts=newest.ts)
        walked = fresh
    else:
        since = state.ts
        start = 0
        while fresh[start].ts < since:  # ends: newest.ts >= state.ts
            start += 1
        walked = fresh[start:] if start else fresh
    previous_ignition = state.ignition
    for m in walked:
        ignition = m.ignition
        if ignition is False and previous_ignition is not False:
            state.ignition_off_at = m.ts
        if ignition is not None:
            previous_ignition = ignition
    state.ts = newest.ts
    for name in ("lat", "lon"):  # the position: never one the terminal says is not a fix
        for m in reversed(walked):
            value = getattr(m, name)
            if value is not None and m.fix_valid is not False:
                setattr(state, name, value)
                break
    for name in _STATE_FIELDS:
        for m in reversed(walked):
            value = getattr(m, name)
            if value is not None:
                setattr(state, name, value)
                break
    for m in reversed(walked):
        if m.dtcs or m.ignition:  # a clean report with the engine running clears the codes
            state.dtcs = m.dtcs
            break
    return state


# --- PostgreSQL: dedupe by one range scan, rows by COPY ------------------------------------------
_COLUMNS = (
    "dealer_group_id, device_id, vehicle_id, seq, ts, received_at, lat, lon, speed_kmh, heading, "
    "odometer_km, odometer_source, odometer_note, ignition, fuel_pct, soc_pct, battery_v, dtcs, "
    "alarm, fix_valid, alarm_word, status_word"
)
_COPY = f"COPY {Telemetry._meta.db_table} ({_COLUMNS}) FROM STDIN (FORMAT BINARY)"
_COPY_TYPES = (  # binary COPY: no text formatting of floats and times on either side
    *("int8", "int8", "int8", "int8", "timestamptz", "timestamptz"),
    *("float8", "float8", "float8", "int2", "float8", "text", "text", "bool"),
    *("float8", "float8", "float8", "bytea", "text"),  # dtcs: jsonb's binary form, made here
    *("bool", "int8", "int8"),
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
    "%s::bigint[]) ON CONFLICT DO NOTHING"
)


def _stored_keys_pg(device: Device, unique: dict) -> set:
    """The (seq, ts) of this batch already stored for this terminal: one index range scan over
    the batch's seq and ts span (the ts bounds prune the monthly partitions)."""
    seqs = [seq for seq, _ts in unique]
    stamps = [ts for _seq, ts in unique]
    low, high = min(seqs), max(seqs)
    with connection.cursor() as cur:
        if high - low <= 4 * len(seqs) + 1000:
            cur.execute(
                f"SELECT seq, ts FROM {Telemetry._meta.db_table} "  # noqa: S608 - constants
                "WHERE device_id = %s AND seq BETWEEN %s AND %s AND ts BETWEEN %s AND %s",
                [device.pk, low, high, min(stamps), max(stamps)],
            )
        else:  # scattered sequence numbers (a counter that wrapped): look each up
            cur.execute(
                f"SELECT seq, ts FROM {Telemetry._meta.db_table} "  # noqa: S608 - constants
                "WHERE device_id = %s AND seq = ANY(%s) AND ts BETWEEN %s AND %s",
                [device.pk, sorted(set(seqs)), min(stamps), max(stamps)],
            )
        return {key for key in cur.fetchall() if key in unique}


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
    rows = _rows_pg(device, fresh, notes, now, loose=loose)
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
    from m4s.vehicles.models import Vehicle

    if is_postgres():  # one statement: the daily upsert (and the car's odometer)
        values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(daily))
        params = []
        for day, (km, source) in daily.items():
            params += [group_id, vehicle_id, day, km, source]
        upsert = (
            f"INSERT INTO {DailyOdometer._meta.db_table} AS d "  # noqa: S608 - constants
            f"(dealer_group_id, vehicle_id, date, odometer_km, source) VALUES {values} "
            "ON CONFLICT (vehicle_id, date) DO UPDATE SET "
            "odometer_km = EXCLUDED.odometer_km, source = EXCLUDED.source "
            "WHERE d.odometer_km < EXCLUDED.odometer_km"
        )
        if vehicle_km is not None:
            upsert = (
                f"WITH daily AS ({upsert}) UPDATE {Vehicle._meta.db_table} "  # noqa: S608
                "SET odometer_km = %s WHERE dealer_group_id = %s AND id = %s "
                "AND (odometer_km IS NULL OR odometer_km < %s)"  # as record_odometer(): never lower
            )
            params += [vehicle_km, group_id, vehicle_id, vehicle_km]
        with connection.cursor() as cur:
            cur.execute(upsert, params)
        return
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


def _touch(device: Device, now):
    if device.last_seen_at is None or now - device.last_seen_at > dt.timedelta(seconds=30):
        Device.objects.for_group(device.dealer_group_id).filter(pk=device.pk).update(
            last_seen_at=now
        )
        device.last_seen_at = now


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def group_by_device(raws: list) -> dict[str, list]:
    out = defaultdict(list)
    for raw in raws:
        out[
            raw.get("device_id") if isinstance(raw, dict) else getattr(raw, "device_id", "")
        ].append(raw)
    return out
