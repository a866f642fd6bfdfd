"""The owner's to-do list on the home screen, computed from real state: repair items waiting for
the owner's decision, unread replies in their conversations and a call back they asked for, a
visit today or tomorrow, unread messages, a car to bind, maintenance
that is overdue, the care reminders that are due (a declined repair, insurance, inspection, a
violation, a weather warning, a greeting), an open revisit survey, the profile.

A handful of queries: a few for the service state, three per bound car (at most three cars)
for the maintenance schedule, two for the care reminders."""

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Count, Sum, Window
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from m4s.core.i18n import translated
from m4s.customers.selectors import vehicles_of_owner
from m4s.notify import selectors as inbox
from m4s.service import selectors as service
from m4s.service.choices import OPEN_RO, AppointmentStatus, Approval
from m4s.service.models import RepairLine

MAINTENANCE_CARS = 3
CARE_SCANNED = 30  # the owner's open reminders looked at, soonest first
CARE_SHOWN = 4
CARE_AHEAD_DAYS = 60  # insurance is reminded 60 days ahead
CARE_GREETING_DAYS = 7
# What the maintenance lines read of a car (service.selectors.maintenance_due included).
MAINTENANCE_VEHICLE = (
    "dealer_group",
    "plate",
    "brand",
    "model",
    "odometer_km",
    "purchase_date",
    "current_owner",
)
# What a care line reads of a reminder (its text comes from the kind, the payload and the rule).
CARE_FIELDS = ("dealer_group", "kind", "payload", "status", "due_on", "vehicle", "action_url")
# The store columns a to-do line shows (its title, local time): `.only()` keeps the rest unread.
STORE_TITLE = ("store__name", "store__app_title", "store__timezone")


@dataclass(frozen=True)
class Todo:
    key: str
    title: str
    url: str


def _approvals(owner) -> list[Todo]:
    rows = (
        RepairLine.objects.for_owner(owner)
        .filter(
            repair_order__status__in=OPEN_RO,
            approval=Approval.PENDING,
        )
        .values("repair_order_id", "repair_order__vehicle__plate")
        .annotate(n=Count("id"))
        .order_by("repair_order_id")
    )
    return [
        Todo(
            f"approve:{row['repair_order_id']}",
            ngettext(
                "%(n)d item on %(plate)s waits for your approval",
                "%(n)d items on %(plate)s wait for your approval",
                row["n"],
            )
            % {"n": row["n"], "plate": row["repair_order__vehicle__plate"]},
            reverse("app-service-order", args=[row["repair_order_id"]]),
        )
        for row in rows
    ]


def _visits_soon(appointments, now: dt.datetime) -> list[Todo]:
    todos = []
    for a in appointments:
        local = timezone.localtime(a.starts_at, a.store.tz)
        today = timezone.localtime(now, a.store.tz).date()
        if local.date() == today and a.starts_at >= now - dt.timedelta(hours=1):
            title = _("Your visit today at %(time)s, %(store)s")
        elif local.date() == today + dt.timedelta(days=1):
            title = _("Your visit tomorrow at %(time)s, %(store)s")
        else:
            continue
        todos.append(
            Todo(
                f"visit:{a.pk}",
                title % {"time": local.strftime("%H:%M"), "store": a.store.display_title},
                reverse("app-service"),
            )
        )
    return todos


def _maintenance(owner, cars, busy_vehicle_ids: set[int]) -> list[Todo]:
    todos = []
    mine = [
        v
        for v in cars
        if v.current_owner is not None
        and v.current_owner.owner_id == owner.pk
        and v.pk not in busy_vehicle_ids
    ]
    from m4s.telematics.models import MaintenanceReminder

    forecast = {
        r.vehicle_id: r
        for r in MaintenanceReminder.objects.for_owner(owner)
        .filter(
            vehicle__in=[v.pk for v in mine],
            due_on__lte=timezone.localdate() + dt.timedelta(days=30),
        )
        .select_related("item")
        .order_by("-due_on")
    }
    for v in mine[:MAINTENANCE_CARS]:
        overdue = next((d for d in service.maintenance_due(v) if d.status == "overdue"), None)
        reminder = forecast.get(v.pk)
        if overdue is None and reminder is not None:  # from the car's own driving (mileage chain)
            query = {
                "vehicle": v.pk,
                **({"package": reminder.item.package_id} if reminder.item.package_id else {}),
            }
            todos.append(
                Todo(
                    f"maintenance:{v.pk}",
                    _("%(item)s falls due around %(date)s on %(plate)s: book a visit")
                    % {
                        "item": translated(reminder.item, "name"),
                        "date": reminder.due_on.isoformat(),
                        "plate": v.plate,
                    },
                    f"{reverse('app-service-book')}?{urlencode(query)}",
                )
            )
            continue
        if overdue is None:
            continue
        query = {"vehicle": v.pk}
        if overdue.item.package_id:
            query["package"] = overdue.item.package_id
        todos.append(
            Todo(
                f"maintenance:{v.pk}",
                _("%(item)s is overdue on %(plate)s: book a visit")
                % {"item": translated(overdue.item, "name"), "plate": v.plate},
                f"{reverse('app-service-book')}?{urlencode(query)}",
            )
        )
    return todos


def _loyalty(owner, now) -> list[Todo]:
    """A voucher ready to use (one query)."""
    from m4s.loyalty.choices import VoucherStatus
    from m4s.loyalty.models import Voucher

    voucher = (
        Voucher.objects.for_owner(owner)
        .filter(status=VoucherStatus.ISSUED, expires_at__gt=now)
        .select_related("reward")
        .only("reward__name", "reward__name_i18n")
        .order_by("expires_at")
        .first()
    )
    if voucher is None:
        return []
    return [
        Todo(
            f"voucher:{voucher.pk}",
            _("Your %(reward)s voucher is ready: show it at the desk")
            % {"reward": translated(voucher.reward, "name")},
            reverse("app-loyalty-voucher", args=[voucher.pk]),
        )
    ]


def _conversations(owner) -> tuple[list[Todo], int]:
    """Unread replies in the owner's conversations (one line each, at most three) and an open
    call-back request (two queries); also the unread replies over all conversations (the
    "Talk to us" tile's badge), summed in the first query."""
    from m4s.conversations import selectors as conversations

    todos = []
    unread = list(
        conversations.conversations_for_owner(owner)
        .filter(owner_unread__gt=0)
        .select_related("store", "assignee")
        .only(*STORE_TITLE, "owner_unread", "assignee")
        .annotate(replies=Window(Sum("owner_unread")))
        .order_by("-last_message_at", "-id")[:3]
    )
    for c in unread:
        who = str(c.assignee) if c.assignee_id else c.store.display_title
        todos.append(
            Todo(
                f"conversation:{c.pk}",
                ngettext(
                    "%(n)d new reply from %(who)s",
                    "%(n)d new replies from %(who)s",
                    c.owner_unread,
                )
                % {"n": c.owner_unread, "who": who},
                reverse("app-conversation", args=[c.pk]),
            )
        )
    callback = (
        conversations.owner_callback_requests(owner)
        .filter(status="open")
        .only(*STORE_TITLE, "window_start", "window_end", "conversation_id")
        .order_by("window_start")
        .first()
    )
    if callback is not None:
        start = timezone.localtime(callback.window_start, callback.store.tz)
        end = timezone.localtime(callback.window_end, callback.store.tz)
        todos.append(
            Todo(
                f"callback:{callback.pk}",
                _("%(store)s calls you back on %(day)s between %(start)s and %(end)s")
                % {
                    "store": callback.store.display_title,
                    "day": start.strftime("%Y-%m-%d"),
                    "start": start.strftime("%H:%M"),
                    "end": end.strftime("%H:%M"),
                },
                reverse("app-conversation", args=[callback.conversation_id])
                if callback.conversation_id
                else reverse("app-callback"),
            )
        )
    return todos, (unread[0].replies if unread else 0)


def _care(owner, todos: list[Todo]) -> list[Todo]:
    """Reminders of the care scan that are due (not snoozed, not closed): each with its one-tap
    link (a booking form filled in, else the reminder's page). A car that already has a
    maintenance entry above gets no second one. Two queries (the reminders and their rules)."""
    from m4s.care.choices import OPEN_STATUSES, Kind, Status
    from m4s.care.models import Reminder
    from m4s.care.selectors import with_texts

    today = timezone.localdate()
    taken = {t.key for t in todos}
    out = []
    # care.selectors.owner_reminders without the car and customer rows a line does not show
    reminders = with_texts(
        list(
            Reminder.objects.for_owner(owner)
            .filter(status__in=OPEN_STATUSES)
            .only(*CARE_FIELDS)
            .order_by("due_on", "id")[:CARE_SCANNED]
        )
    )
    for r in reminders:
        if r.status == Status.SNOOZED or (r.due_on - today).days > CARE_AHEAD_DAYS:
            continue
        if r.kind == Kind.MAINTENANCE and f"maintenance:{r.vehicle_id}" in taken:
            continue
        greeting = r.kind in (Kind.BIRTHDAY, Kind.ANNIVERSARY, Kind.FESTIVAL)
        if greeting and (today - r.due_on).days > CARE_GREETING_DAYS:
            continue
        link = r.action_url if r.action_url.startswith("/app/") else ""
        title = getattr(r, "title", "")  # set by the selector, in the reader's language
        out.append(Todo(f"care:{r.pk}", title, link or reverse("app-care-reminder", args=[r.pk])))
        if len(out) >= CARE_SHOWN:
            break
    return out


def owner_todos(owner) -> list[Todo]:
    return home_todos(owner)[0]


def home_todos(owner, *, unread: int | None = None) -> tuple[list[Todo], int]:
    """The to-do list and the unread replies over all the owner's conversations (the home
    page's "Talk to us" badge). `unread`: the inbox's unread count when the caller has it."""
    now = timezone.now()
    todos = _approvals(owner)
    conversation_todos, replies = _conversations(owner)
    todos += conversation_todos
    upcoming = list(
        service.appointments_of_owner(owner)
        .filter(status=AppointmentStatus.BOOKED, starts_at__gte=now - dt.timedelta(hours=3))
        .select_related(None)
        .select_related("store")
        .only(*STORE_TITLE, "starts_at", "vehicle")
        .order_by("starts_at")[:10]
    )
    todos += _visits_soon(upcoming, now)
    if unread is None:
        unread = inbox.count_unread(owner=owner)
    if unread:
        todos.append(
            Todo(
                "inbox",
                ngettext("%(n)d unread message", "%(n)d unread messages", unread) % {"n": unread},
                reverse("app-inbox"),
            )
        )
    cars = list(
        vehicles_of_owner(owner)
        .select_related(None)
        .select_related("current_owner")
        .only(*MAINTENANCE_VEHICLE, "current_owner__owner")
    )
    if not cars:
        todos.append(
            Todo(
                "bind",
                _("Bind your car to get reminders and service in one tap"),
                reverse("app-cars"),
            )
        )
    else:
        in_workshop = set(
            service.repair_orders_of_owner(owner)
            .filter(status__in=OPEN_RO)
            .values_list("vehicle_id", flat=True)
        )
        todos += _maintenance(owner, cars, in_workshop | {a.vehicle_id for a in upcoming})
    survey = (
        service.open_surveys_of_owner(owner)
        .select_related(None)
        .select_related("store")
        .only(*STORE_TITLE)
        .first()
    )
    if survey is not None:
        todos.append(
            Todo(
                f"survey:{survey.pk}",
                _("How was your visit to %(store)s? Answer five quick questions")
                % {"store": survey.store.display_title},
                reverse("app-service-survey", args=[survey.pk]),
            )
        )
    todos += _care(owner, todos)
    todos += _loyalty(owner, now)
    if not owner.name:
        todos.append(Todo("profile", _("Tell us your name"), reverse("app-profile")))
    if owner.telematics_consent_at is None:
        todos.append(
            Todo(
                "consent",
                _("Decide whether your car's data may be used to look after it"),
                reverse("app-profile"),
            )
        )
    return todos, replies
