"""Nightly facts: the per-store, per-day aggregates (StoreDay), the per-month distinct counts
(StoreMonth, StaffMonth) and the per-customer features (CustomerInsight) the insight pages read,
so no dashboard scans raw history on a request.

Set-based: `build_days` runs a fixed handful of GROUP BY queries for the whole day range (one per
source table, never one per store, day or row), then replaces the range's rows in one transaction
(delete + insert): re-running a range gives the same rows (idempotent).

Definitions
- day: the local date in the project's time zone (settings.TIME_ZONE) of the event's timestamp.
- paid visit: an invoice with customer_pay_total > 0 (its day: issued_at); an invoice of 0 is a
  warranty (or internal) visit. Revenue is the customer-paid total (tax included).
- first-time fix: a repair order delivered that day whose car has no other repair order checked
  in within the 30 days after the delivery (a comeback of any kind counts). A day less than 30
  days old can still change: the nightly job rebuilds the last 31 days.
- CSI of a survey: the weighted factors (service/choices.py CSI_WEIGHTS) on 0..100; NPS: 9-10
  promoters, 7-8 passives, 0-6 detractors.
- complaint SLA: first response (resolution) met when it happened by its due time, counted on the
  day it happened; handling minutes as the complaints engine recorded them (business minutes).
- conversation first response: staff messages carrying response_minutes (business minutes).
- request SLA: a request accepted by its due time, counted on the day it was accepted.
- reminder conversion: reminders sent that day that are now done (booked and serviced here).
- active owner: a customer with app activity (an app booking, a message, a survey answer, an
  online request, an app binding) that day/month; monthly counts are DISTINCT per month.
- month-level figures (StoreMonth) are attributed to the customer's home store (Customer.store),
  so the group figure is the sum over its stores and each customer counts once.
- retention (month M, E = the end of M): customers with a paid visit in the 12 months before the
  last 12 (E-24m .. E-12m) = the base; retained = those of them with a paid visit in E-12m .. E.
- return after warranty: cars whose warranty ended 12-24 months before E (each has had at least
  a year); returned = a paid visit for the car after the warranty ended (by E).
- maintenance fulfilment: maintenance reminders due in the month; booked = the car has an
  appointment (not cancelled) from 30 days before the month to 60 days after; done = the reminder
  closed as done here; done elsewhere = the owner told us (care's "done elsewhere"); work done
  elsewhere without telling us cannot be known.
- points liability: the sum of the ledger (credits − debits) at the month's end, in points.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from m4s.core.dates import add_months
from m4s.service.choices import CSI_WEIGHTS

log = logging.getLogger(__name__)

COMEBACK_DAYS = 30
BATCH = 5000


# --- helpers ---------------------------------------------------------------------------------
def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start 00:00, end+1 00:00) in the current (project) time zone."""
    tz = timezone.get_current_timezone()
    return (
        dt.datetime.combine(start, dt.time(0), tzinfo=tz),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tzinfo=tz),
    )


def _at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=timezone.get_current_timezone())


def _by_day(qs, ts: str, store: str, **aggs):
    """Rows (store_id, day, {agg: value}) of one GROUP BY (store, local day of `ts`)."""
    tz = timezone.get_current_timezone()
    rows = (
        qs.annotate(_d=TruncDate(ts, tzinfo=tz), _s=F(store))
        .values("_s", "_d")
        .annotate(**aggs)
        .order_by()
    )
    for row in rows:
        if row["_s"] is None or row["_d"] is None:
            continue
        yield row.pop("_s"), row.pop("_d"), row


def months_between(start: dt.date, end: dt.date) -> list[dt.date]:
    out, m = [], start.replace(day=1)
    while m <= end:
        out.append(m)
        m = add_months(m, 1)
    return out


FACTOR_FIELDS = {
    "initiation": "initiation",
    "advisor": "advisor_score",
    "facility": "facility",
    "pickup": "pickup",
    "quality": "quality",
}
CSI_SCALE = Decimal(sum(CSI_WEIGHTS.values())) / 10  # Σ weights × 10 / 100


def csi_expression():
    """The CSI of one answered survey × CSI_SCALE: Σ factor(0..10) × weight (service/choices.py
    CSI_WEIGHTS); divided by CSI_SCALE it is 0..100 (the weights are normalised by their sum)."""
    return sum((Coalesce(F(FACTOR_FIELDS[f]), 0) * w for f, w in CSI_WEIGHTS.items()), Value(0))


def paid_invoices(group_id: int):
    from m4s.service.models import Invoice

    return Invoice.objects.for_group(group_id).filter(customer_pay_total__gt=0)


def _activity(group_id: int, lo: dt.datetime, hi: dt.datetime):
    """(customer_id, home store_id, at) of every app activity in [lo, hi): app bookings, owner
    messages, survey answers, online requests, app bindings."""
    from m4s.conversations.choices import AuthorKind
    from m4s.conversations.models import Message
    from m4s.customers.models import Binding
    from m4s.requests.models import ServiceRequest
    from m4s.service.choices import Channel, SurveyStatus
    from m4s.service.models import Appointment, Survey

    sources = [
        (
            Appointment.objects.for_group(group_id).filter(
                channel=Channel.APP, created_at__gte=lo, created_at__lt=hi
            ),
            "customer_id",
            "customer__store_id",
            "created_at",
        ),
        (
            Message.objects.for_group(group_id).filter(
                author_kind=AuthorKind.OWNER, created_at__gte=lo, created_at__lt=hi
            ),
            "conversation__customer_id",
            "conversation__customer__store_id",
            "created_at",
        ),
        (
            Survey.objects.for_group(group_id).filter(
                status=SurveyStatus.ANSWERED, answered_at__gte=lo, answered_at__lt=hi
            ),
            "customer_id",
            "customer__store_id",
            "answered_at",
        ),
        (
            ServiceRequest.objects.for_group(group_id).filter(
                created_at__gte=lo, created_at__lt=hi
            ),
            "customer_id",
            "customer__store_id",
            "created_at",
        ),
        (
            Binding.objects.for_group(group_id).filter(
                owner__isnull=False, created_at__gte=lo, created_at__lt=hi
            ),
            "customer_id",
            "customer__store_id",
            "created_at",
        ),
    ]
    tz = timezone.get_current_timezone()
    for qs, cust, store, ts in sources:
        for c, s, d in (
            qs.annotate(_d=TruncDate(ts, tzinfo=tz))
            .values_list(cust, store, "_d")
            .distinct()
            .order_by()
        ):
            if c is not None:
                yield c, s, d


# --- per store and day -------------------------------------------------------------------------
def _day_rows(group_id: int, start: dt.date, end: dt.date) -> dict:
    from m4s.care.choices import Kind, Status
    from m4s.care.models import Reminder
    from m4s.complaints.models import Complaint
    from m4s.conversations.choices import AuthorKind
    from m4s.conversations.models import Message
    from m4s.customers.models import Binding
    from m4s.loyalty.choices import EntryKind
    from m4s.loyalty.models import LedgerEntry
    from m4s.requests.models import ServiceRequest
    from m4s.sales.models import Lead
    from m4s.service.choices import AppointmentStatus, SurveyStatus
    from m4s.service.models import Appointment, Invoice, RepairOrder, Survey

    del Kind
    lo, hi = _bounds(start, end)
    rows: dict = defaultdict(lambda: defaultdict(int))

    def add(it, mapping):
        for s, d, vals in it:
            row = rows[(s, d)]
            for key, src in mapping.items():
                row[key] += vals[src] or 0

    g = group_id
    add(
        _by_day(
            Invoice.objects.for_group(g).filter(issued_at__gte=lo, issued_at__lt=hi),
            "issued_at",
            "repair_order__store_id",
            paid=Count("id", filter=Q(customer_pay_total__gt=0)),
            warranty=Count("id", filter=Q(customer_pay_total__lte=0)),
            revenue=Sum("customer_pay_total", filter=Q(customer_pay_total__gt=0)),
        ),
        {"paid_visits": "paid", "warranty_visits": "warranty", "revenue": "revenue"},
    )
    add(
        _by_day(
            Appointment.objects.for_group(g)
            .filter(date__gte=start, date__lte=end)
            .exclude(status=AppointmentStatus.CANCELLED)
            .annotate(_at=F("starts_at")),
            "starts_at",
            "store_id",
            due=Count("id"),
            shows=Count("id", filter=Q(status=AppointmentStatus.CHECKED_IN)),
            no_shows=Count("id", filter=Q(status=AppointmentStatus.NO_SHOW)),
        ),
        {"appointments_due": "due", "shows": "shows", "no_shows": "no_shows"},
    )
    comeback = (
        RepairOrder.objects.for_group(g)
        .filter(
            vehicle_id=OuterRef("vehicle_id"),
            checked_in_at__gt=OuterRef("delivered_at"),
            checked_in_at__lte=ExpressionWrapper(
                OuterRef("delivered_at") + dt.timedelta(days=COMEBACK_DAYS),
                output_field=DateTimeField(),
            ),
        )
        .exclude(pk=OuterRef("pk"))
    )
    add(
        _by_day(
            RepairOrder.objects.for_group(g)
            .filter(delivered_at__gte=lo, delivered_at__lt=hi)
            .annotate(_cb=Exists(comeback)),
            "delivered_at",
            "store_id",
            delivered=Count("id"),
            ftf=Count("id", filter=Q(_cb=False)),
        ),
        {"delivered": "delivered", "fixed_first_time": "ftf"},
    )
    add(
        _by_day(
            Survey.objects.for_group(g).filter(
                status=SurveyStatus.ANSWERED, answered_at__gte=lo, answered_at__lt=hi
            ),
            "answered_at",
            "store_id",
            n=Count("id"),
            csi=Sum(csi_expression()),
            pro=Count("id", filter=Q(nps__gte=9)),
            pas=Count("id", filter=Q(nps__gte=7, nps__lte=8)),
            det=Count("id", filter=Q(nps__lte=6)),
        ),
        {
            "surveys": "n",
            "csi_sum": "csi",
            "promoters": "pro",
            "passives": "pas",
            "detractors": "det",
        },
    )
    cq = Complaint.objects.for_group(g)
    add(
        _by_day(
            cq.filter(created_at__gte=lo, created_at__lt=hi),
            "created_at",
            "store_id",
            n=Count("id"),
        ),
        {"complaints_opened": "n"},
    )
    add(
        _by_day(
            cq.filter(first_responded_at__gte=lo, first_responded_at__lt=hi),
            "first_responded_at",
            "store_id",
            n=Count("id"),
            met=Count("id", filter=Q(first_responded_at__lte=F("first_response_due_at"))),
        ),
        {"complaint_fr_total": "n", "complaint_fr_met": "met"},
    )
    add(
        _by_day(
            cq.filter(resolved_at__gte=lo, resolved_at__lt=hi),
            "resolved_at",
            "store_id",
            n=Count("id"),
            met=Count("id", filter=Q(resolved_at__lte=F("resolution_due_at"))),
            handled=Count("handling_minutes"),
            minutes=Sum("handling_minutes"),
        ),
        {
            "complaint_res_total": "n",
            "complaint_res_met": "met",
            "complaint_handled": "handled",
            "complaint_handling_minutes": "minutes",
        },
    )
    add(
        _by_day(
            Message.objects.for_group(g).filter(
                author_kind=AuthorKind.STAFF,
                response_minutes__isnull=False,
                created_at__gte=lo,
                created_at__lt=hi,
            ),
            "created_at",
            "conversation__store_id",
            n=Count("id"),
            minutes=Sum("response_minutes"),
        ),
        {"first_responses": "n", "first_response_minutes": "minutes"},
    )
    add(
        _by_day(
            ServiceRequest.objects.for_group(g).filter(
                accepted_at__gte=lo, accepted_at__lt=hi, due_at__isnull=False
            ),
            "accepted_at",
            "store_id",
            n=Count("id"),
            met=Count("id", filter=Q(accepted_at__lte=F("due_at"))),
        ),
        {"requests_sla_total": "n", "requests_sla_met": "met"},
    )
    add(
        _by_day(
            Binding.objects.for_group(g).filter(created_at__gte=lo, created_at__lt=hi),
            "created_at",
            "store_id",
            n=Count("id"),
        ),
        {"new_bindings": "n"},
    )
    add(
        _by_day(
            Reminder.objects.for_group(g).filter(sent_at__gte=lo, sent_at__lt=hi),
            "sent_at",
            "customer__store_id",
            n=Count("id"),
            done=Count("id", filter=Q(status=Status.DONE)),
        ),
        {"reminders_sent": "n", "reminders_converted": "done"},
    )
    lq = Lead.objects.for_group(g)
    add(
        _by_day(
            lq.filter(created_at__gte=lo, created_at__lt=hi),
            "created_at",
            "store_id",
            n=Count("id"),
        ),
        {"leads_new": "n"},
    )
    add(
        _by_day(lq.filter(won_at__gte=lo, won_at__lt=hi), "won_at", "store_id", n=Count("id")),
        {"leads_won": "n"},
    )
    add(
        _by_day(lq.filter(lost_at__gte=lo, lost_at__lt=hi), "lost_at", "store_id", n=Count("id")),
        {"leads_lost": "n"},
    )
    add(
        _by_day(
            LedgerEntry.objects.for_group(g).filter(created_at__gte=lo, created_at__lt=hi),
            "created_at",
            "member__customer__store_id",
            issued=Sum("points", filter=Q(kind=EntryKind.EARN)),
            redeemed=Sum("points", filter=Q(kind=EntryKind.REDEEM)),
        ),
        {"points_issued": "issued", "points_redeemed": "redeemed"},
    )
    active: dict = defaultdict(set)
    for c, s, d in _activity(g, lo, hi):
        if s is not None:
            active[(s, d)].add(c)
    for key, customers in active.items():
        rows[key]["active_owners"] = len(customers)
    for row in rows.values():
        if row.get("points_redeemed"):
            row["points_redeemed"] = abs(row["points_redeemed"])
        if "csi_sum" in row:
            row["csi_sum"] = (Decimal(row["csi_sum"]) / CSI_SCALE).quantize(Decimal("0.01"))
    return rows


# --- per store and month ---------------------------------------------------------------------
def _month_rows(group_id: int, month: dt.date) -> dict:
    from m4s.care.choices import Kind, Status
    from m4s.care.models import Reminder
    from m4s.customers.models import Binding, Customer
    from m4s.loyalty.models import LedgerEntry
    from m4s.service.choices import AppointmentStatus
    from m4s.service.models import Appointment
    from m4s.vehicles.models import Vehicle

    g = group_id
    end_day = add_months(month, 1)
    e = _at(end_day)
    rows: dict = defaultdict(lambda: defaultdict(int))

    paid = paid_invoices(g)
    before = paid.filter(
        repair_order__customer_id=OuterRef("pk"),
        issued_at__gte=_at(add_months(end_day, -24)),
        issued_at__lt=_at(add_months(end_day, -12)),
    )
    last = paid.filter(
        repair_order__customer_id=OuterRef("pk"),
        issued_at__gte=_at(add_months(end_day, -12)),
        issued_at__lt=e,
    )
    bound = (
        Binding.objects.for_group(g)
        .filter(customer_id=OuterRef("pk"), created_at__lt=e)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=e))
    )
    customers = (
        Customer.objects.for_group(g)
        .filter(store__isnull=False, created_at__lt=e)
        .annotate(_b=Exists(before), _l=Exists(last), _bd=Exists(bound))
    )
    for r in (
        customers.values("store_id")
        .annotate(
            n=Count("id"),
            bound=Count("id", filter=Q(_bd=True)),
            base=Count("id", filter=Q(_b=True)),
            kept=Count("id", filter=Q(_b=True, _l=True)),
        )
        .order_by()
    ):
        row = rows[r["store_id"]]
        row.update(
            customers=r["n"],
            bound_customers=r["bound"],
            retention_base=r["base"],
            retained=r["kept"],
        )
    staff = [
        (r["store_id"], r["service_advisor_id"], r["n"], r["bound"])
        for r in customers.filter(service_advisor__isnull=False)
        .values("store_id", "service_advisor_id")
        .annotate(n=Count("id"), bound=Count("id", filter=Q(_bd=True)))
        .order_by()
    ]

    returned = paid.filter(
        repair_order__vehicle_id=OuterRef("pk"),
        issued_at__date__gt=OuterRef("warranty_end"),
        issued_at__lt=e,
    )
    for r in (
        Vehicle.objects.for_group(g)
        .filter(
            current_owner__store__isnull=False,
            warranty_end__gte=add_months(end_day, -24),
            warranty_end__lt=add_months(end_day, -12),
        )
        .annotate(_r=Exists(returned))
        .values("current_owner__store_id")
        .annotate(n=Count("id"), ret=Count("id", filter=Q(_r=True)))
        .order_by()
    ):
        rows[r["current_owner__store_id"]].update(warranty_base=r["n"], warranty_returned=r["ret"])

    booked = (
        Appointment.objects.for_group(g)
        .filter(
            vehicle_id=OuterRef("vehicle_id"),
            date__gte=month - dt.timedelta(days=30),
            date__lt=end_day + dt.timedelta(days=60),
        )
        .exclude(status=AppointmentStatus.CANCELLED)
    )
    for r in (
        Reminder.objects.for_group(g)
        .filter(
            kind=Kind.MAINTENANCE,
            due_on__gte=month,
            due_on__lt=end_day,
            customer__store__isnull=False,
        )
        .annotate(_bk=Exists(booked))
        .values("customer__store_id")
        .annotate(
            n=Count("id"),
            bk=Count("id", filter=Q(_bk=True)),
            done=Count("id", filter=Q(status=Status.DONE)),
            el=Count("id", filter=Q(status=Status.DONE_ELSEWHERE)),
        )
        .order_by()
    ):
        rows[r["customer__store_id"]].update(
            maint_due=r["n"],
            maint_booked=r["bk"],
            maint_done=r["done"],
            maint_done_elsewhere=r["el"],
        )

    for r in (
        LedgerEntry.objects.for_group(g)
        .filter(created_at__lt=e, member__customer__store__isnull=False)
        .values("member__customer__store_id")
        .annotate(p=Sum("points"))
        .order_by()
    ):
        rows[r["member__customer__store_id"]]["points_liability"] = max(r["p"] or 0, 0)

    active: dict = defaultdict(set)
    for c, s, _d in _activity(g, _at(month), e):
        if s is not None:
            active[s].add(c)
    for s, cs in active.items():
        rows[s]["active_owners"] = len(cs)
    return {"stores": rows, "staff": staff}


# --- the entry points ------------------------------------------------------------------------
def _group_id(group) -> int:
    return group if isinstance(group, int) else group.pk


def build_days(group, start: dt.date, end: dt.date) -> int:
    """Rebuild StoreDay for [start, end] and StoreMonth/StaffMonth for the months they touch;
    returns the number of StoreDay rows written. Idempotent (delete + insert, one transaction)."""
    from m4s.insights.models import StaffMonth, StoreDay, StoreMonth
    from m4s.org.models import Store

    g = _group_id(group)
    if end < start:
        return 0
    stores = set(Store.objects.for_group(g).values_list("pk", flat=True))
    days = _day_rows(g, start, end)
    day_objs = [
        StoreDay(dealer_group_id=g, store_id=s, day=d, **vals)
        for (s, d), vals in days.items()
        if s in stores and start <= d <= end
    ]
    months = months_between(start, end)
    month_objs, staff_objs = [], []
    for m in months:
        built = _month_rows(g, m)
        month_objs += [
            StoreMonth(dealer_group_id=g, store_id=s, month=m, **vals)
            for s, vals in built["stores"].items()
            if s in stores
        ]
        staff_objs += [
            StaffMonth(
                dealer_group_id=g, store_id=s, staff_id=p, month=m, customers=n, bound_customers=b
            )
            for s, p, n, b in built["staff"]
            if s in stores
        ]
    with transaction.atomic():
        StoreDay.objects.for_group(g).filter(day__gte=start, day__lte=end).delete()
        StoreDay.objects.bulk_create(day_objs, batch_size=BATCH)
        StoreMonth.objects.for_group(g).filter(month__in=months).delete()
        StoreMonth.objects.bulk_create(month_objs, batch_size=BATCH)
        StaffMonth.objects.for_group(g).filter(month__in=months).delete()
        StaffMonth.objects.bulk_create(staff_objs, batch_size=BATCH)
    return len(day_objs)


FEATURES = [
    "store",
    "as_of",
    "first_paid_visit",
    "last_paid_visit",
    "last_visit",
    "visits_24m",
    "spend_24m",
    "declined_items_12m",
    "open_complaints",
    "complaints_12m",
    "no_shows_12m",
    "last_nps",
    "last_app_open",
    "car_age_months",
    "out_of_warranty",
    "tier",
    "bound",
]


def _months_between(a: dt.date, b: dt.date) -> int:
    return max((b.year - a.year) * 12 + b.month - a.month - (b.day < a.day), 0)


def build_customers(group, as_of: dt.date) -> int:
    """Upsert every customer's CustomerInsight features as of `as_of` (events before the end of
    that day). A fixed number of GROUP BY customer queries, written in batches; returns the
    number of customers."""
    from m4s.complaints.choices import Status as ComplaintStatus
    from m4s.complaints.models import Complaint
    from m4s.customers.models import Binding, Customer
    from m4s.insights.models import CustomerInsight
    from m4s.loyalty.models import Member
    from m4s.service.choices import AppointmentStatus, Approval, SurveyStatus
    from m4s.service.models import Appointment, Invoice, RepairLine, Survey
    from m4s.vehicles.models import Vehicle

    g = _group_id(group)
    tz = timezone.get_current_timezone()
    e = _at(as_of + dt.timedelta(days=1))
    y1, y2 = _at(add_months(as_of, -12)), _at(add_months(as_of, -24))

    def per_customer(qs, key, **aggs):
        return {r[key]: r for r in qs.values(key).annotate(**aggs).order_by()}

    inv = Invoice.objects.for_group(g).filter(issued_at__lt=e)
    visits = per_customer(
        inv,
        "repair_order__customer_id",
        first_paid=Min("issued_at", filter=Q(customer_pay_total__gt=0)),
        last_paid=Max("issued_at", filter=Q(customer_pay_total__gt=0)),
        last=Max("issued_at"),
        n24=Count("id", filter=Q(customer_pay_total__gt=0, issued_at__gte=y2)),
        s24=Sum("customer_pay_total", filter=Q(customer_pay_total__gt=0, issued_at__gte=y2)),
    )
    declined = per_customer(
        RepairLine.objects.for_group(g).filter(
            approval=Approval.DECLINED, decided_at__gte=y1, decided_at__lt=e
        ),
        "repair_order__customer_id",
        n=Count("id"),
    )
    closed = (ComplaintStatus.CLOSED, ComplaintStatus.RESOLVED)
    complaints = per_customer(
        Complaint.objects.for_group(g).filter(created_at__lt=e, customer__isnull=False),
        "customer_id",
        open=Count("id", filter=~Q(status__in=closed)),
        n12=Count("id", filter=Q(created_at__gte=y1)),
    )
    no_shows = per_customer(
        Appointment.objects.for_group(g).filter(
            status=AppointmentStatus.NO_SHOW, starts_at__gte=y1, starts_at__lt=e
        ),
        "customer_id",
        n=Count("id"),
    )
    # the last NPS answer of each customer (one pass over the answered surveys, oldest first)
    nps = dict(
        Survey.objects.for_group(g)
        .filter(status=SurveyStatus.ANSWERED, answered_at__lt=e, nps__isnull=False)
        .values_list("customer_id", "nps")
        .order_by("answered_at", "pk")
    )
    cars = per_customer(
        Vehicle.objects.for_group(g).filter(current_owner__isnull=False),
        "current_owner_id",
        purchased=Min("purchase_date"),
        warranty=Max("warranty_end"),
    )
    bound = set(
        Binding.objects.for_group(g)
        .filter(created_at__lt=e, owner__isnull=False)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=e))
        .values_list("customer_id", flat=True)
        .distinct()
    )
    tiers = dict(
        Member.objects.for_group(g)
        .filter(tier__isnull=False)
        .values_list("customer_id", "tier__name")
    )
    last_open: dict = {}
    for c, _s, d in _activity(g, _at(add_months(as_of, -24)), e):
        if d and (c not in last_open or d > last_open[c]):
            last_open[c] = d

    def day(ts):
        return ts.astimezone(tz).date() if ts else None

    now = timezone.now()
    n = 0
    batch: list = []

    def flush():
        CustomerInsight.objects.bulk_create(
            batch,
            update_conflicts=True,
            unique_fields=["customer"],
            update_fields=FEATURES,
            batch_size=BATCH,
        )
        batch.clear()

    del now
    for cid, store_id in (
        Customer.objects.for_group(g).values_list("pk", "store_id").order_by("pk").iterator(20000)
    ):
        v = visits.get(cid) or {}
        car = cars.get(cid) or {}
        purchased = car.get("purchased")
        warranty = car.get("warranty")
        batch.append(
            CustomerInsight(
                dealer_group_id=g,
                customer_id=cid,
                store_id=store_id,
                as_of=as_of,
                first_paid_visit=day(v.get("first_paid")),
                last_paid_visit=day(v.get("last_paid")),
                last_visit=day(v.get("last")),
                visits_24m=v.get("n24") or 0,
                spend_24m=v.get("s24") or Decimal(0),
                declined_items_12m=(declined.get(cid) or {}).get("n", 0),
                open_complaints=(complaints.get(cid) or {}).get("open", 0),
                complaints_12m=(complaints.get(cid) or {}).get("n12", 0),
                no_shows_12m=(no_shows.get(cid) or {}).get("n", 0),
                last_nps=nps.get(cid),
                last_app_open=last_open.get(cid),
                car_age_months=_months_between(purchased, as_of) if purchased else None,
                out_of_warranty=bool(warranty and warranty < as_of),
                tier=tiers.get(cid, "") or "",
                bound=cid in bound,
            )
        )
        n += 1
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    return n


def nightly(today: dt.date | None = None) -> int:
    """Every active group: the last 31 days (first-time fix looks 30 days ahead) and today so far,
    then the customers' features and their RFM segments. Returns the StoreDay rows written."""
    from m4s.insights import rfm
    from m4s.org.models import DealerGroup

    today = today or timezone.localdate()
    written = 0
    for group in DealerGroup.objects.filter(is_active=True).order_by("pk"):
        written += build_days(group, today - dt.timedelta(days=COMEBACK_DAYS + 1), today)
        build_customers(group, today)
        rfm.score(group, today)
        log.info("insights facts: group %s built", group.pk)
    return written
