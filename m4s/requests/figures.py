"""Request figures for the console: per kind, how many came in, how many were accepted within
their SLA (business-time deadline `due_at`), how many are late, and the attainment rate."""

import datetime as dt

from django.db.models import Count, F, Q
from django.utils import timezone

from .kinds import kind_label
from .selectors import requests_for_staff


def sla_by_kind(actor, *, since: dt.datetime | None = None, now=None) -> list[dict]:
    """[{kind, label, total, on_time, late, open_overdue, attainment (0-100 or None)}] for
    requests created since `since` (default: 90 days)."""
    now = now or timezone.now()
    since = since or now - dt.timedelta(days=90)
    rows = (
        requests_for_staff(actor)
        .filter(created_at__gte=since)
        .values("kind")
        .annotate(
            total=Count("id"),
            on_time=Count(
                "id",
                filter=Q(accepted_at__isnull=False)
                & (Q(due_at__isnull=True) | Q(accepted_at__lte=F("due_at"))),
            ),
            late=Count("id", filter=Q(accepted_at__isnull=False, accepted_at__gt=F("due_at"))),
            open_overdue=Count(
                "id",
                filter=Q(accepted_at__isnull=True, status="submitted", due_at__lt=now),
            ),
        )
        .order_by("kind")
    )
    out = []
    for r in rows:
        measured = r["on_time"] + r["late"] + r["open_overdue"]
        out.append(
            {
                **r,
                "label": kind_label(r["kind"]),
                "attainment": round(100 * r["on_time"] / measured, 1) if measured else None,
            }
        )
    return out
