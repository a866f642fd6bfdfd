"""The scan's hand-off: the reminders it wrote, not yet handed over, go to the contact policy
in batches (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so two workers share them without overlap),
each batch in one `contact_many`, then marked sent in one statement."""

import datetime as dt
import functools
import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from .choices import HANDOFF_BATCH, MARKETING_KINDS, TELEMATICS_KINDS, Kind, Status
from .models import Reminder
from .scan import T_REMINDER, _execute

log = logging.getLogger(__name__)


def hand_off(
    *, now: dt.datetime | None = None, batch_size: int = HANDOFF_BATCH, kinds=None
) -> dict[str, int]:
    """Give every reminder not yet handed over to the contact policy, in batches; each batch in
    one transaction with its rows locked (skipped by another worker)."""
    now = now or timezone.now()
    handed = 0
    decided: dict[str, int] = {}
    while True:
        with transaction.atomic():
            qs = Reminder.objects.unscoped().filter(sent_at__isnull=True, status=Status.DUE)
            if kinds:
                qs = qs.filter(kind__in=list(kinds))
            rows = list(
                qs.select_for_update(skip_locked=True, of=("self",))
                .select_related("customer__owner")
                .order_by("id")[:batch_size]
            )
            if not rows:
                break
            for outcome, n in _contact_batch(rows, now).items():
                decided[outcome] = decided.get(outcome, 0) + n
            handed += len(rows)
    return {"handed": handed, **decided}


def reason_of(r: Reminder) -> str:
    """What a reminder is about, for the policy's dedupe: unique across customers (the outbox's
    dedupe key is built from it)."""
    return f"care:{r.kind}:{r.customer_id}:{r.target_ref}"


def _request(r: Reminder, rule: Any, now: dt.datetime) -> dict[str, Any]:
    from . import services

    category = "marketing" if r.kind in MARKETING_KINDS else "care"
    return {
        "owner": r.customer.owner,
        "customer": r.customer,
        "category": category,
        "kind": f"care.{r.kind}" if category == "care" else f"greeting.{r.kind}",
        "compose": functools.partial(services.compose_for, r, rule),
        "reason": reason_of(r),
        "cycle": r.cycle + (f"/s{r.snoozed_until.isoformat()}" if r.snoozed_until else ""),
        "link": r.action_url,
        "group": r.dealer_group_id,
        "requires_telematics": r.kind in TELEMATICS_KINDS,
    }


def _count(outcomes: dict[str, int], decisions) -> None:
    for d in decisions:
        key = f"{d.outcome}:{d.why}" if d.why else str(d.outcome)
        outcomes[key] = outcomes.get(key, 0) + 1


def _contact_batch(rows: list[Reminder], now: dt.datetime) -> dict[str, int]:
    """The batch's gifts issued and links set, then one `contact_many` for all of it (the policy
    reads and writes a batch in a handful of queries); should that fail, one `contact` per
    reminder, so that one bad reminder holds back no other."""
    from m4s.notify.policy import contact, contact_many

    from . import services
    from .models import ReminderRule

    group_ids = {r.dealer_group_id for r in rows}
    rules = {
        (r.dealer_group_id, r.kind): r
        for r in ReminderRule.objects.unscoped().filter(dealer_group_id__in=group_ids)
    }
    greeting_coupons = services.greeting_coupons(rows)
    outcomes: dict[str, int] = {}
    for r in rows:
        r.payload = r.payload if isinstance(r.payload, dict) else {}
        coupon = greeting_coupons.get(r.pk)
        if coupon is not None:
            try:
                with transaction.atomic():
                    services.attach_coupon(r, coupon, now)
            except Exception:  # the greeting goes without its gift
                log.exception("care: no coupon for reminder %s", r.pk)
        r.action_url = r.action_url or services.link_for(r)
    requests = [_request(r, rules.get((r.dealer_group_id, r.kind)), now) for r in rows]
    try:
        with transaction.atomic():
            for decisions in contact_many(requests, at=now):
                _count(outcomes, decisions)
    except Exception:
        log.exception("care: contacting a batch failed; one at a time")
        outcomes.clear()
        for r, kw in zip(rows, requests, strict=True):
            try:
                with transaction.atomic():
                    _count(outcomes, contact(at=now, **kw))
            except Exception:  # logged; the reminder stays in the owner's list
                log.exception("care: contacting for reminder %s failed", r.pk)
                outcomes["error"] = outcomes.get("error", 0) + 1
    _mark_sent(rows, now)
    _mark_chain_sent(rows, now)
    return outcomes


def _mark_sent(rows: list[Reminder], now: dt.datetime) -> None:
    """The batch handed over: one UPDATE … FROM (VALUES …) for status, time and link (the
    payload of the few that got a gift coupon written one by one)."""
    for r in rows:
        r.sent_at, r.status = now, Status.SENT
    values = ", ".join(["(CAST(%s AS BIGINT), CAST(%s AS TEXT))"] * len(rows))
    params: list[Any] = []
    for r in rows:
        params += [r.pk, r.action_url]
    params.append(now)
    _execute(
        f"WITH v (id, url) AS (VALUES {values}) "  # noqa: S608
        f"UPDATE {T_REMINDER} SET sent_at = %s, status = '{Status.SENT}', action_url = v.url "
        f"FROM v WHERE {T_REMINDER}.id = v.id",
        params,
    )
    for r in rows:
        if (r.payload or {}).get("coupon_code"):
            Reminder.objects.unscoped().filter(pk=r.pk).update(payload=r.payload)


def _mark_chain_sent(rows: list[Reminder], now: dt.datetime) -> None:
    """The telematics chain's own row of a maintenance reminder is stamped sent too."""
    from django.db.models import Q

    from m4s.telematics.models import MaintenanceReminder

    q = Q()
    groups: set[int] = set()
    for r in rows:
        if r.kind != Kind.MAINTENANCE or not r.vehicle_id:
            continue
        item_id = (r.payload or {}).get("item_id")
        if item_id is None:
            continue
        q |= Q(vehicle_id=r.vehicle_id, item_id=item_id, cycle=r.cycle.rsplit("/", 1)[0])
        groups.add(r.dealer_group_id)
    if groups:
        MaintenanceReminder.objects.unscoped().filter(q, sent_at__isnull=True).update(sent_at=now)
