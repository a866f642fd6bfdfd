"""`m4s forecast-eval [--per-habit 300] [--seed 0] [--json]`: the mileage forecast judged on
simulated owners (m4s.telematics.habits): median absolute error in days of the predicted service
due date on the km-limited cars, per habit, beside the simple baselines."""

import json

from django.core.management.base import BaseCommand, CommandError

from m4s.telematics import habits
from m4s.telematics.forecast_eval import evaluate


class Command(BaseCommand):
    help = "Judge the mileage forecast on simulated owners against simple baselines."
    requires_system_checks: list = []  # plain files only: no database, no URLs

    def add_arguments(self, parser):
        parser.add_argument("--per-habit", type=int, default=300, help="Simulated cars per habit.")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Print the result as JSON."
        )

    def handle(self, *args, per_habit: int, seed: int, as_json: bool, **options):
        if not 1 <= per_habit <= 100_000:
            raise CommandError("--per-habit must be between 1 and 100000")
        result = evaluate(per_habit, seed=seed)
        if as_json:
            self.stdout.write(json.dumps(result, indent=1))
            return
        cols = [*habits.HABITS, "all", "late %"]
        self.stdout.write(
            f"{result['cars']} km-limited cars not yet due; median absolute error in days"
        )
        self.stdout.write(f"{'':26}" + "".join(f"{c:>13}" for c in cols))
        self.stdout.write(
            f"{'cars':26}"
            + "".join(
                f"{result['per_habit'].get(c, result['cars'] if c == 'all' else ''):>13}"
                for c in cols
            )
        )
        for name, row in result["median_abs_error_days"].items():
            self.stdout.write(f"{name:26}" + "".join(f"{row.get(c, ''):>13}" for c in cols))
        band = result["band_coverage"]
        self.stdout.write(
            f"{'band covers truth %':26}" + "".join(f"{band.get(c, ''):>13}" for c in cols)
        )
