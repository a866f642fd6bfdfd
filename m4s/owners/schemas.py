import datetime as dt
from typing import Literal

from ninja import Schema
from pydantic import ConfigDict, Field

from m4s.core.types import Bool, LocalTime
from m4s.org.schemas import StoreBriefOut


class OwnerOut(Schema):
    id: int
    phone: str
    name: str
    email: str
    birthday: dt.date | None
    language: str
    channels: list[str]
    quiet_hours_start: LocalTime | None
    quiet_hours_end: LocalTime | None
    marketing_consent: bool
    marketing_consent_at: dt.datetime | None
    telematics_consent: bool
    telematics_consent_at: dt.datetime | None
    home_store: StoreBriefOut | None


class OwnerPatchIn(Schema):
    """Only the fields sent are changed. Unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=80)
    email: str | None = Field(None, max_length=254, json_schema_extra={"format": "email"})
    birthday: dt.date | None = Field(
        None, json_schema_extra={"pattern": "^(19[0-9]{2}|20[0-9]{2})-"}
    )
    # Not nullable: leave a field out to keep it.
    language: Literal["zh-hans", "en", "ko"] = None
    channels: list[Literal["inapp", "sms", "email"]] = Field(None, max_length=3)
    quiet_hours_start: LocalTime | None = None
    quiet_hours_end: LocalTime | None = None
    marketing_consent: Bool = None
    telematics_consent: Bool = None
