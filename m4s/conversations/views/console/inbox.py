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


def signature(rows, now=None) -> str:
    """What the rows show, in a few characters: which conversations, their last message,
    unread count, handler, stage and status, and the current minute (the waiting clocks tick).
    The same signature on the next poll: nothing to redraw (204)."""
    now = now or timezone.now()
    digest = hashlib.blake2b(digest_size=8)
    digest.update(now.strftime("%Y%m%d%H%M").encode())
    for c in rows:
        digest.update(
            f"{c.pk}|{c.last_message_at.timestamp()}|{c.staff_unread}|{c.assignee_id}|{c.stage}|"
            f"{c.status}|{c.waiting_since is not None};".encode()
        )
    return digest.hexdigest()


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


def _rows_context(user, f: dict) -> dict:
    rows = _rows(user, f)
    return {
        "rows": rows,
        "f": f,
        "sig": signature(rows),
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
    context = _rows_context(user, f)
    if request.GET.get("sig") == context["sig"]:
        return HttpResponse(status=204)
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
