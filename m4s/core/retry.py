"""The retry mechanics shared by the outbox (notify) and the hand-offs between areas (hooks):
one backoff schedule, and one sweep that picks up rows a crash or a lost enqueue left behind."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

STALE_CLAIM = timedelta(minutes=10)
PENDING_GRACE = timedelta(seconds=30)


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, 4 min ... capped at one hour."""
    return timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


def sweep_due(
    rows: "QuerySet[Any]",
    *,
    running: str,
    retry: str,
    pending: str,
    enqueue: Callable[[int], None],
    limit: int = 500,
) -> int:
    """Release claims older than STALE_CLAIM (a crashed worker) back to `retry`, then enqueue
    every row due for a retry and every `pending` row older than PENDING_GRACE (its enqueue was
    lost between commit and queue, or the backend cannot defer). Rows need `status`,
    `claimed_at`, `next_attempt_at` and `created_at`. Returns how many were enqueued."""
    now = timezone.now()
    rows.filter(status=running, claimed_at__lt=now - STALE_CLAIM).update(
        status=retry, next_attempt_at=now
    )
    due = list(
        rows.filter(
            Q(status=retry, next_attempt_at__lte=now)
            | Q(status=pending, created_at__lte=now - PENDING_GRACE)
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in due:
        enqueue(pk)
    return len(due)
