"""Conversation pieces that the shells and other areas' pages show (`{% load conversations_tags %}`),
so those areas need not import the conversations app: the console navigation's badge, the
owner's unread count for the home screen, the customer 360's conversations and calls, and a
call's length in words."""

from django import template
from django.utils.translation import gettext as _

from m4s.conversations import selectors
from m4s.conversations.views.common import NAV_POLL_SECONDS
from m4s.staff.choices import Perm

register = template.Library()
SHOWN = 5


@register.simple_tag
def conversations_badge(user) -> dict:
    """The console navigation's count: unread owner messages in my conversations and the ones
    offered to me (0 for anyone who does not answer conversations)."""
    n = 0
    if getattr(user, "is_authenticated", False) and user.has_perm_m4s(Perm.HANDLE_CONVERSATIONS):
        n = selectors.staff_unread_count(user)
    return {"n": n, "poll": NAV_POLL_SECONDS}


@register.simple_tag
def owner_unread_replies(owner) -> int:
    """Staff replies the owner has not read yet, over all their conversations."""
    if not owner:
        return 0
    return selectors.owner_unread_count(owner)


@register.simple_tag
def conversations_of(user, customer) -> dict | None:
    """The customer's latest conversations and calls this user may see (None: the user neither
    answers conversations nor reads their figures, so the panel is not shown)."""
    if not (
        user.has_perm_m4s(Perm.HANDLE_CONVERSATIONS)
        or user.has_perm_m4s(Perm.VIEW_CONVERSATION_FIGURES)
    ):
        return None
    rows = list(selectors.conversations_of_customer(user, customer)[: SHOWN + 1])
    return {
        "rows": rows[:SHOWN],
        "more": len(rows) > SHOWN,
        "calls": selectors.calls_of_customer(user, customer, limit=SHOWN),
        "can_log": user.has_perm_m4s(Perm.HANDLE_CONVERSATIONS),
    }


@register.filter
def call_length(seconds) -> str:
    """300 → '5 min', 75 → '1 min 15 s', 40 → '40 s'."""
    try:
        seconds = max(0, int(seconds))
    except (TypeError, ValueError):
        return ""
    minutes, rest = divmod(seconds, 60)
    if minutes and rest:
        return _("%(m)d min %(s)d s") % {"m": minutes, "s": rest}
    if minutes:
        return _("%(m)d min") % {"m": minutes}
    return _("%(s)d s") % {"s": rest}
