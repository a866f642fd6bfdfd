"""Messages to the owner (inbox, SMS, e-mail, push, WeChat), the contact policy's decisions about
them, the owner's browsers' push subscriptions and their unsubscribes, and their retention
(m4s/privacy/registry.py)."""

import datetime as dt
from typing import Any

from django.db.models import Q

from m4s.core.personal_data import rows

from .choices import Status
from .models import ContactDecision, Message, PushSubscription, Unsubscribe

PERSONAL_FIELDS = {
    "notify.Message": {"to_address", "subject", "body", "texts"},
    # a browser's push address and keys identify the owner's device
    "notify.PushSubscription": {"endpoint", "p256dh", "auth", "user_agent"},
}
NOT_PERSONAL: dict[str, dict[str, str]] = {
    "notify.ContactDecision": {
        "reason": "what a message was about as a system key (e.g. care:maintenance:<id>)",
    },
}


def _of(owner: Any) -> Any:
    addresses = [a for a in (owner.phone, owner.email) if a]
    return Message.objects.filter(Q(owner=owner) | Q(owner__isnull=True, to_address__in=addresses))


def export_owner(owner: Any) -> dict[str, Any]:
    fields = ["channel", "kind", "to_address", "subject", "body", "link", "status"]
    fields += ["created_at", "sent_at", "read_at"]
    decisions = ContactDecision.objects.filter(owner=owner).order_by("decided_at", "id")
    return {
        "rows": {
            "messages": rows(_of(owner).order_by("created_at"), fields),
            "contact decisions": rows(
                decisions,
                ["decided_at", "category", "kind", "channel", "outcome", "why", "until"],
            ),
            "push subscriptions": rows(
                PushSubscription.objects.filter(owner=owner).order_by("created_at"),
                ["endpoint", "user_agent", "created_at", "last_success_at", "gone_at"],
            ),
            "unsubscribes": rows(
                Unsubscribe.objects.filter(owner=owner).order_by("at"), ["category", "source", "at"]
            ),
        },
        "files": [],
    }


def erase_owner(owner: Any) -> dict[str, int]:
    deleted, _ = _of(owner).delete()
    decisions, _ = ContactDecision.objects.filter(owner=owner).delete()
    subscriptions, _ = PushSubscription.objects.filter(owner=owner).delete()
    unsubscribes, _ = Unsubscribe.objects.filter(owner=owner).delete()
    return {
        "messages deleted": deleted,
        "contact decisions deleted": decisions,
        "push subscriptions deleted": subscriptions,
        "unsubscribes deleted": unsubscribes,
    }


def enforce_retention(days: dict[str, int], now: dt.datetime) -> dict[str, int]:
    """Delivered, failed and dropped messages, and contact decisions, older than
    RETENTION_DAYS["messages"]; push subscriptions gone that long (one statement each)."""
    cutoff = now - dt.timedelta(days=days["messages"])
    deleted, _ = Message.objects.filter(
        created_at__lt=cutoff, status__in=[Status.SENT, Status.FAILED, Status.DROPPED]
    ).delete()
    decisions, _ = ContactDecision.objects.filter(decided_at__lt=cutoff).delete()
    gone, _ = PushSubscription.objects.filter(gone_at__lt=cutoff).delete()
    return {
        "messages deleted": deleted,
        "contact decisions deleted": decisions,
        "push subscriptions deleted": gone,
    }
