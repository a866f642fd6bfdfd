"""Care API schemas: strict input (bounded days, sane dates, amounts to the cent), answers in the
reader's language."""

import datetime as dt
from decimal import Decimal

from ninja import Schema
from pydantic import Field, model_validator

from m4s.core.types import NON_BLANK, DbId, Int, SaneDate, SaneDateTime, _amount

from .choices import SNOOZE_MAX_DAYS

TEXT = NON_BLANK
Fine = _amount(100_000, "A fine in CNY, to the cent, below 100,000: a number or a decimal string.")


# --- input --------------------------------------------------------------------------------------
class SnoozeIn(Schema):
    days: Int = Field(..., ge=1, le=SNOOZE_MAX_DAYS)


class DoneElsewhereIn(Schema):
    """`done_on`: today or up to a year ago (else 400 `invalid_date`)."""

    done_on: SaneDate
    odometer_km: int | None = Field(None, ge=0, le=2_000_000)


class ViolationIn(Schema):
    """One violation of one of the group's cars, named by its VIN or its plate. `external_ref`
    (the integration's own id, e.g. the penalty decision number) makes the call idempotent: the
    same reference again answers 200 with the first record."""

    model_config = {
        "json_schema_extra": {  # the car named by one of them
            "anyOf": [
                {"required": ["vin"], "properties": {"vin": {"pattern": TEXT}}},
                {"required": ["plate"], "properties": {"plate": {"pattern": TEXT}}},
            ]
        }
    }

    vin: str = Field("", max_length=17)
    plate: str = Field("", max_length=12)
    occurred_at: SaneDateTime
    description: str = Field(..., min_length=1, max_length=300, pattern=TEXT)
    place: str = Field("", max_length=200)
    code: str = Field("", max_length=20)
    fine_cny: Fine = Decimal("0")
    points: Int = Field(0, ge=0, le=12)
    external_ref: str = Field("", max_length=64)

    @model_validator(mode="after")
    def _car_named(self):
        if not self.vin.strip() and not self.plate.strip():
            raise ValueError("give vin or plate")
        return self


class WeekQuery(Schema):
    store_id: DbId | None = None


# --- answers ------------------------------------------------------------------------------------
class CareVehicleRef(Schema):
    id: int
    plate: str
    name: str


class ReminderOut(Schema):
    id: int
    kind: str
    kind_label: str
    title: str
    body: str
    due_on: dt.date
    status: str
    snoozed_until: dt.date | None
    action: str
    action_url: str
    vehicle: CareVehicleRef | None
    created_at: dt.datetime
    sent_at: dt.datetime | None


class ViolationOut(Schema):
    id: int
    vehicle: CareVehicleRef
    occurred_at: dt.datetime
    place: str
    code: str
    description: str
    fine_cny: Decimal
    points: int
    status: str
    status_label: str


class ViolationPostedOut(Schema):
    id: int
    created: bool
    vehicle_id: int
    status: str
    external_ref: str


class CareWeekRowOut(Schema):
    id: int
    kind: str
    kind_label: str
    title: str
    body: str
    due_on: dt.date
    status: str
    customer_id: int
    customer_name: str
    phone: str
    store_id: int
    vehicle: CareVehicleRef | None
    action_url: str
    sent_at: dt.datetime | None
