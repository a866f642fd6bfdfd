"""Benchmark: churn scoring for N customers (default 1,000,000) on synthetic events (numpy),
beside the recency-only rule in the same run; training time reported too.

    .venv/bin/python bench/bench_churn.py [--customers 1000000] [--train 200000] [--threads 2]

Stages, each timed:
- generate: the synthetic cohort (m4s/insights/churn_synth.py: churn depends on recency,
  declined work and unresolved complaints), ~12 events a customer
- train: features at the cut-off (as_of − 365 d) for the training cohort, logistic regression
  and gradient boosting fitted and measured on the held-out customers, the winner refitted
- score: features as of as_of for every customer + predict + top-three reasons
- write: customer_id,churn_risk,reason_1..3 as CSV (what `m4s insights churn` writes)
- baseline: the recency-only rule (days since the last paid visit) for every customer
No database: the CustomerInsight upsert is churn.write_scores (bulk upsert, 5,000 rows a
statement), measured separately when --db-rows is given.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "m4s.settings")

AS_OF = dt.date(2026, 1, 1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--train", type=int, default=200_000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    os.environ["M4S_CHURN_THREADS"] = str(args.threads)
    import django

    django.setup()
    import numpy as np

    from m4s.core.i18n import render_source
    from m4s.insights import churn_engine, churn_synth
    from m4s.insights.churn_features import BASE_FEATURES, day, features_at

    rows: list[tuple[str, float, str]] = []

    def timed(name, fn, note=""):
        t = time.perf_counter()
        out = fn()
        rows.append((name, time.perf_counter() - t, note))
        return out

    training = timed(
        f"generate training cohort ({args.train:,})",
        lambda: churn_synth.cohort(args.train, AS_OF, seed=args.seed + 1),
    )
    fitted = timed(
        "train (features, logreg + gbm, refit)", lambda: churn_engine.train(training, AS_OF)
    )
    data = timed(
        f"generate scoring cohort ({args.customers:,})",
        lambda: churn_synth.cohort(args.customers, AS_OF, seed=args.seed),
    )
    rows[-1] = (*rows[-1][:2], f"{len(data.ev_ts):,} events")
    state = fitted.state()
    t_at = day(AS_OF)
    X = timed("score: features (numpy)", lambda: features_at(data, t_at))
    with churn_engine.threads():
        risk = timed("score: predict", lambda: state["model"].predict_proba(X)[:, 1])
        reasons = timed(
            "score: top-3 reasons",
            lambda: churn_engine.top_reasons(state, X, data.tier, fitted.medians),
        )

    def write():
        buf = io.StringIO()
        w = csv.writer(buf)
        cache: dict = {}
        for cid, p, rs in zip(data.customer_ids, risk, reasons, strict=True):
            texts = []
            for r in rs:
                key = (r["t"], tuple(sorted((r.get("p") or {}).items())))
                if key not in cache:
                    cache[key] = render_source(r["t"], r.get("p"))
                texts.append(cache[key])
            w.writerow([cid, f"{p:.4f}", *(texts + ["", "", ""])[:3]])
        return buf.tell()

    size = timed("write: scores CSV", write)
    rows[-1] = (*rows[-1][:2], f"{size / 1e6:.0f} MB")
    score_total = sum(s for n, s, _ in rows if n.startswith(("score:", "write:")))

    def baseline():
        Xr = features_at(data, t_at)[:, BASE_FEATURES.index("days_since_paid")]
        return np.argsort(-Xr)

    timed("baseline: recency-only rule (features + rank)", baseline)
    print(f"\nchurn scoring, {args.customers:,} customers, threads={args.threads}\n")
    print(f"{'stage':52} {'seconds':>9}  note")
    for name, secs, note in rows:
        print(f"{name:52} {secs:9.2f}  {note}")
    print(f"{'score + write total (goal ≤ 60 s with RFM)':52} {score_total:9.2f}")
    print(
        f"\nmodel: {fitted.kind}; validation AUC logreg {fitted.aucs['logreg']:.3f}, gbm "
        f"{fitted.aucs['gbm']:.3f}; recency-only rule {fitted.recency_auc:.3f}; "
        f"n_train {fitted.n_train:,}, n_valid {fitted.n_valid:,}; base rate {fitted.base_rate:.1%}"
    )
    print(
        f"bands: {dict(zip(*np.unique(churn_engine.band_of(risk), return_counts=True), strict=True))}"
    )


if __name__ == "__main__":
    main()
