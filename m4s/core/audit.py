"""The audit log: one row for every staff write on a group's data."""

import datetime as dt
import decimal
from typing import Any

from django.db import models
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from .models import AuditEntry


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, FieldFile):
        return value.name or ""
    return value


def snapshot(obj: models.Model) -> dict[str, Any]:
    """The concrete field values of a row, JSON-ready (foreign keys as ids)."""
    return {
        f.attname: _plain(getattr(obj, f.attname))
        for f in obj._meta.concrete_fields
        if not getattr(
            f, "auto_now", False
        )  # "updated at" is when, not what: the entry has its own time
    }


def diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, list[Any]]:
    before, after = before or {}, after or {}
    keys = sorted(set(before) | set(after))
    return {k: [before.get(k), after.get(k)] for k in keys if before.get(k) != after.get(k)}


def audit_entry(
    *,
    actor: Any,
    action: str,
    group_id: int,
    changes: dict[str, Any],
    obj: models.Model | None = None,
    at: dt.datetime | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
) -> AuditEntry:
    """An unsaved audit row (for bulk_create); `obj` fills in what it is, or pass the parts."""
    return AuditEntry(
        dealer_group_id=group_id,
        actor=actor,
        actor_name=getattr(actor, "username", "system"),
        action=action,
        object_type=obj._meta.label_lower if obj is not None else object_type,
        object_id=str(obj.pk) if obj is not None else object_id,
        object_repr=(str(obj) if obj is not None else object_repr)[:200],
        changes=changes,
        at=at or timezone.now(),
    )


def record_audit(
    *,
    actor: Any,
    action: str,
    obj: models.Model,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    group_id: int | None = None,
) -> AuditEntry | None:
    changes = diff(before, after)
    if action == AuditEntry.Action.UPDATE and not changes:
        return None
    group_id = (
        group_id or getattr(obj, "dealer_group_id", None) or getattr(actor, "dealer_group_id", None)
    )
    if group_id is None:
        return None  # platform-level rows (headquarters, local organisations) are not tenant data
    entry = audit_entry(actor=actor, action=action, group_id=group_id, changes=changes, obj=obj)
    entry.save()
    return entry


def record_view(*, actor: Any, obj: models.Model, what: str) -> AuditEntry | None:
    """A sensitive read (a full ID number, a live position, a position history): who looked at
    what of which row, for the group to review. The entry names the field, never its value."""
    group_id = getattr(obj, "dealer_group_id", None) or getattr(actor, "dealer_group_id", None)
    if group_id is None:
        return None
    entry = audit_entry(
        actor=actor,
        action=AuditEntry.Action.VIEW,
        group_id=group_id,
        changes={"viewed": what},
        obj=obj,
    )
    entry.save()
    return entry


def redact_entries(object_type: str, object_ids: list[Any], *, placeholder: str) -> int:
    """Erasure: the audit rows about these rows keep who did what and when, without the
    personal values (their name and the fields before and after)."""
    if not object_ids:
        return 0
    updated: int = (
        AuditEntry.objects.unscoped()
        .filter(object_type=object_type, object_id__in=[str(i) for i in object_ids])
        .update(object_repr=placeholder, changes={})
    )
    return updated
