from typing import TYPE_CHECKING

from django.db.models import QuerySet

from .choices import Channel, Status
from .models import Message

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
