"""Catalogue and finance API schemas: answers in the reader's language; bounded input."""

from decimal import Decimal
from typing import Annotated

from ninja import Schema
from pydantic import Field

from m4s.core.types import DbId, Int, Money, PositiveMoney

from .choices import MAX_TERM, BodyType, Drive, EnergyType

Slug = Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[-a-zA-Z0-9_]+$")]


class CatalogueBrandOut(Schema):
    id: int
    name: str
    logo_url: str


class CatalogueTrimOut(Schema):
    id: int
    name: str
    msrp: Decimal
    dealer_price: Decimal
    discount: Decimal
    power_kw: int | None
    torque_nm: int | None
    acceleration_s: Decimal | None
    fuel_l_100km: Decimal | None
    electric_range_km: int | None
    battery_kwh: Decimal | None
    seats: int
    length_mm: int | None
    drive: Drive
    drive_label: str


class CatalogueColourOut(Schema):
    id: int
    name: str
    hex: str
    extra_price: Decimal


class CataloguePictureOut(Schema):
    id: int
    url: str
    caption: str


class CatalogueModelOut(Schema):
    id: int
    group: str
    brand: CatalogueBrandOut
    name: str
    body_type: BodyType
    body_type_label: str
    energy_type: EnergyType
    energy_label: str
    tagline: str
    description: str
    cover_url: str
    from_price: Decimal | None
    trims: list[CatalogueTrimOut]
    colours: list[CatalogueColourOut]
    pictures: list[CataloguePictureOut]


class FinanceProductOut(Schema):
    id: int
    group: str
    name: str
    description: str
    annual_rate: Decimal
    min_down_payment_pct: Decimal
    max_down_payment_pct: Decimal
    terms: list[int]
    fee: Decimal


class FinanceQuoteIn(Schema):
    """A loan quote with one of the group's finance products, for a trim (its dealer price) or
    a price. Refusals that depend on the data (the down payment not below the price or outside
    the product's range, a term the product does not offer): 409 with the code."""

    product_id: DbId
    trim_id: DbId | None = None
    price: PositiveMoney | None = None
    down_payment: Money = Decimal(0)
    term_months: Int = Field(..., ge=1, le=MAX_TERM)
    group: Slug | None = None


class FinanceScheduleRowOut(Schema):
    month: int
    instalment: Decimal
    principal: Decimal
    interest: Decimal
    balance: Decimal


class FinanceQuoteOut(Schema):
    product_id: int
    trim_id: int | None
    price: Decimal
    down_payment: Decimal
    amount_financed: Decimal
    term_months: int
    annual_rate: Decimal
    monthly_instalment: Decimal
    last_instalment: Decimal
    total_interest: Decimal
    total_instalments: Decimal
    fee: Decimal
    total_paid: Decimal
    schedule: list[FinanceScheduleRowOut]
