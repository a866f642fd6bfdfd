from typing import Any

from django.db.models import QuerySet
from ninja import Query, Router, Schema, Status
from pydantic import Field

from m4s.core.api import errors
from m4s.core.auth import owner_auth, staff_auth

from . import preferences, selectors, services
from .models import Message
from .schemas import (
    InboxMessageOut,
    InboxOut,
    NotificationSettingsIn,
    NotificationSettingsOut,
    PushSubscriptionIn,
    PushSubscriptionOut,
)

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


# --- notification settings and push subscriptions (owner) ------------------------------------
@router.get("/me/notification-settings", response=NotificationSettingsOut, auth=owner_auth)
def get_notification_settings(request: Any) -> dict[str, Any]:
    """What may be sent to the owner: per category and channel, quiet hours, time zone."""
    return preferences.settings_of(request.owner)


@router.put(
    "/me/notification-settings",
    response=NotificationSettingsOut,
    auth=owner_auth,
    openapi_extra=errors(400),
)
def put_notification_settings(request: Any, payload: NotificationSettingsIn) -> dict[str, Any]:
    """Change the fields sent (the others stay). A bad channel, category, time or zone is
    refused (400 or 422 with a code) and nothing is changed."""
    changes = payload.model_dump(exclude_unset=True)
    for keep in ("channels", "time_zone", "categories"):
        if changes.get(keep, "") is None:
            del changes[keep]
    if "categories" in changes:
        changes["categories"] = [
            {"category": name, **{k: v for k, v in row.items() if v is not None}}
            for name, row in changes["categories"].items()
            if row is not None
        ]
    owner = preferences.update_settings(request.owner, changes, source="api")
    return preferences.settings_of(owner)


@router.post(
    "/me/push-subscriptions",
    response={201: PushSubscriptionOut, 200: PushSubscriptionOut},
    auth=owner_auth,
    openapi_extra=errors(400),
)
def post_push_subscription(request: Any, payload: PushSubscriptionIn) -> Status[Any]:
    """Keep this browser's web-push subscription (PushSubscription.toJSON()). Safe to repeat:
    the same endpoint again answers 200 with the same subscription, its keys refreshed."""
    sub, created = preferences.subscribe(
        request.owner,
        endpoint=payload.endpoint,
        p256dh=payload.keys.p256dh,
        auth=payload.keys.auth,
        user_agent=payload.user_agent or request.headers.get("User-Agent", ""),
    )
    return Status(201 if created else 200, sub)


@router.delete(
    "/me/push-subscriptions/{subscription_id}",
    response={204: None},
    auth=owner_auth,
)
def delete_push_subscription(request: Any, subscription_id: int) -> Status[None]:
    """Forget one of the owner's browsers (another owner's subscription: 404)."""
    preferences.unsubscribe_push(request.owner, subscription_id)
    return Status(204, None)
