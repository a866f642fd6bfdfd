from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from ninja import Header, Query, Router, Schema, Status
from ninja.security import django_auth
from pydantic import Field

from m4s.core.api import errors
from m4s.core.auth import owner_auth, staff_auth
from m4s.core.errors import DomainError

from . import live, preferences, selectors, services
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


STREAM_DOC = {
    **errors(403, 503),
    "responses": {
        "200": {
            "description": (
                "Server-sent events (text/event-stream) of the signed-in staff member's own "
                "dealer group: `rescue` (a crash, rollover or SOS case opened or joined), "
                "`alarm` (theft, movement, geofence), `notice` (a new notification for this "
                "person: complaints, conversations and every other area). Each event has an id; "
                "reconnect with `Last-Event-ID` to get what was missed. The stream ends after "
                "LIVE_STREAM_SECONDS; browsers reconnect by themselves."
            ),
            # the schema of one event (schemathesis checks each event of the stream against it)
            "content": {
                "text/event-stream": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "id": {"type": "string", "pattern": "^[0-9]+$"},
                            "event": {"type": "string", "enum": ["rescue", "alarm", "notice"]},
                            "data": {"type": "string", "minLength": 2},
                        },
                        "required": ["id", "event", "data"],
                    }
                }
            },
        }
    },
}


@router.get(
    "/staff/stream",
    auth=[staff_auth, django_auth],
    response={200: None},
    openapi_extra=STREAM_DOC,
    summary="The console's live channel (server-sent events)",
    url_name="staff-stream",
)
def staff_stream(
    request: Any,
    last_event_id: int = Header(None, alias="Last-Event-ID", ge=0, le=2**63 - 1),  # type: ignore[type-arg]
) -> StreamingHttpResponse:
    """Console pages open it with EventSource (their session); API clients with a staff token.
    503 `stream_busy` when this server process holds its most streams: poll instead."""
    from django.utils.translation import gettext as _

    from m4s.staff.choices import Perm

    user = request.user
    if not user.has_perm_m4s(Perm.USE_CONSOLE) or user.dealer_group_id is None:
        raise DomainError(
            "forbidden", _("The live channel is for a dealer group's staff."), status=403
        )
    if not live.take_slot():
        raise DomainError(
            "stream_busy",
            _("Too many live connections on this server: the page polls instead."),
            status=503,
        )
    response = StreamingHttpResponse(
        live.Stream(live.Audience(user), last_event_id), content_type="text/event-stream"
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response
