"""`m4s forecast --traces FILE.json --out predictions.json`: each car's service due date from its
daily odometer, by the estimator M4S uses (m4s.telematics.forecast), on plain files.

Input: {"cars": [{"car": 1, "observed_start": "2026-05-01", "observed_daily_odometer_km": [...],
"last_service_km": 11000.0, "last_service_date": "2026-04-02", "interval_km": 10000,
"interval_months": 12}, ...]}, one reading a day from observed_start (repeated when parked).
Output: {"1": "2027-01-15", ...}: the earlier of the km rule at the car's forecast pace (from its
last reading) and the months rule. The odometer at the last service counts as one more reading.
"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from m4s.telematics.forecast_eval import TraceError, predict, read_traces


class Command(BaseCommand):
    help = "Predict each car's service due date from a JSON file of daily odometer traces."
    requires_system_checks: list = []  # plain files only: no database, no URLs

    def add_arguments(self, parser):
        parser.add_argument("--traces", required=True, type=Path, help="The input JSON file.")
        parser.add_argument("--out", required=True, type=Path, help="Where to write predictions.")

    def handle(self, *args, traces: Path, out: Path, **options):
        try:
            cars = read_traces(traces)
        except TraceError as e:
            raise CommandError(str(e)) from None
        predictions = {}
        for car in cars:
            due = predict(car)
            predictions[car["car"]] = due.isoformat() if due else None
        try:
            out.write_text(json.dumps(predictions, indent=1) + "\n", encoding="utf-8")
        except OSError as e:
            raise CommandError(f"cannot write {out}: {e.strerror or e}") from None
        self.stdout.write(f"{len(predictions)} cars → {out}")
