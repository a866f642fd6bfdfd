"""Synthetic cohorts for the churn model's tests and benchmark (numpy, seeded).

Churn depends on recency (who already drifted away), declined work and unresolved complaints:
a customer still coming leaves in the year after the cut-off with a probability that rises with
the work they declined and the complaints left open, so a model that reads those beats a rule
that only looks at the last visit.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from .churn_features import KIND, Data, day


def cohort(n: int, as_of: dt.date, *, seed: int = 0, years: float = 4.0) -> Data:
    rng = np.random.default_rng(seed)
    end = day(as_of)
    cut = end - 365
    start = int(end - years * 365)
    purchase = rng.integers(start - 4 * 365, cut - 30, size=n)
    warranty_end = purchase + 3 * 365
    rate = np.exp(rng.normal(np.log(1.6), 0.5, size=n)) / 365.0  # paid visits a day
    # some already drifted away before the cut-off (recency shows it)
    left_before = rng.random(n) < 0.25
    leave = np.where(left_before, rng.integers(start, cut, size=n), end + 10_000)
    # the year before the cut-off: declined work and complaints (some resolved)
    declined = rng.poisson(0.5, size=n)
    complaints = (rng.random(n) < 0.2).astype(int)
    resolved = complaints * (rng.random(n) < 0.5)
    unresolved = complaints - resolved
    p_leave = 1 / (1 + np.exp(-(-2.6 + 1.3 * declined + 2.6 * unresolved + 0.3 * complaints)))
    leaves_now = ~left_before & (rng.random(n) < p_leave)
    leave = np.where(leaves_now, cut + rng.integers(0, 20, size=n), leave)
    active_from = np.maximum(purchase, start)
    span = np.maximum(np.minimum(leave, end) - active_from, 0)
    visits = rng.poisson(rate * span)
    cust = [np.repeat(np.arange(n), visits)]
    ts = [np.repeat(active_from, visits) + (rng.random(visits.sum()) * np.repeat(span, visits))]
    kinds = [np.full(visits.sum(), KIND["visit_paid"])]
    amount = [rng.gamma(2.0, 600.0, size=visits.sum())]

    def add(who: np.ndarray, when: np.ndarray, kind: str, amt=None):
        cust.append(who)
        ts.append(when)
        kinds.append(np.full(len(who), KIND[kind]))
        amount.append(np.zeros(len(who)) if amt is None else amt)

    rows = np.repeat(np.arange(n), declined)
    add(
        rows, cut - rng.integers(1, 360, size=len(rows)), "declined_work", np.full(len(rows), 800.0)
    )
    rows = np.flatnonzero(complaints)
    when = cut - rng.integers(30, 360, size=len(rows))
    add(rows, when, "complaint")
    done = resolved[rows].astype(bool)
    add(rows[done], when[done] + rng.integers(1, 25, size=done.sum()), "complaint_resolved")
    # noise: app opens, warranty visits, reminders (unrelated to churn)
    k = rng.poisson(3, size=n)
    rows = np.repeat(np.arange(n), k)
    add(rows, rng.integers(start, end, size=len(rows)), "app_open")
    k = rng.poisson(1, size=n)
    rows = np.repeat(np.arange(n), k)
    add(rows, rng.integers(start, end, size=len(rows)), "visit_warranty")
    k = rng.poisson(2, size=n)
    rows = np.repeat(np.arange(n), k)
    add(rows, rng.integers(start, end, size=len(rows)), "reminder_sent")
    tiers = rng.choice(np.array(["", "silver", "gold"], dtype=object), size=n, p=[0.5, 0.35, 0.15])
    m = sum(len(c) for c in cust)
    return Data(
        np.arange(n).astype(str).astype(object),
        purchase.astype(np.int64),
        warranty_end.astype(np.int64),
        tiers,
        np.concatenate(cust).astype(np.int64),
        np.concatenate(ts).astype(np.int64),
        np.concatenate(kinds).astype(np.int8),
        np.concatenate(amount).astype(float),
        np.full(m, np.nan),
    )
