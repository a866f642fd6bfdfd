"""Judging the mileage forecast on simulated owners (habits.py), where the truth is the simulated
future: each car's predicted due date beside its true one, per habit, for the estimator of
forecast.py and the simple baselines (and the two estimators it replaced, for reference).
Used by `m4s forecast-eval`, the forecast tests and `m4s forecast` (reading trace files)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import forecast, habits

Points = list[tuple[dt.date, float]]


# --- reading and writing trace files ---------------------------------------------------------------
class TraceError(ValueError):
    """A trace file that cannot be read: the message says where and why."""


def _field(car: dict, key: str, kind, where: str):
    value = car.get(key)
    if kind is dt.date:
        try:
            return dt.date.fromisoformat(value if isinstance(value, str) else "")
        except ValueError:
            raise TraceError(f"{where}: {key} must be a date YYYY-MM-DD") from None
    if isinstance(value, bool) or not isinstance(value, kind) or not math.isfinite(value):
        raise TraceError(f"{where}: {key} must be a number") from None
    return value


def read_traces(path: Path) -> list[dict]:
    """The cars of a trace file, checked: each with its points and service case."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise TraceError(f"cannot read {path}: {e.strerror or e}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise TraceError(f"{path} is not JSON: {e}") from None
    cars = data.get("cars") if isinstance(data, dict) else None
    if not isinstance(cars, list):
        raise TraceError(f'{path}: expected {{"cars": [...]}}')
    out, seen = [], set()
    for i, car in enumerate(cars):
        where = f"cars[{i}]"
        if not isinstance(car, dict) or "car" not in car:
            raise TraceError(f"{where}: expected an object with a car id")
        key = str(car["car"])
        if key in seen:
            raise TraceError(f"{where}: car {key} appears twice")
        seen.add(key)
        start = _field(car, "observed_start", dt.date, where)
        km = car.get("observed_daily_odometer_km")
        if (
            not isinstance(km, list)
            or not km
            or not all(
                isinstance(k, int | float) and not isinstance(k, bool) and math.isfinite(k)
                for k in km
            )
        ):
            raise TraceError(f"{where}: observed_daily_odometer_km must be a list of numbers")
        interval_km = _field(car, "interval_km", int | float, where)
        interval_months = _field(car, "interval_months", int, where)
        if interval_km <= 0 or interval_months <= 0:
            raise TraceError(f"{where}: the intervals must be positive")
        out.append(
            {
                "car": key,
                "points": [(start + dt.timedelta(days=j), float(k)) for j, k in enumerate(km)],
                "service_km": float(_field(car, "last_service_km", int | float, where)),
                "service_date": _field(car, "last_service_date", dt.date, where),
                "interval_km": interval_km,
                "interval_months": interval_months,
            }
        )
    return out


def predict(
    car: dict, rate_of: Callable[[Points, dt.date], forecast.Forecast | None] | None = None
):
    """A car of read_traces → its predicted due date (None: no reading to go on)."""
    points = car["points"]
    today = points[-1][0]
    if rate_of is None and car["service_date"] < points[0][0]:
        # the odometer at the last service is one more reading (the window's longer mean)
        points = [(car["service_date"], car["service_km"]), *points]
    f = (rate_of or (lambda p, t: forecast.estimate(p, today=t)))(points, today)
    return forecast.due_date(
        km_per_day=f.km_per_day if f else 0.0,
        last_date=f.last_date if f else today,
        last_km=f.last_odometer_km if f else points[-1][1],
        service_km=car["service_km"],
        service_date=car["service_date"],
        interval_km=car["interval_km"],
        interval_months=car["interval_months"],
    )


# --- the baselines --------------------------------------------------------------------------------
def _raw(points: Points, today: dt.date, rate: float) -> forecast.Forecast:
    last_date, last_km = max(points)
    return forecast.Forecast(rate, rate, rate, 0.0, len(points), last_km, last_date)


def _slope(points: Points) -> float:
    """Least squares km per day (PostgreSQL's regr_slope), not below 0."""
    if len(points) < 2:
        return 0.0
    x0 = points[0][0]
    xs = [(d - x0).days for d, _k in points]
    ys = [k for _d, k in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    return (
        max(0.0, sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx)
        if sxx
        else 0.0
    )


def linear_30(points: Points, today: dt.date) -> forecast.Forecast:
    return _raw(points, today, _slope([p for p in points if p[0] > today - dt.timedelta(days=30)]))


def mean_90(points: Points, today: dt.date) -> forecast.Forecast:
    pts = sorted(p for p in points if p[0] > today - dt.timedelta(days=90))
    span = (pts[-1][0] - pts[0][0]).days
    return _raw(points, today, max(0.0, (pts[-1][1] - pts[0][1]) / span) if span else 0.0)


def old_fleet(points: Points, today: dt.date) -> forecast.Forecast:
    """What recompute_all_forecasts did: regr_slope over 90 days, last reading = MAX(km)."""
    pts = [p for p in points if p[0] > today - dt.timedelta(days=90)]
    f = _raw(pts, today, _slope(pts))
    return dataclasses.replace(f, last_odometer_km=max(k for _d, k in pts))


def old_per_car(points: Points, today: dt.date) -> forecast.Forecast:
    """What compute_forecast did (`_robust_rate`): the median of day-to-day rates, each repeated
    for the days it covers (≤ 30)."""
    pts = sorted(p for p in points if p[0] > today - dt.timedelta(days=90))
    rates = []
    for (d0, k0), (d1, k1) in zip(pts, pts[1:], strict=False):
        days = (d1 - d0).days
        if days > 0 and k1 >= k0:
            rates.extend([(k1 - k0) / days] * min(days, 30))
    rates.sort()
    return _raw(pts, today, rates[len(rates) // 2] if rates else 0.0)


# name → rate function of (points, today); None: forecast.estimate (with the service reading);
# "months": the date rule alone
ESTIMATORS: dict[str, Any] = {
    "forecast (new)": None,
    "fixed interval": "months",
    "30-day linear": linear_30,
    "90-day mean": mean_90,
    "old per-car _robust_rate": old_per_car,
    "old fleet regr_slope": old_fleet,
}


# --- the harness ----------------------------------------------------------------------------------
def evaluate(per_habit: int = 200, *, seed: int = 0) -> dict:
    """Median absolute error in days (and the share predicted late) per habit and estimator, on
    the km-limited cars not yet due; the new estimator's band coverage."""
    cars = [t for t in habits.population(per_habit, seed=seed) if t.by_km and t.true_due > t.today]
    errors: dict[str, dict[str, list[int]]] = {name: {} for name in ESTIMATORS}
    inside: dict[str, list[bool]] = {}
    for t in cars:
        car: dict[str, Any] = {
            "points": [
                (t.observed_start + dt.timedelta(days=j), k) for j, k in enumerate(t.observed)
            ],
            "service_km": t.last_service_km,
            "service_date": t.last_service_date,
            "interval_km": t.interval_km,
            "interval_months": t.interval_months,
        }
        for name, fn in ESTIMATORS.items():
            if fn == "months":
                due = forecast.add_months(t.last_service_date, t.interval_months)
            else:
                due = predict(car, fn)
            errors[name].setdefault(t.habit, []).append(
                abs((due - t.true_due).days) if due else 999
            )
            errors[name].setdefault("all", []).append((due - t.true_due).days if due else 999)
        f = forecast.estimate(car["points"], today=t.today)
        if f:
            common = {
                k: car[k] for k in ("service_km", "service_date", "interval_km", "interval_months")
            }
            early = forecast.due_date(
                km_per_day=f.high, last_date=f.last_date, last_km=f.last_odometer_km, **common
            )
            late = forecast.due_date(
                km_per_day=f.low, last_date=f.last_date, last_km=f.last_odometer_km, **common
            )
            ok = early is not None and early <= t.true_due and (late is None or t.true_due <= late)
            inside.setdefault(t.habit, []).append(ok)
            inside.setdefault("all", []).append(ok)
    table = {}
    for name, per in errors.items():
        signed = per.pop("all")
        table[name] = {h: statistics.median(v) for h, v in per.items()}
        table[name]["all"] = statistics.median(abs(e) for e in signed)
        table[name]["late %"] = round(100 * sum(e > 0 for e in signed) / len(signed))
    return {
        "cars": len(cars),
        "per_habit": {h: sum(t.habit == h for t in cars) for h in habits.HABITS},
        "median_abs_error_days": table,
        "band_coverage": {h: round(100 * sum(v) / len(v)) for h, v in inside.items()},
    }
