"""Plumbing shared by the insight console pages: the capability check, the page context (with
the section tabs), the stores the reader may see and a month from the query string. Another
group's store is a 404 (`store_or_404`); a missing capability is 403."""

import datetime as dt
import re
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from m4s.core.types import in_calendar
from m4s.insights import selectors
from m4s.notify import selectors as inbox
from m4s.staff.choices import Perm

# (key, label, url name, capability): the tabs of every insight page, in order
SECTIONS = [
    ("kpis", _("KPIs"), "console-insights", Perm.VIEW_INSIGHTS),
    ("customers", _("Customers at risk"), "console-insights-customers", Perm.VIEW_INSIGHTS),
    ("campaigns", _("Segments and campaigns"), "console-insights-campaigns", Perm.RUN_CAMPAIGNS),
    ("scorecards", _("Scorecards"), "console-insights-scorecards", Perm.VIEW_INSIGHTS),
    ("reports", _("Monthly reports"), "console-insights-reports", Perm.VIEW_INSIGHTS),
]


def insights_page(*perms):
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


def ctx(request, section: str, **extra):
    user = request.user
    tabs = [(k, label, url) for k, label, url, perm in SECTIONS if user.has_perm_m4s(perm)]
    return {
        "unread": inbox.count_unread(staff=user),
        "nav": "insights",
        "section": section,
        "tabs": tabs,
        **extra,
    }


def my_stores(user) -> list:
    """The stores the reader may see: every active store of the group for those who see all
    stores (group admins), else their own (a store manager)."""
    return selectors.visible_stores(user)


def store_or_404(user, raw) -> int | None:
    """The store id of `?store=` when the reader may see it; None for the whole group; a store
    of another group (or not theirs) is a 404."""
    raw = (raw or "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) < 10):
        raise Http404
    store_id = int(raw)
    if not any(s.pk == store_id for s in my_stores(user)):
        raise Http404
    return store_id


def month_of(raw, default: dt.date | None = None) -> dt.date:
    """`YYYY-MM` → its first day; anything else → the default (this month)."""
    default = default or timezone.localdate().replace(day=1)
    match = re.fullmatch(r"(\d{4})-(\d{2})", (raw or "").strip())
    if not match:
        return default
    try:
        first = dt.date(int(match[1]), int(match[2]), 1)
    except ValueError:
        return default
    return first if in_calendar(first) and first.year > 2000 else default
