"""Requests API schemas: bounded input; answers in the reader's language."""

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from ninja import Schema
from pydantic import BeforeValidator, Field

from m4s.core.types import NON_BLANK, SaneDate, SaneDateTime
from m4s.core.types import Money as _Money

from .choices import QuoteStatus, RequestStatus


def _finite(value: Any) -> Any:
    """A JSON number too large to be an amount (1e308) is refused before it is read."""
    if isinstance(value, float) and not abs(value) < 1e12:
        raise ValueError("must be an amount below 1,000,000,000")
    return value


Money = Annotated[_Money, BeforeValidator(_finite)]


BigId = Field(..., ge=1, le=2**63 - 1)


class RequestsSubmitIn(Schema):
    """A request of a kind (`test_drive`, `finance`, `insurance_quote`, `trade_in`,
    `new_car_enquiry`, and the assistance kinds) at a store; `fields` are validated by the
    kind's own schema (422 `invalid_fields` with the field)."""

    kind: str = Field(..., min_length=1, max_length=30, pattern=r"^[a-z_]+$")
    store_id: int = BigId
    vehicle_id: int | None = Field(None, ge=1, le=2**63 - 1)
    fields: dict[str, Any] = Field(default_factory=dict)


class RequestsAcceptQuoteIn(Schema):
    quote_id: int = BigId


class RequestsStaffActionIn(Schema):
    """The values an action needs: `reason` (decline), `scheduled_for` (schedule), `staff_id`
    (transfer), `note` (note), `odometer_km` (test drive check-out / check-in), `low` / `high`
    (trade-in valuation)."""

    reason: str = Field("", max_length=1000)
    scheduled_for: SaneDateTime | None = None
    staff_id: int | None = Field(None, ge=1, le=2**63 - 1)
    note: str = Field("", max_length=1000)
    odometer_km: int | None = Field(None, ge=0, le=2_000_000)
    low: Money | None = None
    high: Money | None = None


class RequestsQuoteLineIn(Schema):
    label: str = Field(..., min_length=1, max_length=120, pattern=NON_BLANK)
    amount: Money


class RequestsQuoteIn(Schema):
    label: str = Field(..., min_length=1, max_length=120, pattern=NON_BLANK)
    lines: list[RequestsQuoteLineIn] = Field(default_factory=list, max_length=30)
    total: Money | None = None
    valid_until: SaneDate | None = None
    insurer_id: int | None = Field(None, ge=1, le=2**63 - 1)


class RequestEventOut(Schema):
    at: dt.datetime
    text: str
    by: str


class RequestQuoteOut(Schema):
    id: int
    label: str
    lines: list[dict[str, str]]
    total: Decimal
    valid_until: dt.date | None
    status: QuoteStatus
    status_label: str
    accepted_at: dt.datetime | None


class ServiceRequestOut(Schema):
    id: int
    kind: str
    kind_label: str
    status: RequestStatus
    status_label: str
    store_id: int
    store: str
    vehicle_id: int | None
    details: dict[str, Any]
    scheduled_for: dt.datetime | None
    due_at: dt.datetime | None
    decline_reason: str
    created_at: dt.datetime
    events: list[RequestEventOut]
    quotes: list[RequestQuoteOut]


class StaffServiceRequestOut(ServiceRequestOut):
    customer_id: int
    customer_name: str
    assigned_to_id: int | None
    assigned_to: str
    role: str
    lead_id: int | None


class TestDriveSlotOut(Schema):
    start: dt.datetime
    end: dt.datetime
    free_cars: int
