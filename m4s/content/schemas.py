"""Content API schemas. Staff (console) part: strict input with the limits the services apply
(lengths, counts, ranges), answers with texts per language and targets per kind.
(Owner answers are in reader_schemas.py.)"""

import datetime as dt
from typing import Annotated, Literal

from ninja import Schema
from pydantic import Field

from m4s.core.types import NON_BLANK, Bool, DbId, SaneDateTime

from .choices import (
    BODY_MAX,
    PLACES_MAX,
    REASON_MAX,
    SUMMARY_MAX,
    TAG_MAX,
    TAGS_MAX,
    TARGET_VALUES_MAX,
    TITLE_MAX,
    Module,
    Status,
)

Lang = Literal["zh-hans", "en", "ko"]
ModuleIn = Literal[tuple(Module.values)]  # type: ignore[valid-type]
StatusIn = Literal[tuple(Status.values)]  # type: ignore[valid-type]
TEXT = NON_BLANK
Tag = Annotated[str, Field(min_length=1, max_length=TAG_MAX, pattern=TEXT)]
TargetText = Annotated[str, Field(min_length=1, max_length=80, pattern=TEXT)]


# --- input ----------------------------------------------------------------------------------------
class ConsoleTextIn(Schema):
    """One language's text. `body_html` is rich text: anything but formatting (scripts, event
    handlers, styles, frames, javascript: links) is removed when it is saved."""

    title: str = Field(..., min_length=1, max_length=TITLE_MAX, pattern=TEXT)
    summary: str = Field("", max_length=SUMMARY_MAX)
    body_html: str = Field("", max_length=BODY_MAX)


class ConsolePlainAction(Schema):
    kind: Literal["none", "book", "test_drive"]
    target: str = Field("", max_length=300)


class ConsoleLinkAction(Schema):
    kind: Literal["link"]
    target: str = Field(..., max_length=300, pattern=r"^https?://[^/?#\s\[\]@]+([/?#]\S*)?$")


class ConsoleNumberedAction(Schema):
    """An event's or a reward's number."""

    kind: Literal["event", "reward"]
    target: str = Field(..., pattern=r"^[0-9]{1,12}$")


Action = Annotated[
    ConsolePlainAction | ConsoleLinkAction | ConsoleNumberedAction, Field(discriminator="kind")
]


class ConsolePlaceIn(Schema):
    name: str = Field(..., min_length=1, max_length=120, pattern=TEXT)
    address: str = Field("", max_length=200)
    lat: float | None = Field(None, ge=-90, le=90, allow_inf_nan=False)
    lon: float | None = Field(None, ge=-180, le=180, allow_inf_nan=False)


class ConsoleTargetsIn(Schema):
    """Who sees the item: every criterion given must match (empty lists: no limit). A local
    organisation reaches its own city only; a dealer group its own customers (and stores)."""

    city: list[TargetText] = Field([], max_length=TARGET_VALUES_MAX)
    group: list[DbId] = Field([], max_length=TARGET_VALUES_MAX)
    store: list[DbId] = Field([], max_length=TARGET_VALUES_MAX)
    brand: list[TargetText] = Field([], max_length=TARGET_VALUES_MAX)
    model: list[TargetText] = Field([], max_length=TARGET_VALUES_MAX)
    tier: list[TargetText] = Field([], max_length=TARGET_VALUES_MAX)


class ConsoleItemFields(Schema):
    source_language: Lang | None = None
    store_id: DbId | None = None
    pinned: Bool | None = None
    publish_at: SaneDateTime | None = None
    expire_at: SaneDateTime | None = None
    action: Action | None = Field(None, description="The item's button (null: leave as it is).")
    tags: list[Tag] | None = Field(None, max_length=TAGS_MAX)
    places: list[ConsolePlaceIn] | None = Field(None, max_length=PLACES_MAX)
    category_id: DbId | None = None
    issue_id: DbId | None = None
    targets: ConsoleTargetsIn | None = None
    bound_car: Bool | None = Field(
        None, description="true: only owners with a bound car; false: only without; null: any."
    )


class ConsoleItemIn(ConsoleItemFields):
    """A new draft, published as the caller's level (headquarters, their local organisation,
    their dealer group or store) in `module` (403 `module_not_allowed` outside the level's
    modules)."""

    module: ModuleIn
    translations: dict[Lang, ConsoleTextIn] = Field(..., min_length=1)


class ConsoleItemPatch(ConsoleItemFields):
    """Only the fields sent change. A changed item goes back to draft (it needs approval
    again); `translations` replaces every language's text; `targets` replaces all targets."""

    module: ModuleIn | None = None
    translations: dict[Lang, ConsoleTextIn] | None = Field(None, min_length=1)


class ConsoleRejectIn(Schema):
    reason: str = Field(..., min_length=1, max_length=REASON_MAX, pattern=TEXT)


class ConsoleItemsQuery(Schema):
    status: StatusIn | None = None
    module: ModuleIn | None = None
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=100_000)


# --- answers ----------------------------------------------------------------------------------------
class ConsoleTextOut(Schema):
    title: str
    summary: str
    body_html: str


class ConsoleImageOut(Schema):
    id: int
    url: str
    caption: str


class ConsolePlaceOut(Schema):
    name: str
    address: str
    lat: float | None
    lon: float | None


class ConsoleItemOut(Schema):
    id: int
    level: str
    module: str
    status: str
    status_label: str
    source_language: str
    pinned: bool
    publish_at: dt.datetime | None
    expire_at: dt.datetime | None
    published_at: dt.datetime | None
    action_kind: str
    action_target: str
    tags: list[str]
    places: list[ConsolePlaceOut]
    category_id: int | None
    issue_id: int | None
    store_id: int | None
    version: int
    reject_reason: str
    translations: dict[str, ConsoleTextOut]
    targets: dict[str, list[str]]
    bound_car: bool | None
    cover_url: str | None
    images: list[ConsoleImageOut]
    created_at: dt.datetime
    updated_at: dt.datetime


class ConsoleVersionOut(Schema):
    number: int
    created_at: dt.datetime
    created_by: str
    title: str


class ConsoleTargetStatsOut(Schema):
    kind: str
    value: str
    label: str
    readers: int
    views: int


class ConsoleDayStatsOut(Schema):
    day: dt.date
    readers: int
    views: int


class ConsoleItemStatsOut(Schema):
    views: int
    readers: int
    per_target: list[ConsoleTargetStatsOut]
    days: list[ConsoleDayStatsOut]
