"""Writes to the outbox and its delivery."""

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from m4s.core.errors import DomainError
from m4s.core.retry import backoff, sweep_due

from . import channels, policy
from .choices import Category, Channel, Status
from .models import ContactDecision, Message, Unsubscribe
from .outbox import enqueue_delivery, write_message

if TYPE_CHECKING:  # models of other apps, for annotations only
    from m4s.customers.models import Customer
    from m4s.org.models import DealerGroup
    from m4s.owners.models import Owner
    from m4s.staff.models import StaffUser

logger = logging.getLogger("m4s.notify")
MAX_ATTEMPTS = 6


def send_message(
    *,
    channel: Channel | str,
    body: str | dict[str, Any],
    kind: str,
    owner: "Owner | None" = None,
    staff: "StaffUser | None" = None,
    to: str = "",
    subject: str | dict[str, Any] = "",
    link: str = "",
    group: "DealerGroup | int | None" = None,
    dedupe_key: str | None = None,
    category: str | None = None,
) -> Message | None:
    """Write a message to the outbox inside the caller's transaction; deliver it after commit.

    A message to an owner (or any message of a category that needs one: care, marketing) first
    passes the contact policy (m4s/notify/policy.py) with the category of its kind: it may be
    held until the owner's quiet hours end, or dropped (None is returned; the decision is
    recorded). Staff messages go straight to the outbox.

    A message with a dedupe key that already exists is not written again: the existing one is
    returned, so retried business operations never double-notify.

    `subject` and `body` may be system text (`m4s.core.i18n.text(...)`): the row keeps them so
    the in-app inbox shows them in the reader's current language, and the subject/body columns
    get them rendered in the active language (the recipient's, for SMS and e-mail).
    """
    if channel not in Channel.values:
        raise DomainError(
            "invalid_channel", _("Unknown channel %(channel)r.") % {"channel": channel}
        )
    category = category or policy.category_for(kind)
    if staff is None and (owner is not None or category in policy.CAPPED):
        decisions = policy.contact(
            owner=owner,
            category=category,
            kind=kind,
            compose=lambda: (subject, body),
            reason=dedupe_key or "",
            link=link,
            group=group,
            channels=[channel],
            to=to,
            dedupe_key=dedupe_key,
        )
        return decisions[0].message if decisions else None
    return write_message(
        channel=channel,
        body=body,
        kind=kind,
        owner=owner,
        staff=staff,
        to=to,
        subject=subject,
        link=link,
        group=group,
        dedupe_key=dedupe_key,
        category=category if staff is None else "",
    )


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
                write_message(
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
    category: str | None = None,
    cycle: str = "",
) -> list[ContactDecision]:
    """A message to a dealer's customer through the contact policy (m4s/notify/policy.py),
    composed by `compose() -> (title, body)` in their own language (strings, or
    `m4s.core.i18n.text` that the inbox re-renders in the reader's language when shown): the
    in-app inbox, and when `sms` is asked (always for care and marketing) the owner's first
    reachable outside channel in their order. A customer who never signed in to the app gets an
    SMS only; no customer, no message. Deduplicated per `dedupe` (+ `cycle`) and channel."""
    if customer is None:
        return []
    category = category or policy.category_for(kind)
    return policy.contact(
        customer=customer,
        category=category,
        kind=kind,
        compose=compose,
        reason=dedupe,
        cycle=cycle,
        link=link,
        external=True if sms else None,
    )


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
    if message.owner_id is not None and message.category and not policy.still_allowed(message):
        # held through quiet hours, and the owner switched this off meanwhile: not sent
        Message.objects.filter(pk=message.pk).update(status=Status.DROPPED)
        return "dropped"
    try:
        reference = channels.deliver(message)
    except channels.Undeliverable as exc:
        logger.warning("Message %s cannot be delivered: %s", message.pk, exc)
        Message.objects.filter(pk=message.pk).update(
            status=Status.FAILED, last_error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        return "failed"
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
        status=Status.SENT, sent_at=timezone.now(), provider_ref=(reference or "")[:100]
    )
    return "sent"


def deliver_messages(message_ids: list[int]) -> dict[str, int]:
    """Deliver several outbox messages, one after the other (each claimed on its own, so this
    is as safe to repeat as `deliver_message`); returns how many ended which way."""
    outcomes: dict[str, int] = {}
    for message_id in message_ids:
        outcome = deliver_message(message_id)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


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


# --- the owner's notification settings -------------------------------------------------------
def switch_category(
    owner: "Owner", category: str, *, enabled: bool, source: str, group_id: int | None = None
) -> "Owner":
    """Switch one category of messages on or off for an owner (transactional ones cannot be
    switched off). Switching marketing off also withdraws the marketing consent (recorded)."""
    from m4s.owners.models import Owner as OwnerModel
    from m4s.owners.services import update_owner_profile

    if category not in [c.value for c in policy.UNSUBSCRIBABLE]:
        raise DomainError(
            "invalid_category",
            _("Messages of this kind cannot be switched off."),
        )
    with transaction.atomic():
        locked = OwnerModel.objects.select_for_update().get(pk=owner.pk)
        prefs = dict(locked.notification_prefs or {})
        entry = dict(prefs.get(category) or {})
        was = bool(entry.get("enabled", True))
        entry["enabled"] = enabled
        prefs[category] = entry
        locked.notification_prefs = prefs
        locked.save(update_fields=["notification_prefs"])
        if was and not enabled:
            Unsubscribe.objects.create(
                owner=locked,
                dealer_group_id=group_id,
                category=category,
                source=source,
                at=timezone.now(),
            )
        if category == Category.MARKETING and not enabled and locked.marketing_consent:
            locked = update_owner_profile(locked, {"marketing_consent": False}, source=source)
    return locked


def unsubscribe_by_token(token: str) -> tuple["Owner", str]:
    """The one-tap link: switch the category it names off for the owner it names. A forged,
    damaged or stale (closed account) link changes nothing and is a 404."""
    from m4s.owners.models import Owner as OwnerModel

    parsed = policy.read_unsubscribe_token(token)
    owner = OwnerModel.objects.filter(pk=parsed[0], is_active=True).first() if parsed else None
    if parsed is None or owner is None:
        raise DomainError("invalid_link", _("This unsubscribe link is not valid."), status=404)
    _owner_id, category, group_id = parsed
    return switch_category(
        owner, category, enabled=False, source="link", group_id=group_id
    ), category


OPENID_RE = re.compile(r"^[A-Za-z0-9_-]{6,64}$")


@transaction.atomic
def bind_wechat_openid(owner: "Owner", openid: str, *, source: str) -> "Owner":
    """Bind (or with "" unbind) the owner's WeChat openid with the dealer's official account:
    from the owner's OAuth hand-shake in WeChat ("oauth") or by staff ("staff"). A WeChat account
    belongs to one owner: bound to another owner before, it moves here."""
    from m4s.owners.models import Owner as OwnerModel

    openid = (openid or "").strip()
    if openid and not OPENID_RE.match(openid):
        raise DomainError("invalid_openid", _("This is not a WeChat openid."))
    if openid:
        OwnerModel.objects.filter(wechat_openid=openid).exclude(pk=owner.pk).update(
            wechat_openid=""
        )
    OwnerModel.objects.filter(pk=owner.pk).update(wechat_openid=openid)
    owner.wechat_openid = openid
    logger.info(
        "WeChat openid %s for owner %s (%s)", "bound" if openid else "unbound", owner.pk, source
    )
    return owner
