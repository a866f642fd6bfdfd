"""Trips cut from a car's time-ordered reports, and what each trip was like. Pure functions (no
database): the service feeds them the rows since the car's cut point, the demo feeds them
simulated traces, the tests build traces point by point.

A trip starts at the first moving report (from the report before it when that one had the
engine on and is at most `stop_s` older: where the car stood when it was started), and ends
- at a report with the ignition off (`ignition`),
- when the car has stood still (speed under 1 km/h, or no speed and under 30 m moved) for
  `stop_s` (default 5 minutes): the trip ends where the standing began (`stop`),
- when reports stop for `stop_s` (`gap`), or
- not yet: the last trip of the rows is `open` unless its last report is older than `stop_s`
  at `now`; the next run reads again from its start and extends it (same start, same row).

Measured per trip: distance (the odometer's delta when both ends have one and it agrees with the
positions, else the sum of great-circle steps), duration, average and top speed, minutes at night
(22:00-05:00 in the car's local time), harsh acceleration / braking / cornering (from speed
deltas and heading change between consecutive reports at most 10 s apart; one event per run of
harsh intervals), and seconds over the limit.

Speeding without a map: the trip is cut into 5-minute stretches; each stretch's median speed
picks its road band (≥ 85 km/h highway, ≥ 50 km/h arterial, else urban) and the band's limit
(the group's table, default 60 / 80 / 120) applies to the stretch, with 10 % tolerance. The
median, so a burst of speed in town (less than half the stretch) is judged by the town's
limit. It is an approximation: a whole stretch at 100 km/h on a city road reads as highway and
is not flagged; 70 km/h in a 40 zone is not either; a slow jam on a highway reads as urban.

The JT/T 808 alarm word has no harsh-driving bits (those come in ADAS extensions M4S does not
decode), so the terminal's alarms only add the `overspeed` reports it flags (as speeding time).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Iterable

from . import choices as c

R_EARTH_KM = 6371.0088


@dataclasses.dataclass(slots=True)
class Point:
    ts: dt.datetime
    lat: float | None = None
    lon: float | None = None
    speed_kmh: float | None = None
    heading: float | None = None
    odometer_km: float | None = None
    ignition: bool | None = None
    alarm: str = "none"


@dataclasses.dataclass
class Limits:
    stop_s: float = c.DEFAULT_STOP_MINUTES * 60
    urban: float = c.DEFAULT_LIMITS["urban"]
    arterial: float = c.DEFAULT_LIMITS["arterial"]
    highway: float = c.DEFAULT_LIMITS["highway"]

    def of(self, band: str) -> float:
        return float(getattr(self, band))


@dataclasses.dataclass
class Cut:
    points: list[Point]
    end_reason: str  # EndReason


def distance_km(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * R_EARTH_KM * math.asin(min(1.0, math.sqrt(a)))


def _moving(p: Point, prev: Point | None) -> bool:
    if p.speed_kmh is not None:
        return p.speed_kmh >= c.MOVING_KMH
    if prev is None or None in (p.lat, p.lon, prev.lat, prev.lon):
        return False
    return distance_km(prev.lat, prev.lon, p.lat, p.lon) * 1000 >= c.MOVING_M


def cut(points: Iterable[Point], limits: Limits, *, now: dt.datetime) -> list[Cut]:
    """The trips in `points` (time-ordered). The last one is `open` if it may go on."""
    stop = dt.timedelta(seconds=limits.stop_s)
    out: list[Cut] = []
    trip: list[Point] | None = None
    standing_at: int | None = None  # index in trip where the current standing began
    prev: Point | None = None

    def close(reason: str, upto: int | None = None) -> None:
        nonlocal trip, standing_at
        if trip:
            out.append(Cut(trip if upto is None else trip[: upto + 1], reason))
        trip, standing_at = None, None

    for p in points:
        moving = _moving(p, prev)
        if trip is not None and p.ts - trip[-1].ts > stop:
            close(c.EndReason.GAP, standing_at)
        if p.ignition is False:
            if trip is not None:
                trip.append(p)
                close(c.EndReason.IGNITION)
            prev = p
            continue
        if trip is None:
            if moving:
                # it started where it stood a moment ago with the engine on, if it did
                if prev is not None and prev.ignition is not False and p.ts - prev.ts <= stop:
                    trip = [prev, p]
                else:
                    trip = [p]
                standing_at = None
            prev = p
            continue
        trip.append(p)
        if moving:
            standing_at = None
        else:
            if standing_at is None:
                standing_at = len(trip) - 1
            if p.ts - trip[standing_at].ts >= stop:
                close(c.EndReason.STOP, standing_at)
        prev = p
    if trip is not None:
        if now - trip[-1].ts > stop:
            close(c.EndReason.GAP, standing_at)
        else:
            out.append(Cut(trip, c.EndReason.OPEN))
    return out


# --- what a trip was like ------------------------------------------------------------------------
def _median(speeds: list[float]) -> float:
    if not speeds:
        return 0.0
    return sorted(speeds)[len(speeds) // 2]


def band_of(speeds: list[float]) -> str:
    mid = _median(speeds)
    if mid >= c.BAND_FROM_MEDIAN["highway"]:
        return c.Band.HIGHWAY
    if mid >= c.BAND_FROM_MEDIAN["arterial"]:
        return c.Band.ARTERIAL
    return c.Band.URBAN


def _is_night(ts: dt.datetime, tz) -> bool:
    hour = ts.astimezone(tz).hour
    return hour >= c.NIGHT_FROM or hour < c.NIGHT_UNTIL


def _turn_deg(a: float, b: float) -> float:
    return (b - a + 180.0) % 360.0 - 180.0


def measure(trip: Cut, limits: Limits, tz) -> dict:
    """The columns of a Trip row for these points."""
    pts = trip.points
    first, last = pts[0], pts[-1]
    fixes = [p for p in pts if p.lat is not None and p.lon is not None]
    path_km = sum(
        distance_km(a.lat, a.lon, b.lat, b.lon) for a, b in zip(fixes, fixes[1:], strict=False)
    )
    odos = [p.odometer_km for p in pts if p.odometer_km is not None]
    distance = path_km
    if len(odos) >= 2:
        delta = odos[-1] - odos[0]
        # the odometer wins unless it went backwards or disagrees wildly with the positions
        if delta >= 0 and (not fixes or delta <= path_km * 2 + 2):
            distance = delta
    duration_s = max(0.0, (last.ts - first.ts).total_seconds())
    speeds = [p.speed_kmh for p in pts if p.speed_kmh is not None]
    # the bands of the 5-minute stretches
    stretch_speeds: dict[int, list[float]] = {}
    for p in pts:
        if p.speed_kmh is not None:
            k = int((p.ts - first.ts).total_seconds() // c.BAND_WINDOW_S)
            stretch_speeds.setdefault(k, []).append(p.speed_kmh)
    bands = {k: band_of(v) for k, v in stretch_speeds.items()}
    band_time: dict[str, float] = {}
    accel = brake = corner = 0
    in_accel = in_brake = in_corner = False
    night_s = speeding_s = 0.0
    for a, b in zip(pts, pts[1:], strict=False):
        step = (b.ts - a.ts).total_seconds()
        if step <= 0:
            continue
        k = int((a.ts - first.ts).total_seconds() // c.BAND_WINDOW_S)
        band = bands.get(k, c.Band.URBAN)
        band_time[band] = band_time.get(band, 0.0) + step
        if _is_night(a.ts, tz):
            night_s += step
        if a.speed_kmh is not None and (
            a.speed_kmh > limits.of(band) * c.SPEEDING_TOLERANCE or a.alarm == "overspeed"
        ):
            speeding_s += step
        if step > c.MAX_EVENT_GAP_S or a.speed_kmh is None or b.speed_kmh is None:
            in_accel = in_brake = in_corner = False
            continue
        acc = (b.speed_kmh - a.speed_kmh) / 3.6 / step
        harsh_a, harsh_b = acc >= c.HARSH_ACCEL_MS2, acc <= c.HARSH_BRAKE_MS2
        accel += harsh_a and not in_accel
        brake += harsh_b and not in_brake
        in_accel, in_brake = harsh_a, harsh_b
        harsh_c = False
        v = (a.speed_kmh + b.speed_kmh) / 2
        if a.heading is not None and b.heading is not None and v >= c.CORNER_MIN_KMH:
            omega = math.radians(abs(_turn_deg(a.heading, b.heading))) / step
            harsh_c = v / 3.6 * omega >= c.HARSH_CORNER_MS2
        corner += harsh_c and not in_corner
        in_corner = harsh_c
    start_fix = fixes[0] if fixes else None
    end_fix = fixes[-1] if fixes else None
    return {
        "started_at": first.ts,
        "ended_at": last.ts,
        "start_lat": start_fix.lat if start_fix else None,
        "start_lon": start_fix.lon if start_fix else None,
        "end_lat": end_fix.lat if end_fix else None,
        "end_lon": end_fix.lon if end_fix else None,
        "distance_km": round(distance, 3),
        "duration_s": int(round(duration_s)),
        "avg_kmh": round(distance / (duration_s / 3600), 1) if duration_s > 0 else 0.0,
        "top_kmh": round(max(speeds), 1) if speeds else 0.0,
        "night_min": int(round(night_s / 60)),
        "harsh_accel": accel,
        "harsh_brake": brake,
        "harsh_corner": corner,
        "speeding_s": int(round(speeding_s)),
        "band": max(band_time, key=lambda b: band_time[b]) if band_time else c.Band.URBAN,
        "points": len(pts),
        "route": encode_polyline(simplify(_latlon(fixes), c.ROUTE_POINTS)),
        "end_reason": trip.end_reason,
        "is_open": trip.end_reason == c.EndReason.OPEN,
    }


def _latlon(points: list[Point]) -> list[tuple[float, float]]:
    return [(p.lat, p.lon) for p in points if p.lat is not None and p.lon is not None]


# --- route summary: Douglas-Peucker, then Google's encoded polyline (5 decimals) -----------------
def _dp(xy: list[tuple[float, float]], eps: float) -> list[int]:
    keep = {0, len(xy) - 1}
    stack = [(0, len(xy) - 1)]
    while stack:
        i, j = stack.pop()
        (x1, y1), (x2, y2) = xy[i], xy[j]
        dx, dy = x2 - x1, y2 - y1
        norm = math.hypot(dx, dy)
        best, at = -1.0, -1
        for k in range(i + 1, j):
            x, y = xy[k]
            d = abs(dy * (x - x1) - dx * (y - y1)) / norm if norm else math.hypot(x - x1, y - y1)
            if d > best:
                best, at = d, k
        if at >= 0 and best > eps:
            keep.add(at)
            stack += [(i, at), (at, j)]
    return sorted(keep)


def simplify(latlon: list[tuple[float, float]], most: int) -> list[tuple[float, float]]:
    """At most `most` points of the route, the tolerance grown from 15 m until they fit."""
    if len(latlon) <= 2:
        return latlon
    lat0 = latlon[0][0]
    kx = 111.320 * math.cos(math.radians(lat0)) * 1000
    xy = [(lon * kx, lat * 110574.0) for lat, lon in latlon]
    eps = 15.0
    while True:
        idx = _dp(xy, eps)
        if len(idx) <= most:
            return [latlon[i] for i in idx]
        eps *= 2


def _enc(value: int) -> str:
    value = ~(value << 1) if value < 0 else value << 1
    out = []
    while value >= 0x20:
        out.append(chr((0x20 | (value & 0x1F)) + 63))
        value >>= 5
    out.append(chr(value + 63))
    return "".join(out)


def encode_polyline(latlon: list[tuple[float, float]]) -> str:
    out, plat, plon = [], 0, 0
    for lat, lon in latlon:
        ilat, ilon = round(lat * 1e5), round(lon * 1e5)
        out.append(_enc(ilat - plat) + _enc(ilon - plon))
        plat, plon = ilat, ilon
    return "".join(out)


def decode_polyline(text: str) -> list[tuple[float, float]]:
    coords, i, lat, lon = [], 0, 0, 0
    while i < len(text):
        vals = []
        for _ in range(2):
            shift = result = 0
            while True:
                b = ord(text[i]) - 63
                i += 1
                result |= (b & 0x1F) << shift
                shift += 5
                if b < 0x20:
                    break
            vals.append(~(result >> 1) if result & 1 else result >> 1)
        lat += vals[0]
        lon += vals[1]
        coords.append((lat / 1e5, lon / 1e5))
    return coords
