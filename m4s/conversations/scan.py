"""The first-response scan (every minute): each unanswered conversation whose stage clock ran out
moves one stage on — from the consultant to the on-duty team of the same role (or straight to
the store's customer-service queue when none of them is on duty), from the team to the queue —
and is offered there, unassigned; set-based, in batches, safe with parallel workers.

How "exactly once per stage" holds
----------------------------------
* The batch is read with `SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL: two workers take
  disjoint rows, and a row a staff member is answering right now is skipped until they are done
  (their answer ends the wait, so the row no longer qualifies). SQLite runs write transactions
  one at a time.
* The move is one conditional UPDATE per (from stage, to stage, due moment) — `... WHERE stage
  = old stage AND still open, waiting and overdue ... RETURNING id` — and only the ids it
  returns get a Handover row, a system line and a notification.
* `Handover(conversation, wait_round, stage)` is unique for overdue moves: a stage can never be
  recorded twice in one round.

What is computed once per scan, not per row: the stores, their business calendars, each
group's targets, the new due moment per (store, minutes), who is on duty per (store, role).
"""

import datetime as dt
import logging
from collections import defaultdict

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from m4s.core.i18n import text
from m4s.notify.services import tell_on_duty
from m4s.org.business_time import BusinessCalendar
from m4s.org.models import Store
from m4s.staff.models import Shift

from ._common import add_minutes
from .choices import QUEUE_ROLES, TOPIC_ROLE, AuthorKind, HandoverReason, MessageKind, Stage
from .models import OPEN, Conversation, ConversationSettings, Handover, Message

logger = logging.getLogger("m4s.conversations")
BATCH_SIZE = 2000
KIND = "conversation"
OFFERED_TEAM = gettext_noop("No answer within the target: offered to the on-duty team (%(role)s).")
OFFERED_QUEUE = gettext_noop("No answer within the target: offered to the customer-service queue.")


class _Context:
    """What a scan reads once: stores, calendars, targets, due moments, who is on duty."""

    def __init__(self, now: dt.datetime):
        self.now = now
        self.stores: dict[int, Store] = {}
        self.calendars: dict[int, BusinessCalendar] = {}
        self.team_minutes: dict[int, int] = {}
        self.due: dict[tuple[int, int], dt.datetime] = {}
        self.on_duty: dict[tuple[int, str], set[int]] = defaultdict(set)

    def load(self, store_ids: set[int], group_ids: set[int]) -> None:
        new = store_ids - set(self.stores)
        if new:
            for store in Store.objects.unscoped().filter(pk__in=new):
                self.stores[store.pk] = store
            today = self.now.date()
            self.calendars.update(
                BusinessCalendar.for_stores(
                    [self.stores[i] for i in new if i in self.stores],
                    today - dt.timedelta(days=1),
                    today + dt.timedelta(days=31),
                )
            )
            self._load_on_duty([self.stores[i] for i in new if i in self.stores])
        missing = group_ids - set(self.team_minutes)
        if missing:
            for row in ConversationSettings.objects.unscoped().filter(dealer_group_id__in=missing):
                self.team_minutes[row.dealer_group_id] = row.team_offer_minutes
            default = ConversationSettings._meta.get_field("team_offer_minutes").default
            for group in missing:
                self.team_minutes.setdefault(group, default)

    def _load_on_duty(self, stores: list[Store]) -> None:
        by_zone: dict[str, list[Store]] = defaultdict(list)
        for store in stores:
            by_zone[store.timezone].append(store)
        for zone_stores in by_zone.values():
            local = self.now.astimezone(zone_stores[0].tz)
            for store_id, staff_id, role in (
                Shift.objects.unscoped()
                .filter(
                    store_id__in=[s.pk for s in zone_stores],
                    date=local.date(),
                    starts_at__lte=local.time(),
                    ends_at__gt=local.time(),
                    staff__is_active=True,
                )
                .values_list("store_id", "staff_id", "staff__role")
            ):
                self.on_duty[(store_id, role)].add(staff_id)

    def team_due(self, store_id: int, group_id: int) -> dt.datetime:
        minutes = self.team_minutes[group_id]
        key = (store_id, minutes)
        if key not in self.due:
            self.due[key] = add_minutes(
                self.stores[store_id], self.now, minutes, self.calendars.get(store_id)
            )
        return self.due[key]

    def next_stage(self, row: dict) -> str:
        if row["stage"] == Stage.CONSULTANT:
            team = self.on_duty[(row["store_id"], TOPIC_ROLE[row["topic"]])] - {row["assignee_id"]}
            if team:
                return Stage.TEAM
        return Stage.CS_QUEUE


def _fast_commit() -> None:
    """The scan is idempotent: a batch lost in a crash is simply moved by the next run, so its
    transactions do not wait for the WAL flush (PostgreSQL, this transaction only)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _overdue(now: dt.datetime):
    return Conversation.objects.unscoped().filter(
        status=OPEN,
        waiting_since__isnull=False,
        first_response_due_at__isnull=False,
        first_response_due_at__lt=now,
    )


def _candidate_ids(now: dt.datetime) -> list[int]:
    return list(_overdue(now).order_by("first_response_due_at", "id").values_list("id", flat=True))


def _lock_chunk(ids: list[int], now: dt.datetime) -> list[dict]:
    qs = _overdue(now).filter(pk__in=ids)
    if connection.features.has_select_for_update_skip_locked:
        qs = qs.select_for_update(skip_locked=True, of=("self",))
    return list(
        qs.values(
            "id",
            "dealer_group_id",
            "store_id",
            "topic",
            "stage",
            "assignee_id",
            "wait_round",
        )
    )


def _move(ids: list[int], from_stage: str, to_stage: str, due, now) -> set[int]:
    """One conditional UPDATE of a group of rows; the ids it moved."""
    if not ids:
        return set()
    table = connection.ops.quote_name(Conversation._meta.db_table)
    if connection.vendor == "postgresql":
        id_cond, id_params = (
            "id = ANY(CAST(%s AS bigint[]))",
            ["{" + ",".join(str(int(i)) for i in ids) + "}"],
        )
    else:
        id_cond, id_params = f"id IN ({', '.join(['%s'] * len(ids))})", list(ids)
    adapt = connection.ops.adapt_datetimefield_value
    # Only the model's own table name and placeholders are formatted in; values are parameters.
    sql = (
        f"UPDATE {table} SET stage = %s, assignee_id = NULL, first_response_due_at = %s "  # noqa: S608
        f"WHERE {id_cond} AND stage = %s AND status = %s AND waiting_since IS NOT NULL "
        "AND first_response_due_at < %s RETURNING id"
    )
    params = [to_stage, adapt(due) if due else None, *id_params, from_stage, OPEN, adapt(now)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {r[0] for r in cursor.fetchall()}


def _batch(ctx: _Context, rows: list[dict]) -> list[dict]:
    ctx.load({r["store_id"] for r in rows}, {r["dealer_group_id"] for r in rows})
    groups: dict[tuple[str, str, dt.datetime | None], list[dict]] = defaultdict(list)
    for r in rows:
        to = ctx.next_stage(r)
        due = ctx.team_due(r["store_id"], r["dealer_group_id"]) if to == Stage.TEAM else None
        r["to"] = to
        groups[(r["stage"], to, due)].append(r)
    moved: list[dict] = []
    for (from_stage, to, due), members in groups.items():
        done = _move([r["id"] for r in members], from_stage, to, due, ctx.now)
        moved += [r for r in members if r["id"] in done]
    if not moved:
        return []
    now = ctx.now
    Handover.objects.bulk_create(
        [
            Handover(
                dealer_group_id=r["dealer_group_id"],
                conversation_id=r["id"],
                from_staff_id=r["assignee_id"],
                to_staff=None,
                reason=HandoverReason.OVERDUE,
                stage=r["to"],
                wait_round=r["wait_round"],
                at=now,
            )
            for r in moved
        ],
        batch_size=1000,
    )
    from m4s.staff.choices import Role

    Message.objects.bulk_create(
        [
            Message(
                dealer_group_id=r["dealer_group_id"],
                conversation_id=r["id"],
                author_kind=AuthorKind.SYSTEM,
                kind=MessageKind.NOTE,
                text=text(OFFERED_TEAM, role=Role(TOPIC_ROLE[r["topic"]]).label)
                if r["to"] == Stage.TEAM
                else text(OFFERED_QUEUE),
                created_at=now,
            )
            for r in moved
        ],
        batch_size=1000,
    )
    return moved


def tell_offered(stamp: str, offers: list, at: str = "") -> int:
    """One console notification per on-duty person of each (store, stage, role), however many
    conversations it names (the task the scan enqueues; deduplicated per scan)."""
    told = 0
    moment = dt.datetime.fromisoformat(at) if at else None
    stores = {s.pk: s for s in Store.objects.unscoped().filter(pk__in={o[0] for o in offers})}
    for store_id, stage, role, n in offers:
        store = stores.get(store_id)
        if store is None:
            continue
        roles = [role] if stage == Stage.TEAM else list(QUEUE_ROLES)
        title = text(gettext_noop("%(n)s conversations wait for an answer"), n=n)
        body = text(
            gettext_noop("Offered to you: the owner's consultant has not answered in time.")
        )
        told += len(
            tell_on_duty(
                store,
                roles,
                KIND,
                lambda title=title, body=body: (title, body),
                dedupe=lambda p, s=store_id, st=stage: (
                    f"conversations:offered:{stamp}:{s}:{st}:{p.pk}"
                ),
                at=moment,
            )
        )
    return told


def _notify(moved: list[dict], now: dt.datetime) -> None:
    if not moved:
        return
    from .tasks import tell_offered_task

    counts: dict[tuple[int, str, str], int] = defaultdict(int)
    for r in moved:
        counts[(r["store_id"], r["to"], TOPIC_ROLE[r["topic"]])] += 1
    offers = [[s, st, role, n] for (s, st, role), n in sorted(counts.items())]
    tell_offered_task.enqueue(f"{now:%Y%m%d%H%M%S}", offers, now.isoformat())


def offer_overdue(now: dt.datetime | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Move every overdue conversation one stage. Idempotent: a second run right after finds
    nothing to do. Returns how many moved."""
    now = now or timezone.now()
    ctx = _Context(now)
    moved_all: list[dict] = []
    candidates = _candidate_ids(now)
    for start in range(0, len(candidates), batch_size):
        with transaction.atomic():
            _fast_commit()
            rows = _lock_chunk(candidates[start : start + batch_size], now)
            if not rows:
                continue
            moved = _batch(ctx, rows)
            transaction.on_commit(lambda moved=moved: _notify(moved, now))
        moved_all += moved
    if moved_all:
        logger.info("Conversation scan: %s offered onwards", len(moved_all))
    return len(moved_all)
