"""Calls made once per Idempotency-Key, safe against retries that race each other.

The key row is inserted FIRST, in the same transaction as the work it guards. A concurrent call
with the same key then waits on the unique index until the first call ends: if it committed,
the waiter reads the stored answer and replays it; if it rolled back (a refusal), the waiter
runs the call itself. Nothing is ever queried inside a transaction already marked for rollback,
and no half-done "in progress" row is ever visible to anyone else.
"""

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from .errors import DomainError


def fingerprint(body: Any) -> str:
    """A stable hash of a request body (sorted keys; dates and decimals as text)."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def call_once(
    queryset: QuerySet[Any],
    *,
    key: dict[str, Any],
    body: Any,
    create: dict[str, Any],
    run: Callable[[], tuple[int, dict[str, Any]]],
) -> tuple[int, dict[str, Any]]:
    """Run `run()` -> (status, response) once per `key` (the unique lookup of a row of
    `queryset`'s model with `fingerprint`, `status` and `response` fields; `create` are the
    other fields a new row needs). A repeat with the same body gets the stored answer, the same
    key with another body is refused (422 `idempotency_key_reused`). A DomainError from `run`
    rolls everything back, the key included, so a corrected retry can use the same key."""
    digest = fingerprint(body)
    with transaction.atomic():
        row, created = queryset.get_or_create(
            **key, defaults={**create, "fingerprint": digest, "status": 0, "response": {}}
        )
        if not created:
            if row.fingerprint != digest:
                raise DomainError(
                    "idempotency_key_reused",
                    _("This Idempotency-Key was used for another request."),
                    status=422,
                )
            return row.status, row.response
        status, response = run()
        queryset.filter(pk=row.pk).update(status=status, response=response)
        return status, response
