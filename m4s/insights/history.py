"""A group's history from the database as the churn model's events table (the same
`churn_features.Data` the `m4s insights churn` command reads from CSV files).

One query per source, set-based (values_list), never a query per customer:

- customers: the group's customers; purchase date = their oldest current car's, warranty end =
  the latest warranty end of their current cars (Vehicle.current_owner); tier = their loyalty tier's name
- visit_paid / visit_warranty: invoices (customer_pay_total > 0 is a paid visit), amount = what
  the customer paid
- booking (appointment made), no_show (at the appointment's time)
- survey (answered, with its NPS), complaint (received) and complaint_resolved (resolved or closed)
- declined_work: declined repair lines (when decided), amount = the labour price
- points_earn / points_redeem: the loyalty ledger (points)
- message: the owner's messages in conversations
- reminder_sent (sent), reminder_clicked (the reminder was done: the owner acted on it)
- car_bound (an app binding), car_sold (a car ownership that ended)
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
from django.conf import settings
from django.db.models import Max, Min, Q

from .churn_features import EPOCH, KIND, Data, day

_ZONE = ZoneInfo(settings.TIME_ZONE)


def _days(values) -> np.ndarray:
    out = np.empty(len(values), dtype=np.int64)
    for i, v in enumerate(values):
        if isinstance(v, dt.datetime):
            v = v.astimezone(_ZONE).date()
        out[i] = (v - EPOCH).days
    return out


def load(group, *, tiers: list[str] | None = None) -> Data:
    from m4s.care.models import Reminder
    from m4s.complaints.models import Complaint
    from m4s.conversations.models import Message
    from m4s.customers.models import Binding, Customer
    from m4s.loyalty.models import LedgerEntry, Member
    from m4s.service.models import Appointment, Invoice, RepairLine, Survey
    from m4s.vehicles.models import Vehicle, VehicleOwnership

    gid = group.pk if hasattr(group, "pk") else int(group)
    customers = list(Customer.objects.for_group(gid).order_by("pk").values_list("pk", "store_id"))
    ids = np.array([c for c, _s in customers], dtype=np.int64)
    row = {c: i for i, c in enumerate(ids.tolist())}
    n = len(ids)
    purchase = np.full(n, -1, dtype=np.int64)
    warranty = np.full(n, -1, dtype=np.int64)
    cars = (
        Vehicle.objects.for_group(gid)
        .filter(current_owner__isnull=False)
        .values("current_owner_id")
        .annotate(p=Min("purchase_date"), w=Max("warranty_end"))
        .values_list("current_owner_id", "p", "w")
    )
    for cid, p, w in cars:
        i = row.get(cid)
        if i is not None:
            if p:
                purchase[i] = day(p)
            if w:
                warranty[i] = day(w)
    tier = np.full(n, "", dtype=object)
    for cid, name in (
        Member.objects.for_group(gid)
        .filter(tier__isnull=False)
        .values_list("customer_id", "tier__name")
    ):
        i = row.get(cid)
        if i is not None:
            tier[i] = (name or "")[:40]

    cust: list[np.ndarray] = []
    ts: list[np.ndarray] = []
    kind: list[np.ndarray] = []
    amount: list[np.ndarray] = []
    score: list[np.ndarray] = []

    def add(rows, kind_of, amount_of=None, score_of=None):
        """rows: (customer_id, when, *extra); kind_of: a kind name or a function of the row."""
        rows = [r for r in rows if r[0] in row and r[1] is not None]
        if not rows:
            return
        cust.append(np.array([row[r[0]] for r in rows], dtype=np.int64))
        ts.append(_days([r[1] for r in rows]))
        if isinstance(kind_of, str):
            kind.append(np.full(len(rows), KIND[kind_of], dtype=np.int8))
        else:
            kind.append(np.array([KIND[kind_of(r)] for r in rows], dtype=np.int8))
        amount.append(
            np.zeros(len(rows)) if amount_of is None else np.array([amount_of(r) for r in rows])
        )
        score.append(
            np.full(len(rows), np.nan)
            if score_of is None
            else np.array([score_of(r) for r in rows], dtype=float)
        )

    add(
        Invoice.objects.for_group(gid).values_list(
            "repair_order__customer_id", "issued_at", "customer_pay_total"
        ),
        lambda r: "visit_paid" if r[2] and r[2] > 0 else "visit_warranty",
        lambda r: float(r[2] or 0),
    )
    appts = Appointment.objects.for_group(gid)
    add(appts.values_list("customer_id", "created_at"), "booking")
    add(appts.filter(status="no_show").values_list("customer_id", "starts_at"), "no_show")
    add(
        Survey.objects.for_group(gid)
        .filter(nps__isnull=False, answered_at__isnull=False)
        .values_list("customer_id", "answered_at", "nps"),
        "survey",
        score_of=lambda r: float(r[2]),
    )
    complaints = Complaint.objects.for_group(gid)
    add(complaints.values_list("customer_id", "created_at"), "complaint")
    resolved = [
        (c, r or cl)
        for c, r, cl in complaints.filter(
            Q(resolved_at__isnull=False) | Q(closed_at__isnull=False)
        ).values_list("customer_id", "resolved_at", "closed_at")
    ]
    add(resolved, "complaint_resolved")
    add(
        RepairLine.objects.for_group(gid)
        .filter(approval="declined")
        .values_list("repair_order__customer_id", "decided_at", "labour_price"),
        "declined_work",
        lambda r: float(r[2] or 0),
    )
    add(
        LedgerEntry.objects.for_group(gid)
        .filter(kind__in=["earn", "redeem"])
        .values_list("member__customer_id", "created_at", "kind", "points"),
        lambda r: "points_earn" if r[2] == "earn" else "points_redeem",
        lambda r: abs(float(r[3] or 0)),
    )
    add(
        Message.objects.for_group(gid)
        .filter(author_kind="owner")
        .values_list("conversation__customer_id", "created_at"),
        "message",
    )
    reminders = Reminder.objects.for_group(gid)
    add(
        reminders.filter(sent_at__isnull=False).values_list("customer_id", "sent_at"),
        "reminder_sent",
    )
    add(
        reminders.filter(status="done", closed_at__isnull=False).values_list(
            "customer_id", "closed_at"
        ),
        "reminder_clicked",
    )
    add(Binding.objects.for_group(gid).values_list("customer_id", "created_at"), "car_bound")
    add(
        VehicleOwnership.objects.for_group(gid)
        .filter(ended_at__isnull=False)
        .values_list("customer_id", "ended_at"),
        "car_sold",
    )

    def cat(parts, dtype, fill=None):
        return np.concatenate(parts).astype(dtype) if parts else np.array([], dtype=dtype)

    data = Data(
        ids.astype(object),
        purchase,
        warranty,
        tier,
        cat(cust, np.int64),
        cat(ts, np.int64),
        cat(kind, np.int8),
        cat(amount, float),
        cat(score, float),
        tiers=tiers,
    )
    data.stores = np.array([s or 0 for _c, s in customers], dtype=np.int64)  # type: ignore[attr-defined]
    return data
