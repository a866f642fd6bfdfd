"""Benchmark 11: mileage forecasts for every car (`services.recompute_all_forecasts()`), the one
estimator of m4s/telematics/forecast.py in one PostgreSQL statement, beside the fleet recompute
it replaced (regr_slope) in the same run.

    .venv/bin/python bench/bench_forecast.py [--cars 100000]    # standalone, its own database
    (bench/run.py --only mileage --db postgres, once run.py routes `mileage` here)

CARS cars (M4S_BENCH_CARS or --cars, default 1,000,000) in 10 dealer groups with DAYS days of
daily odometer each, loaded as bench_telematics loads them (COPY FREEZE, indexes remade, VACUUM
ANALYZE); then, each on an empty forecast table (all inserted) and again (all updated): the new
recompute and the previous one. 200 cars' fleet forecasts are checked against the per-car path.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_telematics as tm  # noqa: E402  the loaders
import run as harness  # noqa: E402

DAYS = 90
TARGET_RECOMPUTE = 60.0  # s for 1,000,000 cars

# recompute_all_forecasts before the one estimator: least squares over 90 days into a temporary
# table, then one UPDATE and one INSERT (the baseline, run in the same process and database).
OLD_SQL = [
    "SELECT set_config('work_mem', '512MB', true)",
    "DROP TABLE IF EXISTS pg_temp.mileage_forecast_old",
    """
    CREATE TEMPORARY TABLE mileage_forecast_old ON COMMIT DROP AS
    SELECT MIN(dealer_group_id) AS dealer_group_id, vehicle_id,
           GREATEST(COALESCE(regr_slope(odometer_km, date - %(since)s::date), 0), 0) AS km_per_day,
           ROUND((LEAST(1.0, (MAX(date) - MIN(date)) / 60.0)
                  * COALESCE(regr_r2(odometer_km, date - %(since)s::date), 0))::numeric, 2)
               AS confidence,
           regr_count(odometer_km, date - %(since)s::date) AS days,
           MAX(odometer_km) AS last_odometer_km, MAX(date) AS last_date
    FROM telematics_dailyodometer
    WHERE date > %(since)s
    GROUP BY vehicle_id
    HAVING regr_count(odometer_km, date - %(since)s::date) >= 2
    """,
    "ANALYZE mileage_forecast_old",
    """
    UPDATE telematics_mileageforecast f SET
        km_per_day = n.km_per_day, confidence = n.confidence, days = n.days,
        last_odometer_km = n.last_odometer_km, last_date = n.last_date, computed_at = now()
    FROM mileage_forecast_old n WHERE f.vehicle_id = n.vehicle_id
    """,
    """
    INSERT INTO telematics_mileageforecast
        (dealer_group_id, vehicle_id, km_per_day, confidence, days, last_odometer_km, last_date,
         computed_at)
    SELECT dealer_group_id, vehicle_id, km_per_day, confidence, days, last_odometer_km,
           last_date, now()
    FROM mileage_forecast_old n
    WHERE NOT EXISTS (SELECT 1 FROM telematics_mileageforecast f WHERE f.vehicle_id = n.vehicle_id)
    """,
]


def _old(today: dt.date) -> int:
    from django.db import connection, transaction

    n = 0
    with transaction.atomic(), connection.cursor() as cur:
        for sql in OLD_SQL:
            cur.execute(sql, {"since": today - dt.timedelta(days=90)})
            if sql.lstrip().startswith(("UPDATE", "INSERT")):
                n += cur.rowcount
    return n


def _check(today: dt.date, sample: int = 200) -> int:
    """How many of `sample` random cars' stored forecasts differ from forecast.estimate."""
    from m4s.telematics import forecast
    from m4s.telematics.models import DailyOdometer, MileageForecast

    rows = list(MileageForecast.objects.unscoped().order_by("?")[:sample])
    bad = 0
    for row in rows:
        pts = DailyOdometer.objects.unscoped().filter(vehicle_id=row.vehicle_id)
        f = forecast.estimate(pts.values_list("date", "odometer_km"), today=today)
        if (
            f is None
            or abs(f.km_per_day - row.km_per_day) > 1e-6 * max(1.0, f.km_per_day)
            or abs(f.high - row.km_per_day_high) > 1e-6 * max(1.0, f.high)
            or (f.days, f.last_date) != (row.days, row.last_date)
        ):
            bad += 1
    return bad


def bench_mileage(scale: int) -> dict:
    from django.db import connection
    from django.utils import timezone

    from m4s.telematics import services

    n = int(os.environ.get("M4S_BENCH_CARS", "1000000")) // scale
    today = timezone.localdate()
    t0 = time.perf_counter()
    ids, groups = tm._load_cars(n)
    cars_s = time.perf_counter() - t0
    load = tm._load_daily(ids, groups, DAYS, today)
    del ids, groups
    rows = n * DAYS

    def truncate():
        with connection.cursor() as cur:
            cur.execute("TRUNCATE telematics_mileageforecast")

    def timed(fn):
        started = time.perf_counter()
        count = fn()
        return time.perf_counter() - started, count, tm._load_avg()

    results = {}
    truncate()
    results["new, first run"] = timed(lambda: services.recompute_all_forecasts(today=today))
    results["new, again"] = timed(lambda: services.recompute_all_forecasts(today=today))
    differ = _check(today)
    truncate()
    results["old, first run"] = timed(lambda: _old(today))
    results["old, again"] = timed(lambda: _old(today))
    for label, (seconds, count, avg) in results.items():
        harness.log(f"mileage {label}: {count:,} forecasts in {seconds:.1f} s; load {avg}")
    if differ:
        raise RuntimeError(f"mileage: {differ} of 200 cars' fleet forecasts differ from per car")
    first, again = results["new, first run"], results["new, again"]
    base_first, base_again = results["old, first run"], results["old, again"]
    scaled = (
        ""
        if n == 1_000_000
        else f" (1,000,000 cars extrapolated linearly: ~{again[0] * 1_000_000 / n:.0f} s)"
    )
    goal = again[0] * 1_000_000 / n <= TARGET_RECOMPUTE
    return {
        "rows": [
            {
                "benchmark": "11. Mileage forecasts for every car (`services.recompute_all_forecasts()`, the one estimator)",
                "data": (
                    f"{n:,} cars × {DAYS} days of daily odometer = {rows:,} rows, 10 dealer "
                    f"groups; goal ≤ {TARGET_RECOMPUTE:.0f} s for 1,000,000 cars"
                ),
                "m4s": (
                    f"**{again[0]:.1f} s** steady state (all {again[1]:,} updated), "
                    f"{first[0]:.1f} s first run{scaled}; {again[0] / base_again[0]:.1f}× the "
                    f"previous recompute{'' if goal else ' — **above the goal**'}"
                ),
                "baseline": "the previous fleet recompute (regr_slope into a temporary table, UPDATE + INSERT)",
                "baseline_result": f"{base_again[0]:.1f} s steady state, {base_first[0]:.1f} s first run",
            }
        ],
        "notes": {
            "lines": [
                f"Mileage load: {n:,} cars in {cars_s:.0f} s, {rows:,} daily rows copied in "
                f"{load['copy_s']:.0f} s, indexed in {load['index_s']:.0f} s.",
                "Mileage: load average at the end of each run: "
                + "; ".join(f"{label} {r[2]}" for label, r in results.items())
                + "; 200 random cars' fleet forecasts equal the per-car estimator's.",
            ]
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cars", type=int, default=None)
    args = parser.parse_args()
    if args.cars:
        os.environ["M4S_BENCH_CARS"] = str(args.cars)
    harness.BENCH_FUNCS["mileage"] = bench_mileage
    out = Path(tempfile.mkstemp(suffix=".json")[1])
    code = harness.child_main(SimpleNamespace(bench="mileage", db="postgres", quick=False, out=out))
    if code == 0:
        import json

        result = json.loads(out.read_text())
        print(harness.table(result["rows"]))
        print("\n".join(result["notes"]["lines"]))
    out.unlink(missing_ok=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
