"""Plumbing shared by the console's conversation pages: the capability check, the page context,
another group's conversation as the 404 page, the waiting clock of a row, the stores a user
works in."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from m4s.core.errors import DomainError
from m4s.notify import selectors as notifications
from m4s.org.selectors import list_stores
from m4s.staff.choices import Perm

READERS = (Perm.HANDLE_CONVERSATIONS, Perm.VIEW_CONVERSATION_FIGURES)
SOON_MINUTES = 10  # a first response due within this many minutes shows amber


def conversations_page(*perms):
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


def ctx(request, **extra) -> dict:
    return {
        "unread": notifications.count_unread(staff=request.user),
        "nav": "conversations",
        **extra,
    }


def or_404(read, *args, **kwargs):
    """Run a scoped selector; its 'not found' (another group's object) becomes the 404 page."""
    try:
        return read(*args, **kwargs)
    except DomainError as exc:
        if exc.status == 404:
            raise Http404(exc.message) from None
        raise


def minutes_text(minutes: int) -> str:
    minutes = max(0, int(minutes))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return _("%(d)d d %(h)d h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": mins}
    return _("%(m)d min") % {"m": mins}


def wait_clock(conv, now=None) -> dict | None:
    """How long the owner has waited on us, and how the first-response target stands: late
    (past due), soon (due within 10 minutes) or ok. None: nothing waits."""
    if conv.waiting_since is None or conv.status != "open":
        return None
    now = now or timezone.now()
    waited = int((now - conv.waiting_since).total_seconds() // 60)
    state = "ok"
    due = conv.first_response_due_at
    if due is not None:
        left = (due - now).total_seconds() / 60
        state = "late" if left < 0 else ("soon" if left < SOON_MINUTES else "ok")
    elif conv.stage == "cs_queue":
        state = "late"
    return {"state": state, "text": minutes_text(waited), "minutes": waited}


def my_stores(user) -> list:
    """The stores this user works in (every store of the group with VIEW_ALL_STORES)."""
    stores = list_stores(user)
    if not user.has_perm_m4s(Perm.VIEW_ALL_STORES) and not user.is_platform_admin:
        stores = stores.filter(pk__in=user.store_ids())
    return list(stores)
