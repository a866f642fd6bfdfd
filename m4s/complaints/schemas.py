"""Complaints API schemas: strict input types (ids a database can hold, bounded text, JSON
integers), answers written for the owner or the staff member who asked."""

import datetime as dt
from typing import Annotated, Literal

from ninja import Schema
from pydantic import Field

from m4s.core.types import NON_BLANK, DbId, Int, SaneDate

from .choices import (
    DESCRIPTION_MAX,
    MESSAGE_MAX,
    STAFF_CHANNELS,
    CallDirection,
    Queue,
    Severity,
    Status,
)

# Required text: at least one character that is not white space (blank text is refused by the
# schema, so a client can tell from the document what it may send).
TEXT = NON_BLANK

SeverityIn = Literal[tuple(Severity.values)]  # type: ignore[valid-type]
StaffChannel = Literal[tuple(str(c) for c in STAFF_CHANNELS)]  # type: ignore[valid-type]
StatusIn = Literal[tuple(Status.values)]  # type: ignore[valid-type]
QueueIn = Literal[tuple(Queue.values)]  # type: ignore[valid-type]
DirectionIn = Literal[tuple(CallDirection.values)]  # type: ignore[valid-type]


# --- input --------------------------------------------------------------------------------------
class ComplaintIn(Schema):
    description: str = Field(..., max_length=DESCRIPTION_MAX, pattern=TEXT)
    category_id: DbId | None = None
    severity: SeverityIn = "normal"
    store_id: DbId | None = None
    vehicle_id: DbId | None = None
    appointment_id: DbId | None = None
    repair_order_id: DbId | None = None


class StaffComplaintIn(ComplaintIn):
    customer_id: DbId
    channel: StaffChannel
    concerned_staff_id: DbId | None = None


class MessageIn(Schema):
    body: str = Field(..., max_length=MESSAGE_MAX, pattern=TEXT)


class ReasonIn(Schema):
    reason: str = Field(..., max_length=MESSAGE_MAX, pattern=TEXT)


class EscalateIn(Schema):
    reason: str = Field(..., max_length=500, pattern=TEXT)


class RatingIn(Schema):
    rating: Int = Field(..., ge=1, le=5)
    comment: str = Field("", max_length=500)


class CallIn(Schema):
    summary: str = Field(..., max_length=MESSAGE_MAX, pattern=TEXT)
    direction: DirectionIn = "out"
    minutes: int | None = Field(None, ge=0, le=600)


class WaitIn(Schema):
    question: str = Field("", max_length=MESSAGE_MAX)


class ChangeIn(Schema):
    category_id: DbId | None = None
    severity: SeverityIn | None = None
    assignee_id: DbId | None = None


class ResolveIn(Schema):
    root_cause_id: DbId
    resolution: str = Field(..., max_length=DESCRIPTION_MAX, pattern=TEXT)
    action: str = Field(..., max_length=2000, pattern=TEXT)
    responsible_id: DbId
    due_date: SaneDate


class CheckIn(Schema):
    note: str = Field("", max_length=500)


class QueueQuery(Schema):
    queue: QueueIn = "mine"
    status: StatusIn | None = None
    severity: SeverityIn | None = None
    category_id: DbId | None = None
    store_id: DbId | None = None
    level: Annotated[int, Field(ge=1, le=3)] | None = None
    q: str = Field("", max_length=60)


class FiguresQuery(Schema):
    month: str | None = Field(None, pattern=r"^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])$")
    store_id: DbId | None = None


# --- output -------------------------------------------------------------------------------------
class Ref(Schema):
    id: int
    name: str


class PhotoOut(Schema):
    id: int
    url: str


class EventOut(Schema):
    id: int
    kind: str
    at: dt.datetime
    text: str
    body: str
    by: str
    photos: list[PhotoOut]


class StaffEventOut(EventOut):
    owner_visible: bool
    call_direction: str
    call_minutes: int | None


class OwnerComplaintListOut(Schema):
    id: int
    reference: str
    status: str
    stage: str
    category: Ref
    store: Ref
    created_at: dt.datetime
    updated_at: dt.datetime


class OwnerComplaintOut(OwnerComplaintListOut):
    level: int
    level_label: str
    channel: str
    severity: str
    description: str
    vehicle_id: int | None
    appointment_id: int | None
    repair_order_id: int | None
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None
    resolution: str
    rating: int | None
    rating_comment: str
    can_reply: bool
    can_confirm: bool
    can_reopen: bool
    can_rate: bool
    events: list[EventOut]


class StaffComplaintListOut(Schema):
    id: int
    reference: str
    status: str
    severity: str
    level: int
    channel: str
    category: Ref
    store: Ref
    customer: Ref
    assignee: Ref | None
    created_at: dt.datetime
    due_at: dt.datetime | None
    minutes_left: int | None
    paused: bool


class EscalationOut(Schema):
    from_level: int
    to_level: int
    reason: str
    note: str
    at: dt.datetime
    by: str


class ActionOut(Schema):
    id: int
    root_cause: Ref
    action: str
    responsible: Ref
    due_date: dt.date
    done_at: dt.datetime | None
    checked_at: dt.datetime | None
    checked_by: str


class StaffComplaintOut(StaffComplaintListOut):
    description: str
    vehicle_id: int | None
    appointment_id: int | None
    repair_order_id: int | None
    concerned_staff_id: int | None
    survey_id: int | None
    recorded_by: str
    first_response_due_at: dt.datetime
    resolution_due_at: dt.datetime
    level_due_at: dt.datetime | None
    paused_at: dt.datetime | None
    held_minutes: int
    first_responded_at: dt.datetime | None
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None
    reopen_count: int
    handling_minutes: int | None
    root_cause: Ref | None
    resolution: str
    rating: int | None
    rating_comment: str
    escalations: list[EscalationOut]
    corrective_actions: list[ActionOut]
    events: list[StaffEventOut]


class CountOut(Schema):
    name: str
    count: int


class MonthCountOut(Schema):
    month: dt.date
    count: int


class CauseOut(Schema):
    root_cause: Ref
    count: int
    open_actions: list[ActionOut]


class FiguresOut(Schema):
    month: dt.date
    total: int
    by_category: list[CountOut]
    by_store: list[CountOut]
    by_month: list[MonthCountOut]
    first_response_attainment: float | None
    resolution_attainment: float | None
    resolved: int
    mean_handling_minutes: float | None
    p90_handling_minutes: float | None
    reopen_rate: float | None
    top_root_causes: list[CauseOut]
    repair_orders: int
    per_100_repair_orders: float | None


class CategoryOut(Schema):
    id: int
    code: str
    name: str
    parent_id: int | None
    depth: int
