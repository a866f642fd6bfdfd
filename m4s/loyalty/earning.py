"""The hot path of earning: one short transaction per event, and its batched follow-up.

`earn()` (called by `services.record_event`) locks the member row once, records the event
(idempotent per source with INSERT … ON CONFLICT DO NOTHING), counts the caps of the rules that
have one in one aggregate, draws campaign budgets, and writes the ledger lots and the balance
together (`ledger.credit_lots`). The programme and the active rules of each event come from a
per-process cache keyed by the programme's `rules_version`, which is read in the same statement
that locks the member; saving or deleting a programme, rule, campaign or mission bumps the
version (and clears this process's cache), so every process sees a change at its next earn.

What a member may see a moment later runs after commit, in batches (`follow_up_pending`): the
"+N points" message, the tier upgrade and mission progress. Each new event carries the marker
`follow_up=True`; a batch takes marked events (SKIP LOCKED on PostgreSQL, so parallel batches
never share one), applies their follow-up and clears their markers in the same transaction:
a batch that fails rolls back whole and the next run applies it again, once. The message's
dedupe key, the one-completion-per-mission constraint and the tier comparison make a repeated
follow-up harmless even without the marker.
"""

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Q, Subquery, Sum
from django.utils import timezone

from m4s.core import cache as config_cache
from m4s.core.dates import add_months
from m4s.core.i18n import name_of

from . import ledger
from .models import EarningRule, LedgerEntry, Member, MemberEvent, Programme

logger = logging.getLogger("m4s.loyalty")

FOLLOW_UP_BATCH = 200  # events per follow-up transaction
FOLLOW_UP_DELAY = 0.5  # seconds: a process enqueues at most one follow-up task per this delay


# --- rules cached per programme version ----------------------------------------------------------
@dataclass(frozen=True)
class Rules:
    """What earning needs of a programme, for one event: fixed until the version changes."""

    version: int
    programme: Programme
    rules: tuple[EarningRule, ...]
    reasons: dict[int | None, dict[str, Any]]  # rule pk -> the ledger reason columns


_cache: dict[tuple[int, str], Rules] = {}
_cache_lock = threading.Lock()


def reason_columns(rule: EarningRule) -> dict[str, Any]:
    return ledger.reason_columns(name_of(rule))


def rules_for(group_id: int, event: str, version: int) -> Rules | None:
    """The programme and active rules of `event`, from this process's cache when `version` is
    the one cached (None: the group has no programme)."""
    hit = _cache.get((group_id, event))
    if hit is not None and hit.version == version:
        return hit
    programme = Programme.objects.for_group(group_id).first()
    if programme is None:
        return None
    rules = tuple(
        EarningRule.objects.for_group(group_id)
        .filter(event=event, is_active=True)
        .select_related("campaign")
        .order_by("id")
    )
    fresh = Rules(
        programme.rules_version,
        programme,
        rules,
        {rule.pk: reason_columns(rule) for rule in rules},
    )
    with _cache_lock:
        _cache[(group_id, event)] = fresh
    return fresh


def invalidate(group_id: int) -> None:
    """The programme of `group_id` changed: bump its version (every process re-reads at its next
    earn) and drop this process's copies now."""
    Programme.objects.for_group(group_id).update(rules_version=F("rules_version") + 1)
    config_cache.changed(config_cache.LOYALTY)  # the programme and tiers the pages cache
    with _cache_lock:
        for k in [k for k in _cache if k[0] == group_id]:
            _cache.pop(k, None)


def programme_changed(instance: Any) -> None:
    """Called by the rules models' save() and delete() (models.RulesVersioned)."""
    invalidate(instance.dealer_group_id)
    if isinstance(instance, Programme) and instance.pk is not None:
        # a later save() of this instance must not write an older version back
        instance.rules_version = (
            Programme.objects.for_group(instance.dealer_group_id)
            .values_list("rules_version", flat=True)
            .first()
            or 0
        )


# --- the earn transaction ------------------------------------------------------------------------
def rule_points(rule: EarningRule, amount: Decimal, multiplier: Decimal) -> int:
    base = Decimal(rule.points) + (Decimal(amount) * rule.points_per_yuan).to_integral_value(
        ROUND_DOWN
    )
    return int((base * multiplier).to_integral_value(ROUND_DOWN))


def expiry(programme: Programme, now: dt.datetime) -> dt.datetime:
    return now + (add_months(now.date(), programme.expiry_months) - now.date())


def lock_member(group_id: int, customer_id: int) -> Member | None:
    """The member row, locked, with its tier and the programme's rules version (`_version`,
    None without a programme) in one statement."""
    version = Programme.objects.for_group(group_id).values("rules_version")[:1]
    member: Member | None = (
        Member.objects.for_group(group_id)
        .filter(customer_id=customer_id)
        .select_for_update(of=("self",))
        .select_related("tier")
        .annotate(_version=Subquery(version))
        .first()
    )
    return member


def insert_event(row: dict[str, Any]) -> int | None:
    """INSERT the member event unless its source was recorded before; its id, or None."""
    table = MemberEvent._meta.db_table
    columns = ", ".join(connection.ops.quote_name(c) for c in row)
    values = ", ".join(["%s"] * len(row))
    sql = (
        f"INSERT INTO {connection.ops.quote_name(table)} ({columns}) VALUES ({values}) "  # noqa: S608
        'ON CONFLICT ("dealer_group_id", "source") DO NOTHING RETURNING "id"'
    )
    params = [
        connection.ops.adapt_datetimefield_value(v)
        if isinstance(v, dt.datetime)
        else connection.ops.adapt_decimalfield_value(v, 12, 2)
        if isinstance(v, Decimal)
        else v
        for v in row.values()
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        got = cursor.fetchone()
    return got[0] if got else None


def capped_totals(
    member: Member, rules: tuple[EarningRule, ...], now: dt.datetime
) -> dict[int, tuple[int, int]]:
    """Points each capped rule already gave the member: {rule pk: (today, overall)}, in one
    aggregate (read under the member's lock, so parallel earns cannot both pass a cap)."""
    capped = [r.pk for r in rules if r.pk and (r.daily_cap is not None or r.total_cap is not None)]
    if not capped:
        return {}
    start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    rows = (
        LedgerEntry.objects.for_group(member.dealer_group_id)
        .filter(member=member, rule_id__in=capped)
        .order_by()
        .values("rule_id")
        .annotate(today=Sum("points", filter=Q(created_at__gte=start)), total=Sum("points"))
    )
    return {r["rule_id"]: (r["today"] or 0, r["total"] or 0) for r in rows}


def cap(rule: EarningRule, points: int, counted: tuple[int, int]) -> int:
    today, total = counted
    if rule.daily_cap is not None:
        points = min(points, max(rule.daily_cap - today, 0))
    if rule.total_cap is not None:
        points = min(points, max(rule.total_cap - total, 0))
    return points


# --- scheduling the follow-up --------------------------------------------------------------------
_scheduled_until = 0.0


def schedule_follow_up() -> None:
    """After an earn commits: make sure a follow-up batch runs soon. A process enqueues at most
    one (deferred) task per FOLLOW_UP_DELAY: a task already enqueued to run later picks up this
    event too. Backends that cannot defer get one task per commit (the batch may find nothing)."""
    global _scheduled_until
    from .tasks import follow_up_task

    task = follow_up_task
    if task.get_backend().supports_defer:
        now = time.monotonic()
        if now < _scheduled_until:
            return
        _scheduled_until = now + FOLLOW_UP_DELAY * 0.8  # margin: enqueue before the last one runs
        task = task.using(run_after=timezone.now() + dt.timedelta(seconds=FOLLOW_UP_DELAY))
    try:
        task.enqueue()
    except Exception:  # the periodic sweep catches up; the earn itself is committed
        _scheduled_until = 0.0
        logger.exception("Could not enqueue the loyalty follow-up")


# --- the batched follow-up -----------------------------------------------------------------------
def follow_up_pending(limit: int | None = None) -> int:
    """Apply the follow-up of every marked event (at most `limit`), in batches; returns how
    many. Safe to run any number of times, in parallel, and after a partial failure."""
    done = 0
    while limit is None or done < limit:
        n = follow_up_batch(
            FOLLOW_UP_BATCH if limit is None else min(FOLLOW_UP_BATCH, limit - done)
        )
        done += n
        if n == 0:
            break
    return done


def follow_up_batch(size: int = FOLLOW_UP_BATCH) -> int:
    from .services import follow_up_event

    with transaction.atomic():
        events = list(
            MemberEvent.objects.unscoped()
            .filter(follow_up=True)
            .select_for_update(skip_locked=connection.features.has_select_for_update_skip_locked)
            .order_by("id")[:size]
        )
        if not events:
            return 0
        members = {
            m.pk: m
            for m in Member.objects.unscoped()
            .select_related("tier", "customer")
            .filter(pk__in={e.member_id for e in events})
        }
        for event in events:  # oldest first: a member's tier moves in event order
            try:
                with transaction.atomic():  # one event that fails holds back no other
                    follow_up_event(members[event.member_id], event)
            except Exception:  # its points are in the ledger; only the follow-up is given up
                logger.exception("loyalty: the follow-up of event %s failed", event.pk)
        MemberEvent.objects.unscoped().filter(pk__in=[e.pk for e in events]).update(follow_up=False)
    return len(events)
