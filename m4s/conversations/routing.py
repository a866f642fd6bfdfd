"""Who a conversation is with.

Each time the owner writes and nothing waits on us yet, a new *wait round* starts and the
conversation is routed:

1. to the person already handling it (claimed or transferred to them), else the customer's own
   consultant for the topic (sales → sales consultant, service → service advisor, customer
   service → CS agent; "the store" has none and goes to the store's customer-service queue);
2. if that person is off duty (the roster, m4s.staff.selectors.on_duty; a store that keeps no
   roster that day counts its opening hours) the conversation is offered, unassigned, to the
   on-duty colleagues of the same role in the store (stage `team`), and if none is on duty to
   the store's customer-service queue (stage `cs_queue`). When nobody at all is on duty (the
   store is closed) it stays with the consultant: the first-response clock counts business
   minutes only, so it runs from the next opening.

The first-response target is counted in business minutes of the store with the one engine
(m4s.org.business_time): `first_response_minutes` for the consultant, then
`team_offer_minutes` for the on-duty team. The periodic scan `offer_overdue` (scan.py) moves an
unanswered conversation one stage when its clock runs out, exactly once per stage and round.
A staff answer (message, or a reached call) ends the round.
"""

import datetime as dt

from m4s.staff.models import StaffUser
from m4s.staff.selectors import on_duty

from ._common import add_minutes, settings_for, store_is_open
from .choices import QUEUE_ROLES, TOPIC_FIELD, TOPIC_ROLE, HandoverReason, Stage, Topic
from .models import Conversation, Handover


def consultant_of(customer, topic: str) -> StaffUser | None:
    """The customer's own person for the topic, when active."""
    field = TOPIC_FIELD.get(Topic(topic))
    person = getattr(customer, field, None) if field else None
    return person if person is not None and person.is_active else None


def _keeps_roster(store, at: dt.datetime) -> bool:
    from m4s.staff.models import Shift

    local = at.astimezone(store.tz)
    return (
        Shift.objects.for_group(store.dealer_group_id)
        .filter(store=store, date=local.date())
        .exists()
    )


def is_on_duty(person, store, at: dt.datetime) -> bool:
    """On the store's roster now; without a roster that day, the store being open."""
    if person is None or not person.is_active:
        return False
    if not _keeps_roster(store, at):
        return store_is_open(store, at)
    return any(p.pk == person.pk for p in on_duty(store, person.role, at))


def team_on_duty(store, topic: str, at: dt.datetime, *, exclude=None) -> list:
    """On-duty colleagues of the topic's role in the store (the consultant left out)."""
    people = on_duty(store, TOPIC_ROLE[Topic(topic)], at)
    return [p for p in people if exclude is None or p.pk != exclude.pk]


def queue_on_duty(store, at: dt.datetime) -> list:
    people: list = []
    for role in QUEUE_ROLES:
        people += on_duty(store, role, at)
    return people


def _handover(conv: Conversation, *, from_staff, to_staff, reason, stage, at, by=None, **kw):
    return Handover.objects.create(
        dealer_group_id=conv.dealer_group_id,
        conversation=conv,
        from_staff=from_staff,
        to_staff=to_staff,
        by_staff=by,
        reason=reason,
        stage=stage,
        wait_round=conv.wait_round,
        at=at,
        **kw,
    )


def begin_wait(conv: Conversation, now: dt.datetime) -> Handover | None:
    """A new wait round on a locked conversation (unsaved changes; the caller saves): route it
    and start its first-response clock. Returns the hand-over recorded, if any."""
    store = conv.store
    targets = settings_for(conv.dealer_group_id)
    before = (conv.assignee_id, conv.stage)
    conv.wait_round += 1
    conv.waiting_since = now
    current = conv.assignee if conv.assignee is not None and conv.assignee.is_active else None
    target = current or consultant_of(conv.customer, conv.topic)
    reason = HandoverReason.ROUTED
    if target is not None and is_on_duty(target, store, now):
        stage, assignee = Stage.CONSULTANT, target
    elif target is not None and team_on_duty(store, conv.topic, now, exclude=target):
        stage, assignee, reason = Stage.TEAM, None, HandoverReason.OFF_DUTY
    elif target is not None and queue_on_duty(store, now):
        stage, assignee, reason = Stage.CS_QUEUE, None, HandoverReason.OFF_DUTY
    elif target is not None:  # nobody on duty: the clock starts at the store's next opening
        stage, assignee = Stage.CONSULTANT, target
    else:  # nobody's own conversation ("the store", or no consultant): the CS queue
        stage, assignee = Stage.CS_QUEUE, None
    conv.stage, conv.assignee = stage, assignee
    if stage == Stage.CONSULTANT:
        conv.first_response_due_at = add_minutes(store, now, targets.first_response_minutes)
    elif stage == Stage.TEAM:
        conv.first_response_due_at = add_minutes(store, now, targets.team_offer_minutes)
    else:
        conv.first_response_due_at = None  # the last stage: nowhere further to offer it
    if (conv.assignee_id, conv.stage) == before:
        return None
    return _handover(
        conv,
        from_staff=target if assignee is None else None,
        to_staff=assignee,
        reason=reason,
        stage=stage,
        at=now,
    )


def offer_overdue(now: dt.datetime | None = None, batch_size: int | None = None) -> int:
    """The periodic scan (scan.py): every unanswered conversation whose stage clock ran out moves
    one stage on. Returns how many moved."""
    from .scan import offer_overdue as run

    kwargs = {"batch_size": batch_size} if batch_size else {}
    return run(now, **kwargs)
