import datetime as dt

from ninja import Schema
from pydantic import Field

from m4s.owners.schemas import OwnerOut
from m4s.staff.schemas import StaffOut


class OtpRequestIn(Schema):
    phone: str = Field(..., min_length=3, max_length=32, examples=["+8613800000001"])


class OtpRequestOut(Schema):
    phone: str
    expires_at: dt.datetime
    resend_after_seconds: int
    debug_code: str | None = Field(None, description="Only when the server runs with DEBUG on.")


class OtpVerifyIn(Schema):
    phone: str = Field(..., min_length=3, max_length=32)
    code: str = Field(..., pattern="^[0-9]{6}$", description="The 6-digit code sent by SMS.")
    store: int | None = Field(
        None, ge=1, le=2**31 - 1, description="Store the owner belongs to, when known."
    )
    invitation: str | None = Field(
        None,
        max_length=16,
        description="Code of the invitation (QR / link) the owner came through.",
    )


class OwnerSessionOut(Schema):
    token: str
    owner: OwnerOut


class StaffLoginIn(Schema):
    username: str = Field(..., min_length=1, max_length=150)
    password: str = Field(..., min_length=1, max_length=256)


class StaffSessionOut(Schema):
    token: str
    staff: StaffOut
