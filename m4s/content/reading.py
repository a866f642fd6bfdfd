"""The one write of the reading side: an owner's read of an item (views and unique readers)."""

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from .models import ContentItem, ContentView


def record_view(owner, item: ContentItem) -> None:
    """Count one read: the owner's row is created on the first read (a unique reader), its count
    raised on each later one. Safe under parallel reads of the same owner (unique (item, owner))."""
    now = timezone.now()
    with transaction.atomic():
        bumped = ContentView.objects.filter(item=item, owner=owner).update(
            count=F("count") + 1, last_seen=now
        )
        if bumped:
            return
        try:
            with transaction.atomic():
                ContentView.objects.create(item=item, owner=owner)
        except IntegrityError:  # a parallel first read won: count this one on its row
            ContentView.objects.filter(item=item, owner=owner).update(
                count=F("count") + 1, last_seen=now
            )
