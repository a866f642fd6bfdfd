from typing import Any

from django.db.models import QuerySet
from ninja import Query, Router, Schema
from pydantic import Field

from m4s.core.auth import owner_auth, staff_auth

from . import selectors, services
from .models import Message
from .schemas import InboxMessageOut, InboxOut

router = Router(tags=["inbox"])


class InboxQuery(Schema):
    limit: int = Field(20, ge=1, le=100)
    before_id: int | None = Field(None, ge=1)
    unread: bool = False


def _page(qs: QuerySet[Message], query: InboxQuery, unread: int) -> dict[str, Any]:
    if query.before_id:
        qs = qs.filter(id__lt=query.before_id)
    if query.unread:
        qs = qs.filter(read_at__isnull=True)
    items = list(qs.order_by("-id")[: query.limit + 1])
    more = len(items) > query.limit
    items = items[: query.limit]
    return {"items": items, "unread": unread, "next_before_id": items[-1].id if more else None}


# `request: Any`: owner_auth sets request.owner and staff_auth guarantees a StaffUser
# request.user; neither is expressible on HttpRequest.
@router.get("/me/inbox", response=InboxOut, auth=owner_auth)
def owner_inbox(request: Any, query: Query[InboxQuery]) -> dict[str, Any]:
    owner = request.owner
    return _page(selectors.list_inbox(owner=owner), query, selectors.count_unread(owner=owner))


@router.post("/me/inbox/{message_id}/read", response=InboxMessageOut, auth=owner_auth)
def owner_mark_read(request: Any, message_id: int) -> Message:
    return services.mark_read(message_id=message_id, owner=request.owner)


@router.get("/staff/inbox", response=InboxOut, auth=staff_auth)
def staff_inbox(request: Any, query: Query[InboxQuery]) -> dict[str, Any]:
    staff = request.user
    return _page(selectors.list_inbox(staff=staff), query, selectors.count_unread(staff=staff))


@router.post("/staff/inbox/{message_id}/read", response=InboxMessageOut, auth=staff_auth)
def staff_mark_read(request: Any, message_id: int) -> Message:
    return services.mark_read(message_id=message_id, staff=request.user)
