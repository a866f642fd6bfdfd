"""`m4s insights churn|train`: the churn model on plain files, and retraining from the database.

    m4s insights churn --events events.csv --customers customers.csv --as-of 2026-01-01 \\
        --out scores.csv
        trains on the history before --as-of by the same time split as the product (features
        before as_of − 365 days, label = no paid visit in the following 365 days), prints the
        validation AUC beside the recency-only rule's, and writes
        customer_id,churn_risk,reason_1,reason_2,reason_3 for every customer (features as of
        --as-of). Malformed rows are reported on stderr with their line numbers and skipped.

    m4s insights train [--group slug]
        retrains each group's model (or one group's) from its own history and scores its
        customers.
"""

import csv
import datetime as dt
import sys

from django.core.management.base import BaseCommand, CommandError

from m4s.core.i18n import render_source


def _date(raw: str) -> dt.date:
    try:
        value = dt.date.fromisoformat(raw)
    except ValueError:
        raise CommandError(f"--as-of: {raw!r} is not a date (YYYY-MM-DD)") from None
    if not 1990 <= value.year <= 2200:
        raise CommandError("--as-of: out of range")
    return value


class Command(BaseCommand):
    help = "Churn model: evaluate on plain CSV files (churn) or retrain from the database (train)."
    requires_system_checks: list = []

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True)
        churn = sub.add_parser("churn", help="Train and score on events.csv + customers.csv.")
        churn.add_argument("--events", required=True, help="customer_id,ts,kind,amount,score")
        churn.add_argument(
            "--customers", required=True, help="customer_id,purchase_date,warranty_end_date,tier"
        )
        churn.add_argument("--as-of", required=True, dest="as_of", help="YYYY-MM-DD")
        churn.add_argument("--out", required=True, help="scores.csv to write ('-' = stdout)")
        churn.add_argument("--seed", type=int, default=0)
        train = sub.add_parser("train", help="Retrain and score from the database.")
        train.add_argument("--group", default="", help="The group's slug (default: every group).")

    def handle(self, *args, verb: str, **options):
        if verb == "churn":
            return self.churn(**options)
        return self.train(options["group"])

    def churn(self, *, events, customers, as_of, out, seed, **_):
        from m4s.insights import churn_engine
        from m4s.insights.churn_features import Data, read_csv

        when = _date(as_of)
        try:
            with (
                open(events, newline="", encoding="utf-8-sig", errors="replace") as ev,
                open(customers, newline="", encoding="utf-8-sig", errors="replace") as cu,
            ):
                data, problems = read_csv(ev, cu, events_name=events, customers_name=customers)
        except OSError as exc:
            raise CommandError(str(exc)) from None
        for problem in problems[:1000]:
            self.stderr.write(f"skipped {problem}")
        if len(problems) > 1000:
            self.stderr.write(f"... and {len(problems) - 1000} more malformed rows")
        self.stderr.write(
            f"read {data.n} customers and {len(data.ev_ts)} events before and after {when}; "
            f"{len(problems)} rows skipped"
        )
        # nothing on or after --as-of is ever read
        history = data.before(churn_engine.day(when))
        fitted = churn_engine.train(history, when, seed=seed)
        if isinstance(fitted, churn_engine.NotEnough):
            raise CommandError(
                f"not enough history: {fitted.customers} active customers at the cut-off "
                f"({fitted.churned} churned, {fitted.stayed} stayed); need "
                f"{fitted.needed} with at least {churn_engine.MIN_CLASS} of each"
            )
        scoring = Data(
            history.customer_ids,
            history.purchase,
            history.warranty_end,
            history.tier,
            history.ev_cust,
            history.ev_ts,
            history.ev_kind,
            history.ev_amount,
            history.ev_score,
            tiers=fitted.tiers,
        )
        risk, _band, reasons = churn_engine.score(fitted.state(), scoring, when)
        rows = (
            [cid, f"{p:.4f}", *([render_source(r["t"], r.get("p")) for r in rs] + ["", "", ""])[:3]]
            for cid, p, rs in zip(scoring.customer_ids, risk, reasons, strict=True)
        )
        header = ["customer_id", "churn_risk", "reason_1", "reason_2", "reason_3"]
        if out == "-":
            writer = csv.writer(sys.stdout)
            writer.writerow(header)
            writer.writerows(rows)
        else:
            try:
                with open(out, "w", newline="", encoding="utf-8") as fh:
                    writer = csv.writer(fh)
                    writer.writerow(header)
                    writer.writerows(rows)
            except OSError as exc:
                raise CommandError(str(exc)) from None
        self.stderr.write(
            f"time split: features before {fitted.cutoff}, label = no paid visit "
            f"{fitted.cutoff} .. {when}; {fitted.n_train} train / {fitted.n_valid} validation "
            f"customers (base rate {fitted.base_rate:.1%})"
        )
        self.stderr.write(
            f"validation AUC: model {fitted.auc:.3f} ({fitted.kind}; logreg "
            f"{fitted.aucs['logreg']:.3f}, gbm {fitted.aucs['gbm']:.3f}) vs recency-only rule "
            f"{fitted.recency_auc:.3f}; Brier {fitted.brier:.3f}"
        )

    def train(self, slug: str):
        from m4s.insights import churn
        from m4s.org.models import DealerGroup

        groups = DealerGroup.objects.order_by("pk")
        if slug:
            groups = groups.filter(slug=slug)
            if not groups.exists():
                raise CommandError(f"no group {slug!r}")
        for group in groups:
            model = churn.train_group(group)
            scored = churn.score_group(group)
            if model is None:
                state = churn.history_state(group)
                self.stdout.write(
                    f"{group.slug}: not enough history ({state['customers']} customers, "
                    f"need {state['needed']}); {scored} scored"
                )
            else:
                self.stdout.write(
                    f"{group.slug}: {model.kind} AUC {model.auc:.3f} (recency-only "
                    f"{model.recency_auc:.3f}), {scored} customers scored"
                )
