"""Schemas of the owners' content API (feed, item, search, prices)."""

import datetime as dt
from decimal import Decimal

from ninja import Schema
from pydantic import Field

from .choices import Module

MODULES = tuple(m.value for m in Module)


class ContentFeedQuery(Schema):
    module: Module | None = Field(None, description="One module's feed; all modules without.")
    category: int | None = Field(None, ge=1, le=2**63 - 1, description="Knowledge category id.")
    issue: int | None = Field(None, ge=1, le=2**63 - 1, description="Magazine issue id.")
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0, le=10_000)


class ContentSearchQuery(Schema):
    q: str = Field(..., min_length=1, max_length=100, description="Words in any language.")
    module: Module | None = None
    limit: int = Field(20, ge=1, le=50)


class ContentFeedItemOut(Schema):
    id: int
    module: str
    level: str
    title: str
    summary: str
    cover_url: str | None
    pinned: bool
    publish_at: dt.datetime | None
    tags: list[str]
    action_kind: str


class ContentPlaceOut(Schema):
    name: str
    address: str
    lat: float | None
    lon: float | None
    map_url: str


class ContentImageOut(Schema):
    url: str
    caption: str


class ContentActionOut(Schema):
    kind: str
    target: str
    url: str | None


class ContentRefOut(Schema):
    id: int
    name: str


class ContentItemOut(ContentFeedItemOut):
    language: str
    body_html: str = Field(..., description="Sanitised HTML.")
    images: list[ContentImageOut]
    action: ContentActionOut
    places: list[ContentPlaceOut]
    category: ContentRefOut | None
    issue: ContentRefOut | None


class ContentPriceRowOut(Schema):
    kind: str = Field(..., description="package | operation | part | accessory")
    id: int
    code: str
    name: str
    price: Decimal = Field(..., description="With tax, as the owner pays it (CNY).")
    net: Decimal = Field(..., description="As published, without tax (CNY).")
    unit: str
    detail: str


class ContentModelPricesOut(Schema):
    brand: str
    model: str = Field(..., description="Empty: every model of the brand.")
    rows: list[ContentPriceRowOut]


class ContentPricesQuery(Schema):
    model: str = Field("", max_length=60, description="Only this car model's maintenance prices.")


class ContentPricesOut(Schema):
    store_id: int
    store: str
    on: dt.date
    tax_rate: Decimal
    packages: list[ContentPriceRowOut]
    operations: list[ContentPriceRowOut]
    parts: list[ContentPriceRowOut]
    accessories: list[ContentPriceRowOut]
    by_model: list[ContentModelPricesOut]
