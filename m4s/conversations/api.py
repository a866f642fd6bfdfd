"""Conversations API: owners talk to their consultants (messages with photos and cards, read
receipts, rating, call-back requests); staff work the inbox (boxes, thread with notes, answer,
note, claim or transfer, close) and log calls; the telephony system reports calls through a
signed webhook. Transport only: every write is a service, every read a selector."""

from django.utils.translation import gettext as _
from ninja import File, Form, Header, Query, Router, Status
from ninja.files import UploadedFile

from m4s.core.api import errors
from m4s.core.auth import owner_auth, staff_auth
from m4s.core.errors import NotFound
from m4s.core.types import DbId
from m4s.staff.choices import Perm, Role
from m4s.staff.permissions import check_perm

from . import selectors, services, telephony
from .choices import BODY_MAX, MAX_PHOTOS, AuthorKind, Topic
from .models import CLOSED, Call, CallbackRequest, Conversation, Message
from .schemas import (
    CallbackRequestIn,
    CallbackRequestOut,
    CallDialIn,
    CallDialOut,
    CallEventIn,
    CallEventOut,
    CallLogIn,
    CallLogOut,
    ConversationAfterQuery,
    ConversationAssignIn,
    ConversationIn,
    ConversationInboxQuery,
    ConversationMessageIn,
    ConversationNoteIn,
    ConversationRatingIn,
    ConversationReadOut,
    OwnerConversationMessageOut,
    OwnerConversationOut,
    StaffConversationMessageOut,
    StaffConversationOut,
)

owner_router = Router(tags=["owner: conversations"], auth=owner_auth)
staff_router = Router(tags=["staff: conversations"], auth=staff_auth)
telephony_router = Router(tags=["telephony"])

IDEMPOTENCY = Header("", alias="Idempotency-Key", max_length=100)


def _photos_body() -> dict:
    """The multipart body of a photo message, stated for clients (and the contract test)."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "photos": {
                                "type": "array",
                                "minItems": 1,
                                "maxItems": MAX_PHOTOS,
                                "items": {"type": "string", "format": "binary", "minLength": 1},
                            },
                            "body": {"type": "string", "maxLength": BODY_MAX},
                        },
                    }
                }
            },
        }
    }


# --- shaping answers ----------------------------------------------------------------------------
def _person(user) -> str:
    return str(user) if user is not None else ""


def _role(user) -> str:
    if user is None or user.role not in Role.values:
        return ""
    return str(Role(user.role).label)


def _card(m: Message) -> dict | None:
    return {"kind": m.card_kind, "id": m.card_id} if m.card_kind and m.card_id else None


def _photos(m: Message) -> list[dict]:
    return [{"id": p.pk, "url": p.image.url} for p in m.photos.all() if p.image]


def owner_message_out(m: Message) -> dict:
    author = {AuthorKind.OWNER: "you", AuthorKind.STAFF: "staff"}.get(m.author_kind, "system")
    name = ""
    if m.author_kind == AuthorKind.STAFF and m.author_staff is not None:
        name = f"{_person(m.author_staff)} · {_role(m.author_staff)}".strip(" ·")
    return {
        "id": m.pk,
        "author": author,
        "author_name": name,
        "text": m.display_text,
        "card": _card(m),
        "photos": _photos(m),
        "created_at": m.created_at,
        "delivered_at": m.delivered_at,
        "read_at": m.read_at,
    }


def staff_message_out(m: Message) -> dict:
    return {
        "id": m.pk,
        "author_kind": m.author_kind,
        "author": {"id": m.author_staff_id, "name": _person(m.author_staff)}
        if m.author_staff_id
        else None,
        "kind": m.kind,
        "text": m.display_text,
        "card": _card(m),
        "photos": _photos(m),
        "created_at": m.created_at,
        "delivered_at": m.delivered_at,
        "read_at": m.read_at,
        "response_minutes": m.response_minutes,
    }


def owner_conversation_out(c: Conversation) -> dict:
    handled_by = ""
    if c.assignee is not None:
        handled_by = f"{_person(c.assignee)} · {_role(c.assignee)}".strip(" ·")
    return {
        "id": c.pk,
        "topic": c.topic,
        "topic_label": str(Topic(c.topic).label),
        "store": {"id": c.store_id, "name": c.store.display_title},
        "handled_by": handled_by,
        "status": c.status,
        "waiting": c.waiting_since is not None,
        "unread": c.owner_unread,
        "last_message_at": c.last_message_at,
        "last_message_preview": c.last_message_preview,
        "created_at": c.created_at,
        "closed_at": c.closed_at,
        "rating": c.rating,
        "rating_comment": c.rating_comment,
        "can_rate": c.status == CLOSED and c.rating is None,
    }


def staff_conversation_out(c: Conversation) -> dict:
    return {
        "id": c.pk,
        "topic": c.topic,
        "stage": c.stage,
        "status": c.status,
        "store": {"id": c.store_id, "name": c.store.name},
        "customer": {"id": c.customer_id, "name": c.customer.name, "phone": c.customer.phone},
        "assignee": {"id": c.assignee_id, "name": _person(c.assignee)} if c.assignee_id else None,
        "waiting_since": c.waiting_since,
        "first_response_due_at": c.first_response_due_at,
        "last_message_at": c.last_message_at,
        "last_message_preview": c.last_message_preview,
        "staff_unread": c.staff_unread,
        "created_at": c.created_at,
        "closed_at": c.closed_at,
        "rating": c.rating,
    }


def _callback_out(r: CallbackRequest) -> dict:
    return {
        "id": r.pk,
        "topic": r.topic,
        "window_start": r.window_start,
        "window_end": r.window_end,
        "note": r.note,
        "status": r.status,
        "conversation_id": r.conversation_id,
        "created_at": r.created_at,
    }


def _call_out(c: Call) -> dict:
    return {
        "id": c.pk,
        "customer_id": c.customer_id,
        "conversation_id": c.conversation_id,
        "callback_request_id": c.callback_request_id,
        "direction": c.direction,
        "reached": c.reached,
        "duration_seconds": c.duration_seconds,
        "outcome": c.outcome,
        "basis": c.basis,
        "reason": c.reason,
        "started_at": c.started_at,
        "source": c.source,
    }


def _owner_message(request, pk: int) -> dict:
    m = (
        Message.objects.for_owner(request.owner)
        .select_related("author_staff")
        .prefetch_related("photos")
        .get(pk=pk)
    )
    return owner_message_out(m)


def _staff_message(request, m: Message) -> dict:
    m = (
        Message.objects.for_group(m.dealer_group_id)
        .select_related("author_staff")
        .prefetch_related("photos")
        .get(pk=m.pk)
    )
    return staff_message_out(m)


# --- owner --------------------------------------------------------------------------------------
@owner_router.get("/conversations", response=list[OwnerConversationOut])
def my_conversations(request):
    """Your conversations with your stores, the latest first, with unread counts."""
    return [owner_conversation_out(c) for c in selectors.owner_conversations(request.owner)[:200]]


@owner_router.post(
    "/conversations",
    response={201: OwnerConversationOut},
    openapi_extra=errors(400, 404, 409, 422),
)
def start_conversation(request, payload: ConversationIn, idempotency_key: str = IDEMPOTENCY):
    """Write to your consultant for a topic (sales, service, customer service) or to the store.
    An open conversation of that topic gets the message. Send an `Idempotency-Key`: a retried
    call with the same key and body is answered with the first result and stores nothing more."""
    owner = request.owner
    customer = services.owner_customer(owner, payload.customer_id)
    conv = services.start_conversation(
        owner,
        customer=customer,
        topic=payload.topic,
        body=payload.body,
        card=(payload.card.kind, payload.card.id) if payload.card else None,
        idempotency_key=idempotency_key,
    )
    return Status(201, owner_conversation_out(selectors.owner_conversation(owner, conv.pk)))


@owner_router.get(
    "/conversations/{int:conversation_id}/messages", response=list[OwnerConversationMessageOut]
)
def my_messages(request, conversation_id: int, q: Query[ConversationAfterQuery]):
    """The thread (the latest 200, oldest first; `after`: only newer ones, for polling). The
    store's messages count as delivered to you once fetched."""
    conv = selectors.owner_conversation(request.owner, conversation_id)
    rows = selectors.owner_messages(request.owner, conv, after=q.after)
    services.mark_delivered_to_owner(request.owner, conv)
    return [owner_message_out(m) for m in rows]


@owner_router.post(
    "/conversations/{int:conversation_id}/messages",
    response={201: OwnerConversationMessageOut},
    openapi_extra=errors(400, 404, 409, 422),
)
def my_message(
    request,
    conversation_id: int,
    payload: ConversationMessageIn,
    idempotency_key: str = IDEMPOTENCY,
):
    """Write in your conversation (a closed one opens again). Send an `Idempotency-Key`: a
    retry is stored once."""
    conv = selectors.owner_conversation(request.owner, conversation_id)
    m = services.post_owner_message(
        request.owner,
        conv,
        body=payload.body,
        card=(payload.card.kind, payload.card.id) if payload.card else None,
        idempotency_key=idempotency_key,
    )
    return Status(201, _owner_message(request, m.pk))


@owner_router.post(
    "/conversations/{int:conversation_id}/messages/photos",
    response={201: OwnerConversationMessageOut},
    openapi_extra={**errors(400, 404, 409, 413, 415, 422), **_photos_body()},
)
def my_photo_message(
    request,
    conversation_id: int,
    photos: File[list[UploadedFile]],
    body: str = Form("", max_length=BODY_MAX),
    idempotency_key: str = IDEMPOTENCY,
):
    """Send photos (JPEG, PNG or WebP, at most 8 MB each, up to 6; re-encoded without EXIF),
    with optional text. Send an `Idempotency-Key`: a retry is stored once."""
    conv = selectors.owner_conversation(request.owner, conversation_id)
    m = services.post_owner_message(
        request.owner, conv, body=body, photos=photos, idempotency_key=idempotency_key
    )
    return Status(201, _owner_message(request, m.pk))


@owner_router.post(
    "/conversations/{int:conversation_id}/read",
    response=ConversationReadOut,
    openapi_extra=errors(404),
)
def my_read(request, conversation_id: int):
    """You have read the thread: the store's messages are marked read (the store sees it)."""
    conv = selectors.owner_conversation(request.owner, conversation_id)
    return {"read": services.mark_read_by_owner(request.owner, conv)}


@owner_router.post(
    "/conversations/{int:conversation_id}/rating",
    response=OwnerConversationOut,
    openapi_extra=errors(400, 404, 409),
)
def my_rating(request, conversation_id: int, payload: ConversationRatingIn):
    """Rate a closed conversation 1-5, once, with an optional comment."""
    conv = selectors.owner_conversation(request.owner, conversation_id)
    services.rate(request.owner, conv, score=payload.score, comment=payload.comment)
    return owner_conversation_out(selectors.owner_conversation(request.owner, conversation_id))


@owner_router.post(
    "/callback-requests",
    response={201: CallbackRequestOut},
    openapi_extra=errors(400, 404, 409),
)
def my_callback_request(request, payload: CallbackRequestIn):
    """ "Call me back": choose a time window (within 30 days, at most 72 hours wide); one open
    request per topic. Your consultant calls you only when you asked or a case needs it."""
    customer = services.owner_customer(request.owner, payload.customer_id)
    r = services.request_callback(
        request.owner,
        customer=customer,
        topic=payload.topic,
        window_start=payload.window_start,
        window_end=payload.window_end,
        note=payload.note,
    )
    return Status(201, _callback_out(r))


# --- staff --------------------------------------------------------------------------------------
def _handler(request) -> None:
    check_perm(request.user, Perm.HANDLE_CONVERSATIONS)


def _staff_conv(request, conversation_id: int) -> Conversation:
    _handler(request)
    return selectors.staff_conversation(request.user, conversation_id)


@staff_router.get("/conversations", response=list[StaffConversationOut])
def inbox(request, q: Query[ConversationInboxQuery]):
    """One box of the inbox: `mine`, `team` (my role's, with colleagues or offered), `unassigned`
    (offered to me), `waiting` (the owner waits on us, longest first), `closed`; `q` narrows by
    customer name, phone or plate. At most 100, for polling."""
    _handler(request)
    return [
        {
            "id": r["id"],
            "topic": r["topic"],
            "stage": r["stage"],
            "status": r["status"],
            "store": {"id": r["store_id"], "name": r["store__name"]},
            "customer": {
                "id": r["customer_id"],
                "name": r["customer__name"],
                "phone": r["customer__phone"],
            },
            "assignee": {"id": r["assignee_id"], "name": r["assignee_name"]}
            if r["assignee_id"]
            else None,
            "waiting_since": r["waiting_since"],
            "first_response_due_at": r["first_response_due_at"],
            "last_message_at": r["last_message_at"],
            "last_message_preview": r["last_message_preview"],
            "staff_unread": r["staff_unread"],
            "created_at": r["created_at"],
            "closed_at": r["closed_at"],
            "rating": r["rating"],
        }
        for r in selectors.staff_inbox_rows(request.user, q.box, q=q.q)
    ]


@staff_router.get(
    "/conversations/{int:conversation_id}/messages", response=list[StaffConversationMessageOut]
)
def thread(request, conversation_id: int, q: Query[ConversationAfterQuery]):
    """The thread with internal notes and system lines (`after`: only newer ones). Opening it
    reads the owner's messages (the owner sees them read)."""
    _handler(request)
    conv = selectors.staff_conversation(request.user, conversation_id, light=True)
    rows = selectors.staff_messages(request.user, conv, after=q.after)
    if conv.staff_unread:
        services.mark_read_by_staff(request.user, conv)
    return [staff_message_out(m) for m in rows]


@staff_router.post(
    "/conversations/{int:conversation_id}/messages",
    response={201: StaffConversationMessageOut},
    openapi_extra=errors(400, 404, 409),
)
def answer(request, conversation_id: int, payload: ConversationMessageIn):
    """Answer the owner (they are notified in the app, and by SMS or e-mail if they chose so).
    Answering an unassigned conversation takes it."""
    conv = _staff_conv(request, conversation_id)
    m = services.post_staff_message(
        request.user,
        conv,
        body=payload.body,
        card=(payload.card.kind, payload.card.id) if payload.card else None,
    )
    return Status(201, _staff_message(request, m))


@staff_router.post(
    "/conversations/{int:conversation_id}/messages/photos",
    response={201: StaffConversationMessageOut},
    openapi_extra={**errors(400, 404, 409, 413, 415), **_photos_body()},
)
def answer_with_photos(
    request,
    conversation_id: int,
    photos: File[list[UploadedFile]],
    body: str = Form("", max_length=BODY_MAX),
):
    """Answer with photos (JPEG, PNG or WebP, up to 6) and optional text."""
    conv = _staff_conv(request, conversation_id)
    m = services.post_staff_message(request.user, conv, body=body, photos=photos)
    return Status(201, _staff_message(request, m))


@staff_router.post(
    "/conversations/{int:conversation_id}/notes",
    response={201: StaffConversationMessageOut},
    openapi_extra=errors(400, 404),
)
def note(request, conversation_id: int, payload: ConversationNoteIn):
    """An internal note: staff only, never shown or sent to the owner."""
    conv = _staff_conv(request, conversation_id)
    m = services.add_note(request.user, conv, body=payload.body)
    return Status(201, _staff_message(request, m))


@staff_router.post(
    "/conversations/{int:conversation_id}/assign",
    response=StaffConversationOut,
    openapi_extra=errors(400, 404, 409),
)
def assign(request, conversation_id: int, payload: ConversationAssignIn):
    """Without `staff_id`: take the conversation (409 if a colleague has it). With `staff_id`:
    transfer it to that colleague, with a reason; the hand-over is recorded."""
    conv = _staff_conv(request, conversation_id)
    if payload.staff_id is None:
        services.claim(request.user, conv)
    else:
        services.transfer(
            request.user, conv, to=payload.staff_id, reason=payload.reason, note=payload.note
        )
    return staff_conversation_out(selectors.staff_conversation(request.user, conversation_id))


@staff_router.post(
    "/conversations/{int:conversation_id}/close",
    response=StaffConversationOut,
    openapi_extra=errors(404, 409),
)
def close(request, conversation_id: int):
    """Close; the owner is asked to rate it. A new owner message opens it again."""
    services.close(request.user, _staff_conv(request, conversation_id))
    return staff_conversation_out(selectors.staff_conversation(request.user, conversation_id))


@staff_router.post("/calls", response={201: CallLogOut}, openapi_extra=errors(400, 404))
def log_call(request, payload: CallLogIn):
    """Log a call with a customer. Outbound calls are never cold: without the owner's request,
    an open case or an agreed reminder, give a `reason` (400 `reason_required` otherwise, and
    nothing is stored); such calls are counted in the figures."""
    _handler(request)
    call = services.log_call(
        request.user,
        customer=payload.customer_id,
        direction=payload.direction,
        reached=payload.reached,
        duration_seconds=payload.duration_seconds,
        outcome=payload.outcome,
        note=payload.note,
        reason=payload.reason,
        callback_request=payload.callback_request_id,
        conversation=payload.conversation_id,
    )
    return Status(201, _call_out(call))


@staff_router.post("/calls/dial", response=CallDialOut, openapi_extra=errors(404))
def dial(request, payload: CallDialIn):
    """Click-to-call through the group's telephony adapter (default: a `tel:` link for your own
    phone), with the call's basis and whether its log will need a reason."""
    _handler(request)
    conv = None
    if payload.conversation_id:
        conv = selectors.staff_conversation(request.user, payload.conversation_id)
        if conv.customer_id != payload.customer_id:
            raise NotFound(_("No such conversation."))
    return services.click_to_call(request.user, customer=payload.customer_id, conversation=conv)


# --- telephony webhook --------------------------------------------------------------------------
@telephony_router.post(
    "/groups/{int:group_id}/call-events",
    response=CallEventOut,
    openapi_extra=errors(401, 404),
)
def call_event(
    request,
    group_id: DbId,
    payload: CallEventIn,
    signature: str = Header("", alias="X-M4S-Signature", max_length=100),
    timestamp: str = Header("", alias="X-M4S-Timestamp", max_length=20),
):
    """A finished call reported by the group's CTI system. Signed: `X-M4S-Timestamp` (unix
    seconds, within 5 minutes) and `X-M4S-Signature: sha256=<hex HMAC-SHA256 of
    "<timestamp>.<raw body>">` with the group's secret. Recorded once per `call_id`; calls of
    unknown agents or customers are acknowledged and ignored (docs/telephony.md)."""
    telephony.verify(group_id, timestamp, signature, request.body)
    answer = services.record_event(group_id, payload.model_dump())
    return {
        "status": answer["status"],
        "reason": answer.get("reason", ""),
        "call": answer.get("call"),
    }
