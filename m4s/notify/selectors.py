from .choices import Channel, Status
from .models import Message


def list_inbox(*, owner=None, staff=None):
    """In-app messages delivered to one owner or one staff member, newest first."""
    if owner is None and staff is None:
        return Message.objects.none()
    qs = Message.objects.filter(channel=Channel.INAPP, status=Status.SENT)
    return qs.filter(owner=owner) if owner is not None else qs.filter(staff=staff)


def count_unread(*, owner=None, staff=None) -> int:
    return list_inbox(owner=owner, staff=staff).filter(read_at__isnull=True).count()
