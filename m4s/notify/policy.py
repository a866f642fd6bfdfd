"""The one contact policy: every message to an owner (or to a dealer's customer who has no app
account) passes here, whatever area sends it.

`contact(...)` decides, per channel, whether a message is sent now, held until the owner's quiet
hours end, or dropped, records each decision (`ContactDecision`, shown on the customer 360) and
writes the messages it allows to the outbox. The rules, in order:

1. an owner account closed: dropped;
2. consent: marketing needs the owner's marketing consent; a message built on vehicle data
   (`requires_telematics`) needs the telematics consent;
3. unsubscribe: the owner switched the category off (settings page, one-tap signed link);
   transactional messages (sign-in codes, safety alerts) cannot be switched off;
4. dedupe: one delivery per owner, reason and cycle (and channel): the same reminder for the same
   due date is never sent twice, however often a scan runs or how many workers run it;
5. frequency cap: care and marketing messages together at most N per D days per owner and dealer
   group (`ContactRules`, default settings.CONTACT_CAP_COUNT / CONTACT_CAP_DAYS); transactional
   and service messages are never capped;
6. channels: the in-app inbox always; plus the first channel in the owner's order (also allowed
   for this category) that can reach them (web push with a live subscription, WeChat with a
   bound openid, SMS, e-mail) - for care and marketing always, for service messages when the
   sender asks for it (the old `sms=True`);
7. quiet hours, read in the owner's time zone (a window may cross midnight): messages other
   than transactional ones on channels that disturb (everything but the inbox) are held - the
   outbox delivers them when the quiet hours end; never dropped.
"""

import datetime as dt
import hashlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone, translation

from m4s.core.i18n import render
from m4s.owners.selectors import quiet_hours_end

from .choices import Category, Channel, Outcome, Why
from .models import ContactDecision, ContactRules, PushSubscription
from .outbox import address_for, write_message

if TYPE_CHECKING:  # models of other apps, for annotations only
    from m4s.org.models import DealerGroup
    from m4s.owners.models import Owner

__all__ = [
    "CAPPED",
    "Category",
    "ContactDecision",
    "category_for",
    "channel_order",
    "contact",
    "register_kind",
    "unsubscribe_url",
]

CAPPED = frozenset({Category.CARE.value, Category.MARKETING.value})
UNSUBSCRIBABLE = (Category.SERVICE, Category.CARE, Category.MARKETING)
DISTURBING = frozenset(
    {Channel.SMS.value, Channel.EMAIL.value, Channel.PUSH.value, Channel.WECHAT.value}
)
UNSUBSCRIBE_SALT = "m4s.notify.unsubscribe"

# --- message kind -> category ----------------------------------------------------------------
# Exact kinds first, then the longest matching prefix ending in "."; unknown kinds are service.
KIND_CATEGORIES: dict[str, str] = {
    "otp": Category.TRANSACTIONAL,
    "rescue.": Category.TRANSACTIONAL,
    "car.crash": Category.TRANSACTIONAL,
    "car.rollover": Category.TRANSACTIONAL,
    "car.theft": Category.TRANSACTIONAL,
    "car.movement": Category.TRANSACTIONAL,
    "car.tow": Category.TRANSACTIONAL,
    "car.sos": Category.TRANSACTIONAL,
    "car.power_cut": Category.TRANSACTIONAL,
    "car.ignition": Category.TRANSACTIONAL,
    "car.door": Category.TRANSACTIONAL,
    "car.geofence": Category.TRANSACTIONAL,
    "car.": Category.SERVICE,
    "service.": Category.SERVICE,
    "complaint": Category.SERVICE,
    "transfer": Category.SERVICE,
    "welcome": Category.SERVICE,
    "loyalty.": Category.SERVICE,
    "care.": Category.CARE,
    "marketing.": Category.MARKETING,
    "greeting.": Category.MARKETING,
}


def register_kind(kind: str, category: str) -> None:
    """Name the category of a message kind (or of every kind under a prefix ending in ".")."""
    KIND_CATEGORIES[kind] = Category(category).value


def category_for(kind: str) -> str:
    """The category of a message kind (see KIND_CATEGORIES); unknown kinds are service."""
    if kind in KIND_CATEGORIES:
        return str(KIND_CATEGORIES[kind])
    best = ""
    for prefix in KIND_CATEGORIES:
        if prefix.endswith(".") and kind.startswith(prefix) and len(prefix) > len(best):
            best = prefix
    return str(KIND_CATEGORIES[best]) if best else Category.SERVICE.value


# --- the owner's settings --------------------------------------------------------------------
def category_enabled(owner: "Owner | None", category: str) -> bool:
    if owner is None or category == Category.TRANSACTIONAL:
        return True
    prefs = (owner.notification_prefs or {}).get(category) or {}
    return bool(prefs.get("enabled", True))


def channel_order(owner: "Owner", category: str) -> list[str]:
    """The owner's channels in their order, those allowed for this category; in-app first."""
    order = [c for c in (owner.channels or []) if c in Channel.values]
    prefs = (owner.notification_prefs or {}).get(category) or {}
    allowed = prefs.get("channels")
    if category != Category.TRANSACTIONAL and isinstance(allowed, list):
        order = [c for c in order if c in allowed]
    return [Channel.INAPP.value] + [c for c in order if c != Channel.INAPP]


def channel_allowed(owner: "Owner", category: str, channel: str) -> bool:
    """Whether the owner lets this category use this channel (the settings page's switches; the
    inbox and transactional messages always)."""
    if channel == Channel.INAPP or category == Category.TRANSACTIONAL:
        return True
    allowed = ((owner.notification_prefs or {}).get(category) or {}).get("channels")
    return not isinstance(allowed, list) or channel in allowed


def reachable(owner: "Owner", channel: str) -> bool:
    """Whether a message on this channel can reach the owner now."""
    if channel == Channel.INAPP:
        return True
    if channel in (Channel.SMS, Channel.EMAIL):
        return bool(address_for(channel, owner))
    if channel == Channel.PUSH:
        return bool(settings.WEBPUSH_ENABLED) and (
            PushSubscription.objects.filter(owner=owner, gone_at__isnull=True).exists()
        )
    if channel == Channel.WECHAT:
        return bool(settings.WECHAT_ENABLED and owner.wechat_openid)
    return False


def cap_for(group_id: int | None) -> tuple[int, int]:
    """(messages at most, per days) for a dealer group's capped categories."""
    rules = ContactRules.objects.filter(dealer_group_id=group_id).first() if group_id else None
    if rules is not None:
        return rules.cap_count, rules.cap_days
    return settings.CONTACT_CAP_COUNT, settings.CONTACT_CAP_DAYS


# --- the decision ----------------------------------------------------------------------------
@dataclass
class _Who:
    owner: "Owner | None"
    customer_id: int | None
    group_id: int | None
    phone: str
    language: str
    # an app-less customer's consents as the store recorded them (an owner's own rule otherwise)
    marketing_consent: bool = False
    telematics_consent: bool = False

    def mine(self) -> "QuerySet[ContactDecision]":
        """ContactDecision rows of this recipient."""
        if self.owner is not None:
            return ContactDecision.objects.filter(owner=self.owner)
        return ContactDecision.objects.filter(owner__isnull=True, customer_id=self.customer_id)


def _who(owner: "Owner | None", customer: Any, group: "DealerGroup | int | None") -> _Who:
    if owner is None and customer is not None:
        owner = customer.owner
    group_id = group if group is None or isinstance(group, int) else group.pk
    if group_id is None and customer is not None:
        group_id = customer.dealer_group_id
    return _Who(
        owner=owner,
        customer_id=customer.pk if customer is not None else None,
        group_id=group_id,
        phone=(customer.phone if customer is not None else "") or "",
        language=(owner.language if owner is not None else "") or settings.LANGUAGE_CODE,
        marketing_consent=bool(getattr(customer, "marketing_consent", False)),
        telematics_consent=bool(getattr(customer, "telematics_consent", False)),
    )


def _message_key(reason: str, cycle: str, channel: str) -> str | None:
    if not reason:
        return None
    key = f"{reason}:{cycle}:{channel}" if cycle else f"{reason}:{channel}"
    if len(key) > 160:
        key = "h:" + hashlib.sha256(key.encode()).hexdigest()
    return key


def contact(
    *,
    owner: "Owner | None" = None,
    customer: Any = None,
    category: str,
    kind: str,
    compose: Callable[[], tuple[Any, Any]],
    reason: str,
    cycle: str = "",
    link: str = "",
    group: "DealerGroup | int | None" = None,
    requires_telematics: bool = False,
    at: dt.datetime | None = None,
    external: bool | None = None,
    channels: Sequence[str] | None = None,
    to: str = "",
    dedupe_key: str | None = None,
) -> list[ContactDecision]:
    """Decide and send one message to an owner (`owner`, or the app account of `customer`) or
    to a dealer's customer without an app account (SMS to `customer.phone`).

    `compose() -> (title, body)` is called in the recipient's language (strings or
    `m4s.core.i18n.text(...)`). `reason` + `cycle` identify what the message is about for the
    dedupe (e.g. `care:maintenance:123`, `2026-05-01`). `external`: also send on the owner's first
    reachable outside channel (default: yes for care and marketing). `channels` names the exact
    channels instead (what `send_message` does; `to` and `dedupe_key` then apply as given).

    Returns one decision per channel (one dropped decision when the message is refused as a
    whole); for a duplicate, the earlier decisions, nothing new written. Runs in the caller's
    transaction."""
    category = Category(category).value
    at = at or timezone.now()
    who = _who(owner, customer, group)
    if who.owner is None and who.customer_id is None and not to:
        return []
    run = uuid.uuid4().hex
    base = dict(
        dealer_group_id=who.group_id,
        owner=who.owner,
        customer_id=who.customer_id,
        contact=run,
        category=category,
        kind=kind[:40],
        reason=reason[:160],
        cycle=cycle[:40],
    )
    recorded: list[ContactDecision] = []

    def record(channel: str, outcome: str, why: str, **extra: Any) -> ContactDecision:
        row = ContactDecision(
            **base, channel=channel, outcome=outcome, why=why, decided_at=at, **extra
        )
        if outcome == Outcome.DROPPED:
            row.save()
        else:  # the unique constraint is the dedupe's last word when two workers race
            try:
                with transaction.atomic():
                    row.save()
            except IntegrityError:
                earlier = (
                    who.mine()
                    .filter(reason=base["reason"], cycle=base["cycle"], channel=channel)
                    .filter(outcome__in=[Outcome.SENT, Outcome.HELD])
                    .first()
                )
                if earlier is not None:
                    return earlier
                raise
        recorded.append(row)
        return row

    if who.owner is None and who.customer_id is None:
        # a code to a phone number with no account yet (sign-in): nothing to decide about
        if category != Category.TRANSACTIONAL:
            return []
        with translation.override(who.language):
            title, body = compose()
            for channel in channels or [Channel.SMS]:
                write_message(
                    channel=channel,
                    body=body,
                    subject=title,
                    kind=kind,
                    to=to,
                    link=link,
                    group=who.group_id,
                    dedupe_key=dedupe_key or _message_key(reason, cycle, channel),
                    category=category,
                )
        return []

    # 1-3: the recipient as a whole
    refusal = _refusal(who, category, requires_telematics)
    if refusal is not None:
        return _drop_once(who, base, refusal, record)

    # 4: dedupe (one delivery per owner, reason, cycle; per channel when channels are named)
    if reason:
        earlier = list(
            who.mine()
            .filter(reason=base["reason"], cycle=base["cycle"])
            .filter(outcome__in=[Outcome.SENT, Outcome.HELD])
        )
        if channels is not None:
            earlier = [d for d in earlier if d.channel in channels]
        if earlier:
            return earlier

    # 5: frequency cap, counted under a lock on the owner so parallel scans cannot both pass
    if category in CAPPED:
        if who.owner is not None:
            type(who.owner).objects.select_for_update().filter(pk=who.owner.pk).first()
        count, days = cap_for(who.group_id)
        used = (
            who.mine()
            .filter(
                dealer_group_id=who.group_id,
                category__in=CAPPED,
                outcome__in=[Outcome.SENT, Outcome.HELD],
                decided_at__gt=at - dt.timedelta(days=days),
            )
            .values("contact")
            .distinct()
            .count()
        )
        if used >= count:
            return _drop_once(who, base, Why.CAPPED, record)

    # 6: channels
    plan: list[tuple[str, str]] = []  # (channel, why it cannot be used or "")
    if channels is not None:
        # a named SMS or e-mail without an address is the caller's mistake: the outbox refuses
        for channel in channels:
            if who.owner is None or channel in (Channel.SMS, Channel.EMAIL):
                if who.owner is not None and not channel_allowed(who.owner, category, channel):
                    plan.append((channel, Why.CHANNEL_OFF))
                else:
                    plan.append((channel, ""))
            elif not channel_allowed(who.owner, category, channel):
                plan.append((channel, Why.CHANNEL_OFF))
            else:
                plan.append((channel, "" if reachable(who.owner, channel) else Why.NO_ADDRESS))
    elif who.owner is None:
        plan.append((Channel.SMS, "" if who.phone else Why.NO_ADDRESS))
    else:
        plan.append((Channel.INAPP, ""))
        if external if external is not None else category in CAPPED:
            for channel in channel_order(who.owner, category)[1:]:
                if reachable(who.owner, channel):
                    plan.append((channel, ""))
                    break

    # 7: quiet hours in the owner's zone
    held_until = None
    if category != Category.TRANSACTIONAL and who.owner is not None:
        held_until = quiet_hours_end(who.owner, at)

    with translation.override(who.language):
        title, body = compose()
        for channel, refused in plan:
            if refused:
                record(channel, Outcome.DROPPED, refused)
                continue
            until = held_until if channel in DISTURBING else None
            if channel == Channel.SMS and channels is None:
                text_body: Any = f"{render(title)}: {render(body)}" if title else body
                subject: Any = ""
            else:
                text_body, subject = body, title
            message = write_message(
                channel=channel,
                body=text_body or "",
                subject=subject or "",
                kind=kind,
                owner=who.owner,
                to=to or (who.phone if who.owner is None else ""),
                link=link,
                group=who.group_id,
                dedupe_key=dedupe_key or _message_key(reason, cycle, channel),
                category=category,
                not_before=until,
            )
            record(
                channel,
                Outcome.HELD if until else Outcome.SENT,
                Why.QUIET_HOURS if until else Why.OK,
                until=until,
                message=message,
            )
    return recorded


def still_allowed(message: Any) -> bool:
    """At delivery: whether a message the policy let through (perhaps held for hours) may still
    go - the owner may have withdrawn consent, unsubscribed or switched the channel off since."""
    owner = message.owner
    category = message.category
    if owner is None or category == Category.TRANSACTIONAL:
        return True
    if not owner.is_active or not category_enabled(owner, category):
        return False
    if category == Category.MARKETING and not owner.marketing_consent:
        return False
    return channel_allowed(owner, category, message.channel)


def _refusal(who: _Who, category: str, requires_telematics: bool) -> str | None:
    owner = who.owner
    if owner is not None and not owner.is_active:
        return Why.INACTIVE
    marketing = owner.marketing_consent if owner is not None else who.marketing_consent
    telematics = owner.telematics_consent if owner is not None else who.telematics_consent
    if category == Category.MARKETING and not marketing:
        return Why.NO_MARKETING_CONSENT
    if requires_telematics and not telematics:
        return Why.NO_TELEMATICS_CONSENT
    if not category_enabled(owner, category):
        return Why.UNSUBSCRIBED
    return None


def _drop_once(
    who: _Who,
    base: dict[str, Any],
    why: str,
    record: Callable[..., ContactDecision],
) -> list[ContactDecision]:
    """Record a refusal of the whole message - once: the same refusal for the same reason and
    cycle (a scan run again) returns the earlier decision instead of a new row."""
    if base["reason"]:
        earlier = (
            who.mine()
            .filter(reason=base["reason"], cycle=base["cycle"], outcome=Outcome.DROPPED, why=why)
            .first()
        )
        if earlier is not None:
            return [earlier]
    return [record("", Outcome.DROPPED, why)]


def decisions_of(owner: "Owner | None", customer_id: int | None, group_id: int | None) -> Any:
    """A customer's contact decisions in one dealer group (newest first): those made for their
    customer record and those for their app account by this group."""
    from django.db.models import Q

    q = Q(customer_id=customer_id, dealer_group_id=group_id) if customer_id else Q(pk__in=[])
    if owner is not None:
        q |= Q(owner=owner, dealer_group_id=group_id)
    return ContactDecision.objects.filter(q).select_related("message")


# --- one-tap unsubscribe -----------------------------------------------------------------------
def unsubscribe_token(owner: "Owner", category: str, group: "DealerGroup | int | None") -> str:
    group_id = group if group is None or isinstance(group, int) else group.pk
    data = {"o": owner.pk, "c": Category(category).value, "g": group_id}
    return signing.dumps(data, salt=UNSUBSCRIBE_SALT, compress=True)


def read_unsubscribe_token(token: str) -> tuple[int, str, int | None] | None:
    """(owner id, category, dealer group id) of a good token; None for a forged or damaged
    one. Tokens do not expire: an old message's link still unsubscribes."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    owner_id, category, group_id = data.get("o"), data.get("c"), data.get("g")
    if not isinstance(owner_id, int) or category not in [c.value for c in UNSUBSCRIBABLE]:
        return None
    return owner_id, str(category), group_id if isinstance(group_id, int) else None


def unsubscribe_url(owner: "Owner", category: str, group: "DealerGroup | int | None" = None) -> str:
    """The signed one-tap unsubscribe link for a category (absolute when PUBLIC_BASE_URL is
    set); the landing page works without signing in."""
    path = reverse("notify-unsubscribe", args=[unsubscribe_token(owner, category, group)])
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}{path}" if settings.PUBLIC_BASE_URL else path
