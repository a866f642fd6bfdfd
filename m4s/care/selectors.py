"""Scoped reads of the care area: an owner's reminders and violations, the advisor's care list
for the week, the declined lines of a car (shown at booking and check-in), and the figures
(reminders sent per kind and the visits they brought, the contact policy's decisions,
unsubscribes)."""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from m4s.core.errors import NotFound
from m4s.core.i18n import render
from m4s.staff.choices import Perm
from m4s.staff.permissions import check_perm

from .choices import OPEN_STATUSES, Kind, Status, ViolationStatus
from .models import Reminder, ReminderRule, Violation, WeatherWarning
from .rules import compose

CONVERSION_DAYS = 30


# --- words --------------------------------------------------------------------------------------
def reminder_text(reminder: Reminder, rule: ReminderRule | None = None) -> tuple[str, str]:
    """(title, body) of a reminder in the active language: the group's own template where it
    wrote one, else the built-in words."""
    if rule is None:
        rule = (
            ReminderRule.objects.for_group(reminder.dealer_group_id)
            .filter(kind=reminder.kind)
            .first()
        )
    title, body = compose(rule, reminder.kind, reminder.payload or {})
    return render(title), render(body)


def with_texts(reminders: list[Reminder]) -> list[Reminder]:
    """The reminders, each with `.title` and `.body` in the active language (one query for the
    rules of all of them)."""
    groups = {r.dealer_group_id for r in reminders}
    rules = {
        (r.dealer_group_id, r.kind): r
        for r in ReminderRule.objects.unscoped().filter(dealer_group_id__in=groups)
    }
    for r in reminders:
        r.title, r.body = reminder_text(r, rules.get((r.dealer_group_id, r.kind)))  # type: ignore[attr-defined]
    return reminders


# --- owners -------------------------------------------------------------------------------------
def owner_reminders(owner, *, include_closed: bool = False, limit: int = 100) -> list[Reminder]:
    """The owner's reminders (in every group they are a customer of), soonest first: what is
    coming, sent or snoozed; closed ones too when asked."""
    qs = Reminder.objects.for_owner(owner).select_related("vehicle", "customer")
    if not include_closed:
        qs = qs.filter(status__in=OPEN_STATUSES)
    return with_texts(list(qs.order_by("due_on", "id")[:limit]))


def get_owner_reminder(owner, reminder_id: int) -> Reminder:
    found = (
        Reminder.objects.for_owner(owner)
        .select_related("vehicle", "customer")
        .filter(pk=reminder_id)
        .first()
    )
    if found is None:
        raise NotFound()
    return with_texts([found])[0]


def owner_violations(owner, *, include_cleared: bool = False):
    qs = Violation.objects.for_owner(owner).select_related("vehicle")
    if not include_cleared:
        qs = qs.exclude(status=ViolationStatus.CLEARED)
    return qs.order_by("-occurred_at")


def owner_warnings(owner, *, now: dt.datetime | None = None) -> list[WeatherWarning]:
    """Weather warnings in force that reached this owner (through a reminder)."""
    now = now or timezone.now()
    ids = [
        int(ref.split(":", 1)[1])
        for ref in Reminder.objects.for_owner(owner)
        .filter(kind=Kind.WEATHER)
        .values_list("target_ref", flat=True)
        if ref.startswith("warning:") and ref.split(":", 1)[1].isdigit()
    ]
    return list(WeatherWarning.objects.filter(pk__in=ids, ends_at__gt=now).order_by("ends_at"))


# --- staff --------------------------------------------------------------------------------------
def care_week(actor, store=None, *, today: dt.date | None = None, include_handled=False):
    """The advisor's care list: who gets what this week - the open reminders of the customers
    this staff member may see (one store's if given) sent in the last 7 days, about to be sent,
    or due from a week ago to a week ahead; not yet handled, soonest due first."""
    from m4s.customers.selectors import customers_for

    check_perm(actor, Perm.HANDLE_CARE)
    today = today or timezone.localdate()
    week_ago = dt.datetime.combine(
        today - dt.timedelta(days=7), dt.time(), timezone.get_current_timezone()
    )
    qs = (
        Reminder.objects.for_actor(actor)
        .filter(customer__in=customers_for(actor), status__in=OPEN_STATUSES)
        .filter(
            Q(sent_at__gte=week_ago)
            | Q(sent_at__isnull=True)
            | Q(
                due_on__gte=today - dt.timedelta(days=7),
                due_on__lte=today + dt.timedelta(days=7),
            )
        )
        .select_related("customer", "vehicle", "customer__store")
    )
    if store is not None:
        qs = qs.filter(customer__store_id=getattr(store, "pk", store))
    if not include_handled:
        qs = qs.filter(handled_at__isnull=True)
    return qs.order_by("due_on", "id")


def declined_items_for_vehicle(actor, vehicle, *, today: dt.date | None = None) -> list[dict]:
    """The car's declined amber and red inspection lines of the last year that have not been
    done since (newest first): what the advisor offers again when the car is booked or checked
    in. `actor` None: the platform reading for a page that already checked access."""
    from m4s.service.choices import Approval
    from m4s.service.models import RepairLine

    if actor is not None and not actor.has_perm_m4s(Perm.VIEW_CUSTOMERS):
        return []
    today = today or timezone.localdate()
    since = timezone.now() - dt.timedelta(days=365)
    group_id = vehicle.dealer_group_id
    done_since = RepairLine.objects.for_group(group_id).filter(
        repair_order__vehicle_id=vehicle.pk,
        operation_id=OuterRef("operation_id"),
        approval=Approval.APPROVED,
        repair_order__checked_in_at__gt=OuterRef("decided_at"),
    )
    lines = (
        RepairLine.objects.for_group(group_id)
        .filter(
            repair_order__vehicle_id=vehicle.pk,
            approval=Approval.DECLINED,
            decided_at__gte=since,
            result__rating__in=["amber", "red"],
        )
        .exclude(Exists(done_since))
        .select_related("result__point", "repair_order")
        .order_by("-decided_at")
    )
    out = []
    for line in lines:
        result = line.result
        unit = {"battery_v": "V", "": ""}.get(result.point.measure, "mm")
        measured = ""
        if result.measurement is not None:
            measured = f"{result.measurement.normalize():f} {unit}".strip()
        out.append(
            {
                "line": line,
                "name": line.t("description"),
                "rating": result.rating,
                "declined_on": timezone.localdate(line.decided_at),
                "measurement": measured,
                "repair_order": line.repair_order,
                "operation_id": line.operation_id,
            }
        )
    return out


def staff_violations(actor, *, status: str | None = None):
    check_perm(actor, Perm.HANDLE_CARE)
    qs = Violation.objects.for_actor(actor).select_related("vehicle", "customer")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-occurred_at")


def warnings_for_actor(actor, *, now: dt.datetime | None = None):
    """Warnings this staff member published or that reach their group (in force or recent)."""
    now = now or timezone.now()
    if actor is None or not getattr(actor, "is_authenticated", False):
        return WeatherWarning.objects.none()
    qs = WeatherWarning.objects.filter(ends_at__gt=now - dt.timedelta(days=7))
    if getattr(actor, "is_platform_admin", False):
        return qs.order_by("-starts_at")
    q = Q(pk__in=[])
    if actor.dealer_group_id:
        q |= Q(dealer_group_id=actor.dealer_group_id)
        q |= Q(local_org_id=actor.dealer_group.local_org_id)
    if getattr(actor, "local_org_id", None):
        q |= Q(local_org_id=actor.local_org_id)
    return qs.filter(q).order_by("-starts_at")


# --- figures ------------------------------------------------------------------------------------
@dataclass
class KindFigure:
    kind: str
    label: str
    sent: int
    booked: int
    done_elsewhere: int

    @property
    def conversion(self) -> float:
        return self.booked / self.sent if self.sent else 0.0


@dataclass
class Figures:
    since: dt.date
    until: dt.date
    by_kind: list[KindFigure] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)  # outcome, why, n
    unsubscribes: list[dict[str, Any]] = field(default_factory=list)  # category, n


def _month_bounds(month: dt.date | None) -> tuple[dt.date, dt.date]:
    today = timezone.localdate()
    first = (month or today).replace(day=1)
    nxt = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first, nxt


def figures(actor, month: dt.date | None = None, *, store=None) -> Figures:
    """A month's care figures for the actor's group: reminders handed over per kind and how
    many brought a booking within 30 days (conversion), services done elsewhere, what the
    contact policy decided (sent, held, dropped and why) and unsubscribes."""
    from m4s.service.models import Appointment

    check_perm(actor, Perm.VIEW_CARE_FIGURES)
    since, until = _month_bounds(month)
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(since, dt.time(), tz)
    end = dt.datetime.combine(until, dt.time(), tz)
    booked = Appointment.objects.for_actor(actor).filter(
        customer_id=OuterRef("customer_id"),
        created_at__gte=OuterRef("sent_at"),
        created_at__lte=OuterRef("sent_at") + dt.timedelta(days=CONVERSION_DAYS),
    )
    qs = Reminder.objects.for_actor(actor).filter(sent_at__gte=start, sent_at__lt=end)
    if store is not None:
        qs = qs.filter(customer__store_id=getattr(store, "pk", store))
    rows = {
        r["kind"]: r
        for r in qs.annotate(was_booked=Exists(booked))
        .values("kind")
        .annotate(
            sent=Count("id"),
            booked=Count("id", filter=Q(was_booked=True)),
            elsewhere=Count("id", filter=Q(status=Status.DONE_ELSEWHERE)),
        )
    }
    out = Figures(since=since, until=until)
    for kind in Kind:
        r = rows.get(kind.value, {})
        out.by_kind.append(
            KindFigure(
                kind=kind.value,
                label=str(kind.label),
                sent=r.get("sent", 0),
                booked=r.get("booked", 0),
                done_elsewhere=r.get("elsewhere", 0),
            )
        )
    from m4s.notify import selectors as notify_selectors

    group_id = actor.dealer_group_id
    decision_counts = getattr(notify_selectors, "decision_counts", None)
    if decision_counts is not None and group_id:
        out.decisions = list(decision_counts(group_id, start, end, kind_prefix="care."))
    unsubscribe_counts = getattr(notify_selectors, "unsubscribe_counts", None)
    if unsubscribe_counts is not None and group_id:
        out.unsubscribes = list(unsubscribe_counts(group_id, start, end))
    return out
