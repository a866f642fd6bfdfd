"""Plumbing shared by the care pages: each kind's icon and one-tap action, whole numbers from
forms, the console's capability check and page context."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404

from m4s.care.choices import Action, Kind
from m4s.care.handoff import reason_of
from m4s.care.services import DONE_ELSEWHERE_KINDS
from m4s.core.errors import DomainError
from m4s.notify import selectors as inbox
from m4s.notify.models import ContactDecision
from m4s.org.selectors import list_stores
from m4s.staff.choices import Perm

SNOOZE_DAYS = (7, 14, 30)
# What the owner can say was done at another garage: the odometer is asked for these.
ODOMETER_KINDS = frozenset({Kind.MAINTENANCE, Kind.DECLINED_REPAIR})
GREETING_KINDS = frozenset({Kind.BIRTHDAY, Kind.ANNIVERSARY, Kind.FESTIVAL})
ICONS: dict[str, str] = {
    Kind.MAINTENANCE: "wrench",
    Kind.DECLINED_REPAIR: "repeat",
    Kind.INSURANCE: "shield",
    Kind.INSPECTION: "clipboard-list",
    Kind.LICENCE: "credit-card",
    Kind.VIOLATION: "triangle-alert",
    Kind.WEATHER: "wind",
    Kind.BIRTHDAY: "gift",
    Kind.ANNIVERSARY: "star",
    Kind.FESTIVAL: "sparkles",
}


def kind_icon(kind: str) -> str:
    return ICONS.get(kind, "clock")


def whole(raw) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None


BOOK_KINDS = frozenset({Kind.MAINTENANCE, Kind.DECLINED_REPAIR, Kind.INSPECTION})


def decorate(reminders, today) -> list:
    """Icon, days to go and the one-tap action (its words and how it is done) on each reminder
    (already given its `.title` and `.body` by the selectors). The action follows the kind, like
    the link the message carries (services.link_for): a booking form filled in, a quote asked
    for, the store asked to clear a violation, else the reminder's own page."""
    for r in reminders:
        payload = r.payload if isinstance(r.payload, dict) else {}
        r.icon = kind_icon(r.kind)
        r.days = (r.due_on - today).days
        r.overdue = r.days < 0 and r.kind not in GREETING_KINDS
        r.can_elsewhere = r.kind in DONE_ELSEWHERE_KINDS
        r.violation_id = payload.get("violation") if r.kind == Kind.VIOLATION else None
        if r.kind in BOOK_KINDS and r.action_url:
            r.act, r.action = "link", str(Action.BOOK.label)
        elif r.kind == Kind.INSURANCE:
            r.act, r.action = "quote", str(Action.QUOTE.label)
        elif r.kind == Kind.VIOLATION and isinstance(r.violation_id, int):
            r.act, r.action = "clear", str(Action.CLEAR_VIOLATION.label)
        elif r.kind == Kind.WEATHER:
            r.act, r.action = "page", str(Action.CHECK_CAR.label)
        elif r.kind == Kind.LICENCE:
            r.act, r.action = "page", str(Action.RENEW.label)
        else:
            r.act, r.action = "", ""
    return list(reminders)


# --- console -----------------------------------------------------------------------------------
def care_page(*perms):
    """Sign-in required, then any one of the capabilities (403 otherwise)."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not any(request.user.has_perm_m4s(p) for p in perms):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def ctx(request, **extra):
    return {"unread": inbox.count_unread(staff=request.user), "nav": "care", **extra}


def or_404(read, *args, **kwargs):
    """Run a scoped selector; its 'not found' (another group's object) becomes the 404 page."""
    try:
        return read(*args, **kwargs)
    except DomainError as exc:
        if exc.status == 404:
            raise Http404(exc.message) from None
        raise


def my_stores(user) -> list:
    """The stores this user works in (every store of the group with VIEW_ALL_STORES)."""
    stores = list_stores(user)
    if not user.has_perm_m4s(Perm.VIEW_ALL_STORES) and not user.is_platform_admin:
        stores = stores.filter(pk__in=user.store_ids())
    return list(stores)


def deliveries(reminders) -> dict[int, list]:
    """{reminder id: the contact policy's decisions of its latest contact, one per channel} (who
    got what: sent on which channel, held until when, dropped and why). One query per group."""
    by_group: dict[int, dict[str, int]] = {}
    for r in reminders:
        by_group.setdefault(r.dealer_group_id, {})[reason_of(r)] = r.pk
    out: dict[int, list] = {}
    for group_id, reasons in by_group.items():
        rows = ContactDecision.objects.filter(
            dealer_group_id=group_id, reason__in=list(reasons)
        ).order_by("reason", "-decided_at", "channel")
        latest: dict[str, str] = {}
        for d in rows:
            contact = latest.setdefault(d.reason, d.contact)
            if d.contact == contact:
                out.setdefault(reasons[d.reason], []).append(d)
    return out
