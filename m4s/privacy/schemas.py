import datetime as dt
from typing import Literal

from ninja import Schema
from pydantic import Field


class ExportOut(Schema):
    id: int
    status: Literal["pending", "ready", "expired", "failed"]
    requested_at: dt.datetime
    ready_at: dt.datetime | None
    expires_at: dt.datetime | None
    size: int = Field(..., ge=0, description="bytes of the ZIP once ready")
    counts: dict[str, int] = Field(..., description="rows per kind of data, and photos")
    download_url: str | None = Field(
        ...,
        description="signed link (valid until expires_at) for this owner only: send the same "
        "bearer token, or open it in the app",
    )


class ErasureOut(Schema):
    id: int
    status: Literal["pending", "cancelled", "done"]
    requested_at: dt.datetime
    due_at: dt.datetime = Field(..., description="when the erasure happens unless cancelled")
    cancelled_at: dt.datetime | None
