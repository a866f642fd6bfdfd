"""What every area's `privacy.py` shares: rows as JSON-ready dicts and the values an erased
person's fields take (see m4s/privacy/registry.py for the contract)."""

import datetime as dt
import decimal
from collections.abc import Iterable
from typing import Any

from django.db import models
from django.db.models.fields.files import FieldFile

# What a personal text field of an erased person holds ("name removed").
ERASED = "[erased]"


def erased_phone(pk: int) -> str:
    """A unique, clearly non-phone value for columns that must stay unique (≤ 20 characters)."""
    return f"erased:{pk}"[:20]


def plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, FieldFile):
        return value.name or ""
    if isinstance(value, models.Model):
        return value.pk
    return value


def rows(queryset: Iterable[Any], fields: list[str]) -> list[dict[str, Any]]:
    """`fields` of each object (dotted paths follow relations; a missing relation is None)."""
    out = []
    for obj in queryset:
        row: dict[str, Any] = {}
        for name in fields:
            value: Any = obj
            for part in name.split("."):
                value = getattr(value, part, None) if value is not None else None
                if callable(value):
                    value = value()
            row[name.replace(".", "_")] = plain(value)
        out.append(row)
    return out
