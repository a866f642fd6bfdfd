"""Named hand-offs between areas, configured in one place (`settings.HOOKS`), run after commit.

An area that finishes something others may care about (a repair order settled, a survey
answered, a car bound) calls `after_commit(name, payload)` inside its transaction, with a frozen
dataclass as the payload; the receivers are the dotted paths listed under that name in
settings. Nothing registers itself at import time, so what runs is always visible in settings,
and an area never imports the tables of another.

Hand-offs are durable: `after_commit` writes one `HookDelivery` row per receiver in the
caller's transaction (so they commit or roll back with the change), and after commit a task
runs each one. A receiver that fails is retried with backoff (30 s, 1, 2, 4 … min, at most
`MAX_ATTEMPTS` runs); the periodic sweep re-enqueues deliveries whose task was lost (a crash
between commit and enqueue) or whose worker died mid-run. Receivers must be idempotent per
source (the loyalty receivers are: every earn has a unique source), so a run repeated after a
crash has one effect.
"""

import dataclasses
import datetime as dt
import json
import logging
import types
import typing
from decimal import Decimal

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.module_loading import import_string

from .models import HookDelivery
from .retry import backoff, sweep_due

logger = logging.getLogger("m4s.hooks")
MAX_ATTEMPTS = 8
Status = HookDelivery.Status


def receivers(name: str) -> list[str]:
    return list(getattr(settings, "HOOKS", {}).get(name, []))


def after_commit(name: str, payload: typing.Any) -> list[int]:
    """Record the hand-off for every receiver of `name` (in the current transaction) and run
    them once it commits. Returns the delivery ids."""
    if not dataclasses.is_dataclass(payload) or isinstance(payload, type):
        raise TypeError(f"hook {name!r}: the payload must be a dataclass instance")
    paths = receivers(name)
    if not paths:
        return []
    now = timezone.now()
    data = DjangoJSONEncoder().encode(dataclasses.asdict(payload))
    payload_type = f"{type(payload).__module__}.{type(payload).__qualname__}"
    ids = []
    for path in paths:
        delivery = HookDelivery.objects.create(
            hook=name,
            receiver=path,
            payload_type=payload_type,
            payload=json.loads(data),
            next_attempt_at=now,
            created_at=now,
        )
        ids.append(delivery.pk)

    def enqueue_all() -> None:
        for pk in ids:
            enqueue(pk)

    transaction.on_commit(enqueue_all)
    return ids


def enqueue(delivery_id: int, run_after: dt.datetime | None = None) -> None:
    from .tasks import run_hook_task

    task = run_hook_task
    if run_after is not None:
        if not task.get_backend().supports_defer:
            return  # the periodic sweep runs it when due
        task = task.using(run_after=run_after)
    task.enqueue(delivery_id)


def run_delivery(delivery_id: int) -> str:
    """Run one delivery; safe to call any number of times or on parallel workers: a conditional
    claim lets one call run it and the others skip."""
    now = timezone.now()
    claimed = HookDelivery.objects.filter(
        pk=delivery_id, status__in=[Status.PENDING, Status.RETRY], next_attempt_at__lte=now
    ).update(status=Status.RUNNING, attempts=F("attempts") + 1, claimed_at=now)
    if not claimed:
        return "skipped"
    delivery = HookDelivery.objects.get(pk=delivery_id)
    try:
        receiver = import_string(delivery.receiver)
        payload = load_payload(delivery.payload_type, delivery.payload)
        receiver(payload)
    except Exception as exc:  # any failure of a receiver: keep it, back off, retry
        logger.warning(
            "Hook %s → %s failed (attempt %s): %s",
            delivery.hook,
            delivery.receiver,
            delivery.attempts,
            exc,
        )
        error = f"{type(exc).__name__}: {exc}"[:2000]
        if delivery.attempts >= MAX_ATTEMPTS:
            HookDelivery.objects.filter(pk=delivery.pk).update(
                status=Status.FAILED, last_error=error
            )
            return "failed"
        next_at = timezone.now() + backoff(delivery.attempts)
        HookDelivery.objects.filter(pk=delivery.pk).update(
            status=Status.RETRY, last_error=error, next_attempt_at=next_at
        )
        enqueue(delivery.pk, run_after=next_at)
        return "retry"
    HookDelivery.objects.filter(pk=delivery.pk, status=Status.RUNNING).update(
        status=Status.DONE, done_at=timezone.now()
    )
    return "done"


def sweep(limit: int = 500) -> int:
    """Periodic: release claims of crashed workers and re-enqueue due deliveries that have no
    task (lost between commit and enqueue, or a backend that cannot defer)."""
    return sweep_due(
        HookDelivery.objects.all(),
        running=Status.RUNNING,
        retry=Status.RETRY,
        pending=Status.PENDING,
        enqueue=enqueue,
        limit=limit,
    )


def load_payload(type_path: str, data: dict[str, typing.Any]) -> typing.Any:
    """Rebuild the payload dataclass from its JSON, turning Decimal, datetime and date fields
    (which JSON keeps as text) back into their types."""
    cls = import_string(type_path)
    hints = typing.get_type_hints(cls)
    values = {}
    for f in dataclasses.fields(cls):
        if f.name in data:
            values[f.name] = _revive(hints.get(f.name), data[f.name])
    return cls(**values)


def _revive(annotation: typing.Any, value: typing.Any) -> typing.Any:
    if value is None or annotation is None:
        return value
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        annotation = options[0] if len(options) == 1 else None
    if annotation is Decimal:
        return Decimal(value)
    if annotation is dt.datetime:
        return parse_datetime(value)
    if annotation is dt.date:
        return parse_date(value)
    return value
