"""Events API schemas: bounded input (lengths, capacity, sane dates), answers in the reader's
language."""

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Schema
from pydantic import BeforeValidator, Field

from m4s.core.types import NON_BLANK, Int, SaneDateTime, _integer

from .choices import MAX_CAPACITY, EventStatus, SignupStatus

TEXT = NON_BLANK
Lang = Literal["zh-hans", "en", "ko"]
Title = Annotated[str, Field(max_length=120)]
Body = Annotated[str, Field(max_length=4000)]
# Degrees as JSON numbers (kept to 6 decimals: about 10 cm).
Name = Annotated[str, Field(min_length=1, max_length=120, pattern=TEXT)]
Capacity = Annotated[int, Field(ge=1, le=MAX_CAPACITY), BeforeValidator(_integer)]
StoreId = Annotated[int, Field(ge=1, le=2**63 - 1)]
Lat = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Lon = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]


# --- input -----------------------------------------------------------------------------------------
class EventIn(Schema):
    """A new event (a draft unless `status` is `open`). The deadline defaults to the start and
    may not be after it; the end may not be before the start (else 422)."""

    title: str = Field(..., min_length=1, max_length=120, pattern=TEXT)
    title_i18n: dict[Lang, Title] = Field(default_factory=dict)
    description: str = Field("", max_length=4000)
    description_i18n: dict[Lang, Body] = Field(default_factory=dict)
    place_name: str = Field(..., min_length=1, max_length=120, pattern=TEXT)
    address: str = Field("", max_length=200)
    latitude: Lat | None = None
    longitude: Lon | None = None
    starts_at: SaneDateTime
    ends_at: SaneDateTime
    signup_deadline: SaneDateTime | None = None
    capacity: Int = Field(..., ge=1, le=MAX_CAPACITY)
    store_id: StoreId | None = None
    status: Literal["draft", "open"] = "draft"


class EventPatchIn(Schema):
    """Only the fields sent change. `status`: open it, mark it done, or cancel it (every
    sign-up is cancelled and its owner told)."""

    title: Name | None = None
    title_i18n: dict[Lang, Title] | None = None
    description: Body | None = None
    description_i18n: dict[Lang, Body] | None = None
    place_name: Name | None = None
    address: Annotated[str, Field(max_length=200)] | None = None
    latitude: Lat | None = None
    longitude: Lon | None = None
    starts_at: SaneDateTime | None = None
    ends_at: SaneDateTime | None = None
    signup_deadline: SaneDateTime | None = None
    capacity: Capacity | None = None
    store_id: StoreId | None = None
    status: EventStatus | None = None


class TicketCheckInIn(Schema):
    token: str = Field(..., min_length=1, max_length=60)


# --- output ----------------------------------------------------------------------------------------
class MySignupOut(Schema):
    id: int
    status: SignupStatus
    status_label: str
    position: int | None
    signed_up_at: dt.datetime
    checked_in_at: dt.datetime | None


class CarPalEventOut(Schema):
    id: int
    title: str
    description: str
    place_name: str
    address: str
    latitude: Decimal | None
    longitude: Decimal | None
    starts_at: dt.datetime
    ends_at: dt.datetime
    signup_deadline: dt.datetime
    capacity: int
    places_left: int
    waiting: int
    status: EventStatus
    status_label: str
    store: str
    cover_url: str
    can_sign_up: bool
    my_signup: MySignupOut | None


class TicketOut(Schema):
    event_id: int
    token: str
    status: SignupStatus
    status_label: str
    qr_svg: str


class StaffCarPalEventOut(CarPalEventOut):
    title_source: str
    title_i18n: dict[str, str]
    description_i18n: dict[str, str]
    checked_in: int
    store_id: int | None


class SignupOut(Schema):
    id: int
    customer_id: int
    name: str
    phone_last4: str
    status: SignupStatus
    status_label: str
    position: int | None
    signed_up_at: dt.datetime
    checked_in_at: dt.datetime | None
    checked_in_by: str
