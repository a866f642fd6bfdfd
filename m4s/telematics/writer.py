"""The one batched writer every ingest path ends in (HTTP, MQTT, JT/T 808).

`write_many([(device, messages), ...], via=...)` validates, dedupes, cleans odometer readings,
appends telemetry, moves each car's current state and daily odometer, records alarms (opening
rescue cases, theft alerts, geofence crossings) for many terminals — all in ONE transaction,
set-based across the terminals (one dead-letter insert, one consent read per dealer group, one
state-row lock, one duplicate check, one COPY, one state update, one daily merge; the
statements are in writer_sql.py). It returns only after the commit, so a caller acknowledges a
message (HTTP 200, MQTT PUBACK, JT/T 808 0x8001) only once it is stored; a message delivered
again after a crash is stored once (dedupe on device, seq, ts). If the shared transaction fails,
each terminal's messages are written again alone, so one bad submission does not fail the
others. `write_batch(device, messages)` is one terminal's. Batching across terminals: batcher.py
(HTTP) and mqtt_ingest.py. Queries per batch are constant in its size, apart from alarms.

Speed (PostgreSQL): per message the work is plain Python on tuples — the common, clean message
is validated by `_parse_fast` (exactly `messages.parse`, without its per-call overheads; anything
unusual goes to `messages.parse` itself, which decides and names the reason) — and the rows go
in with one `COPY` straight into the partitioned table. Duplicates are found before, with one
index range scan per terminal of its (seq, ts) span, under the cars' state row locks (taken
first, in car order, so a concurrent batch of the same car cannot slip in between); a car's
first batch, with no state row to lock yet, runs its COPY in a savepoint and falls back to
`INSERT … ON CONFLICT DO NOTHING` if a concurrent batch stored the same message. SQLite keeps
the ORM path (pre-query, then bulk_create).
"""

import dataclasses
import datetime as dt
import functools
import math
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from typing import cast

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from m4s.core.observability import INGESTED

from . import consent
from . import messages as msg
from .choices import CHARGING_STATES, SOURCE_RANK, Alarm, ChargeState, OdometerSource
from .models import DeadLetter, Device, Telemetry, VehicleState
from .writer_sql import (  # noqa: F401 - _COLUMNS, _COPY_TYPES, _insert_pg, _merge_daily: bench, tests
    _ALARMS,
    _COLUMNS,
    _COPY_TYPES,
    _copy_pg,
    _insert_pg,
    _insert_rows_pg,
    _merge_daily,
    _merge_daily_all,
    _rows_pg,
    _stored_keys,
    _touch_all,
    _update_states,
    is_postgres,
)

MAX_KMH = 250.0  # faster odometer growth than this is not physically a car
BACKWARDS_TOLERANCE_KM = 0.5
SOURCE_STICKY = dt.timedelta(minutes=30)  # a better source heard this recently wins
EV_LOW_CHARGE_MAX = 80  # the highest low-charge threshold a group can set (EvSettings)


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
    if (
        get("pack_v") is not None
        or get("pack_a") is not None
        or get("charge_state") is not None
        or get("alarm_level") is not None
    ):
        return None  # a new-energy report (GB/T 32960): messages.parse checks those fields
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
    """One terminal's messages, in one transaction (`write_many` of one submission)."""
    outcome = write_many([(device, raws)], via=via, now=now)[0]
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome


def write_many(
    submissions: list[tuple[Device, list]],
    *,
    via: str,
    now: dt.datetime | None = None,
    forecasts: set | None = None,
) -> list:
    """Several terminals' messages (`(device, raws)` each; a terminal may come more than once)
    in ONE transaction, set-based across all of them: one dead-letter insert, one consent
    read per dealer group, one state-row lock, one duplicate check, one COPY, one state update,
    one daily-odometer merge. Returns each submission's BatchResult, in order, after the commit.
    If the shared transaction fails, each submission is written again alone, so one that cannot
    be stored does not take the others down: its place in the list holds the exception.
    `forecasts`: a set to add the cars whose forecast is due to (the caller enqueues them, see
    batcher.py); by default they are enqueued on commit."""
    now = now or timezone.now()
    subs = [_Sub(device, raws) for device, raws in submissions]
    try:
        with transaction.atomic():
            _write_all(subs, via=via, now=now, forecasts=forecasts)
        outcomes: list = [sub.result for sub in subs]
    except Exception:
        if len(subs) == 1:
            raise
        outcomes = []
        for device, raws in submissions:  # alone, each in its own transaction
            sub = _Sub(device, raws)
            try:
                with transaction.atomic():
                    _write_all([sub], via=via, now=now, forecasts=forecasts)
                outcomes.append(sub.result)
            except Exception as e:  # noqa: BLE001 - handed to the submission's caller
                outcomes.append(e)
    # counted after the commit, like the acknowledgement (the ingest rate on /metrics)
    totals: dict[str, int] = defaultdict(int)
    for result in outcomes:
        if isinstance(result, BatchResult):
            totals["stored"] += result.accepted
            totals["duplicate"] += result.duplicates
            totals["dead"] += result.dead
            totals["withheld"] += result.withheld  # no telematics consent: acknowledged, dropped
    for outcome, n in totals.items():
        if n:
            INGESTED.labels(via=via, result=outcome).inc(n)
    return outcomes


class _Sub:
    """One submission on its way through `_write_all`."""

    __slots__ = (
        *("device", "fresh", "good", "loose", "positions", "raws", "result", "state", "unique"),
        "was_charging",
    )

    def __init__(self, device: Device, raws: list):
        self.device, self.raws, self.result = device, raws, BatchResult()
        self.good: list[msg.Message] = []
        self.fresh: list[msg.Message] = []
        self.loose = False  # a Message object came in (JT/T 808): field types not checked
        self.positions: dict[tuple, msg.Message] | None = None  # no consent: alarm positions
        self.state: VehicleState | None = None
        self.was_charging = False  # the car's state said charging before this batch
        self.unique: dict[tuple, msg.Message] = {}


def _parse_all(subs: list[_Sub], *, via: str, now) -> list[DeadLetter]:
    dead: list[DeadLetter] = []
    parse_fast, parse = _parse_fast, msg.parse
    for sub in subs:
        device, good, result = sub.device, sub.good, sub.result
        names = (device.device_id, device.key)
        for i, raw in enumerate(sub.raws):
            try:
                m = parse_fast(raw, now)
                if m is None:
                    m = parse(raw, now=now)
                    sub.loose = sub.loose or type(raw) is not dict
                if m.device_id not in names:
                    raise msg.Invalid(
                        "wrong_device",
                        f"message for {m.device_id} sent with {device.device_id}'s key",
                    )
                good.append(m)
            except msg.Invalid as e:
                detail = _jsonable(e.detail[:300])
                dead.append(_dead_row(device, via, now, e.reason, detail, _jsonable(raw)))
                result.dead_reasons.append({"index": i, "reason": e.reason, "detail": detail})
                result.dead += 1
        if good and device.vehicle_id is None:
            dead += [
                _dead_row(
                    device,
                    via,
                    now,
                    "no_vehicle",
                    "the terminal is not fitted to a car",
                    m.as_dict(),
                )
                for m in good
            ]
            result.dead += len(good)
            result.dead_reasons.append({"index": None, "reason": "no_vehicle", "detail": ""})
            sub.good = []
    return dead


def _dead_row(device: Device, via: str, now, reason: str, detail, payload) -> DeadLetter:
    return DeadLetter(
        dealer_group_id=device.dealer_group_id,
        device_id=device.device_id,
        received_at=now,
        via=via,
        reason=reason,
        detail=detail,
        payload=payload,
    )


def _apply_consent(subs: list[_Sub]) -> None:
    """Without the owner's telematics consent only safety alarms are kept, and their positions
    go to the alarm and rescue case only (consent.py); one read per dealer group and batch."""
    cars: dict[int, set] = defaultdict(set)
    for sub in subs:
        cars[sub.device.dealer_group_id].add(sub.device.vehicle_id)
    refused: set[tuple] = set()
    for group_id, ids in cars.items():
        without = consent.vehicles_without_consent(group_id, ids)
        if without:
            consent.forget_positions(group_id, without)
            refused.update((group_id, vehicle_id) for vehicle_id in without)
    if not refused:
        return
    for sub in subs:
        if (sub.device.dealer_group_id, sub.device.vehicle_id) not in refused:
            continue
        safety = [m for m in sub.good if m.alarm in consent.SAFETY_ALARMS]
        sub.result.withheld = len(sub.good) - len(safety)
        sub.positions = {(m.seq, m.ts): m for m in safety}
        sub.good = [
            dataclasses.replace(m, lat=None, lon=None, speed_kmh=None, heading=None) for m in safety
        ]


def _rounds(subs: list[_Sub]) -> list[list[_Sub]]:
    """Each car at most once per round (its state moves in order); usually one round."""
    rounds: list[list[_Sub]] = []
    seen: dict[int | None, int] = defaultdict(int)
    for sub in subs:
        k = seen[sub.device.vehicle_id]
        seen[sub.device.vehicle_id] += 1
        if k == len(rounds):
            rounds.append([])
        rounds[k].append(sub)
    return rounds


def _write_all(subs: list[_Sub], *, via: str, now, forecasts: set | None) -> None:
    dead = _parse_all(subs, via=via, now=now)
    if dead:
        DeadLetter.objects.bulk_create(dead)
    live = [sub for sub in subs if sub.good]
    if not live:
        return
    _apply_consent(live)
    _touch_all([sub.device for sub in live], now)
    for part in _rounds([sub for sub in live if sub.good]):
        _write_round(part, now=now, forecasts=forecasts)


def _write_round(subs: list[_Sub], *, now, forecasts: set | None) -> None:
    from m4s.vehicles.models import Vehicle

    from . import services

    postgres = is_postgres()
    vehicle_ids = sorted({cast(int, sub.device.vehicle_id) for sub in subs})
    if postgres:
        # The cars' state rows first, in one order: they serialise the batches of each car,
        # so the duplicates found next cannot be stored by someone else before our COPY.
        states = _locked_states(vehicle_ids)
    for sub in subs:  # repeats inside the batch
        unique = sub.unique
        for m in sub.good:
            unique.setdefault((m.seq, m.ts), m)
    stored = _stored_keys(subs, postgres)  # and rows already stored
    for sub in subs:
        seen = stored.get(sub.device.pk, ())
        fresh = [m for key, m in sub.unique.items() if key not in seen]
        fresh.sort(key=_by_time)
        sub.fresh = fresh
        sub.result.duplicates = len(sub.good) - len(fresh)
    subs = [sub for sub in subs if sub.fresh]
    if not subs:
        return
    if not postgres:
        states = _locked_states(vehicle_ids)
    # The owner's store's time zone comes with the car; the owner and stores themselves are
    # loaded only if an alarm needs them. A terminal writes only its own group's car.
    vehicles = {
        v.pk: v
        for v in Vehicle.objects.unscoped()
        .annotate(owner_store_timezone=F("current_owner__store__timezone"))
        .filter(pk__in=[sub.device.vehicle_id for sub in subs])
    }
    default_tz = timezone.get_current_timezone()
    zones: dict[str, zoneinfo.ZoneInfo] = {}
    rows: list = []  # tuples for COPY (PostgreSQL), Telemetry objects (SQLite)
    first_rows: list[tuple] = []  # cars without a state row yet: nothing was locked
    moved: list[VehicleState] = []
    created: list[VehicleState] = []
    daily_rows: list[tuple] = []  # (group, car, day, km, source, raise the car's odometer to)
    for sub in subs:
        device, fresh = sub.device, sub.fresh
        g, vehicle_id = device.dealer_group_id, cast(int, device.vehicle_id)
        vehicle = vehicles.get(vehicle_id)
        if vehicle is None or vehicle.dealer_group_id != g:
            raise Vehicle.DoesNotExist(f"vehicle {vehicle_id} of group {g}")
        tz = default_tz
        if vehicle.owner_store_timezone:
            tz = zones.get(vehicle.owner_store_timezone) or zones.setdefault(
                vehicle.owner_store_timezone, zoneinfo.ZoneInfo(vehicle.owner_store_timezone)
            )
        state = states.get(vehicle_id)
        if state is not None and state.dealer_group_id != g:
            raise Vehicle.DoesNotExist(f"vehicle {vehicle_id} of group {g}")
        sub.was_charging = state is not None and state.charge_state in CHARGING_STATES
        notes, daily, last_km, last_ts, last_src = _odometer_hygiene(fresh, state, tz)
        if postgres:
            (first_rows if state is None else rows).extend(
                _rows_pg(device, fresh, notes, now, loose=sub.loose)
            )
        else:
            rows.extend(_orm_rows(device, fresh, notes, now))
        sub.result.accepted = len(fresh)
        # Current state: the newest message wins field by field (out-of-order ones only fill
        # gaps).
        if state is None or fresh[-1].ts >= state.ts:
            new = state is None
            state = _move_state(state, g, vehicle_id, fresh)
            if last_ts is not None and (state.odometer_ts is None or last_ts >= state.odometer_ts):
                state.odometer_km, state.odometer_ts = last_km, last_ts
                state.odometer_source = last_src
            state.device = device
            state.updated_at = now
            (created if new else moved).append(state)
        sub.state = state
        if daily:
            raise_to = (
                int(last_km)
                if last_km is not None and (vehicle.odometer_km or 0) < last_km
                else None
            )
            daily_rows += [(g, vehicle_id, d, km, src, raise_to) for d, (km, src) in daily.items()]
            owe = services.enqueue_forecast if forecasts is None else forecasts.add
            transaction.on_commit(functools.partial(owe, vehicle_id))
    if postgres:
        if rows:
            _copy_pg(rows)
        if first_rows:
            _insert_rows_pg(first_rows, first_batch=True)
    else:
        Telemetry.objects.bulk_create(rows, ignore_conflicts=True, batch_size=2000)
    if created:
        VehicleState.objects.bulk_create(created)
    if moved:
        _update_states(moved)
    if daily_rows:
        _merge_daily_all(daily_rows)
    _side_effects(subs, vehicles)


def _by_time(m: msg.Message):
    return (m.ts, m.seq)


def _side_effects(subs: list[_Sub], vehicles: dict) -> None:
    """Alarms (rescue cases, theft alerts) per car; parked mode and geofences only for the cars
    that have them armed or drawn (one query for the geofences of the whole batch)."""
    from . import services
    from .models import Geofence

    states = [sub.state for sub in subs if sub.state is not None]
    fenced = set(
        Geofence.objects.unscoped()
        .filter(vehicle_id__in=[s.vehicle_id for s in states])
        .values_list("vehicle_id", flat=True)
        .distinct()
    )
    for sub in subs:
        device, state, fresh = sub.device, sub.state, sub.fresh
        vehicle = vehicles[device.vehicle_id]
        alarms = [m for m in fresh if m.alarm != Alarm.NONE]
        if alarms:
            if sub.positions is not None:  # no consent: the alarm itself keeps where it was
                alarms = [sub.positions[(m.seq, m.ts)] for m in alarms]
            sub.result.alarms = services.handle_alarms(device, vehicle, state, alarms)
        if state is not None and (
            state.parked_armed or state.auto_arm_minutes or state.vehicle_id in fenced
        ):
            services.watch_parked_and_geofences(device, vehicle, state, fresh)
        if sub.was_charging or any(_ev_news(m) for m in fresh):
            # a new-energy car (GB/T 32960) charging, just unplugged, low or with a battery
            # alarm: charging sessions and reminders after the commit (not for every report)
            from . import ev

            transaction.on_commit(functools.partial(ev.enqueue_after_reports, device.vehicle_id))


def _ev_news(m: msg.Message) -> bool:
    """A report the EV follow-up (ev.after_reports) must see: charging or charged, a battery
    alarm, or parked with a charge low enough for any group's low-charge threshold."""
    return m.charge_state is not None and (
        m.charge_state in CHARGING_STATES
        or m.charge_state == ChargeState.COMPLETE
        or m.alarm == Alarm.BATTERY
        or (m.soc_pct is not None and m.soc_pct < EV_LOW_CHARGE_MAX and m.ignition is False)
    )


def _locked_states(vehicle_ids: list) -> dict[int, VehicleState]:
    return {
        s.vehicle_id: s
        for s in VehicleState.objects.unscoped()
        .select_for_update()
        .filter(vehicle_id__in=vehicle_ids)
        .order_by("vehicle_id")
    }


def _orm_rows(device: Device, fresh: list, notes: dict, now) -> list[Telemetry]:
    g, vehicle_id = device.dealer_group_id, device.vehicle_id
    return [
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
            pack_v=m.pack_v,
            pack_a=m.pack_a,
            charge_state=m.charge_state,
            alarm_level=m.alarm_level,
        )
        for m in fresh
    ]


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
    "pack_v",
    "pack_a",
    "charge_state",
    "alarm_level",
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


def group_by_device(raws: list) -> dict[str, list]:
    out: defaultdict[str, list] = defaultdict(list)  # by the device id each message names
    for raw in raws:
        device_id = raw.get("device_id") if isinstance(raw, dict) else getattr(raw, "device_id", "")
        out[str(device_id or "")].append(raw)
    return out
