"""The framework's tables and personal data (m4s/privacy/registry.py): the audit log names
rows (a customer's name as `object_repr`, changed values); the area that owns the row redacts
its entries at erasure (`core.audit.redact_entries`). Retention of the audit log is here."""

import datetime as dt
from typing import Any

from .models import AuditEntry

PERSONAL_FIELDS = {
    "core.AuditEntry": {"object_repr", "changes"},
}
NOT_PERSONAL = {
    "core.AuditEntry": {"actor_name": "the staff member who acted"},
    "core.HookDelivery": {
        "payload": "ids of the rows a hand-off is about, no values",
        "payload_type": "a class name",
    },
    "core.PeriodicJobState": {"name": "a job's name"},
    "core.WorkerHeartbeat": {"name": "a worker process's name (host and pid)"},
}


def export_owner(owner: Any) -> dict[str, Any]:
    return {"rows": {}, "files": []}


def erase_owner(owner: Any) -> dict[str, int]:
    return {}


def enforce_retention(days: dict[str, int], now: dt.datetime) -> dict[str, int]:
    cutoff = now - dt.timedelta(days=days["audit"])
    deleted, _ = AuditEntry.objects.unscoped().filter(at__lt=cutoff).delete()
    return {"audit entries deleted": deleted}
