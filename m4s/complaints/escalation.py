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
import json
import logging
from collections import defaultdict

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from m4s.core.i18n import text
from m4s.customers.choices import TimelineKind
from m4s.customers.models import TimelineEvent
from m4s.customers.services import add_timeline_lines_from, timeline_event
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
BATCH_SIZE = 5000


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


def _int_array(values) -> str:
    """A PostgreSQL array literal of integers (None is NULL), cast in the statement."""
    return "{" + ",".join("NULL" if v is None else str(int(v)) for v in values) + "}"


def _dt_param(value: dt.datetime):
    return connection.ops.adapt_datetimefield_value(value)


def _climb_rows(moves: list[tuple[int, int, int, dt.datetime, int | None]], now) -> list[int]:
    """One conditional UPDATE for a batch of climbs (id, from, to, due, assignee); returns the
    ids it moved."""
    if not moves:
        return []
    table = connection.ops.quote_name(Complaint._meta.db_table)
    statuses = ", ".join(["%s"] * len(RUNNING_STATUSES))
    if connection.vendor == "postgresql":
        # a handful of array parameters however many rows, each one text literal built with
        # str.join (no per-element adaptation on the client); the due moments are few (one per
        # store and minutes), so each row names its due moment by index into a short array
        dues: dict[dt.datetime, int] = {}
        for move in moves:
            dues.setdefault(move[3], len(dues) + 1)
        source = (
            "SELECT u.id, u.from_level, u.to_level, d.due[u.k], u.assignee FROM "
            "unnest(CAST(%s AS bigint[]), CAST(%s AS integer[]), CAST(%s AS integer[]), "
            "CAST(%s AS integer[]), CAST(%s AS bigint[])) AS u(id, from_level, to_level, k, "
            "assignee), (SELECT CAST(%s AS timestamptz[]) AS due) AS d"
        )
        params: list = [
            _int_array(m[0] for m in moves),
            _int_array(m[1] for m in moves),
            _int_array(m[2] for m in moves),
            _int_array(dues[m[3]] for m in moves),
            _int_array(m[4] for m in moves),
            list(dues),
        ]
    else:
        source = "VALUES " + ", ".join(["(%s, %s, %s, %s, %s)"] * len(moves))
        params = []
        for pk, from_level, to_level, due, assignee in moves:
            params += [pk, from_level, to_level, _dt_param(due), assignee]
    params += [_dt_param(now), *RUNNING_STATUSES]
    # Only the model's own table name and placeholders are formatted in; every value is a parameter.
    sql = (
        f"WITH v(id, from_level, to_level, due, assignee) AS ({source}) "  # noqa: S608
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


def _fast_commit() -> None:
    """The scan is idempotent: if the machine crashed right after a batch committed, the next
    run would simply do that batch again. So its transactions do not wait for the WAL flush
    (PostgreSQL `synchronous_commit = off`, for this transaction only)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _by_ids(qs, ids: list[int]):
    """`qs` narrowed to these primary keys: one array parameter on PostgreSQL (no per-id
    quoting), an IN list elsewhere."""
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(qs.model._meta.db_table)
        return qs.extra(  # noqa: S610
            where=[f"{table}.id = ANY(CAST(%s AS bigint[]))"], params=[_int_array(ids)]
        )
    return qs.filter(pk__in=ids)


def _ids_condition(ids: list[int]) -> tuple[str, list]:
    if connection.vendor == "postgresql":
        return "= ANY(CAST(%s AS bigint[]))", [_int_array(ids)]
    return f"IN ({', '.join(['%s'] * len(ids))})", list(ids)


def _json_param() -> str:
    return "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"


def _insert_events(
    ids: list[int], where: str, where_params: list, kind: str, msg, data, *, at, owner_visible
) -> None:
    """One INSERT … SELECT of an event for each of these complaints (no rows built in Python)."""
    if not ids:
        return
    table = connection.ops.quote_name(Complaint._meta.db_table)
    events = connection.ops.quote_name(ComplaintEvent._meta.db_table)
    cond, id_params = _ids_condition(ids)
    j = _json_param()
    sql = (
        f"INSERT INTO {events} (dealer_group_id, complaint_id, kind, at, author_staff_id, "  # noqa: S608
        "author_owner_id, text, body, owner_visible, call_direction, call_minutes, data) "
        f"SELECT dealer_group_id, id, %s, %s, NULL, NULL, {j}, '', %s, '', NULL, {j} "
        f"FROM {table} WHERE {where} AND id {cond}"
    )
    params = [kind, _dt_param(at), json.dumps(msg), owner_visible, json.dumps(data)]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *where_params, *id_params])


def _insert_timeline(ids: list[int], where: dict, kind: str, at) -> None:
    """The customer-360 line of each complaint, written by customers in one INSERT … SELECT
    (title = source text, its parameters in data.title_params)."""
    if not ids:
        return
    label = text(TIMELINE_TITLE, what=EventKind(kind).label)["p"]["what"]
    add_timeline_lines_from(
        _by_ids(Complaint.objects.unscoped().filter(**where), ids),
        kind=TimelineKind.COMPLAINT,
        title=TIMELINE_TITLE,
        at=at,
        params_from={"ref": "reference"},
        params={"what": label},
        data_from={"complaint": "id"},
        data={"event": str(kind)},
    )


def _record_climbs(moved: list[int], now: dt.datetime, levels=(2, 3)) -> None:
    """The Escalation row and the owner-visible event of every complaint moved, per level, in
    two INSERT … SELECT statements each."""
    if not moved:
        return
    table = connection.ops.quote_name(Complaint._meta.db_table)
    escalations = connection.ops.quote_name(Escalation._meta.db_table)
    cond, id_params = _ids_condition(moved)
    for to_level in sorted(set(levels)):
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {escalations} (dealer_group_id, complaint_id, from_level, "  # noqa: S608
                "to_level, reason, note, by_id, to_staff_id, at) "
                "SELECT dealer_group_id, id, level - 1, level, %s, '', NULL, assignee_id, %s "
                f"FROM {table} WHERE level = %s AND id {cond}",
                [EscalationReason.BREACH, _dt_param(now), int(to_level), *id_params],
            )
        _insert_events(
            moved,
            "level = %s",
            [int(to_level)],
            EventKind.ESCALATED,
            text(gettext_noop("Passed to the %(role)s."), role=Level(to_level).label),
            {"from": int(to_level) - 1, "to": int(to_level), "reason": EscalationReason.BREACH},
            at=now,
            owner_visible=True,
        )
        _insert_timeline(moved, {"level": int(to_level)}, EventKind.ESCALATED, now)


def _breached():
    return dict(status__in=RUNNING_STATUSES, paused_at__isnull=True, level__lt=Level.GROUP_CARE)


def _breached_ids(now: dt.datetime) -> list[int]:
    """Every complaint whose level clock ran out, most overdue first: one index range scan
    (complaint_level_due), ids only."""
    return list(
        Complaint.objects.unscoped()
        .filter(level_due_at__lt=now, **_breached())
        .order_by("level_due_at", "id")
        .values_list("id", flat=True)
    )


def _lock_chunk(ids: list[int], now: dt.datetime) -> list[dict]:
    """The rows of `ids` still breached, locked (rows another worker holds are skipped: it is
    escalating them), read fresh by primary key."""
    qs = _by_ids(Complaint.objects.unscoped().filter(level_due_at__lt=now, **_breached()), ids)
    if connection.features.has_select_for_update_skip_locked:
        qs = qs.select_for_update(skip_locked=True, of=("self",))
    return list(
        qs.values(
            "id",
            "dealer_group_id",
            "store_id",
            "customer_id",
            "reference",
            "level",
            "severity",
            "category_id",
            "category__parent_id",
        )
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
    _record_climbs(moved, now, {by_id[pk][1] for pk in moved})
    told: dict[int, list[int]] = defaultdict(list)
    for pk in moved:
        r, to_level, assignee = by_id[pk]
        if assignee:
            told[assignee].append(pk)
        if to_level == Level.GROUP_CARE:
            for _name, admin in ctx.care.get(r["dealer_group_id"], []):
                if admin != assignee:
                    told[admin].append(pk)

    return len(moved), told


def _first_response_conditions() -> dict:
    return dict(
        status__in=RUNNING_STATUSES,
        paused_at__isnull=True,
        first_responded_at__isnull=True,
        first_response_breached_at__isnull=True,
    )


def _first_response_ids(now: dt.datetime) -> list[int]:
    return list(
        Complaint.objects.unscoped()
        .filter(first_response_due_at__lt=now, **_first_response_conditions())
        .order_by("first_response_due_at", "id")
        .values_list("id", flat=True)
    )


def _first_response_batch(now: dt.datetime, ids: list[int]) -> tuple[int, dict[int, list[int]]]:
    qs = _by_ids(
        Complaint.objects.unscoped().filter(
            first_response_due_at__lt=now, **_first_response_conditions()
        ),
        ids,
    )
    if connection.features.has_select_for_update_skip_locked:
        qs = qs.select_for_update(skip_locked=True, of=("self",))
    rows = list(qs.values("id", "dealer_group_id", "assignee_id"))
    if not rows:
        return 0, {}
    ids = [r["id"] for r in rows]
    n = _by_ids(
        Complaint.objects.unscoped().filter(
            first_response_breached_at__isnull=True, first_responded_at__isnull=True
        ),
        ids,
    ).update(first_response_breached_at=now)
    _insert_events(
        ids,
        "first_response_breached_at = %s",
        [_dt_param(now)],
        EventKind.FIRST_RESPONSE_BREACHED,
        text(gettext_noop("No first response in time.")),
        {},
        at=now,
        owner_visible=False,
    )
    _insert_timeline(
        ids, {"first_response_breached_at": now}, EventKind.FIRST_RESPONSE_BREACHED, now
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


def tell_handlers(kind: str, stamp: str, counts: dict[str, int]) -> int:
    """One console notification per person, however many complaints it names (the task the
    scan enqueues; deduplicated per scan, so a repeated task tells nobody twice)."""
    people = StaffUser.objects.filter(pk__in=[int(k) for k in counts], is_active=True)
    told = 0
    for person in people:
        if person.dealer_group_id is None:
            continue
        n = counts.get(str(person.pk), 0)
        if kind == "escalated":
            title = text(gettext_noop("%(n)s complaints escalated to you"), n=n)
        else:
            title = text(gettext_noop("%(n)s complaints without a first response in time"), n=n)
        tell_staff(
            [person],
            "complaint",
            lambda title=title: (title, ""),
            group_id=person.dealer_group_id,
            dedupe=lambda p, kind=kind: f"complaints:{kind}:{stamp}:{p.pk}",
        )
        told += 1
    return told


def _notify(told: dict[int, list[int]], kind: str, now: dt.datetime) -> None:
    """After the scan's transactions committed: one task tells every new handler."""
    if not told:
        return
    from .tasks import tell_handlers_task

    counts = {str(pk): len(ids) for pk, ids in told.items()}
    tell_handlers_task.enqueue(kind, f"{now:%Y%m%d%H%M%S}", counts)


def scan(now: dt.datetime | None = None, batch_size: int = BATCH_SIZE) -> dict[str, int]:
    """Climb every breached complaint one level and mark overdue first responses. Idempotent:
    a second run right after finds nothing to do."""
    now = now or timezone.now()
    ctx = _Context(now)
    escalated = breached = 0
    told_up: dict[int, list[int]] = defaultdict(list)
    told_fr: dict[int, list[int]] = defaultdict(list)
    candidates = _breached_ids(now)
    for start in range(0, len(candidates), batch_size):
        with transaction.atomic():
            _fast_commit()
            rows = _lock_chunk(candidates[start : start + batch_size], now)
            if not rows:
                continue
            n, told = _escalate_batch(ctx, rows)
        escalated += n
        for k, v in told.items():
            told_up[k] += v
    overdue = _first_response_ids(now)
    for start in range(0, len(overdue), batch_size):
        with transaction.atomic():
            _fast_commit()
            n, told = _first_response_batch(now, overdue[start : start + batch_size])
        breached += n
        for k, v in told.items():
            told_fr[k] += v
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
