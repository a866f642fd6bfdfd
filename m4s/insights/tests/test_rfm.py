"""RFM quintiles and segments: edges (ties, all equal, fewer than five, one customer, nobody
with a paid visit) and the scores written to CustomerInsight."""

import datetime as dt
from decimal import Decimal

import numpy as np

from m4s.customers.models import Customer
from m4s.insights import rfm
from m4s.insights.choices import Segment
from m4s.insights.models import CustomerInsight


def test_quintiles_spread_and_order():
    q = rfm.quintiles(range(100))
    assert list(np.bincount(q)[1:]) == [20, 20, 20, 20, 20]
    assert q[0] == 1 and q[-1] == 5


def test_quintiles_ties_share_a_score():
    assert list(rfm.quintiles([7, 7, 7, 7, 7, 7])) == [3] * 6  # all equal: the middle
    q = rfm.quintiles([1, 1, 1, 1, 9])
    assert len(set(q[:4])) == 1 and q[4] > q[0]


def test_quintiles_small_groups():
    assert list(rfm.quintiles([42])) == [3]  # one customer
    assert list(rfm.quintiles([])) == []
    q = rfm.quintiles([1, 2, 3])
    assert list(q) == sorted(q) and q[0] >= 1 and q[-1] <= 5 and q[0] < q[-1]


def test_recency_fewer_days_is_better():
    r, f, m = rfm.score_arrays([10, 400], [5, 1], [5000, 100])
    assert r[0] > r[1] and f[0] > f[1] and m[0] > m[1]


def test_segments_grid():
    assert rfm.segment_of(5, 5, 5) == Segment.CHAMPIONS
    assert rfm.segment_of(3, 5, 4) == Segment.LOYAL
    assert rfm.segment_of(5, 1, 1) == Segment.NEW
    assert rfm.segment_of(4, 2, 3) == Segment.POTENTIAL
    assert rfm.segment_of(3, 3, 3) == Segment.NEED_ATTENTION
    assert rfm.segment_of(1, 5, 5) == Segment.CANT_LOSE
    assert rfm.segment_of(2, 3, 4) == Segment.AT_RISK
    assert rfm.segment_of(2, 1, 2) == Segment.HIBERNATING
    assert rfm.segment_of(1, 1, 1) == Segment.LOST
    assert rfm.segment_of(0, 0, 0) == Segment.NEVER
    every = {rfm.segment_of(r, f, m) for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)}
    assert every == set(Segment.values) - {Segment.NEVER}


def _insights(world, rows):
    as_of = dt.date(2025, 6, 30)
    out = []
    for i, (days, n, spend) in enumerate(rows):
        c = Customer.objects.create(
            dealer_group=world.group_a, store=world.store_a, name=f"R{i}", phone=f"+86137000000{i}"
        )
        out.append(
            CustomerInsight.objects.create(
                dealer_group=world.group_a,
                customer=c,
                as_of=as_of,
                last_paid_visit=as_of - dt.timedelta(days=days) if days is not None else None,
                visits_24m=n,
                spend_24m=Decimal(spend),
            )
        )
    return as_of, out


def test_score_writes_scores_and_never(world):
    as_of, rows = _insights(
        world,
        [(5, 8, 9000), (30, 4, 3000), (200, 2, 800), (500, 1, 300), (700, 1, 100), (None, 0, 0)],
    )
    assert rfm.score(world.group_a, as_of) == 6
    got = {
        ci.customer_id: ci
        for ci in CustomerInsight.objects.unscoped().filter(dealer_group=world.group_a)
    }
    best, never = got[rows[0].customer_id], got[rows[-1].customer_id]
    assert (best.r, best.f, best.m, best.segment) == (5, 5, 5, Segment.CHAMPIONS)
    assert (never.r, never.f, never.m, never.segment) == (0, 0, 0, Segment.NEVER)
    worst = got[rows[4].customer_id]
    assert worst.r == 1 and worst.segment == Segment.LOST
    # group B is untouched and scoring an empty group is fine
    assert rfm.score(world.group_b, as_of) == 0


def test_score_one_customer(world):
    as_of, rows = _insights(world, [(10, 1, 100)])
    rfm.score(world.group_a, as_of)
    ci = CustomerInsight.objects.unscoped().get(pk=rows[0].pk)
    assert (ci.r, ci.f, ci.m) == (3, 3, 3) and ci.segment == Segment.NEED_ATTENTION
