import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db.models import Count, QuerySet

from .choices import Channel, Status
from .models import ContactDecision, Message, Unsubscribe

if TYPE_CHECKING:  # models of other apps, for annotations only
    from m4s.owners.models import Owner
    from m4s.staff.models import StaffUser


def list_inbox(
    *, owner: "Owner | None" = None, staff: "StaffUser | None" = None
) -> QuerySet[Message]:
    """In-app messages delivered to one owner or one staff member, newest first."""
    if owner is None and staff is None:
        return Message.objects.none()
    qs = Message.objects.filter(channel=Channel.INAPP, status=Status.SENT)
    return qs.filter(owner=owner) if owner is not None else qs.filter(staff=staff)


def count_unread(*, owner: "Owner | None" = None, staff: "StaffUser | None" = None) -> int:
    return list_inbox(owner=owner, staff=staff).filter(read_at__isnull=True).count()


# --- the contact policy's figures ------------------------------------------------------------
def decision_counts(
    group_id: int, since: dt.datetime, until: dt.datetime, *, kind_prefix: str = ""
) -> list[dict[str, Any]]:
    """Contact decisions of a dealer group in [since, until) counted by (kind, outcome, why):
    rows {kind, outcome, why, n}, n counting messages (one contact, on however many channels,
    counts once per outcome: a care reminder in the inbox now and by SMS after quiet hours is
    one sent and one held)."""
    qs = ContactDecision.objects.filter(
        dealer_group_id=group_id, decided_at__gte=since, decided_at__lt=until
    )
    if kind_prefix:
        qs = qs.filter(kind__startswith=kind_prefix)
    rows = qs.values("kind", "outcome", "why").annotate(n=Count("contact", distinct=True))
    return [dict(r) for r in rows.order_by("kind", "outcome", "why")]


def unsubscribe_counts(
    group_id: int, since: dt.datetime, until: dt.datetime
) -> list[tuple[str, int]]:
    """(category, n) of the owners who switched a category off in [since, until) through a
    link in this group's messages."""
    rows = (
        Unsubscribe.objects.filter(dealer_group_id=group_id, at__gte=since, at__lt=until)
        .values("category")
        .annotate(n=Count("id"))
        .order_by("category")
    )
    return [(r["category"], r["n"]) for r in rows]
