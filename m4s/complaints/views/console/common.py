"""Plumbing shared by the complaints console pages: the capability check, the page context, ids,
the clock in words. Another group's complaint is a 404 through the scoped selectors; a missing
capability is 403."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from m4s.complaints.choices import Status
from m4s.core.errors import DomainError
from m4s.notify import selectors as inbox
from m4s.org.selectors import list_stores
from m4s.staff.choices import Perm


def complaints_page(*perms):
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
    return {"unread": inbox.count_unread(staff=request.user), "nav": "complaints", **extra}


def or_404(read, *args, **kwargs):
    """Run a scoped selector; its 'not found' (another group's object) becomes the 404 page."""
    try:
        return read(*args, **kwargs)
    except DomainError as exc:
        if exc.status == 404:
            raise Http404(exc.message) from None
        raise


def whole(raw) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None


def duration(minutes: int | float | None) -> str:
    """Business minutes in words: '45 min', '3 h 20 min', '2 d 1 h' (a business day = 8 h)."""
    if minutes is None:
        return "—"
    minutes = int(round(abs(minutes)))
    days, rest = divmod(minutes, 8 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return _("%(d)d d %(h)d h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": mins}
    return _("%(m)d min") % {"m": mins}


def clock(minutes_left: int | None, *, paused: bool = False) -> dict:
    """The clock of a case: its words and its state (ok, soon: under 60 business minutes, late;
    paused while waiting for the customer; stopped once resolved)."""
    if paused:
        return {"state": "paused", "text": _("Waiting for the customer")}
    if minutes_left is None:
        return {"state": "stopped", "text": "—"}
    if minutes_left < 0:
        return {"state": "late", "text": _("%(t)s overdue") % {"t": duration(minutes_left)}}
    state = "soon" if minutes_left < 60 else "ok"
    return {"state": state, "text": _("%(t)s left") % {"t": duration(minutes_left)}}


def my_stores(user) -> list:
    """The stores this user works in (every store of the group with VIEW_ALL_STORES)."""
    stores = list_stores(user)
    if not user.has_perm_m4s(Perm.VIEW_ALL_STORES) and not user.is_platform_admin:
        stores = stores.filter(pk__in=user.store_ids())
    return list(stores)


def status_label(complaint) -> str:
    """The status in words ("Closed" in its complaint sense, not a closed store)."""
    return _label(complaint.status, complaint.get_status_display())


def _label(value: str, label) -> str:
    """Staff words for two statuses: the choices' labels are written for owners ("Waiting for
    you"), and the bare "Closed" means a closed store in the catalogues."""
    if value == Status.CLOSED:
        return pgettext("complaint", "Closed")
    if value == Status.WAITING_CUSTOMER:
        return _("Waiting for the customer")
    return str(label)


def status_choices() -> list[tuple[str, str]]:
    return [(value, _label(value, label)) for value, label in Status.choices]
