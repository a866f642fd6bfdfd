"""Shared by the conversations write modules: input checks, cards, a group's targets, locking,
the customer-timeline line every message, note and call appends, links and notifications."""

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from m4s.complaints.models import Complaint
from m4s.core.errors import DomainError, NotFound
from m4s.core.i18n import text
from m4s.core.uploads import clean_image
from m4s.customers.models import Binding, Customer
from m4s.customers.services import record_timeline
from m4s.org.business_time import BusinessCalendar
from m4s.service.models import Appointment, RepairOrder
from m4s.staff.choices import Perm
from m4s.staff.permissions import check_perm
from m4s.vehicles.models import Vehicle

from .choices import (
    MAX_PHOTOS,
    PHOTO_MAX_BYTES,
    PREVIEW_LEN,
    CardKind,
    Topic,
)
from .models import Conversation, ConversationSettings

KIND = "conversation"  # notification kind


# --- input --------------------------------------------------------------------------------------
def clean_text(value, *, field: str, maximum: int, required: bool = True) -> str:
    """Stripped text; empty (when required), over-long or NUL-carrying text is a 400."""
    value = (value or "").strip() if isinstance(value, str) else ""
    if "\x00" in value:
        raise DomainError("invalid_input", _("Text may not contain NUL characters."))
    if required and not value:
        raise DomainError(f"{field}_required", _("Please write something first."))
    if len(value) > maximum:
        raise DomainError(f"{field}_too_long", _("At most %(n)d characters.") % {"n": maximum})
    return value


def clean_photos(files) -> list:
    """Every upload re-encoded (JPEG, PNG or WebP only); anything else refused before a row is
    written."""
    files = [f for f in (files or []) if f]
    if len(files) > MAX_PHOTOS:
        raise DomainError("too_many_photos", _("At most %(n)d photos.") % {"n": MAX_PHOTOS})
    return [clean_image(f, max_bytes=PHOTO_MAX_BYTES) for f in files]


def clean_topic(topic) -> str:
    if topic not in Topic.values:
        raise DomainError("invalid_topic", _("Unknown topic."))
    return topic


def clean_card(customer: Customer, card) -> tuple[str, int | None]:
    """A card = (kind, id) of something of THIS customer: one of their cars, visits, repair
    orders or complaints. Anything else (another customer's, another group's, unknown) is a 404
    and nothing is stored."""
    if not card:
        return "", None
    try:
        kind, pk = card
        pk = int(pk)
    except (TypeError, ValueError):
        raise DomainError("invalid_card", _("A card is a kind and an id.")) from None
    if kind not in CardKind.values or not kind:
        raise DomainError("invalid_card", _("Unknown card kind."))
    group = customer.dealer_group_id
    if kind == CardKind.CAR:
        found = (
            Vehicle.objects.for_group(group)
            .filter(pk=pk)
            .filter(
                Q(current_owner=customer)
                | Q(
                    pk__in=Binding.objects.for_group(group)
                    .filter(customer=customer, ended_at__isnull=True)
                    .values("vehicle")
                )
            )
            .exists()
        )
    elif kind == CardKind.VISIT:
        found = Appointment.objects.for_group(group).filter(pk=pk, customer=customer).exists()
    elif kind == CardKind.REPAIR_ORDER:
        found = RepairOrder.objects.for_group(group).filter(pk=pk, customer=customer).exists()
    else:
        found = Complaint.objects.for_group(group).filter(pk=pk, customer=customer).exists()
    if not found:
        raise NotFound(_("No such %(kind)s.") % {"kind": CardKind(kind).label})
    return kind, pk


def preview(body: str, photos: int = 0, card_kind: str = "") -> str:
    if body:
        return body.replace("\n", " ")[:PREVIEW_LEN]
    if photos:
        return "📷"
    if card_kind:
        return f"[{CardKind(card_kind).label}]"[:PREVIEW_LEN]
    return ""


# --- a group's targets --------------------------------------------------------------------------
def settings_for(group_id: int) -> ConversationSettings:
    """The group's row, unsaved defaults when it has none."""
    found = ConversationSettings.objects.for_group(group_id).first()
    return found or ConversationSettings(dealer_group_id=group_id)


def settings_row(group_id: int) -> ConversationSettings:
    """The group's saved row (created with the defaults on first use)."""
    found = ConversationSettings.objects.for_group(group_id).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return ConversationSettings.objects.create(dealer_group_id=group_id)
    except IntegrityError:
        return ConversationSettings.objects.for_group(group_id).get()


def add_minutes(store, start: dt.datetime, minutes: int, calendar=None) -> dt.datetime:
    """`start` + business minutes of the store (the one engine, m4s.org.business_time); a store
    without opening hours counts wall-clock minutes."""
    try:
        calendar = calendar or BusinessCalendar.for_store(
            store,
            start.astimezone(store.tz).date(),
            start.astimezone(store.tz).date() + dt.timedelta(days=31),
        )
        return calendar.add(start, minutes)
    except DomainError:
        return start + dt.timedelta(minutes=minutes)


def minutes_between(store, a: dt.datetime, b: dt.datetime, calendar=None) -> int:
    """Business minutes of the store in [a, b) (wall-clock minutes if it has no hours)."""
    if b <= a:
        return 0
    try:
        calendar = calendar or BusinessCalendar.for_store(
            store, a.astimezone(store.tz).date(), b.astimezone(store.tz).date()
        )
        return calendar.between(a, b)
    except DomainError:
        return int((b - a).total_seconds() // 60)


def store_is_open(store, at: dt.datetime) -> bool:
    try:
        day = at.astimezone(store.tz).date()
        return BusinessCalendar.for_store(store, day, day).is_open(at)
    except DomainError:
        return True


# --- staff --------------------------------------------------------------------------------------
def handler(actor) -> None:
    check_perm(actor, Perm.HANDLE_CONVERSATIONS)


def can_handle(person, store) -> bool:
    """May this staff member be given a conversation of this store?"""
    return bool(
        person is not None
        and person.is_active
        and person.dealer_group_id == store.dealer_group_id
        and person.has_perm_m4s(Perm.HANDLE_CONVERSATIONS)
        and (person.has_perm_m4s(Perm.VIEW_ALL_STORES) or store.pk in person.store_ids())
    )


def person_name(person) -> str:
    if person is None:
        return ""
    return str(person)


# --- rows ---------------------------------------------------------------------------------------
def lock(conversation: Conversation) -> Conversation:
    return (
        Conversation.objects.for_group(conversation.dealer_group_id)
        .select_for_update(of=("self",))
        .select_related("store", "customer__owner", "assignee")
        .get(pk=conversation.pk)
    )


TITLES = {
    "owner": gettext_noop("Message from the owner (%(topic)s)"),
    "staff": gettext_noop("Reply by %(name)s (%(topic)s)"),
    "note": gettext_noop("Internal note by %(name)s (%(topic)s)"),
}


def timeline(conversation: Conversation, key: str, *, at, actor=None, message=None) -> None:
    """The customer-360 line of a message or note (kind MESSAGE or NOTE)."""
    from m4s.customers.choices import TimelineKind

    record_timeline(
        conversation.customer,
        TimelineKind.NOTE if key == "note" else TimelineKind.MESSAGE,
        TITLES[key],
        params=text(TITLES[key], topic=Topic(conversation.topic).label, name=person_name(actor))[
            "p"
        ],
        data={"conversation": conversation.pk, "message": getattr(message, "pk", None)},
        actor=actor,
        at=at,
    )


# --- links --------------------------------------------------------------------------------------
def _link(name: str, pk: int) -> str:
    try:
        return reverse(name, kwargs={"conversation_id": pk})
    except NoReverseMatch:
        return ""


def owner_link(conversation: Conversation) -> str:
    return _link("app-conversation", conversation.pk)


def console_link(conversation: Conversation) -> str:
    return _link("console-conversation", conversation.pk)
