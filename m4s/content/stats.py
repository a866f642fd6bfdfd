"""The publisher's per-day figures of an item (the console's stats page and the staff API):
new readers per day from the reads table. Totals and the per-target breakdown are
`selectors.item_stats`."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from .models import ContentItem, ContentView

DAYS_SHOWN = 30


@dataclass(frozen=True)
class Day:
    day: dt.date
    readers: int  # owners who first read the item that day
    views: int  # reads by those owners so far


def readers_per_day(item: ContentItem, days: int = DAYS_SHOWN) -> list[Day]:
    """One row per day of the last `days` days (zeros included), oldest first."""
    today = timezone.localdate()
    start = today - dt.timedelta(days=days - 1)
    since = timezone.make_aware(dt.datetime.combine(start, dt.time.min))
    rows = (
        ContentView.objects.filter(item=item, first_seen__gte=since)
        .annotate(day=TruncDate("first_seen", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(readers=Count("id"), views=Sum("count"))
    )
    found = {r["day"]: r for r in rows}
    out = []
    for n in range(days):
        day = start + dt.timedelta(days=n)
        r = found.get(day) or {}
        out.append(Day(day=day, readers=r.get("readers") or 0, views=r.get("views") or 0))
    return out
