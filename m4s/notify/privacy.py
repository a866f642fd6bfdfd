"""Messages to the owner (inbox, SMS, e-mail) and their retention (m4s/privacy/registry.py)."""

import datetime as dt
from typing import Any

from django.db.models import Q

from m4s.core.personal_data import rows

from .choices import Status
from .models import Message

PERSONAL_FIELDS = {
    "notify.Message": {"to_address", "subject", "body", "texts"},
}
NOT_PERSONAL: dict[str, dict[str, str]] = {}


def _of(owner: Any) -> Any:
    addresses = [a for a in (owner.phone, owner.email) if a]
    return Message.objects.filter(Q(owner=owner) | Q(owner__isnull=True, to_address__in=addresses))


def export_owner(owner: Any) -> dict[str, Any]:
    fields = ["channel", "kind", "to_address", "subject", "body", "link", "status"]
    fields += ["created_at", "sent_at", "read_at"]
    return {"rows": {"messages": rows(_of(owner).order_by("created_at"), fields)}, "files": []}


def erase_owner(owner: Any) -> dict[str, int]:
    deleted, _ = _of(owner).delete()
    return {"messages deleted": deleted}


def enforce_retention(days: dict[str, int], now: dt.datetime) -> dict[str, int]:
    """Delivered and failed messages older than RETENTION_DAYS["messages"] (one statement)."""
    cutoff = now - dt.timedelta(days=days["messages"])
    deleted, _ = Message.objects.filter(
        created_at__lt=cutoff, status__in=[Status.SENT, Status.FAILED]
    ).delete()
    return {"messages deleted": deleted}
