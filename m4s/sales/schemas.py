"""Sales API schemas (component names prefixed `Sales`): bounded input, answers in the reader's
language."""

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import BeforeValidator, Field, WithJsonSchema

from m4s.core.types import DbId, SaneDate

from .choices import LeadSource, LostReason, Stage


def _cents(value: Any) -> Any:
    """A JSON number meant as an amount (12.3 as 12.300000000000001) is read to the cent."""
    if isinstance(value, float) and abs(value * 100 - round(value * 100)) < 1e-6:
        return Decimal(str(round(value, 2)))
    return value


# A lead's value: CNY to the cent, below 100,000,000 (what the column holds).
LeadValue = Annotated[
    Decimal,
    BeforeValidator(_cents),
    Field(ge=0, lt=10**8, max_digits=10, decimal_places=2),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "exclusiveMaximum": 10**8, "multipleOf": 0.01},
                {"type": "string", "pattern": r"^[0-9]{1,8}(\.[0-9]{1,2})?$"},
            ],
            "description": "An amount in CNY, to the cent, below 100,000,000.",
        },
        mode="validation",
    ),
]
StaffSource = Literal["walk_in", "phone", "event", "referral", "web"]


class SalesLeadIn(Schema):
    """A lead a staff member enters: a prospect by mobile number (and, if known, the customer
    they may see).
    An open lead of the same phone/customer in the group is updated instead (200)."""

    phone: str = Field(..., min_length=1, max_length=32, pattern=r"[0-9]")
    customer_id: DbId | None = None
    name: str = Field("", max_length=80)
    store_id: DbId | None = None
    source: StaffSource = "walk_in"
    campaign: str = Field("", max_length=80)
    car_model_id: DbId | None = None
    trim_id: DbId | None = None
    value: LeadValue | None = None
    expected_close: SaneDate | None = None
    note: str = Field("", max_length=2000)


class SalesLeadPatchIn(Schema):
    """Only the fields sent change. `stage` lost needs `lost_reason`; `assigned_to` null
    unassigns; a null date clears it."""

    stage: Stage | None = None
    lost_reason: LostReason | None = None
    note: str = Field("", max_length=500)
    next_follow_up: SaneDate | None = None
    expected_close: SaneDate | None = None
    assigned_to: DbId | None = None
    value: LeadValue | None = None


class SalesActivityOut(Schema):
    kind: str
    kind_label: str
    at: dt.datetime
    text: str
    note: str
    actor: str


class SalesLeadOut(Schema):
    id: int
    store_id: int
    customer_id: int | None
    name: str
    phone: str
    source: LeadSource
    source_label: str
    campaign: str
    car_model_id: int | None
    car_model: str
    trim_id: int | None
    value: Decimal
    stage: Stage
    stage_label: str
    lost_reason: LostReason | Literal[""]
    assigned_to: int | None
    assigned_to_name: str
    next_follow_up: dt.date | None
    overdue: bool
    expected_close: dt.date | None
    origin_kind: str
    origin_id: int | None
    won_at: dt.datetime | None
    lost_at: dt.datetime | None
    created_at: dt.datetime


class SalesBoardColumnOut(Schema):
    stage: Stage
    label: str
    count: int
    value: Decimal
    overdue: int
    cards: list[SalesLeadOut]


class SalesBoardOut(Schema):
    consultant_id: int
    columns: list[SalesBoardColumnOut]


class SalesForecastStageOut(Schema):
    stage: Stage
    label: str
    probability: int
    count: int
    value: Decimal
    weighted: Decimal


class SalesForecastConsultantOut(Schema):
    staff_id: int | None
    name: str
    count: int
    value: Decimal
    weighted: Decimal
    won: Decimal


class SalesForecastOut(Schema):
    month: str
    weighted_total: Decimal
    value_total: Decimal
    won_total: Decimal
    stages: list[SalesForecastStageOut]
    consultants: list[SalesForecastConsultantOut]
