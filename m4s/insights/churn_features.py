"""Churn features from a plain events table (numpy, vectorised; no database, no Django models).

One pipeline for both sources: the group's history read from the database
(`m4s.insights.history`) and the evaluation command's CSV files
(`m4s insights churn --events ... --customers ...`) both become the same two tables:

- events: customer_id, ts (day), kind, amount (CNY, optional), score (NPS 0..10, optional)
- customers: customer_id, purchase_date, warranty_end_date, tier

`features_at(data, t)` computes every customer's features from the events strictly BEFORE the
day `t` (nothing on or after `t` is read: that is what keeps the time split honest), and
`label_at(data, t)` says who churned after `t`: no paid visit in the 365 days from `t`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

# The documented kinds (README), plus two the database knows and a CSV may carry:
# `declined_work` (a recommended amber/red repair line the owner declined; amount = its value)
# and `complaint_resolved` (the day a complaint was closed; unresolved = complaints − resolved).
KINDS = [
    "visit_paid",
    "visit_warranty",
    "booking",
    "no_show",
    "survey",
    "complaint",
    "app_open",
    "points_earn",
    "points_redeem",
    "message",
    "reminder_sent",
    "reminder_clicked",
    "car_bound",
    "car_sold",
    "declined_work",
    "complaint_resolved",
]
KIND = {name: i for i, name in enumerate(KINDS)}
EPOCH = dt.date(1970, 1, 1)
HORIZON = 365  # label window: no paid visit in the 365 days after the cut-off
NEVER_DAYS = 1825  # days since the last paid visit for one who never had one (5 years)


def day(d: dt.date) -> int:
    return (d - EPOCH).days


def to_date(n: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(n))


@dataclass
class Data:
    """The two tables as arrays. Customers are rows 0..n-1; events refer to them by row."""

    customer_ids: np.ndarray  # (n,) the outside ids (str or int), in row order
    purchase: np.ndarray  # (n,) int day, -1 when unknown
    warranty_end: np.ndarray  # (n,) int day, -1 when unknown
    tier: np.ndarray  # (n,) str
    ev_cust: np.ndarray  # (m,) int row
    ev_ts: np.ndarray  # (m,) int day
    ev_kind: np.ndarray  # (m,) int8
    ev_amount: np.ndarray  # (m,) float (0 when absent)
    ev_score: np.ndarray  # (m,) float (nan when absent)
    has_resolutions: bool = False  # the source records when complaints are resolved
    tiers: list[str] | None = None  # the tier names one-hot encoded (a model's, when scoring)

    @property
    def n(self) -> int:
        return len(self.customer_ids)

    def __post_init__(self) -> None:
        order = np.argsort(self.ev_ts, kind="stable")
        for name in ("ev_cust", "ev_ts", "ev_kind", "ev_amount", "ev_score"):
            setattr(self, name, np.asarray(getattr(self, name))[order])
        self.has_resolutions = bool((self.ev_kind == KIND["complaint_resolved"]).any())
        if self.tiers is None:
            names, counts = np.unique(self.tier[self.tier != ""], return_counts=True)
            self.tiers = [str(x) for x in names[np.argsort(-counts, kind="stable")][:5]]

    def before(self, t: int) -> Data:
        """The same customers with only the events before day `t` (for tests and proofs)."""
        keep = self.ev_ts < t
        return Data(
            self.customer_ids,
            self.purchase,
            self.warranty_end,
            self.tier,
            self.ev_cust[keep],
            self.ev_ts[keep],
            self.ev_kind[keep],
            self.ev_amount[keep],
            self.ev_score[keep],
            tiers=list(self.tiers),
        )


# --- features ----------------------------------------------------------------------------------
BASE_FEATURES = [
    "days_since_paid",  # days since the last paid visit (NEVER_DAYS when none)
    "never_paid",
    "paid_12m",
    "paid_24m",
    "spend_24m",
    "warranty_visits_24m",
    "bookings_12m",
    "no_shows_12m",
    "last_nps",  # the last NPS answer (7 when none: a neutral middle)
    "detractor",  # the last NPS answer was 0..6
    "complaints_12m",
    "unresolved_complaints",  # open at t (0 when the source does not record resolutions)
    "declined_12m",
    "app_opens_90d",
    "points_earned_12m",
    "points_redeemed_12m",
    "messages_12m",
    "reminders_sent_12m",
    "reminder_click_rate",  # clicked / sent in 12 months (0 when none sent)
    "car_age_months",
    "out_of_warranty",
    "car_sold",
    "app_bound",
]


def feature_names(data: Data) -> list[str]:
    return [*BASE_FEATURES, *(f"tier={t}" for t in data.tiers or [])]


def _count(data: Data, n: int, mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    w = None if weights is None else weights[mask]
    return np.bincount(data.ev_cust[mask], weights=w, minlength=n).astype(float)


def _last(data: Data, n: int, mask: np.ndarray, values: np.ndarray, empty: float) -> np.ndarray:
    """Per customer, `values` of their latest event among `mask` (events are sorted by day)."""
    out = np.full(n, empty, dtype=float)
    cust = data.ev_cust[mask][::-1]
    rows, first = np.unique(cust, return_index=True)  # first in reverse = the latest
    out[rows] = values[mask][::-1][first]
    return out


def features_at(data: Data, t: int) -> np.ndarray:
    """(n, k) features of every customer at day `t`, from events strictly before `t`."""
    n = data.n
    ts, kind = data.ev_ts, data.ev_kind
    past = ts < t
    in12 = past & (ts >= t - 365)
    in24 = past & (ts >= t - 730)
    in90 = past & (ts >= t - 90)

    def k(name: str) -> np.ndarray:
        return kind == KIND[name]

    paid = past & k("visit_paid")
    last_paid = _last(data, n, paid, ts.astype(float), -1.0)
    never = last_paid < 0
    days_since = np.where(never, NEVER_DAYS, np.minimum(t - last_paid, NEVER_DAYS))

    survey = past & k("survey") & ~np.isnan(data.ev_score)
    last_nps = _last(data, n, survey, data.ev_score, np.nan)
    detractor = (~np.isnan(last_nps)) & (last_nps <= 6)
    last_nps = np.where(np.isnan(last_nps), 7.0, last_nps)

    complaints_all = _count(data, n, past & k("complaint"))
    if data.has_resolutions:
        unresolved = np.maximum(complaints_all - _count(data, n, past & k("complaint_resolved")), 0)
    else:
        unresolved = np.zeros(n)

    sent = _count(data, n, in12 & k("reminder_sent"))
    clicked = _count(data, n, in12 & k("reminder_clicked"))
    click_rate = np.divide(clicked, sent, out=np.zeros(n), where=sent > 0).clip(0, 1)

    known = data.purchase >= 0
    car_age = np.where(known & (data.purchase < t), (t - data.purchase) / 30.44, 0.0)
    out_of_warranty = (data.warranty_end >= 0) & (data.warranty_end < t)

    last_sold = _last(data, n, past & k("car_sold"), ts.astype(float), -1.0)
    last_bound = _last(data, n, past & k("car_bound"), ts.astype(float), -1.0)
    car_sold = (last_sold >= 0) & (last_sold >= last_bound)
    app_bound = (last_bound >= 0) & ~car_sold

    cols = [
        days_since,
        never.astype(float),
        _count(data, n, in12 & k("visit_paid")),
        _count(data, n, in24 & k("visit_paid")),
        _count(data, n, in24 & k("visit_paid"), data.ev_amount),
        _count(data, n, in24 & k("visit_warranty")),
        _count(data, n, in12 & k("booking")),
        _count(data, n, in12 & k("no_show")),
        last_nps,
        detractor.astype(float),
        _count(data, n, in12 & k("complaint")),
        unresolved,
        _count(data, n, in12 & k("declined_work")),
        _count(data, n, in90 & k("app_open")),
        _count(data, n, in12 & k("points_earn"), data.ev_amount),
        _count(data, n, in12 & k("points_redeem"), data.ev_amount),
        _count(data, n, in12 & k("message")),
        sent,
        click_rate,
        car_age,
        out_of_warranty.astype(float),
        car_sold.astype(float),
        app_bound.astype(float),
    ]
    cols += [(data.tier == name).astype(float) for name in data.tiers or []]
    return np.column_stack(cols)


def label_at(data: Data, t: int, horizon: int = HORIZON) -> np.ndarray:
    """1 = churned: no paid visit in [t, t + horizon)."""
    ts = data.ev_ts
    came = (data.ev_kind == KIND["visit_paid"]) & (ts >= t) & (ts < t + horizon)
    return (np.bincount(data.ev_cust[came], minlength=data.n) == 0).astype(int)


def active_at(data: Data, t: int) -> np.ndarray:
    """Customers the model is trained on at cut-off `t`: their car bought before `t`, and a visit
    (paid or warranty) in the 24 months before `t` or a car bought in those 24 months."""
    ts = data.ev_ts
    visit = (
        ((data.ev_kind == KIND["visit_paid"]) | (data.ev_kind == KIND["visit_warranty"]))
        & (ts < t)
        & (ts >= t - 730)
    )
    visited = np.bincount(data.ev_cust[visit], minlength=data.n) > 0
    bought = data.purchase >= 0
    recent_car = bought & (data.purchase < t) & (data.purchase >= t - 730)
    first_seen = np.full(data.n, np.iinfo(np.int64).max)
    np.minimum.at(first_seen, data.ev_cust, data.ev_ts)
    known_before = (bought & (data.purchase < t)) | (first_seen < t)
    return known_before & (visited | recent_car)


# --- plain files ------------------------------------------------------------------------------
@dataclass
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


def _date(raw: str, *, required: bool) -> int:
    raw = (raw or "").strip()
    if not raw:
        if required:
            raise ValueError("missing date")
        return -1
    return day(dt.date.fromisoformat(raw[:10]))


def _number(raw: str, *, lo: float, hi: float) -> float:
    raw = (raw or "").strip()
    if not raw:
        return float("nan")
    value = float(raw)
    if not np.isfinite(value) or not lo <= value <= hi:
        raise ValueError(f"{raw!r} out of range")
    return value


def _rows(text: Iterable[str], name: str, columns: list[str], problems: list[Problem]):
    reader = csv.reader(text)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        problems.append(Problem(name, 1, "empty file"))
        return
    except csv.Error as exc:
        problems.append(Problem(name, 1, f"unreadable header: {exc}"))
        return
    missing = [c for c in columns if c not in header]
    if missing:
        problems.append(Problem(name, 1, f"missing column(s): {', '.join(missing)}"))
        return
    index = [header.index(c) for c in columns]
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            problems.append(Problem(name, reader.line_num, f"unreadable row: {exc}"))
            continue
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) < max(index) + 1:
            problems.append(Problem(name, reader.line_num, f"expected {len(header)} fields"))
            continue
        yield reader.line_num, [row[i] for i in index]


def read_csv(
    events_file: Iterable[str] | str,
    customers_file: Iterable[str] | str,
    *,
    events_name: str = "events.csv",
    customers_name: str = "customers.csv",
) -> tuple[Data, list[Problem]]:
    """The evaluation format → `Data`; malformed rows are skipped and reported by line number.
    Events of customers missing from customers.csv are reported and skipped too."""
    if isinstance(events_file, str):
        events_file = io.StringIO(events_file)
    if isinstance(customers_file, str):
        customers_file = io.StringIO(customers_file)
    problems: list[Problem] = []
    ids: list[str] = []
    purchase: list[int] = []
    warranty: list[int] = []
    tiers: list[str] = []
    row_of: dict[str, int] = {}
    cols = ["customer_id", "purchase_date", "warranty_end_date", "tier"]
    for line, (cid, p, w, tier) in _rows(customers_file, customers_name, cols, problems):
        cid = cid.strip()
        try:
            if not cid or len(cid) > 64:
                raise ValueError("missing or too long customer_id")
            if cid in row_of:
                raise ValueError(f"customer {cid} listed twice")
            pd, wd = _date(p, required=False), _date(w, required=False)
        except ValueError as exc:
            problems.append(Problem(customers_name, line, str(exc)))
            continue
        row_of[cid] = len(ids)
        ids.append(cid)
        purchase.append(pd)
        warranty.append(wd)
        tiers.append(tier.strip()[:40])
    ev_cust: list[int] = []
    ev_ts: list[int] = []
    ev_kind: list[int] = []
    ev_amount: list[float] = []
    ev_score: list[float] = []
    cols = ["customer_id", "ts", "kind", "amount", "score"]
    for line, (cid, ts, kind, amount, score) in _rows(events_file, events_name, cols, problems):
        try:
            row = row_of.get(cid.strip())
            if row is None:
                raise ValueError(f"unknown customer_id {cid.strip()[:64]!r}")
            code = KIND.get(kind.strip().lower())
            if code is None:
                raise ValueError(f"unknown kind {kind.strip()[:40]!r}")
            d = _date(ts, required=True)
            a = _number(amount, lo=-1e9, hi=1e9)
            s = _number(score, lo=0, hi=10)
        except ValueError as exc:
            problems.append(Problem(events_name, line, str(exc)))
            continue
        ev_cust.append(row)
        ev_ts.append(d)
        ev_kind.append(code)
        ev_amount.append(0.0 if np.isnan(a) else a)
        ev_score.append(s)
    data = Data(
        np.array(ids, dtype=object),
        np.array(purchase, dtype=np.int64),
        np.array(warranty, dtype=np.int64),
        np.array(tiers, dtype=object),
        np.array(ev_cust, dtype=np.int64),
        np.array(ev_ts, dtype=np.int64),
        np.array(ev_kind, dtype=np.int8),
        np.array(ev_amount, dtype=float),
        np.array(ev_score, dtype=float),
    )
    return data, problems
