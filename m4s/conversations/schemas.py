"""Conversations API schemas: strict input (ids a database can hold, bounded text that is not
blank, choices as enums, JSON integers and booleans) and answers for the owner (never a note) or
the staff member who asked."""

import datetime as dt
from typing import Literal

from ninja import Schema
from pydantic import BaseModel, Field

from m4s.core.types import NON_BLANK, Bool, DbId, Int, SaneDateTime

from .choices import (
    BODY_MAX,
    COMMENT_MAX,
    NOTE_MAX,
    Box,
    CallDirection,
    CallOutcome,
    CardKind,
    Topic,
    TransferReason,
)

# Required text: at least one character that is not white space.
TEXT = NON_BLANK

TopicIn = Literal[tuple(Topic.values)]  # type: ignore[valid-type]
BoxIn = Literal[tuple(Box.values)]  # type: ignore[valid-type]
CardKindIn = Literal[tuple(v for v in CardKind.values if v)]  # type: ignore[valid-type]
DirectionIn = Literal[tuple(CallDirection.values)]  # type: ignore[valid-type]
OutcomeIn = Literal[tuple(CallOutcome.values)]  # type: ignore[valid-type]
TransferReasonIn = Literal[tuple(TransferReason.values)]  # type: ignore[valid-type]


# --- input --------------------------------------------------------------------------------------
class ConversationCardIn(Schema):
    """Something of the same customer shown as a card: a car, a visit, a repair order or a
    complaint (another customer's is a 404)."""

    kind: CardKindIn
    id: DbId


class ConversationMessageIn(Schema):
    body: str = Field(..., max_length=BODY_MAX, pattern=TEXT)
    card: ConversationCardIn | None = None


class ConversationIn(ConversationMessageIn):
    topic: TopicIn
    customer_id: DbId | None = Field(
        None,
        description="Which of your dealer groups (your customer record); default: your home store's.",
    )


class ConversationNoteIn(Schema):
    body: str = Field(..., max_length=BODY_MAX, pattern=TEXT)


class ConversationRatingIn(Schema):
    score: Int = Field(..., ge=1, le=5)
    comment: str = Field("", max_length=COMMENT_MAX)


class CallbackRequestIn(Schema):
    topic: TopicIn = "store"
    window_start: SaneDateTime
    window_end: SaneDateTime = Field(
        ..., description="After window_start, at most 72 hours later, within 30 days from now."
    )
    note: str = Field("", max_length=NOTE_MAX)
    customer_id: DbId | None = None


class ConversationInboxQuery(Schema):
    box: BoxIn = "mine"
    q: str = Field(
        "", max_length=60, description="Customer name, phone (or its last digits), plate."
    )


class ConversationAfterQuery(Schema):
    after: DbId | None = Field(None, description="Only messages after this message id (polling).")


class ConversationAssignIn(Schema):
    """No `staff_id`: claim it (take it yourself). A `staff_id`: transfer it, with a reason."""

    staff_id: DbId | None = None
    reason: TransferReasonIn = "other"
    note: str = Field("", max_length=NOTE_MAX)


class CallLogIn(Schema):
    customer_id: DbId
    direction: DirectionIn
    reached: Bool
    duration_seconds: Int = Field(..., ge=0, le=86_400)
    outcome: OutcomeIn
    note: str = Field("", max_length=NOTE_MAX)
    reason: str = Field(
        "",
        max_length=NOTE_MAX,
        description="Why you call: required for an outbound call the owner did not ask for, "
        "without an open case or an agreed reminder (400 `reason_required`).",
    )
    callback_request_id: DbId | None = None
    conversation_id: DbId | None = None


class CallDialIn(Schema):
    customer_id: DbId
    conversation_id: DbId | None = None


class CallEventIn(Schema):
    """A finished call, reported by the group's telephony system (CTI)."""

    call_id: str = Field(..., min_length=1, max_length=100, pattern=TEXT)
    direction: DirectionIn
    agent: str = Field(..., max_length=150, description="Username or phone of the staff member.")
    customer_phone: str = Field(..., max_length=20)
    answered: Bool
    duration_seconds: Int = Field(0, ge=0, le=86_400)
    started_at: SaneDateTime
    outcome: OutcomeIn | None = None
    note: str = Field("", max_length=NOTE_MAX)
    reason: str = Field("", max_length=NOTE_MAX)


# --- output -------------------------------------------------------------------------------------
class Out(BaseModel):
    """Answers are built as plain dicts and validated by pydantic directly (a ninja Schema would
    wrap every field access of every row: a hundred inbox rows cost tens of milliseconds)."""


class ConversationRef(Out):
    id: int
    name: str


class ConversationPhotoOut(Out):
    id: int
    url: str


class ConversationCardOut(Out):
    kind: str
    id: int


class OwnerConversationMessageOut(Out):
    id: int
    author: Literal["you", "staff", "system"]
    author_name: str
    text: str
    card: ConversationCardOut | None
    photos: list[ConversationPhotoOut]
    created_at: dt.datetime
    delivered_at: dt.datetime | None = Field(
        description="Reached the store (your messages) or you."
    )
    read_at: dt.datetime | None


class StaffConversationMessageOut(Out):
    id: int
    author_kind: str
    author: ConversationRef | None
    kind: Literal["message", "note"]
    text: str
    card: ConversationCardOut | None
    photos: list[ConversationPhotoOut]
    created_at: dt.datetime
    delivered_at: dt.datetime | None
    read_at: dt.datetime | None
    response_minutes: int | None


class OwnerConversationOut(Out):
    id: int
    topic: str
    topic_label: str
    store: ConversationRef
    handled_by: str = Field(description="Who answers you (name and role), empty while offered.")
    status: str
    waiting: bool
    unread: int
    last_message_at: dt.datetime
    last_message_preview: str
    created_at: dt.datetime
    closed_at: dt.datetime | None
    rating: int | None
    rating_comment: str
    can_rate: bool


class ConversationCustomerRef(Out):
    id: int
    name: str
    phone: str


class StaffConversationOut(Out):
    id: int
    topic: str
    stage: str
    status: str
    store: ConversationRef
    customer: ConversationCustomerRef
    assignee: ConversationRef | None
    waiting_since: dt.datetime | None
    first_response_due_at: dt.datetime | None
    last_message_at: dt.datetime
    last_message_preview: str
    staff_unread: int
    created_at: dt.datetime
    closed_at: dt.datetime | None
    rating: int | None


class ConversationReadOut(Out):
    read: int


class CallbackRequestOut(Out):
    id: int
    topic: str
    window_start: dt.datetime
    window_end: dt.datetime
    note: str
    status: str
    conversation_id: int | None
    created_at: dt.datetime


class CallLogOut(Out):
    id: int
    customer_id: int
    conversation_id: int | None
    callback_request_id: int | None
    direction: str
    reached: bool
    duration_seconds: int
    outcome: str
    basis: str
    reason: str
    started_at: dt.datetime
    source: str


class CallDialOut(Out):
    mode: str
    url: str
    basis: str
    reason_required: bool
    callback_request: int | None


class CallEventOut(Out):
    status: Literal["recorded", "ignored"]
    reason: str = ""
    call: int | None = None
