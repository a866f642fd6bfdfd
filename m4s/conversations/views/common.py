"""Plumbing shared by the owner's and the console's conversation pages: whole numbers from a
form, a fresh Idempotency-Key, the cards a thread shows (a car, a visit, a repair order, a
complaint: loaded in one query per kind, linked only where the reader may open them), the day
separators of a thread, read ticks, and the photo/card fields of a composer."""

import re
import uuid
from types import SimpleNamespace

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from m4s.complaints.models import Complaint
from m4s.conversations.choices import AuthorKind, CardKind, MessageKind
from m4s.service.models import Appointment, RepairOrder
from m4s.staff.choices import Perm
from m4s.vehicles.models import Vehicle

KEY_RE = re.compile(r"^[A-Za-z0-9-]{8,64}$")
POLL_SECONDS = 3  # an open thread asks for what is new this often
INBOX_POLL_SECONDS = 1.5  # the console inbox rows (a 204 when nothing changed)
NAV_POLL_SECONDS = 15  # the console navigation's badge
SERVICE_READERS = (
    Perm.WORK_REPAIR_ORDERS,
    Perm.BOOK_SERVICE,
    Perm.SETTLE_REPAIR_ORDERS,
    Perm.VIEW_SERVICE_FIGURES,
)
COMPLAINT_READERS = (Perm.HANDLE_COMPLAINTS, Perm.VIEW_COMPLAINT_FIGURES)
CARD_ICONS = {
    CardKind.CAR: "car",
    CardKind.VISIT: "calendar",
    CardKind.REPAIR_ORDER: "wrench",
    CardKind.COMPLAINT: "megaphone",
}


def whole(raw, *, digits: int = 9) -> int | None:
    raw = (raw or "").strip() if isinstance(raw, str) else ""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= digits else None


def new_key() -> str:
    return uuid.uuid4().hex


def posted_key(request) -> str:
    key = (request.POST.get("idempotency_key") or "").strip()
    return key if KEY_RE.match(key) else ""


def photos(request) -> list:
    return [f for f in request.FILES.getlist("photos") if f]


def card_value(raw) -> tuple[str, int] | None:
    """'car:12' → ('car', 12); empty → None; anything else → ('invalid', 0), which the service
    refuses with its 4xx."""
    raw = (raw or "").strip()
    if not raw:
        return None
    kind, _sep, pk = raw.partition(":")
    value = whole(pk, digits=12)
    if kind not in CardKind.values or not kind or value is None:
        return ("invalid", 0)
    return (kind, value)


# --- cards --------------------------------------------------------------------------------------
def _can(user, perms) -> bool:
    return user is not None and any(user.has_perm_m4s(p) for p in perms)


def _card_link(kind: str, pk: int, *, owner: bool, user) -> str:
    if owner:
        names = {
            CardKind.CAR: ("app-car-health", [pk]),
            CardKind.VISIT: ("app-service", []),
            CardKind.REPAIR_ORDER: ("app-service-order", [pk]),
            CardKind.COMPLAINT: ("app-complaint", [pk]),
        }
        name, args = names[CardKind(kind)]
        return reverse(name, args=args)
    if kind == CardKind.CAR and _can(user, (Perm.VIEW_CUSTOMERS,)):
        return reverse("console-telematics-vehicle", args=[pk])
    if kind == CardKind.VISIT and _can(user, SERVICE_READERS):
        return reverse("console-service-appointment", args=[pk])
    if kind == CardKind.REPAIR_ORDER and _can(user, SERVICE_READERS):
        return reverse("console-service-order", args=[pk])
    if kind == CardKind.COMPLAINT and _can(user, COMPLAINT_READERS):
        return reverse("console-complaint", args=[pk])
    return ""


def cards(conversation, messages, *, owner: bool, user=None) -> dict:
    """(kind, id) -> the card's icon, label, line and link, for the messages that carry one.
    Only the conversation's customer's things are shown (the service checked them when the
    message was written; a card whose object is gone shows as 'no longer available')."""
    wanted: dict[str, set[int]] = {}
    for m in messages:
        if m.card_kind and m.card_id:
            wanted.setdefault(m.card_kind, set()).add(m.card_id)
    group = conversation.dealer_group_id
    customer = conversation.customer_id
    out: dict = {}
    tz = conversation.store.tz
    if wanted.get(CardKind.CAR):
        for v in Vehicle.objects.for_group(group).filter(pk__in=wanted[CardKind.CAR]):
            out[(CardKind.CAR.value, v.pk)] = SimpleNamespace(
                label=v.plate, line=" ".join(p for p in (v.brand, v.model) if p)
            )
    if wanted.get(CardKind.VISIT):
        for a in (
            Appointment.objects.for_group(group)
            .filter(pk__in=wanted[CardKind.VISIT], customer_id=customer)
            .select_related("store", "vehicle")
        ):
            when = timezone.localtime(a.starts_at, tz)
            out[(CardKind.VISIT.value, a.pk)] = SimpleNamespace(
                label=_("Visit on %(when)s") % {"when": when.strftime("%Y-%m-%d %H:%M")},
                line=" · ".join(
                    p for p in (getattr(a.vehicle, "plate", ""), a.get_status_display()) if p
                ),
            )
    if wanted.get(CardKind.REPAIR_ORDER):
        for ro in (
            RepairOrder.objects.for_group(group)
            .filter(pk__in=wanted[CardKind.REPAIR_ORDER], customer_id=customer)
            .select_related("vehicle")
        ):
            out[(CardKind.REPAIR_ORDER.value, ro.pk)] = SimpleNamespace(
                label=_("Repair order %(number)s") % {"number": ro.number},
                line=" · ".join(
                    p for p in (getattr(ro.vehicle, "plate", ""), ro.get_status_display()) if p
                ),
            )
    if wanted.get(CardKind.COMPLAINT):
        for c in (
            Complaint.objects.for_group(group)
            .filter(pk__in=wanted[CardKind.COMPLAINT], customer_id=customer)
            .select_related("category")
        ):
            from m4s.core.i18n import translated

            out[(CardKind.COMPLAINT.value, c.pk)] = SimpleNamespace(
                label=_("Complaint %(ref)s") % {"ref": c.reference},
                line=" · ".join(
                    p for p in (translated(c.category, "name"), c.get_status_display())
                ),
            )
    for (kind, pk), card in out.items():
        card.kind = kind
        card.icon = CARD_ICONS[CardKind(kind)]
        card.url = _card_link(kind, pk, owner=owner, user=user)
    return out


# --- the thread ---------------------------------------------------------------------------------
def tick(message) -> str:
    """The state of one's own message on the other side: sent, delivered, read."""
    if message.read_at is not None:
        return "read"
    if message.delivered_at is not None:
        return "delivered"
    return "sent"


def decorate(conversation, messages, *, reader: str, user=None, previous=None) -> list:
    """Each message with what the template needs: whose side it is on (the reader's own
    messages on the right), its tick, its card, and a day separator before the first message
    of a day (`previous`: the message before the first one, when polling)."""
    found = cards(conversation, messages, owner=reader == "owner", user=user)
    tz = conversation.store.tz
    last_day = timezone.localtime(previous.created_at, tz).date() if previous else None
    for m in messages:
        if m.author_kind == AuthorKind.SYSTEM:
            m.side = "system"
        elif reader == "owner":
            m.side = "mine" if m.author_kind == AuthorKind.OWNER else "theirs"
        else:
            m.side = "mine" if m.author_kind == AuthorKind.STAFF else "theirs"
        m.note = m.kind == MessageKind.NOTE
        m.tick = tick(m) if m.side == "mine" and not m.note else ""
        m.card = found.get((m.card_kind, m.card_id)) if m.card_kind else None
        m.card_missing = bool(m.card_kind) and m.card is None
        day = timezone.localtime(m.created_at, tz).date()
        m.new_day = day if day != last_day else None
        last_day = day
    return messages


def last_id(messages, default: int = 0) -> int:
    return messages[-1].pk if messages else default
