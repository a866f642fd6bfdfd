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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation

from m4s.core.i18n import render
from m4s.owners.models import Owner
from m4s.owners.selectors import quiet_hours_end

from .choices import Category, Channel, Outcome, Why
from .models import ContactDecision, ContactRules, Message, PushSubscription
from .outbox import address_for, deliver_many_after_commit, prepare_message, write_message

if TYPE_CHECKING:  # models of other apps, for annotations only
    from m4s.org.models import DealerGroup

__all__ = [
    "CAPPED",
    "Category",
    "ContactDecision",
    "category_for",
    "channel_order",
    "contact",
    "contact_many",
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
    rules = ContactRules.objects.for_group(group_id).first() if group_id else None
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

    @property
    def key(self) -> tuple[str, int | None]:
        return ("o", self.owner.pk) if self.owner is not None else ("c", self.customer_id)

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


@dataclass
class _Request:
    """One message to decide about: contact()'s arguments, normalised."""

    who: _Who
    category: str
    kind: str
    compose: Callable[[], tuple[Any, Any]]
    reason: str
    cycle: str
    link: str = ""
    requires_telematics: bool = False
    external: bool | None = None
    channels: Sequence[str] | None = None
    to: str = ""
    dedupe_key: str | None = None
    # filled while deciding
    result: list[ContactDecision] = field(default_factory=list)


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
    at = at or timezone.now()
    who = _who(owner, customer, group)
    if who.owner is None and who.customer_id is None:
        if to:  # a code to a phone number with no account yet (sign-in): nothing to decide
            _to_address_only(
                category, kind, compose, reason, cycle, link, who, channels, to, dedupe_key
            )
        return []
    request = _Request(
        who=who,
        category=Category(category).value,
        kind=kind[:40],
        compose=compose,
        reason=reason[:160],
        cycle=cycle[:40],
        link=link,
        requires_telematics=requires_telematics,
        external=external,
        channels=channels,
        to=to,
        dedupe_key=dedupe_key,
    )
    _decide([request], at)
    return request.result


def contact_many(
    requests: Sequence[dict[str, Any]], *, at: dt.datetime | None = None
) -> list[list[ContactDecision]]:
    """`contact(...)` for many messages at once (each dict holds contact()'s keyword arguments
    except `at`), with the same rules and results, in a handful of queries for the whole batch:
    the earlier decisions (dedupe), the caps' counts, the groups' rules, the live push
    subscriptions and the outbox's dedupe keys are read once, messages and decisions written with
    one INSERT each. Runs in the caller's transaction and locks the batch's owners (caps)."""
    at = at or timezone.now()
    batch: list[_Request] = []
    out: list[list[ContactDecision]] = []
    for kw in requests:
        who = _who(kw.get("owner"), kw.get("customer"), kw.get("group"))
        if who.owner is None and who.customer_id is None:
            out.append(contact(at=at, **kw))
            continue
        request = _Request(
            who=who,
            category=Category(kw["category"]).value,
            kind=str(kw["kind"])[:40],
            compose=kw["compose"],
            reason=str(kw.get("reason") or "")[:160],
            cycle=str(kw.get("cycle") or "")[:40],
            link=kw.get("link", ""),
            requires_telematics=bool(kw.get("requires_telematics")),
            external=kw.get("external"),
            channels=kw.get("channels"),
            to=kw.get("to", ""),
            dedupe_key=kw.get("dedupe_key"),
        )
        batch.append(request)
        out.append(request.result)
    if batch:
        _decide(batch, at)
    return out


def _to_address_only(
    category: str,
    kind: str,
    compose: Callable[[], tuple[Any, Any]],
    reason: str,
    cycle: str,
    link: str,
    who: _Who,
    channels: Sequence[str] | None,
    to: str,
    dedupe_key: str | None,
) -> None:
    """A message to an address with no owner or customer behind it: only transactional ones
    (a sign-in code to a new number) go, in the caller's language."""
    if Category(category) != Category.TRANSACTIONAL:
        return
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


class _Batch:
    """What a batch of decisions reads once: earlier decisions, cap usage, rules, push."""

    def __init__(self, requests: list[_Request], at: dt.datetime) -> None:
        self.at = at
        owners = {r.who.owner.pk for r in requests if r.who.owner is not None}
        customers = {r.who.customer_id for r in requests if r.who.owner is None}
        reasons = {r.reason for r in requests if r.reason}
        recipients = Q(owner_id__in=owners) | Q(owner__isnull=True, customer_id__in=customers)
        capped = [r for r in requests if r.category in CAPPED]
        locked = sorted({r.who.owner.pk for r in capped if r.who.owner is not None})
        if locked:  # parallel scans decide about the same owner one after the other
            list(Owner.objects.select_for_update().filter(pk__in=locked).values_list("pk"))
        self.earlier: dict[tuple[Any, ...], list[ContactDecision]] = {}
        if reasons:
            for d in ContactDecision.objects.filter(recipients, reason__in=reasons).order_by("id"):
                self.earlier.setdefault((self._key(d), d.reason, d.cycle), []).append(d)
        groups = {r.who.group_id for r in capped if r.who.group_id is not None}
        self.rules = {
            rule.dealer_group_id: (rule.cap_count, rule.cap_days)
            for rule in ContactRules.objects.unscoped().filter(dealer_group_id__in=groups)
        }
        self.usage: dict[tuple[Any, ...], dict[str, dt.datetime]] = {}
        if capped:
            longest = max(self.cap(g)[1] for g in {r.who.group_id for r in capped})
            rows = ContactDecision.objects.filter(
                recipients,
                category__in=CAPPED,
                outcome__in=[Outcome.SENT, Outcome.HELD],
                decided_at__gt=at - dt.timedelta(days=longest),
            ).values_list("owner_id", "customer_id", "dealer_group_id", "contact", "decided_at")
            for owner_id, customer_id, group_id, run, when in rows:
                key = ("o", owner_id) if owner_id is not None else ("c", customer_id)
                self.usage.setdefault((key, group_id), {})[run] = when
        self.push: set[int] = set()
        if settings.WEBPUSH_ENABLED and owners:
            self.push = set(
                PushSubscription.objects.filter(owner_id__in=owners, gone_at__isnull=True)
                .values_list("owner_id", flat=True)
                .distinct()
            )

    @staticmethod
    def _key(d: ContactDecision) -> tuple[str, int | None]:
        return ("o", d.owner_id) if d.owner_id is not None else ("c", d.customer_id)

    def cap(self, group_id: int | None) -> tuple[int, int]:
        if group_id in self.rules:
            return self.rules[group_id]
        return settings.CONTACT_CAP_COUNT, settings.CONTACT_CAP_DAYS

    def used(self, who: _Who) -> int:
        days = self.cap(who.group_id)[1]
        since = self.at - dt.timedelta(days=days)
        runs = self.usage.get((who.key, who.group_id), {})
        return sum(1 for when in runs.values() if when > since)

    def reachable(self, owner: "Owner", channel: str) -> bool:
        if channel == Channel.PUSH:
            return owner.pk in self.push
        return reachable(owner, channel)

    def remember(self, request: _Request, rows: list[ContactDecision]) -> None:
        who = request.who
        key = (who.key, request.reason, request.cycle)
        if request.reason:
            self.earlier.setdefault(key, []).extend(rows)
        if request.category in CAPPED and any(
            r.outcome in (Outcome.SENT, Outcome.HELD) for r in rows
        ):
            self.usage.setdefault((who.key, who.group_id), {})[rows[0].contact] = self.at


def _decide(requests: list[_Request], at: dt.datetime) -> None:
    """Decide each request (filling request.result) and write the batch: messages with one
    INSERT, decisions with one INSERT. Should another worker have decided one of them meanwhile
    (a unique constraint), the batch is redone one request at a time."""
    state = _Batch(requests, at)
    messages: list[Message] = []
    by_key: dict[str, Message] = {}
    new_rows: list[ContactDecision] = []
    seen: set[int] = set()
    for request in requests:
        rows, fresh = _decide_one(request, state, by_key)
        request.result[:] = rows
        for r in rows:  # a row may be shared by two requests of the batch (a duplicate)
            if r.pk is None and id(r) not in seen:
                seen.add(id(r))
                new_rows.append(r)
        messages += fresh
    keys = [m.dedupe_key for m in messages if m.dedupe_key]
    existing = (
        {m.dedupe_key: m for m in Message.objects.filter(dedupe_key__in=keys)} if keys else {}
    )
    to_write = [m for m in messages if not (m.dedupe_key and m.dedupe_key in existing)]
    for row in new_rows:
        if row.message is not None and row.message.dedupe_key in existing:
            row.message = existing[row.message.dedupe_key]
    try:
        with transaction.atomic():
            Message.objects.bulk_create(to_write)
            for row in new_rows:
                if row.message is not None:
                    row.message_id = row.message.pk
            ContactDecision.objects.bulk_create(new_rows)
    except IntegrityError:
        if len(requests) > 1:
            for request in requests:
                request.result.clear()
                _decide([request], at)
            return
        request = requests[0]
        earlier = list(
            request.who.mine()
            .filter(reason=request.reason, cycle=request.cycle)
            .filter(outcome__in=[Outcome.SENT, Outcome.HELD])
        )
        if not earlier or not request.reason:
            raise
        request.result[:] = earlier
        return
    deliver_many_after_commit(to_write)


def _decide_one(
    request: _Request, state: _Batch, by_key: dict[str, Message]
) -> tuple[list[ContactDecision], list[Message]]:
    """The rules for one message, on the batch's prefetched state: (decisions, new messages)."""
    who, category = request.who, request.category
    run = uuid.uuid4().hex

    def row(channel: str, outcome: str, why: str, **extra: Any) -> ContactDecision:
        return ContactDecision(
            dealer_group_id=who.group_id,
            owner=who.owner,
            customer_id=who.customer_id,
            contact=run,
            category=category,
            kind=request.kind,
            reason=request.reason,
            cycle=request.cycle,
            channel=channel,
            outcome=outcome,
            why=why,
            decided_at=state.at,
            **extra,
        )

    earlier = (
        state.earlier.get((who.key, request.reason, request.cycle), []) if request.reason else []
    )

    def drop(why: str) -> tuple[list[ContactDecision], list[Message]]:
        # the same refusal for the same reason and cycle (a scan run again) is written once
        same = [
            d for d in earlier if d.outcome == Outcome.DROPPED and d.why == why and not d.channel
        ]
        if same:
            return [same[0]], []
        rows = [row("", Outcome.DROPPED, why)]
        state.remember(request, rows)
        return rows, []

    # 1-3: the recipient as a whole
    refusal = _refusal(who, category, request.requires_telematics)
    if refusal is not None:
        return drop(refusal)
    # 4: dedupe (one delivery per owner, reason, cycle; per channel when channels are named)
    if request.reason:
        delivered = [d for d in earlier if d.outcome in (Outcome.SENT, Outcome.HELD)]
        if request.channels is not None:
            delivered = [d for d in delivered if d.channel in request.channels]
        if delivered:
            return delivered, []
    # 5: frequency cap (care and marketing together, per owner and dealer group)
    if category in CAPPED and state.used(who) >= state.cap(who.group_id)[0]:
        return drop(Why.CAPPED)
    # 6: channels
    plan: list[tuple[str, str]] = []  # (channel, why it cannot be used or "")
    if request.channels is not None:
        # a named SMS or e-mail without an address is the caller's mistake: the outbox refuses
        for channel in request.channels:
            if who.owner is not None and not channel_allowed(who.owner, category, channel):
                plan.append((channel, Why.CHANNEL_OFF))
            elif who.owner is None or channel in (Channel.SMS, Channel.EMAIL):
                plan.append((channel, ""))
            else:
                usable = state.reachable(who.owner, channel)
                plan.append((channel, "" if usable else Why.NO_ADDRESS))
    elif who.owner is None:
        plan.append((Channel.SMS, "" if who.phone else Why.NO_ADDRESS))
    else:
        plan.append((Channel.INAPP, ""))
        if request.external if request.external is not None else category in CAPPED:
            for channel in channel_order(who.owner, category)[1:]:
                if state.reachable(who.owner, channel):
                    plan.append((channel, ""))
                    break
    # 7: quiet hours in the owner's zone: disturbing channels wait until they end
    held_until = None
    if category != Category.TRANSACTIONAL and who.owner is not None:
        held_until = quiet_hours_end(who.owner, state.at)
    rows: list[ContactDecision] = []
    fresh: list[Message] = []
    with translation.override(who.language):
        title, body = request.compose()
        for channel, refused in plan:
            if refused:
                rows.append(row(channel, Outcome.DROPPED, refused))
                continue
            until = held_until if channel in DISTURBING else None
            if channel == Channel.SMS and request.channels is None:
                text_body: Any = f"{render(title)}: {render(body)}" if title else body
                subject: Any = ""
            else:
                text_body, subject = body, title
            key = request.dedupe_key or _message_key(request.reason, request.cycle, channel)
            message = by_key.get(key) if key else None
            if message is None:
                message = prepare_message(
                    channel=channel,
                    body=text_body or "",
                    subject=subject or "",
                    kind=request.kind,
                    owner=who.owner,
                    to=request.to or (who.phone if who.owner is None else ""),
                    link=request.link,
                    group=who.group_id,
                    dedupe_key=key,
                    category=category,
                    not_before=until,
                )
                fresh.append(message)
                if key:
                    by_key[key] = message
            rows.append(
                row(
                    channel,
                    Outcome.HELD if until else Outcome.SENT,
                    Why.QUIET_HOURS if until else Why.OK,
                    until=until,
                    message=message,
                )
            )
    state.remember(request, rows)
    return rows, fresh


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
