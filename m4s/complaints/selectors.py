"""Reads of the complaints area, scoped to the owner or the acting staff member: owner lists and
timelines, the staff queues (time left in business minutes), the case page, and the figures."""

import datetime as dt
import math
import zoneinfo
from collections import defaultdict

from django.db.models import Avg, Case, Count, F, Q, When
from django.db.models.functions import Coalesce, Least, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from m4s.core.dates import add_months
from m4s.core.errors import NotFound
from m4s.core.i18n import translated
from m4s.org.business_time import BusinessCalendar
from m4s.org.models import Store
from m4s.service.models import Appointment, RepairOrder
from m4s.staff.choices import Perm
from m4s.staff.permissions import check_perm

from . import clocks
from .choices import OPEN_STATUSES, RUNNING_STATUSES, Level, Queue, Status
from .models import (
    Complaint,
    ComplaintCategory,
    ComplaintEvent,
    CorrectiveAction,
    RootCause,
)

BREACH_SOON = dt.timedelta(
    hours=4
)  # "about to breach": the next due moment within this (wall clock)
QUEUE_LIMIT = 300


# --- owner --------------------------------------------------------------------------------------
def complaints_for_owner(owner):
    return Complaint.objects.for_owner(owner)


def list_for_owner(owner):
    return (
        complaints_for_owner(owner)
        .select_related("store", "category", "vehicle")
        .order_by("-created_at", "-id")
    )


def get_for_owner(owner, pk: int) -> Complaint:
    found = (
        complaints_for_owner(owner)
        .select_related("store", "category", "vehicle", "repair_order", "appointment", "customer")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise NotFound(_("No such complaint."))
    return found


def owner_events(complaint: Complaint) -> list[ComplaintEvent]:
    return list(
        complaint.events.filter(owner_visible=True)
        .select_related("author_staff")
        .prefetch_related("photos")
        .order_by("at", "id")
    )


def owner_stage(complaint: Complaint) -> str:
    """Where it stands, in words for the owner."""
    s = complaint.status
    if s in (Status.NEW,):
        return _("Received")
    if s == Status.WAITING_CUSTOMER:
        return _("Waiting for you")
    if s == Status.RESOLVED:
        return _("Resolved: please confirm")
    if s == Status.CLOSED:
        return _("Closed")
    return _("Being handled by the %(role)s") % {"role": Level(complaint.level).label}


def customer_choices(owner) -> dict:
    """What an owner can point a complaint at: their stores, cars, recent visits."""
    from m4s.customers.models import Customer
    from m4s.customers.selectors import vehicles_of_owner

    groups = Customer.objects.for_owner(owner).values("dealer_group_id")
    stores = list(Store.objects.unscoped().filter(dealer_group_id__in=groups, is_active=True))
    if owner.home_store_id and all(s.pk != owner.home_store_id for s in stores):
        stores.insert(0, owner.home_store)
    return {
        "stores": stores,
        "vehicles": list(vehicles_of_owner(owner)),
        "repair_orders": list(
            RepairOrder.objects.unscoped()
            .filter(customer__owner=owner)
            .select_related("store", "vehicle")
            .order_by("-checked_in_at")[:20]
        ),
        "appointments": list(
            Appointment.objects.unscoped()
            .filter(customer__owner=owner)
            .select_related("store", "vehicle")
            .order_by("-starts_at")[:20]
        ),
    }


# --- staff --------------------------------------------------------------------------------------
def staff_store_ids(actor) -> set[int] | None:
    """None: every store of the actor's group."""
    if actor.has_perm_m4s(Perm.VIEW_ALL_STORES):
        return None
    return set(actor.store_ids())


def complaints_for_staff(actor):
    """Complaints the staff member may open: their group's, their stores' unless they see every
    store (group admins = group customer care)."""
    if (
        actor is None
        or not getattr(actor, "is_authenticated", False)
        or not (
            actor.has_perm_m4s(Perm.HANDLE_COMPLAINTS)
            or actor.has_perm_m4s(Perm.VIEW_COMPLAINT_FIGURES)
        )
    ):
        return Complaint.objects.for_group(None)
    qs = Complaint.objects.for_actor(actor)
    ids = staff_store_ids(actor)
    return qs if ids is None else qs.filter(store_id__in=ids)


def get_for_staff(actor, pk: int) -> Complaint:
    found = (
        complaints_for_staff(actor)
        .select_related(
            "store",
            "customer__owner",
            "customer__cs_agent",
            "owner",
            "vehicle",
            "appointment",
            "repair_order",
            "concerned_staff",
            "survey",
            "category__parent",
            "assignee",
            "recorded_by",
            "root_cause",
        )
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise NotFound(_("No such complaint."))
    found.minutes_left = minutes_left(found)
    found.due_at = next_due(found)
    return found


def staff_events(complaint: Complaint) -> list[ComplaintEvent]:
    return list(
        complaint.events.select_related("author_staff", "author_owner")
        .prefetch_related("photos")
        .order_by("at", "id")
    )


def complaints_of_customer(actor, customer_id: int):
    return (
        complaints_for_staff(actor)
        .filter(customer_id=customer_id)
        .select_related("category", "store")
        .order_by("-created_at")
    )


def _next_due_expr():
    first = Case(
        When(first_responded_at__isnull=True, then=F("first_response_due_at")),
        default=F("resolution_due_at"),
    )
    return Least(first, F("resolution_due_at"), Coalesce(F("level_due_at"), F("resolution_due_at")))


def next_due(c: Complaint) -> dt.datetime | None:
    """The next moment a clock of an open, running complaint runs out."""
    if c.status not in RUNNING_STATUSES or c.paused_at is not None:
        return None
    dues = [c.resolution_due_at, c.level_due_at or c.resolution_due_at]
    if c.first_responded_at is None:
        dues.append(c.first_response_due_at)
    return min(d for d in dues if d is not None)


def minutes_left(c: Complaint, now: dt.datetime | None = None, calendar=None) -> int | None:
    """Business minutes to the next due moment (negative: overdue); None when no clock runs."""
    due = next_due(c)
    if due is None:
        return None
    return clocks.minutes_between(c.store, now or timezone.now(), due, calendar)


def queue(
    actor,
    which: str = Queue.MINE,
    *,
    status: str = "",
    severity: str = "",
    category_id: int | None = None,
    store_id: int | None = None,
    level: int | None = None,
    search: str = "",
    now: dt.datetime | None = None,
    limit: int = QUEUE_LIMIT,
) -> list[Complaint]:
    """A desk queue: `mine` (assigned to me), `store` (my stores), `breaching` (overdue or due
    within hours, most urgent first). Each row carries `minutes_left` and `due_at`."""
    now = now or timezone.now()
    qs = complaints_for_staff(actor).annotate(next_due=_next_due_expr())
    qs = qs.filter(status=status) if status else qs.filter(status__in=OPEN_STATUSES)
    if which == Queue.MINE:
        qs = qs.filter(assignee=actor)
    elif which == Queue.BREACHING:
        qs = qs.filter(
            status__in=RUNNING_STATUSES, paused_at__isnull=True, next_due__lte=now + BREACH_SOON
        )
    if severity:
        qs = qs.filter(severity=severity)
    if category_id:
        qs = qs.filter(Q(category_id=category_id) | Q(category__parent_id=category_id))
    if store_id:
        qs = qs.filter(store_id=store_id)
    if level:
        qs = qs.filter(level=level)
    if search:
        search = search.strip()[:60]
        qs = qs.filter(
            Q(reference__icontains=search)
            | Q(customer__name__icontains=search)
            | Q(customer__phone__icontains=search)
        )
    order = ["next_due", "id"] if which == Queue.BREACHING else ["-created_at", "-id"]
    rows = list(
        qs.select_related("store", "customer", "category", "assignee", "vehicle").order_by(*order)[
            :limit
        ]
    )
    annotate_time_left(rows, now)
    if which == Queue.BREACHING:
        rows.sort(key=lambda c: (c.minutes_left is None, c.minutes_left or 0, c.pk))
    return rows


def annotate_time_left(rows: list[Complaint], now: dt.datetime | None = None) -> None:
    """Set `minutes_left` and `due_at` on each row, with one calendar read for all stores."""
    now = now or timezone.now()
    stores = {c.store_id: c.store for c in rows}
    dues = [d for d in (next_due(c) for c in rows) if d is not None]
    calendars = {}
    if stores and dues:
        first = min(now, *dues).date() - dt.timedelta(days=1)
        last = max(now, *dues).date() + dt.timedelta(days=1)
        calendars = BusinessCalendar.for_stores(stores.values(), first, last)
    for c in rows:
        c.due_at = next_due(c)
        c.minutes_left = (
            None if c.due_at is None else minutes_left(c, now, calendars.get(c.store_id))
        )


def assignable_staff(actor, complaint: Complaint) -> list:
    """Who the case may be handed to: active staff of the group who handle complaints and work
    at its store (or see every store)."""
    from m4s.staff.models import StaffUser

    from .routing import can_handle

    people = StaffUser.objects.filter(
        dealer_group_id=complaint.dealer_group_id, is_active=True
    ).order_by("username")
    return [p for p in people if can_handle(p, complaint.store)]


def responsible_choices(actor, complaint: Complaint) -> list:
    """Who may own a corrective action: active staff of the complaint's store, and the group's
    staff who see every store."""
    from m4s.staff.models import StaffUser

    people = (
        StaffUser.objects.filter(dealer_group_id=complaint.dealer_group_id, is_active=True)
        .filter(Q(stores=complaint.store_id) | Q(role__in=["group_admin"]))
        .distinct()
        .order_by("username")
    )
    return list(people)


def list_categories(group_id: int) -> list[ComplaintCategory]:
    """Active categories in tree order (each parent, then its children), with `.depth`."""
    rows = list(
        ComplaintCategory.objects.for_group(group_id)
        .filter(is_active=True)
        .order_by("position", "code")
    )
    children = defaultdict(list)
    for c in rows:
        children[c.parent_id].append(c)
    out: list[ComplaintCategory] = []

    def walk(parent_id, depth):
        for c in children.get(parent_id, []):
            c.depth = depth
            out.append(c)
            walk(c.pk, depth + 1)

    walk(None, 0)
    known = {c.pk for c in rows}
    for c in rows:  # children of an inactive parent
        if c.parent_id and c.parent_id not in known and c not in out:
            c.depth = 0
            out.append(c)
    return out


def list_root_causes(group_id: int) -> list[RootCause]:
    return list(
        RootCause.objects.for_group(group_id).filter(is_active=True).order_by("position", "code")
    )


def open_corrective_actions(actor, store_id: int | None = None):
    qs = (
        CorrectiveAction.objects.for_actor(actor)
        .filter(checked_at__isnull=True, complaint__in=complaints_for_staff(actor).values("pk"))
        .select_related("root_cause", "responsible", "complaint", "store")
        .order_by("due_date", "id")
    )
    return qs.filter(store_id=store_id) if store_id else qs


# --- figures ------------------------------------------------------------------------------------
def _month_bounds(month: dt.date, tz) -> tuple[dt.datetime, dt.datetime]:
    first = month.replace(day=1)
    nxt = add_months(first, 1)
    return (
        dt.datetime.combine(first, dt.time.min, tzinfo=tz),
        dt.datetime.combine(nxt, dt.time.min, tzinfo=tz),
    )


def _ratio(part, whole) -> float | None:
    return None if not whole else round(part / whole, 4)


def _percentile(qs, field: str, n: int, p: float) -> float | None:
    """The p-th percentile (nearest rank) of a column: one indexed query, no rows loaded."""
    if not n:
        return None
    rank = max(1, math.ceil(p * n))
    value = qs.order_by(field).values_list(field, flat=True)[rank - 1 : rank]
    found = list(value)
    return float(found[0]) if found else None


def figures(actor, month: dt.date, store_id: int | None = None, months: int = 6) -> dict:
    """Store or group figures for one month (set-based queries, no row loops)."""
    check_perm(actor, Perm.VIEW_COMPLAINT_FIGURES)
    tz = zoneinfo.ZoneInfo(str(timezone.get_default_timezone()))
    start, end = _month_bounds(month, tz)
    base = complaints_for_staff(actor)
    stores = staff_store_ids(actor)
    if store_id:
        if stores is not None and store_id not in stores:
            raise NotFound(_("No such store."))
        base = base.filter(store_id=store_id)
    received = base.filter(created_at__gte=start, created_at__lt=end)
    now = timezone.now()
    totals = received.aggregate(
        total=Count("id"),
        fr_met=Count("id", filter=Q(first_responded_at__lte=F("first_response_due_at"))),
        fr_missed=Count(
            "id",
            filter=Q(first_responded_at__gt=F("first_response_due_at"))
            | Q(first_responded_at__isnull=True, first_response_due_at__lt=now),
        ),
        reopened=Count("id", filter=Q(reopen_count__gt=0)),
        resolved=Count("id", filter=Q(resolved_at__isnull=False)),
    )
    resolved = base.filter(resolved_at__gte=start, resolved_at__lt=end)
    res = resolved.aggregate(
        n=Count("id"),
        met=Count("id", filter=Q(resolved_at__lte=F("resolution_due_at"))),
        handled=Count("handling_minutes"),
    )
    mean = resolved.aggregate(v=Avg("handling_minutes"))["v"]
    overdue_open = base.filter(
        status__in=OPEN_STATUSES, resolution_due_at__gte=start, resolution_due_at__lt=min(end, now)
    ).count()
    by_category = list(
        received.annotate(top=Coalesce("category__parent_id", "category_id"))
        .values("top")
        .annotate(n=Count("id"))
        .order_by("-n")
    )
    names = {
        c.pk: translated(c)
        for c in ComplaintCategory.objects.for_actor(actor).filter(
            pk__in=[r["top"] for r in by_category]
        )
    }
    by_store = list(
        received.values("store_id", "store__name").annotate(n=Count("id")).order_by("-n")
    )
    first_month = add_months(month.replace(day=1), -(months - 1))
    series_start, _end = _month_bounds(first_month, tz)
    by_month = {
        row["m"].astimezone(tz).date().replace(day=1)
        if isinstance(row["m"], dt.datetime)
        else row["m"]: row["n"]
        for row in base.filter(created_at__gte=series_start, created_at__lt=end)
        .annotate(m=TruncMonth("created_at", tzinfo=tz))
        .values("m")
        .annotate(n=Count("id"))
    }
    series = [
        (add_months(first_month, i), by_month.get(add_months(first_month, i), 0))
        for i in range(months)
    ]
    causes = list(
        resolved.filter(root_cause__isnull=False)
        .values("root_cause_id")
        .annotate(n=Count("id"))
        .order_by("-n")[:5]
    )
    cause_rows = {
        r.pk: r
        for r in RootCause.objects.for_actor(actor).filter(
            pk__in=[c["root_cause_id"] for c in causes]
        )
    }
    actions = defaultdict(list)
    for ca in open_corrective_actions(actor, store_id).filter(root_cause_id__in=list(cause_rows)):
        actions[ca.root_cause_id].append(ca)
    ro_qs = RepairOrder.objects.for_actor(actor).filter(
        checked_in_at__gte=start, checked_in_at__lt=end
    )
    if store_id:
        ro_qs = ro_qs.filter(store_id=store_id)
    elif stores is not None:
        ro_qs = ro_qs.filter(store_id__in=stores)
    repair_orders = ro_qs.count()
    return {
        "month": month.replace(day=1),
        "total": totals["total"],
        "by_category": [(names.get(r["top"], "?"), r["n"]) for r in by_category],
        "by_store": [(r["store__name"], r["n"]) for r in by_store],
        "by_month": series,
        "first_response_attainment": _ratio(
            totals["fr_met"], totals["fr_met"] + totals["fr_missed"]
        ),
        "resolution_attainment": _ratio(res["met"], res["n"] + overdue_open),
        "resolved": res["n"],
        "mean_handling_minutes": round(float(mean), 1) if mean is not None else None,
        "p90_handling_minutes": _percentile(
            resolved.filter(handling_minutes__isnull=False), "handling_minutes", res["handled"], 0.9
        ),
        "reopen_rate": _ratio(totals["reopened"], totals["resolved"]),
        "top_root_causes": [
            {
                "root_cause": cause_rows[c["root_cause_id"]],
                "count": c["n"],
                "open_actions": actions.get(c["root_cause_id"], []),
            }
            for c in causes
            if c["root_cause_id"] in cause_rows
        ],
        "repair_orders": repair_orders,
        "per_100_repair_orders": round(totals["total"] * 100 / repair_orders, 2)
        if repair_orders
        else None,
    }
