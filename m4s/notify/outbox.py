"""Writing one row to the outbox and queueing its delivery. Below the contact policy: only
`policy.py` and `services.py` call this (everything else goes through `services.send_message`,
which passes the policy first)."""

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from m4s.core.errors import DomainError
from m4s.core.i18n import is_text, render

from . import live
from .choices import Channel
from .models import Message

if TYPE_CHECKING:  # models of other apps, for annotations only
    from m4s.org.models import DealerGroup
    from m4s.owners.models import Owner
    from m4s.staff.models import StaffUser


def address_for(channel: str, owner: "Owner | None", staff: "StaffUser | None" = None) -> str:
    """The phone or e-mail address an SMS or e-mail goes to (empty: none known)."""
    to = ""
    if owner is not None:
        to = owner.phone if channel == Channel.SMS else owner.email
    if not to and staff is not None:
        to = staff.phone if channel == Channel.SMS else staff.email
    return to or ""


def prepare_message(
    *,
    channel: str,
    body: str | dict[str, Any],
    kind: str,
    owner: "Owner | None" = None,
    staff: "StaffUser | None" = None,
    to: str = "",
    subject: str | dict[str, Any] = "",
    link: str = "",
    group: "DealerGroup | int | None" = None,
    dedupe_key: str | None = None,
    category: str = "",
    not_before: datetime | None = None,
) -> Message:
    """An outbox row, checked and rendered in the active language, not yet saved."""
    texts: dict[str, Any] = {}
    if is_text(subject):
        texts["subject"] = subject
    if is_text(body):
        texts["body"] = body
    subject_text = render(subject) if is_text(subject) else str(subject or "")
    body_text = render(body) if is_text(body) else str(body or "")
    if channel not in Channel.values:
        raise DomainError(
            "invalid_channel", _("Unknown channel %(channel)r.") % {"channel": channel}
        )
    if channel == Channel.INAPP and owner is None and staff is None:
        raise DomainError("no_recipient", _("An in-app message needs an owner or a staff member."))
    if channel in (Channel.PUSH, Channel.WECHAT) and owner is None:
        raise DomainError("no_recipient", _("This channel needs an owner."))
    if channel in (Channel.SMS, Channel.EMAIL) and not to:
        to = address_for(channel, owner, staff)
        if not to:
            raise DomainError(
                "no_address", _("No address to send this %(channel)s to.") % {"channel": channel}
            )
    now = timezone.now()
    group_id = group if group is None or isinstance(group, int) else group.pk
    return Message(
        channel=channel,
        body=body_text,
        kind=kind,
        owner=owner,
        staff=staff,
        to_address=to,
        subject=subject_text,
        texts=texts,
        link=link,
        category=category,
        dealer_group_id=group_id,
        dedupe_key=dedupe_key or None,
        next_attempt_at=max(now, not_before) if not_before else now,
        created_at=now,
    )


def deliver_after_commit(message: Message) -> None:
    """Queue a freshly written message's delivery once the transaction commits (deferred to its
    next_attempt_at when that lies ahead: quiet hours)."""
    run_after = message.next_attempt_at if message.next_attempt_at > message.created_at else None
    transaction.on_commit(lambda: enqueue_delivery(message.pk, run_after=run_after))


DELIVERY_BATCH = 500  # messages per delivery task when a batch is handed off at once


def deliver_many_after_commit(messages: list[Message]) -> None:
    """Queue the delivery of many freshly written messages once the transaction commits: one
    task per DELIVERY_BATCH messages due at the same moment (a care scan hands off thousands at
    once; a task each was most of its time). Each message is still claimed on its own, so a
    message in two tasks, or a task run twice, is sent once."""
    due: dict[datetime | None, list[int]] = {}
    for m in messages:
        run_after = m.next_attempt_at if m.next_attempt_at > m.created_at else None
        due.setdefault(run_after, []).append(m.pk)
    if not due:
        return

    def enqueue() -> None:
        for run_after, ids in due.items():
            for i in range(0, len(ids), DELIVERY_BATCH):
                enqueue_deliveries(ids[i : i + DELIVERY_BATCH], run_after=run_after)

    transaction.on_commit(enqueue)


def write_message(**kwargs: Any) -> Message:
    """Write a message to the outbox inside the caller's transaction; deliver it after commit
    (at `not_before` when given: quiet hours). An existing dedupe key returns that message.
    Arguments: those of `prepare_message`."""
    message = prepare_message(**kwargs)
    key = message.dedupe_key
    if key:
        existing = Message.objects.filter(dedupe_key=key).first()
        if existing:
            return existing
        try:
            with transaction.atomic():
                message.save(force_insert=True)
        except IntegrityError:
            return Message.objects.get(dedupe_key=key)
    else:
        message.save(force_insert=True)
    deliver_after_commit(message)
    if message.staff_id and message.channel == Channel.INAPP and message.dealer_group_id:
        # the person's open console pages hear of it at once (m4s/notify/live.py)
        live.publish(
            message.dealer_group_id,
            "notice",
            {"id": message.pk, "about": message.kind, "link": message.link},
            staff_id=message.staff_id,
        )
    return message


def enqueue_delivery(message_id: int, run_after: datetime | None = None) -> None:
    from .tasks import deliver_message_task

    task = deliver_message_task
    if run_after is not None and task.get_backend().supports_defer:
        task = task.using(run_after=run_after)
    elif run_after is not None:
        return  # this backend cannot defer; the periodic sweep delivers it when due
    task.enqueue(message_id)


def enqueue_deliveries(message_ids: list[int], run_after: datetime | None = None) -> None:
    """One task delivering several messages (see `deliver_many_after_commit`)."""
    if len(message_ids) == 1:
        enqueue_delivery(message_ids[0], run_after=run_after)
        return
    from .tasks import deliver_messages_task

    task = deliver_messages_task
    if run_after is not None and task.get_backend().supports_defer:
        task = task.using(run_after=run_after)
    elif run_after is not None:
        return  # this backend cannot defer; the periodic sweep delivers them when due
    task.enqueue(list(message_ids))
