"""RFM per customer, quintiles per group (5 best), and the named segments.

- recency: days from the last paid visit to `as_of` (fewer is better);
- frequency: paid visits in the 24 months to `as_of`; monetary: customer-paid spend in them.
Customers without a paid visit get r = f = m = 0 and the segment "never".

Quintiles are mid-rank percentiles among the group's customers with a paid visit: a value's
score is 1 + floor(5 × (below + equal / 2) / n), so equal values always share a score (all equal
→ 3 for everybody; a single customer → 3). Computed in numpy over one values_list of the
features (1,000,000 customers: a few seconds) and written back in batches (upsert).

Segments (the usual R × FM grid, FM = the rounded mean of F and M):
  R 4-5, FM 4-5 champions · R 3, FM 4-5 loyal · R 4-5, FM 2-3 potential · R 4, FM 1 potential ·
  R 5, FM 1 new · R 3, FM 1-3 need attention · R 1-2, FM 5 can't lose · R 1-2, FM 3-4 at risk ·
  R 2, FM 1-2 hibernating · R 1, FM 1-2 lost.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from m4s.insights.choices import Segment

BATCH = 5000

_GRID = {}
for _r in range(1, 6):
    for _fm in range(1, 6):
        if _r >= 4 and _fm >= 4:
            seg = Segment.CHAMPIONS
        elif _r == 3 and _fm >= 4:
            seg = Segment.LOYAL
        elif _r >= 4 and _fm >= 2:
            seg = Segment.POTENTIAL
        elif _r == 5 and _fm == 1:
            seg = Segment.NEW
        elif _r == 4 and _fm == 1:
            seg = Segment.POTENTIAL
        elif _r == 3:
            seg = Segment.NEED_ATTENTION
        elif _fm == 5:
            seg = Segment.CANT_LOSE
        elif _fm >= 3:
            seg = Segment.AT_RISK
        elif _r == 2:
            seg = Segment.HIBERNATING
        else:
            seg = Segment.LOST
        _GRID[(_r, _fm)] = seg


def segment_of(r: int, f: int, m: int) -> str:
    if not r:
        return Segment.NEVER
    fm = int((f + m) / 2 + 0.5)
    return _GRID[(r, max(1, min(5, fm)))]


def quintiles(values) -> np.ndarray:
    """Scores 1..5 (5 = highest values) by mid-rank percentile; ties share a score."""
    v = np.asarray(values, dtype=float)
    n = len(v)
    if n == 0:
        return np.zeros(0, dtype=int)
    s = np.sort(v)
    below = np.searchsorted(s, v, side="left")
    upto = np.searchsorted(s, v, side="right")
    p = (below + (upto - below) / 2) / n
    return np.clip(np.floor(p * 5).astype(int) + 1, 1, 5)


def score_arrays(recency_days, visits, spend) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """r, f, m for customers who all have a paid visit."""
    return quintiles(-np.asarray(recency_days, dtype=float)), quintiles(visits), quintiles(spend)


def score(group, as_of: dt.date) -> int:
    """Score every CustomerInsight row of the group (from its features); returns the count."""
    from m4s.insights.models import CustomerInsight

    g = group if isinstance(group, int) else group.pk
    rows = list(
        CustomerInsight.objects.for_group(g)
        .values_list("pk", "customer_id", "last_paid_visit", "visits_24m", "spend_24m")
        .order_by("pk")
    )
    if not rows:
        return 0
    paid = [(pk, c, (as_of - last).days, n, float(s)) for pk, c, last, n, s in rows if last]
    result: dict[int, tuple[int, int, int, str]] = {
        c: (0, 0, 0, Segment.NEVER) for _pk, c, last, _n, _s in rows if not last
    }
    if paid:
        r, f, m = score_arrays([p[2] for p in paid], [p[3] for p in paid], [p[4] for p in paid])
        for i, p in enumerate(paid):
            ri, fi, mi = int(r[i]), int(f[i]), int(m[i])
            result[p[1]] = (ri, fi, mi, segment_of(ri, fi, mi))
    _write(g, as_of, result)
    return len(result)


def _write(g: int, as_of: dt.date, result: dict) -> None:
    """Write r, f, m, segment: on PostgreSQL one UPDATE … FROM unnest(arrays) per 50,000 rows;
    elsewhere an upsert in batches."""
    from django.db import connection, transaction

    from m4s.insights.models import CustomerInsight

    items = list(result.items())
    if connection.vendor == "postgresql":
        table = CustomerInsight._meta.db_table
        sql = (
            f"UPDATE {table} AS ci SET r = v.r, f = v.f, m = v.m, segment = v.s "  # noqa: S608 (a model table name)
            "FROM unnest(%s::bigint[], %s::int[], %s::int[], %s::int[], %s::text[]) "
            "AS v(c, r, f, m, s) WHERE ci.customer_id = v.c AND ci.dealer_group_id = %s"
        )
        with transaction.atomic(), connection.cursor() as cur:
            for i in range(0, len(items), 50_000):
                part = items[i : i + 50_000]
                cur.execute(
                    sql,
                    [
                        [c for c, _v in part],
                        [v[0] for _c, v in part],
                        [v[1] for _c, v in part],
                        [v[2] for _c, v in part],
                        [str(v[3]) for _c, v in part],
                        g,
                    ],
                )
        return
    objs = [
        CustomerInsight(
            dealer_group_id=g, customer_id=c, as_of=as_of, r=ri, f=fi, m=mi, segment=seg
        )
        for c, (ri, fi, mi, seg) in items
    ]
    for i in range(0, len(objs), BATCH):
        CustomerInsight.objects.bulk_create(
            objs[i : i + BATCH],
            update_conflicts=True,
            unique_fields=["customer"],
            update_fields=["r", "f", "m", "segment"],
        )
