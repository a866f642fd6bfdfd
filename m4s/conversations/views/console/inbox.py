"""The staff inbox at /console/conversations/: the boxes mine / my team / unassigned / waiting on
us longest / closed with their counts, search by customer name, phone or plate, and rows that
refresh themselves (htmx polls the rows every 1.5 seconds and redraws them, with the box
counts, only when they changed: a new owner message appears without a reload). Also the console navigation's badge, polled on every console page."""

import hashlib
from urllib.parse import urlencode

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from m4s.conversations import selectors
from m4s.conversations.choices import Box
from m4s.conversations.views.common import INBOX_POLL_SECONDS, NAV_POLL_SECONDS
from m4s.conversations.views.owner import topic_label
from m4s.staff.choices import Perm

from .common import conversations_page, ctx, wait_clock

SEARCH_MAX = 60


def _filters(request) -> dict:
    box = request.GET.get("box", "")
    return {
        "box": box if box in Box.values else Box.MINE.value,
        "q": (request.GET.get("q") or "").strip()[:SEARCH_MAX],
    }


def _query(f: dict, **change) -> str:
    values = {**f, **change}
    return urlencode({k: v for k, v in values.items() if v not in ("", None)})


def _rows(user, f: dict) -> list:
    now = timezone.now()
    rows = selectors.staff_inbox(user, f["box"], q=f["q"])
    for c in rows:
        c.clock = wait_clock(c, now)
        c.topic_label = topic_label(c.topic)
        c.stage_label = c.get_stage_display()
    return rows


def signature(user, f: dict, now=None) -> str:
    """What the box shows, in 16 hex digits: the selectors' fingerprint of its rows (read from
    the inbox index without joins) and the current minute (the waiting clocks and the box counts
    move on at least once a minute). The same signature on the next poll: nothing to redraw."""
    now = now or timezone.now()
    rows = selectors.inbox_signature(user, f["box"], q=f["q"])
    minute = now.strftime("%Y%m%d%H%M")
    return hashlib.blake2b(f"{rows}:{minute}".encode(), digest_size=8).hexdigest()


def _boxes(user, f: dict) -> list:
    counts = selectors.inbox_counts(user)
    labels = {
        Box.MINE: _("Mine"),
        Box.TEAM: _("My team"),
        Box.UNASSIGNED: _("Unassigned"),
        Box.WAITING: _("Waiting longest"),
        Box.CLOSED: pgettext("conversation", "Closed"),
    }
    return [
        (box.value, labels[box], _query(f, box=box.value), counts.get(box.value))
        for box in (Box.MINE, Box.TEAM, Box.UNASSIGNED, Box.WAITING, Box.CLOSED)
    ]


def _rows_context(user, f: dict, sig: str = "") -> dict:
    return {
        "rows": _rows(user, f),
        "f": f,
        "sig": sig or signature(user, f),
        "poll": INBOX_POLL_SECONDS,
        "rows_url": f"{reverse('console-conversations-rows')}?{_query(f)}",
    }


@conversations_page(Perm.HANDLE_CONVERSATIONS)
@require_GET
def inbox(request):
    user = request.user
    f = _filters(request)
    return render(
        request,
        "conversations/console/inbox.html",
        ctx(request, boxes=_boxes(user, f), **_rows_context(user, f)),
    )


@never_cache
@conversations_page(Perm.HANDLE_CONVERSATIONS)
@require_GET
def rows(request):
    """htmx partial, polled every INBOX_POLL_SECONDS: the rows of the box with the page's search
    and the box counts (out of band); 204 when the rows are what the page shows already."""
    user = request.user
    f = _filters(request)
    sig = signature(user, f)
    if request.GET.get("sig") == sig:
        return HttpResponse(status=204)
    context = _rows_context(user, f, sig)
    return render(
        request, "conversations/console/_live.html", {**context, "boxes": _boxes(user, f)}
    )


@never_cache
@require_GET
def badge(request):
    """htmx partial: the navigation's badge (unread owner messages in my conversations and
    conversations offered to me). Empty for anyone who does not answer conversations."""
    user = request.user
    n = 0
    if user.is_authenticated and user.has_perm_m4s(Perm.HANDLE_CONVERSATIONS):
        n = selectors.staff_unread_count(user)
    return render(request, "conversations/console/_badge.html", {"n": n, "poll": NAV_POLL_SECONDS})
