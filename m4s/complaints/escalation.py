"""The breach scan: every open complaint whose level clock ran out climbs one level, and every
first response that is overdue is marked; set-based, in batches, safe with parallel workers.

How "exactly once per level" holds
----------------------------------
* The batch is read with `SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL: two workers take
  disjoint rows, a row a staff member is escalating by hand is skipped until they are done.
  (SQLite runs write transactions one at a time, so there is nothing to skip.)
* The climb itself is one conditional UPDATE for the whole batch (`... WHERE level = old level
  AND the clock still runs`) that returns the ids it moved: only those get an Escalation row,
  events and notifications. A row that changed meanwhile is simply not moved.
* `Escalation(complaint, to_level)` is unique: a level can never be recorded twice.

What is computed once, not per row: the stores' business calendars, the SLA policy book, the
new due moment per (store, minutes), the new assignee per (store, level).
"""

import datetime as dt
import logging
from collections import defaultdict

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from m4s.core.i18n import text
from m4s.customers.choices import TimelineKind
from m4s.customers.models import TimelineEvent
from m4s.customers.services import timeline_event
from m4s.notify.services import tell_staff
from m4s.org.business_time import BusinessCalendar
from m4s.org.models import Store
from m4s.staff.choices import Role
from m4s.staff.models import Shift, StaffUser

from . import clocks
from .choices import AUTO_CLOSE_DAYS, RUNNING_STATUSES, EscalationReason, EventKind, Level, Status
from .models import Complaint, ComplaintEvent, Escalation

logger = logging.getLogger("m4s.complaints")
TIMELINE_TITLE = gettext_noop("Complaint %(ref)s: %(what)s")
BATCH_SIZE = 2000


class _Context:
    """What a scan reads once: stores, calendars, policies, due moments, assignees."""

    def __init__(self, now: dt.datetime):
        self.now = now
        self.stores: dict[int, Store] = {}
        self.calendars: dict[int, BusinessCalendar] = {}
        self.policies = None
        self.policy_groups: set[int] = set()
        self.due: dict[tuple[int, int], dt.datetime] = {}
        self.assignee: dict[tuple[int, int], int | None] = {}
        self.care: dict[int, list[tuple[str, int]]] = defaultdict(list)

    def load(self, store_ids: set[int], group_ids: set[int]) -> None:
        new = store_ids - set(self.stores)
        if new:
            for store in Store.objects.unscoped().filter(pk__in=new):
                self.stores[store.pk] = store
            today = self.now.date()
            self.calendars.update(
                BusinessCalendar.for_stores(
                    [self.stores[i] for i in new if i in self.stores],
                    today,
                    today + dt.timedelta(days=31),
                )
            )
            self._load_assignees(new)
        if not group_ids <= self.policy_groups:
            self.policy_groups |= group_ids
            self.policies = clocks.PolicyBook(self.policy_groups)

    def due_at(self, store_id: int, minutes: int) -> dt.datetime:
        key = (store_id, minutes)
        if key not in self.due:
            self.due[key] = clocks.add_minutes(
                self.stores[store_id], self.now, minutes, self.calendars.get(store_id)
            )
        return self.due[key]

    def _load_assignees(self, store_ids: set[int]) -> None:
        """Level 2: the store manager on duty (roster), else the store's first manager; level 3
        (and level 2 without a manager): the group's first group admin."""
        stores = [self.stores[i] for i in store_ids if i in self.stores]
        on_duty: dict[int, list[tuple[str, int]]] = defaultdict(list)
        by_zone: dict[str, list[Store]] = defaultdict(list)
        for store in stores:
            by_zone[store.timezone].append(store)
        for zone_stores in by_zone.values():
            local = self.now.astimezone(zone_stores[0].tz)
            for store_id, staff_id, username in (
                Shift.objects.unscoped()
                .filter(
                    store_id__in=[s.pk for s in zone_stores],
                    date=local.date(),
                    starts_at__lte=local.time(),
                    ends_at__gt=local.time(),
                    staff__role=Role.STORE_MANAGER,
                    staff__is_active=True,
                )
                .values_list("store_id", "staff_id", "staff__username")
            ):
                on_duty[store_id].append((username, staff_id))
        managers: dict[int, list[tuple[str, int]]] = defaultdict(list)
        for staff_id, username, store_id in StaffUser.objects.filter(
            stores__in=list(store_ids), role=Role.STORE_MANAGER, is_active=True
        ).values_list("id", "username", "stores"):
            managers[store_id].append((username, staff_id))
        group_ids = {s.dealer_group_id for s in stores} - set(self.care)
        care = self.care
        for staff_id, username, group_id in StaffUser.objects.filter(
            dealer_group_id__in=group_ids, role=Role.GROUP_ADMIN, is_active=True
        ).values_list("id", "username", "dealer_group_id"):
            care[group_id].append((username, staff_id))
        for store in stores:
            top = min(care[store.dealer_group_id])[1] if care[store.dealer_group_id] else None
            manager = min(on_duty[store.pk] or managers[store.pk] or [("", top)])[1]
            self.assignee[(store.pk, Level.STORE_MANAGER)] = manager
            self.assignee[(store.pk, Level.GROUP_CARE)] = top


def _dt_param(value: dt.datetime):
    return connection.ops.adapt_datetimefield_value(value)


def _climb_rows(moves: list[tuple[int, int, int, dt.datetime, int | None]], now) -> list[int]:
    """One conditional UPDATE for a batch of climbs (id, from, to, due, assignee); returns the
    ids it moved."""
    if not moves:
        return []
    table = connection.ops.quote_name(Complaint._meta.db_table)
    pg = connection.vendor == "postgresql"
    row = (
        "(CAST(%s AS bigint), CAST(%s AS integer), CAST(%s AS integer), "
        "CAST(%s AS timestamptz), CAST(%s AS bigint))"
        if pg
        else "(%s, %s, %s, %s, %s)"
    )
    params: list = []
    for pk, from_level, to_level, due, assignee in moves:
        params += [pk, from_level, to_level, _dt_param(due), assignee]
    statuses = ", ".join(["%s"] * len(RUNNING_STATUSES))
    params += [_dt_param(now), *RUNNING_STATUSES]
    # Only the model's own table name and placeholders are formatted in; every value is a parameter.
    values = ", ".join([row] * len(moves))
    sql = (
        f"WITH v(id, from_level, to_level, due, assignee) AS (VALUES {values}) "  # noqa: S608
        f"UPDATE {table} SET level = v.to_level, level_due_at = v.due, "
        "assignee_id = v.assignee, level_started_at = %s "
        f"FROM v WHERE {table}.id = v.id AND {table}.level = v.from_level "
        f"AND {table}.status IN ({statuses}) AND {table}.paused_at IS NULL "
        f"RETURNING {table}.id"
    )
    # the CTE's parameters come first in the text, then level_started_at, then the statuses
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [r[0] for r in cursor.fetchall()]


def _breached_batch(now: dt.datetime, batch_size: int) -> list[dict]:
    qs = Complaint.objects.unscoped().filter(
        status__in=RUNNING_STATUSES,
        paused_at__isnull=True,
        level_due_at__lt=now,
        level__lt=Level.GROUP_CARE,
    )
    if connection.features.has_select_for_update_skip_locked:
        qs = qs.select_for_update(skip_locked=True, of=("self",))
    return list(
        qs.order_by("level_due_at", "id").values(
            "id",
            "dealer_group_id",
            "store_id",
            "customer_id",
            "reference",
            "level",
            "severity",
            "category_id",
            "category__parent_id",
        )[:batch_size]
    )


def _escalate_batch(ctx: _Context, rows: list[dict]) -> tuple[int, dict[int, list[int]]]:
    ctx.load({r["store_id"] for r in rows}, {r["dealer_group_id"] for r in rows})
    now = ctx.now
    moves, by_id = [], {}
    for r in rows:
        to_level = r["level"] + 1
        targets = ctx.policies.targets(
            r["dealer_group_id"], r["severity"], r["category_id"], r["category__parent_id"]
        )
        due = ctx.due_at(r["store_id"], targets.level_minutes(to_level))
        assignee = ctx.assignee.get((r["store_id"], to_level))
        moves.append((r["id"], r["level"], to_level, due, assignee))
        by_id[r["id"]] = (r, to_level, assignee)
    moved = _climb_rows(moves, now)
    escalations, events, lines = [], [], []
    told: dict[int, list[int]] = defaultdict(list)
    for pk in moved:
        r, to_level, assignee = by_id[pk]
        escalations.append(
            Escalation(
                dealer_group_id=r["dealer_group_id"],
                complaint_id=pk,
                from_level=r["level"],
                to_level=to_level,
                reason=EscalationReason.BREACH,
                to_staff_id=assignee,
                at=now,
            )
        )
        events.append(
            ComplaintEvent(
                dealer_group_id=r["dealer_group_id"],
                complaint_id=pk,
                kind=EventKind.ESCALATED,
                at=now,
                text=text(gettext_noop("Passed to the %(role)s."), role=Level(to_level).label),
                owner_visible=True,
                data={"from": r["level"], "to": to_level, "reason": EscalationReason.BREACH},
            )
        )
        lines.append(
            timeline_event(
                group_id=r["dealer_group_id"],
                customer_id=r["customer_id"],
                kind=TimelineKind.COMPLAINT,
                title=TIMELINE_TITLE,
                params=text(TIMELINE_TITLE, ref=r["reference"], what=EventKind.ESCALATED.label)[
                    "p"
                ],
                data={"complaint": pk, "event": EventKind.ESCALATED},
                at=now,
            )
        )
        if assignee:
            told[assignee].append(pk)
        if to_level == Level.GROUP_CARE:
            for _name, admin in ctx.care.get(r["dealer_group_id"], []):
                if admin != assignee:
                    told[admin].append(pk)
    Escalation.objects.bulk_create(escalations, batch_size=1000)
    ComplaintEvent.objects.bulk_create(events, batch_size=1000)
    TimelineEvent.objects.bulk_create(lines, batch_size=1000)
    return len(moved), told


def _first_response_batch(now: dt.datetime, batch_size: int) -> tuple[int, dict[int, list[int]]]:
    qs = Complaint.objects.unscoped().filter(
        status__in=RUNNING_STATUSES,
        paused_at__isnull=True,
        first_responded_at__isnull=True,
        first_response_breached_at__isnull=True,
        first_response_due_at__lt=now,
    )
    if connection.features.has_select_for_update_skip_locked:
        qs = qs.select_for_update(skip_locked=True, of=("self",))
    rows = list(
        qs.order_by("first_response_due_at", "id").values(
            "id", "dealer_group_id", "assignee_id", "customer_id", "reference"
        )[:batch_size]
    )
    if not rows:
        return 0, {}
    ids = [r["id"] for r in rows]
    n = (
        Complaint.objects.unscoped()
        .filter(
            pk__in=ids, first_response_breached_at__isnull=True, first_responded_at__isnull=True
        )
        .update(first_response_breached_at=now)
    )
    ComplaintEvent.objects.bulk_create(
        [
            ComplaintEvent(
                dealer_group_id=r["dealer_group_id"],
                complaint_id=r["id"],
                kind=EventKind.FIRST_RESPONSE_BREACHED,
                at=now,
                text=text(gettext_noop("No first response in time.")),
            )
            for r in rows
        ],
        batch_size=1000,
    )
    TimelineEvent.objects.bulk_create(
        [
            timeline_event(
                group_id=r["dealer_group_id"],
                customer_id=r["customer_id"],
                kind=TimelineKind.COMPLAINT,
                title=TIMELINE_TITLE,
                params=text(
                    TIMELINE_TITLE, ref=r["reference"], what=EventKind.FIRST_RESPONSE_BREACHED.label
                )["p"],
                data={"complaint": r["id"], "event": EventKind.FIRST_RESPONSE_BREACHED},
                at=now,
            )
            for r in rows
        ],
        batch_size=1000,
    )
    told: dict[int, list[int]] = defaultdict(list)
    for r in rows:
        if r["assignee_id"]:
            told[r["assignee_id"]].append(r["id"])
    return n, told


def _auto_close_batch(now: dt.datetime, batch_size: int) -> int:
    """Resolutions left unanswered for AUTO_CLOSE_DAYS close (the owner may still reopen)."""
    qs = Complaint.objects.unscoped().filter(
        status=Status.RESOLVED, resolved_at__lt=now - dt.timedelta(days=AUTO_CLOSE_DAYS)
    )
    if connection.features.has_select_for_update_skip_locked:
        qs = qs.select_for_update(skip_locked=True, of=("self",))
    rows = list(
        qs.order_by("resolved_at", "id").values(
            "id", "dealer_group_id", "customer_id", "reference"
        )[:batch_size]
    )
    if not rows:
        return 0
    n = (
        Complaint.objects.unscoped()
        .filter(pk__in=[r["id"] for r in rows], status=Status.RESOLVED)
        .update(status=Status.CLOSED, closed_at=now)
    )
    ComplaintEvent.objects.bulk_create(
        [
            ComplaintEvent(
                dealer_group_id=r["dealer_group_id"],
                complaint_id=r["id"],
                kind=EventKind.CLOSED,
                at=now,
                text=text(gettext_noop("Closed: no answer to the resolution within a week.")),
                owner_visible=True,
            )
            for r in rows
        ],
        batch_size=1000,
    )
    TimelineEvent.objects.bulk_create(
        [
            timeline_event(
                group_id=r["dealer_group_id"],
                customer_id=r["customer_id"],
                kind=TimelineKind.COMPLAINT,
                title=TIMELINE_TITLE,
                params=text(TIMELINE_TITLE, ref=r["reference"], what=EventKind.CLOSED.label)["p"],
                data={"complaint": r["id"], "event": EventKind.CLOSED},
                at=now,
            )
            for r in rows
        ],
        batch_size=1000,
    )
    return n


def _notify(told: dict[int, list[int]], kind: str, now: dt.datetime) -> None:
    """One console notification per person per scan, however many complaints it names."""
    if not told:
        return
    people = {p.pk: p for p in StaffUser.objects.filter(pk__in=list(told), is_active=True)}
    stamp = f"{now:%Y%m%d%H%M%S}"
    for pk, ids in told.items():
        person = people.get(pk)
        if person is None or person.dealer_group_id is None:
            continue
        if kind == "escalated":
            title = text(gettext_noop("%(n)s complaints escalated to you"), n=len(ids))
        else:
            title = text(
                gettext_noop("%(n)s complaints without a first response in time"), n=len(ids)
            )
        tell_staff(
            [person],
            "complaint",
            lambda title=title: (title, ""),
            group_id=person.dealer_group_id,
            dedupe=lambda p, kind=kind: f"complaints:{kind}:{stamp}:{p.pk}",
        )


def scan(now: dt.datetime | None = None, batch_size: int = BATCH_SIZE) -> dict[str, int]:
    """Climb every breached complaint one level and mark overdue first responses. Idempotent:
    a second run right after finds nothing to do."""
    now = now or timezone.now()
    ctx = _Context(now)
    escalated = breached = 0
    told_up: dict[int, list[int]] = defaultdict(list)
    told_fr: dict[int, list[int]] = defaultdict(list)
    while True:
        with transaction.atomic():
            rows = _breached_batch(now, batch_size)
            if not rows:
                break
            n, told = _escalate_batch(ctx, rows)
        escalated += n
        for k, v in told.items():
            told_up[k] += v
        if n == 0:
            break  # every row of the batch changed meanwhile: leave them to the next run
    while True:
        with transaction.atomic():
            n, told = _first_response_batch(now, batch_size)
        breached += n
        for k, v in told.items():
            told_fr[k] += v
        if n == 0:
            break
    closed = 0
    while True:
        with transaction.atomic():
            n = _auto_close_batch(now, batch_size)
        closed += n
        if n == 0:
            break
    _notify(told_up, "escalated", now)
    _notify(told_fr, "first_response", now)
    if escalated or breached:
        logger.info("Complaint scan: %s escalated, %s first responses overdue", escalated, breached)
    return {"escalated": escalated, "first_response_breached": breached, "closed": closed}
