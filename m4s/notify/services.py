"""Writes to the outbox and its delivery."""

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from m4s.core.errors import DomainError
from m4s.core.i18n import is_text, render
from m4s.core.retry import backoff, sweep_due

from .channels import CHANNELS
from .choices import Channel, Status
from .models import Message

if TYPE_CHECKING:  # models of other apps, for annotations only
    from m4s.customers.models import Customer
    from m4s.org.models import DealerGroup
    from m4s.owners.models import Owner
    from m4s.staff.models import StaffUser

logger = logging.getLogger("m4s.notify")
MAX_ATTEMPTS = 6


def send_message(
    *,
    channel: Channel,
    body: str | dict[str, Any],
    kind: str,
    owner: "Owner | None" = None,
    staff: "StaffUser | None" = None,
    to: str = "",
    subject: str | dict[str, Any] = "",
    link: str = "",
    group: "DealerGroup | int | None" = None,
    dedupe_key: str | None = None,
) -> Message:
    """Write a message to the outbox inside the caller's transaction; deliver it after commit.

    A message with a dedupe key that already exists is not written again: the existing one is
    returned, so retried business operations never double-notify.

    `subject` and `body` may be system text (`m4s.core.i18n.text(...)`): the row keeps them so
    the in-app inbox shows them in the reader's current language, and the subject/body columns
    get them rendered in the active language (the recipient's, for SMS and e-mail).
    """
    texts = {}
    if is_text(subject):
        texts["subject"], subject = subject, render(subject)
    if is_text(body):
        texts["body"], body = body, render(body)
    if channel not in Channel.values:
        raise DomainError(
            "invalid_channel", _("Unknown channel %(channel)r.") % {"channel": channel}
        )
    if channel == Channel.INAPP and owner is None and staff is None:
        raise DomainError("no_recipient", _("An in-app message needs an owner or a staff member."))
    if channel in (Channel.SMS, Channel.EMAIL) and not to:
        to = (owner.phone if channel == Channel.SMS else owner.email) if owner else ""
        if not to and staff is not None:
            to = staff.phone if channel == Channel.SMS else staff.email
        if not to:
            raise DomainError(
                "no_address", _("No address to send this %(channel)s to.") % {"channel": channel}
            )
    now = timezone.now()
    fields = dict(
        channel=channel,
        body=body,
        kind=kind,
        owner=owner,
        staff=staff,
        to_address=to,
        subject=subject,
        texts=texts,
        link=link,
        dealer_group_id=getattr(group, "pk", group),
        next_attempt_at=now,
        created_at=now,
    )
    if dedupe_key:
        existing = Message.objects.filter(dedupe_key=dedupe_key).first()
        if existing:
            return existing
        try:
            with transaction.atomic():
                message = Message.objects.create(dedupe_key=dedupe_key, **fields)
        except IntegrityError:
            return Message.objects.get(dedupe_key=dedupe_key)
    else:
        message = Message.objects.create(**fields)
    transaction.on_commit(lambda: enqueue_delivery(message.pk))
    return message


def tell_staff(
    staff_members: "Iterable[StaffUser | None]",
    kind: str,
    compose: Callable[[], tuple[Any, Any]],
    *,
    group_id: int,
    link: str = "",
    dedupe: "str | Callable[[Any], str] | None" = None,
) -> list[Message]:
    """One in-app message to each staff member, composed by `compose() -> (title, body)` in
    that person's language (strings, or `m4s.core.i18n.text` kept as source text + params so
    the console inbox re-renders them in the reader's language). `dedupe` is a key that gets
    `:<staff pk>` appended per person, or a callable `person -> key` (a full per-person key),
    or None (no dedupe). Each person is told once even if listed twice."""
    sent: list[Message] = []
    seen: set[int] = set()
    for person in staff_members:
        if person is None or person.pk in seen:
            continue
        seen.add(person.pk)
        key = dedupe(person) if callable(dedupe) else (f"{dedupe}:{person.pk}" if dedupe else None)
        with translation.override(person.language or settings.LANGUAGE_CODE):
            title, body = compose()
            sent.append(
                send_message(
                    channel=Channel.INAPP,
                    staff=person,
                    group=group_id,
                    kind=kind,
                    subject=title,
                    body=body or "",
                    link=link,
                    dedupe_key=key,
                )
            )
    return sent


def on_duty_staff(store: Any, roles: Sequence[str], *, at: datetime | None = None) -> list[Any]:
    """Who of these roles is on duty at a store now (from the roster, role by role in the order
    given); if nobody is, the store's active staff of those roles. No store, nobody."""
    from m4s.staff.models import StaffUser
    from m4s.staff.selectors import on_duty

    if store is None:
        return []
    at = at or timezone.now()
    staff: list[Any] = []
    for role in roles:
        staff += list(on_duty(store, role, at))
    if not staff:
        staff = list(StaffUser.objects.filter(stores=store, is_active=True, role__in=list(roles)))
    return staff


def tell_on_duty(
    store: Any,
    roles: Sequence[str],
    kind: str,
    compose: Callable[[], tuple[Any, Any]],
    *,
    link: str = "",
    dedupe: "str | Callable[[Any], str] | None" = None,
    at: datetime | None = None,
) -> list[Message]:
    """`tell_staff` to the staff of `roles` on duty at `store` (see `on_duty_staff`)."""
    if store is None:
        return []
    return tell_staff(
        on_duty_staff(store, roles, at=at),
        kind,
        compose,
        group_id=store.dealer_group_id,
        link=link,
        dedupe=dedupe,
    )


def tell_customer(
    customer: "Customer | None",
    kind: str,
    compose: Callable[[], tuple[Any, Any]],
    *,
    dedupe: str,
    sms: bool = False,
    link: str = "",
) -> None:
    """An in-app message (and an SMS if asked) to a dealer's customer, composed by
    `compose() -> (title, body)` in their own language (strings, or `m4s.core.i18n.text` that
    the inbox re-renders in the reader's language when shown). A customer who never signed in to
    the app gets the SMS only; no customer, no message. Deduplicated per `dedupe` and channel."""
    if customer is None:
        return
    owner = customer.owner
    with translation.override(getattr(owner, "language", None) or settings.LANGUAGE_CODE):
        title, body = compose()
        if owner is not None:
            send_message(
                channel=Channel.INAPP,
                owner=owner,
                group=customer.dealer_group_id,
                kind=kind,
                subject=title,
                body=body,
                link=link,
                dedupe_key=f"{dedupe}:inapp",
            )
        if sms or owner is None:
            send_message(
                channel=Channel.SMS,
                to=customer.phone,
                owner=owner,
                group=customer.dealer_group_id,
                kind=kind,
                body=f"{render(title)}: {render(body)}",
                dedupe_key=f"{dedupe}:sms",
            )


def enqueue_delivery(message_id: int, run_after: datetime | None = None) -> None:
    from .tasks import deliver_message_task

    task = deliver_message_task
    if run_after is not None and task.get_backend().supports_defer:
        task = task.using(run_after=run_after)
    elif run_after is not None:
        return  # this backend cannot defer; the periodic sweep delivers it when due
    task.enqueue(message_id)


def deliver_message(message_id: int) -> str:
    """Deliver one outbox message; safe to call any number of times or from parallel workers:
    the conditional claim lets one call send and the rest skip. The one case that can send twice
    is a worker dying after the gateway accepted the message and before it was marked sent: the
    sweep retries it after STALE_CLAIM, with the same per-message reference so a gateway that
    supports idempotency drops the duplicate (at least once, never lost)."""
    now = timezone.now()
    claimed = Message.objects.filter(
        pk=message_id, status__in=[Status.PENDING, Status.RETRY], next_attempt_at__lte=now
    ).update(status=Status.SENDING, attempts=F("attempts") + 1, claimed_at=now)
    if not claimed:
        return "skipped"
    message = Message.objects.select_related("owner").get(pk=message_id)
    try:
        CHANNELS[message.channel](message)
    except Exception as exc:  # any gateway failure: record it, back off, retry
        logger.warning(
            "Delivery of message %s failed (attempt %s): %s", message.pk, message.attempts, exc
        )
        error = f"{type(exc).__name__}: {exc}"[:2000]
        if message.attempts >= MAX_ATTEMPTS:
            Message.objects.filter(pk=message.pk).update(status=Status.FAILED, last_error=error)
            return "failed"
        next_at = timezone.now() + backoff(message.attempts)
        Message.objects.filter(pk=message.pk).update(
            status=Status.RETRY, last_error=error, next_attempt_at=next_at
        )
        enqueue_delivery(message.pk, run_after=next_at)
        return "retry"
    Message.objects.filter(pk=message.pk, status=Status.SENDING).update(
        status=Status.SENT, sent_at=timezone.now()
    )
    return "sent"


def sweep_outbox(limit: int = 500) -> int:
    """Periodic: requeue messages that are due but not queued (a crash between commit and
    enqueue, a backend that cannot defer) and release claims left by a crashed worker."""
    return sweep_due(
        Message.objects.all(),
        running=Status.SENDING,
        retry=Status.RETRY,
        pending=Status.PENDING,
        enqueue=enqueue_delivery,
        limit=limit,
    )


def mark_read(
    *, message_id: int, owner: "Owner | None" = None, staff: "StaffUser | None" = None
) -> Message:
    qs = Message.objects.filter(pk=message_id, channel=Channel.INAPP, status=Status.SENT)
    qs = qs.filter(owner=owner) if owner is not None else qs.filter(staff=staff)
    message = qs.first()
    if message is None:
        raise Http404(_("No such message."))
    if message.read_at is None:
        message.read_at = timezone.now()
        Message.objects.filter(pk=message.pk, read_at__isnull=True).update(read_at=message.read_at)
    return message


def mark_all_read(*, owner: "Owner | None" = None, staff: "StaffUser | None" = None) -> int:
    qs = Message.objects.filter(channel=Channel.INAPP, status=Status.SENT, read_at__isnull=True)
    qs = qs.filter(owner=owner) if owner is not None else qs.filter(staff=staff)
    return qs.update(read_at=timezone.now())
