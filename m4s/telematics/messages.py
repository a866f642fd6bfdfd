"""The one internal message model every ingest path produces (HTTP, MQTT, JT/T 808, GB/T 32960),
and its validation. SI units: km, km/h, degrees, volts, amperes, per cent; `ts` is UTC."""

import datetime as dt
import math
from dataclasses import dataclass, field

from .choices import Alarm, OdometerSource

MAX_FUTURE = dt.timedelta(minutes=10)
MAX_PAST = dt.timedelta(days=30)


class Invalid(ValueError):
    """A message that cannot be stored: `reason` is a short code, `detail` says what."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail[:300]


@dataclass
class Message:
    device_id: str
    seq: int
    ts: dt.datetime
    lat: float | None = None
    lon: float | None = None
    speed_kmh: float | None = None
    heading: int | None = None
    odometer_km: float | None = None
    odometer_source: str = ""
    ignition: bool | None = None
    fuel_pct: float | None = None
    soc_pct: float | None = None
    battery_v: float | None = None
    dtcs: list = field(default_factory=list)
    alarm: str = Alarm.NONE
    # False: the terminal says lat/lon are not a fix (kept, but not the car's known position)
    fix_valid: bool | None = None
    alarm_word: int | None = None  # JT/T 808: the raw 32-bit alarm and status words
    status_word: int | None = None
    # new-energy vehicles (GB/T 32960): traction pack voltage and current (negative: charging),
    # charging state (choices.ChargeState, 1-4) and the highest alarm level (0-3)
    pack_v: float | None = None
    pack_a: float | None = None
    charge_state: int | None = None
    alarm_level: int | None = None

    def as_dict(self) -> dict:
        d = dict(self.__dict__)
        d["ts"] = self.ts.isoformat()
        return d


def _num(raw: dict, key: str, low: float, high: float):
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid("bad_field", f"{key} must be a number")
    if not low <= value <= high:  # exact for any int; NaN fails too
        raise Invalid("out_of_range", f"{key}={str(value)[:40]} outside {low}..{high}")
    return float(value)


def _ts(value, now: dt.datetime) -> dt.datetime:
    if isinstance(value, dt.datetime):
        ts = value
    elif isinstance(value, str):
        try:
            ts = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise Invalid("bad_ts", f"not an ISO 8601 time: {value[:40]}") from None
    elif isinstance(value, int | float) and not isinstance(value, bool):
        try:
            ts = dt.datetime.fromtimestamp(value, tz=dt.UTC)
        except (OverflowError, OSError, ValueError):
            raise Invalid("bad_ts", f"not a Unix time: {value}") from None
    else:
        raise Invalid("bad_ts", "ts is required")
    if ts.tzinfo is None:
        raise Invalid("bad_ts", "ts needs a time zone (UTC)")
    ts = ts.astimezone(dt.UTC)
    if ts > now + MAX_FUTURE:
        raise Invalid("ts_in_future", ts.isoformat())
    if ts < now - MAX_PAST:
        raise Invalid("ts_too_old", ts.isoformat())
    return ts


def parse(raw, *, now: dt.datetime) -> Message:
    """A JSON object → Message, or Invalid with the reason."""
    if isinstance(raw, Message):
        raw.ts = _ts(raw.ts, now)
        return raw
    if not isinstance(raw, dict):
        raise Invalid("not_an_object", type(raw).__name__)
    device_id = raw.get("device_id")
    if not isinstance(device_id, str) or not 1 <= len(device_id) <= 40:
        raise Invalid("bad_device_id", "device_id must be a string of 1–40 characters")
    seq = raw.get("seq")
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq < 2**63:
        raise Invalid("bad_seq", "seq must be a non-negative integer")
    source = raw.get("odometer_source") or ""
    if source and source not in OdometerSource.values:
        raise Invalid("bad_field", f"odometer_source {source!r}")
    alarm = raw.get("alarm") or Alarm.NONE
    if alarm not in Alarm.values:
        raise Invalid("bad_field", f"alarm {alarm!r}")
    ignition = raw.get("ignition")
    if ignition is not None and not isinstance(ignition, bool):
        raise Invalid("bad_field", "ignition must be true or false")
    dtcs = raw.get("dtcs") or []
    if (
        not isinstance(dtcs, list)
        or len(dtcs) > 50
        or not all(isinstance(c, str) and len(c) <= 8 and "\x00" not in c for c in dtcs)
    ):
        raise Invalid("bad_field", "dtcs must be a list of codes")
    heading = _num(raw, "heading", 0, 360)
    lat, lon = _num(raw, "lat", -90, 90), _num(raw, "lon", -180, 180)
    if (lat is None) != (lon is None):
        raise Invalid("bad_field", "lat and lon come together")
    odometer = _num(raw, "odometer_km", 0, 3_000_000)
    if odometer is not None and not source:
        raise Invalid("bad_field", "odometer_km needs odometer_source")
    fix_valid = raw.get("fix_valid")
    if fix_valid is not None and not isinstance(fix_valid, bool):
        raise Invalid("bad_field", "fix_valid must be true or false")
    words = {}
    for name in ("alarm_word", "status_word"):
        value = raw.get(name)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**32
        ):
            raise Invalid("bad_field", f"{name} must be a 32-bit unsigned integer")
        words[name] = value
    for name, high in (("charge_state", 4), ("alarm_level", 3)):
        value = raw.get(name)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high
        ):
            raise Invalid("bad_field", f"{name} must be an integer 0..{high}")
        words[name] = value
    return Message(
        device_id=device_id,
        seq=seq,
        ts=_ts(raw.get("ts"), now),
        lat=lat,
        lon=lon,
        speed_kmh=_num(raw, "speed_kmh", 0, 400),
        heading=int(heading) if heading is not None else None,
        odometer_km=odometer,
        odometer_source=source,
        ignition=ignition,
        fuel_pct=_num(raw, "fuel_pct", 0, 100),
        soc_pct=_num(raw, "soc_pct", 0, 100),
        battery_v=_num(raw, "battery_v", 0, 60),
        pack_v=_num(raw, "pack_v", 0, 2000),
        pack_a=_num(raw, "pack_a", -1000, 1000),
        dtcs=[c.strip().upper() for c in dtcs],
        alarm=alarm,
        fix_valid=fix_valid,
        **words,
    )


def distance_km(lat1, lon1, lat2, lon2) -> float:
    """Great-circle distance (haversine)."""
    r = 6371.0088
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(min(1.0, math.sqrt(a)))
