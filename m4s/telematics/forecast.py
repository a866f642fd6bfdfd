"""The mileage forecast: one estimator of a car's km per day, used per car as new data arrives
(services.compute_forecast), for the whole fleet every few hours (services.recompute_all_forecasts:
the same math in one PostgreSQL statement, FLEET_SQL) and on plain files (`m4s forecast`).

From the end-of-day odometer readings of the last WINDOW_DAYS days:
1. Glitches out: a reading above both of the next two (a spike) or below both of the previous
   two (a zero, a dropped digit) is dropped; what is left only goes up.
2. The distance between two consecutive readings is spread evenly over the days between them
   (a parked day is a day without driving; a gap in reporting shares out what it hides).
3. km per day = the weighted mean of the days' km, a day's weight halving every HALF_LIFE_WEEKS
   weeks back from today in whole-week steps (every weekday of a week weighs the same, so a
   commuter, a weekend driver and a rare long trip count at their real share; a change of habit
   or season shows within weeks, one parked week does not sink it).
4. Band: the days' km scatter around it (weighted standard deviation s, of the day-to-day rates);
   low/high = km per day ∓ BAND·s/√(weighted weeks), not below 0. Confidence: coverage of the
   last 60 days and the band's width relative to the rate.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Iterable

WINDOW_DAYS = 365
HALF_LIFE_WEEKS = 8.0
BAND = 0.75  # the band's half-width, in standard deviations of a weekly mean
TOLERANCE_KM = 0.5  # odometer rounding
MAX_DAY_KM = 1500.0  # more in a day is a glitch (only tells the first and last reading)
MOVING = 0.5  # km/day below this the km rule gives no date (as projected_items)


@dataclasses.dataclass(frozen=True)
class Forecast:
    km_per_day: float
    low: float
    high: float
    confidence: float
    days: int  # readings behind it
    last_odometer_km: float
    last_date: dt.date


def _glitch(k, p1, p2, n1, n2, dp: int | None, dn: int | None) -> bool:
    """Is reading k a glitch, from its two neighbours on each side (None past the ends) and the
    days to the previous and next one? FLEET_SQL spells the same rule."""
    tol = TOLERANCE_KM
    if n1 is not None and k > n1 + tol:  # a spike: above the next two
        if n2 is not None:
            return k > n2 + tol
        return p1 is None or n1 >= p1 - tol  # before the last: unless the last is the glitch
    if p1 is not None and k < p1 - tol:  # a dip: below the previous two
        if p2 is not None:
            return k < p2 - tol
        return n1 is None or p1 <= n1 + tol  # after the first: unless the first is the glitch
    # the first and the last reading: a day's driving beyond MAX_DAY_KM is a glitch
    # (unless the neighbour is the glitch: out of step with its own neighbour)
    if p1 is None and n1 is not None and dn and n1 - k > MAX_DAY_KM * dn:
        return n2 is None or n1 <= n2 + tol
    if n1 is None and p1 is not None and dp and k - p1 > MAX_DAY_KM * dp:
        return p2 is None or p1 >= p2 - tol
    return False


def clean(points: Iterable[tuple[dt.date, float]]) -> list[tuple[dt.date, float]]:
    """The readings by date without glitches (see the module's step 1)."""
    pts = sorted(points)
    km = [k for _d, k in pts]
    n = len(km)

    def at(j):
        return km[j] if 0 <= j < n else None

    out = []
    for i, (d, k) in enumerate(pts):
        dp = (d - pts[i - 1][0]).days if i >= 1 else None
        dn = (pts[i + 1][0] - d).days if i + 1 < n else None
        if not _glitch(k, at(i - 1), at(i - 2), at(i + 1), at(i + 2), dp, dn):
            out.append((d, k))
    return out


def _days_weight(age: int) -> float:
    """Σ of the weights of the days aged 0 … age-1 (a day's weight: 0.5^(its week / half-life),
    its week = age // 7), in closed form."""
    q = 0.5 ** (1 / HALF_LIFE_WEEKS)
    w, r = divmod(age, 7)
    return 7 * (1 - q**w) / (1 - q) + r * q**w


def estimate(points: Iterable[tuple[dt.date, float]], *, today: dt.date) -> Forecast | None:
    """The car's forecast from its daily odometer (older readings than the window are ignored);
    None with fewer than two readings in the window."""
    since = today - dt.timedelta(days=WINDOW_DAYS)
    pts = clean((d, k) for d, k in points if since < d <= today)
    if len(pts) < 2:
        return None
    wk = wd = wr2 = 0.0
    for (d0, k0), (d1, k1) in zip(pts, pts[1:], strict=False):
        days, km = (d1 - d0).days, max(0.0, k1 - k0)
        w = _days_weight((today - d0).days) - _days_weight((today - d1).days)
        wk += w * km / days
        wd += w
        wr2 += w * (km / days) ** 2
    return _finish(wk, wd, wr2, days=len(pts), span=(pts[-1][0] - pts[0][0]).days, last=pts[-1])


def _finish(wk: float, wd: float, wr2: float, *, days: int, span: int, last) -> Forecast:
    """From the weighted sums Σw·r, Σw, Σw·r² over the day-to-day rates r (FLEET_SQL computes the
    same sums and these same formulas)."""
    rate = wk / wd if wd > 0 else 0.0
    sd = math.sqrt(max(0.0, wr2 / wd - rate * rate)) if wd > 0 else 0.0
    half = BAND * sd / math.sqrt(max(wd, 7.0) / 7)
    width = 2 * half / rate if rate > 0 else 1.0
    return Forecast(
        km_per_day=rate,
        low=max(0.0, rate - half),
        high=rate + half,
        confidence=round(min(1.0, span / 60) / (1 + width), 2),
        days=days,
        last_odometer_km=last[1],
        last_date=last[0],
    )


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` plus whole months, clamped to the month's last day (31 Jan + 1 → 28/29 Feb)."""
    m = day.month - 1 + months
    year, month = day.year + m // 12, m % 12 + 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def due_date(
    *,
    km_per_day: float,
    last_date: dt.date,
    last_km: float,
    service_km: float | None,
    service_date: dt.date | None,
    interval_km: float | None,
    interval_months: int | None,
) -> dt.date | None:
    """The earlier of the km rule (at this pace from the last reading, as projected_items) and
    the months rule; None when neither applies."""
    by_km = None
    if interval_km and service_km is not None:
        left = service_km + interval_km - last_km
        if left <= 0:
            by_km = last_date
        elif km_per_day > MOVING:
            by_km = last_date + dt.timedelta(days=math.ceil(left / km_per_day))
    by_date = (
        add_months(service_date, interval_months) if interval_months and service_date else None
    )
    candidates = [x for x in (by_km, by_date) if x]
    return min(candidates) if candidates else None


def _sql_days_weight(age: str) -> str:
    """_days_weight in SQL of an integer expression 0 … WINDOW_DAYS: a constant array's entry."""
    table = ",".join(repr(_days_weight(a)) for a in range(WINDOW_DAYS + 1))
    return f"('{{{table}}}'::float8[])[({age}) + 1]"


# The same math as `estimate` for every car, in PostgreSQL. Parameter: today (a date). It reads
# telematics_dailyodometer and yields one row per car with ≥ 2 clean readings in the window:
# dealer_group_id, vehicle_id, km_per_day, km_per_day_low, km_per_day_high, confidence, days,
# last_odometer_km, last_date. One sort by car and date feeds both window passes and the grouping.
_TOL = TOLERANCE_KM
_W = (
    _sql_days_weight("%(today)s::date - prev_date")
    + " - "
    + _sql_days_weight("%(today)s::date - date")
)
FLEET_SQL = f"""
WITH r AS (
    SELECT dealer_group_id, vehicle_id, date, odometer_km AS km,
           LAG(odometer_km, 1) OVER w AS p1, LAG(odometer_km, 2) OVER w AS p2,
           LEAD(odometer_km, 1) OVER w AS n1, LEAD(odometer_km, 2) OVER w AS n2,
           date - LAG(date) OVER w AS dp, LEAD(date) OVER w - date AS dn
    FROM telematics_dailyodometer
    WHERE date > %(today)s::date - {WINDOW_DAYS} AND date <= %(today)s::date
    WINDOW w AS (PARTITION BY vehicle_id ORDER BY date)
), c AS (
    SELECT dealer_group_id, vehicle_id, date, km,
           LAG(km) OVER v AS prev_km, LAG(date) OVER v AS prev_date,
           LEAD(date) OVER v IS NULL AS is_last
    FROM r
    WHERE NOT CASE
        WHEN n1 IS NOT NULL AND km > n1 + {_TOL} THEN
            CASE WHEN n2 IS NOT NULL THEN km > n2 + {_TOL} ELSE p1 IS NULL OR n1 >= p1 - {_TOL} END
        WHEN p1 IS NOT NULL AND km < p1 - {_TOL} THEN
            CASE WHEN p2 IS NOT NULL THEN km < p2 - {_TOL} ELSE n1 IS NULL OR p1 <= n1 + {_TOL} END
        WHEN p1 IS NULL AND n1 IS NOT NULL AND n1 - km > {MAX_DAY_KM}::float8 * dn
            THEN n2 IS NULL OR n1 <= n2 + {_TOL}
        WHEN n1 IS NULL AND p1 IS NOT NULL AND km - p1 > {MAX_DAY_KM}::float8 * dp
            THEN p2 IS NULL OR p1 >= p2 - {_TOL}
        ELSE FALSE END
    WINDOW v AS (PARTITION BY vehicle_id ORDER BY date)
), x AS (
    SELECT dealer_group_id, vehicle_id, date, km, is_last,
           {_W} AS w,
           GREATEST(km - prev_km, 0) / (date - prev_date) AS r
    FROM c
), s AS (
    SELECT MIN(dealer_group_id) AS dealer_group_id, vehicle_id,
           COALESCE(SUM(w * r), 0) AS wk, COALESCE(SUM(w), 0) AS wd,
           COALESCE(SUM(w * r * r), 0) AS wr2,
           COUNT(*) AS days, MAX(date) - MIN(date) AS span, MAX(date) AS last_date,
           MAX(km) FILTER (WHERE is_last) AS last_odometer_km
    FROM x
    GROUP BY vehicle_id
    HAVING COUNT(*) >= 2
), e AS (
    SELECT s.*, CASE WHEN wd > 0 THEN wk / wd ELSE 0 END AS rate FROM s
), h AS (
    SELECT e.*, {BAND} * CASE WHEN wd > 0 THEN SQRT(GREATEST(wr2 / wd - rate * rate, 0)) ELSE 0 END
                / SQRT(GREATEST(wd, 7) / 7) AS half
    FROM e
)
SELECT dealer_group_id, vehicle_id, rate AS km_per_day,
       GREATEST(rate - half, 0) AS km_per_day_low, rate + half AS km_per_day_high,
       ROUND((LEAST(1.0, span / 60.0)
              / (1 + CASE WHEN rate > 0 THEN 2 * half / rate ELSE 1 END))::numeric, 2)::float8
           AS confidence,
       days, last_odometer_km, last_date
FROM h
"""  # noqa: S608 — this module's constants only
