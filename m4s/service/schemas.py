import datetime as dt
from decimal import Decimal
from typing import Literal

from ninja import Schema
from pydantic import Field

from m4s.core.i18n import translated
from m4s.core.types import NON_BLANK, Bool, DbId, Measurement, Money, SaneDateTime

Mode = Literal["waiting", "dropoff"]
PayerIn = Literal["customer", "warranty", "insurance", "internal"]


class ServiceStoreRef(Schema):
    id: int
    name: str


class VehicleRef(Schema):
    id: int
    plate: str
    brand: str
    model: str


class PackageOut(Schema):
    id: int
    code: str
    name: str
    description: str
    labour: Decimal
    parts: Decimal
    total: Decimal  # net, as published
    tax_rate: Decimal
    tax: Decimal
    total_incl_tax: Decimal  # what the owner pays: the price owners are shown
    minutes: int


class DueItemOut(Schema):
    item: str
    interval_km: int | None
    interval_months: int | None
    last_on: dt.date | None
    last_km: int | None
    due_km: int | None
    due_on: dt.date | None
    km_left: int | None
    days_left: int | None
    status: str
    package_id: int | None


class MaintenanceOut(Schema):
    vehicle: VehicleRef
    odometer_km: int | None
    items: list[DueItemOut]


class SlotOut(Schema):
    starts_at: dt.datetime
    advisors_free: int


class PoolOut(Schema):
    pool: str
    capacity: int
    used: int
    free: int


class SlotsOut(Schema):
    store: ServiceStoreRef
    date: dt.date
    open: bool
    reason: str
    slots: list[SlotOut]
    pools: list[PoolOut]
    parts_ok: bool
    parts_date: dt.date | None = None


class BookIn(Schema):
    vehicle_id: DbId
    store_id: DbId
    starts_at: SaneDateTime
    mode: Mode = "waiting"
    package_id: DbId | None = None
    problem: str = Field("", max_length=2000)
    idempotency_key: str = Field("", max_length=64)


class StaffBookIn(BookIn):
    customer_id: DbId
    channel: Literal["console", "phone"] = "console"


class RescheduleIn(Schema):
    starts_at: SaneDateTime
    mode: Mode | None = None


class CancelIn(Schema):
    reason: str = Field("", max_length=200)


class AdvisorRef(Schema):
    id: int
    name: str

    @staticmethod
    def resolve_name(obj):
        return obj.display_name or obj.username


class AppointmentOut(Schema):
    id: int
    store: ServiceStoreRef
    vehicle: VehicleRef
    advisor: AdvisorRef
    starts_at: dt.datetime
    mode: str
    status: str
    package_id: int | None
    service: str
    problem: str
    repair_order_id: int | None = None

    @staticmethod
    def resolve_service(obj):
        return translated(obj.package, "name") if obj.package_id else "diagnosis"

    @staticmethod
    def resolve_repair_order_id(obj):
        ro = getattr(obj, "repair_order", None)
        return ro.pk if ro else None


class LinePartOut(Schema):
    id: int
    part_number: str
    name: str
    quantity: int
    list_price: Decimal
    unit_price: Decimal

    @staticmethod
    def resolve_part_number(obj):
        return obj.part.part_number

    @staticmethod
    def resolve_name(obj):
        return translated(obj.part, "name")


class LineOut(Schema):
    id: int
    operation: str
    description: str
    reason: str
    source: str
    approval: str
    approval_channel: str
    decided_at: dt.datetime | None
    work_status: str
    payer: str
    labour_list_price: Decimal
    labour_price: Decimal
    parts: list[LinePartOut]
    amount: Decimal  # net
    amount_incl_tax: Decimal  # what the owner pays for this job
    photos: list[str]
    rating: str | None

    @staticmethod
    def resolve_operation(obj):
        return obj.operation.code

    @staticmethod
    def resolve_description(obj):
        return translated(obj, "description")

    @staticmethod
    def resolve_reason(obj):
        return translated(obj, "reason")

    @staticmethod
    def resolve_parts(obj):
        return list(obj.parts.all())

    @staticmethod
    def resolve_amount(obj):
        from .selectors import line_amount

        return line_amount(obj)

    @staticmethod
    def resolve_amount_incl_tax(obj):
        from .selectors import line_amount_incl_tax

        return line_amount_incl_tax(obj)

    @staticmethod
    def resolve_photos(obj):
        return [p.image.url for p in obj.result.photos.all()] if obj.result_id else []

    @staticmethod
    def resolve_rating(obj):
        return obj.result.rating if obj.result_id else None


class InspectionOut(Schema):
    id: int
    point_id: int
    name: str
    rating: str
    note: str
    measurement: Decimal | None

    @staticmethod
    def resolve_name(obj):
        return translated(obj.point, "name")


class TotalsOut(Schema):
    approved: Decimal  # net
    pending: Decimal
    declined: Decimal
    approved_incl_tax: Decimal  # what the owner sees and pays
    pending_incl_tax: Decimal
    declined_incl_tax: Decimal
    tax_rate: Decimal


class InvoiceOut(Schema):
    number: str
    issued_at: dt.datetime
    labour_total: Decimal
    parts_total: Decimal
    discount_total: Decimal
    net_total: Decimal
    tax_rate: Decimal
    tax: Decimal
    total: Decimal
    customer_pay_net: Decimal
    customer_pay_total: Decimal
    coupon_code: str
    coupon_discount: Decimal


class RepairOrderOut(Schema):
    id: int
    number: str
    status: str
    store: ServiceStoreRef
    vehicle: VehicleRef
    advisor: AdvisorRef
    checked_in_at: dt.datetime
    odometer_in: int
    fuel_pct: int
    symptoms: str
    odometer_out: int | None
    delivered_at: dt.datetime | None
    lines: list[LineOut]
    inspection: list[InspectionOut]
    totals: TotalsOut
    invoice: InvoiceOut | None

    @staticmethod
    def resolve_lines(obj):
        return list(obj.lines.all())

    @staticmethod
    def resolve_inspection(obj):
        return list(obj.inspection.all())

    @staticmethod
    def resolve_totals(obj):
        from .selectors import ro_totals

        return ro_totals(obj).__dict__

    @staticmethod
    def resolve_invoice(obj):
        return getattr(obj, "invoice", None)


class RepairOrderListOut(Schema):
    id: int
    number: str
    status: str
    store: ServiceStoreRef
    vehicle: VehicleRef
    checked_in_at: dt.datetime


class DecisionIn(Schema):
    reason: str = Field(
        ...,
        min_length=1,
        max_length=200,
        pattern=NON_BLANK,
        description="How and why the owner decided.",
    )


class CheckInIn(Schema):
    store_id: DbId
    appointment_id: DbId | None = None
    customer_id: DbId | None = None
    vehicle_id: DbId | None = None
    odometer_km: int = Field(..., ge=0, le=2_000_000)
    fuel_pct: int = Field(..., ge=0, le=100)
    symptoms: str = Field("", max_length=2000)
    belongings: str = Field("", max_length=300)


class InspectionItemIn(Schema):
    point_id: DbId
    rating: Literal["green", "amber", "red"]
    note: str = Field("", max_length=300)
    measurement: Measurement | None = None


class InspectionIn(Schema):
    results: list[InspectionItemIn] = Field(..., max_length=100)
    complete: Bool = False


class PartQtyIn(Schema):
    part_id: DbId
    quantity: int = Field(1, ge=1, le=100)


class AddLineIn(Schema):
    operation_id: DbId
    parts: list[PartQtyIn] = Field(default_factory=list, max_length=20)
    reason: str = Field(..., min_length=1, max_length=300, pattern=NON_BLANK)
    payer: PayerIn = "customer"


class ClockOffIn(Schema):
    done: Bool = False


class AdvanceIn(Schema):
    to: Literal["in_repair", "quality_check", "ready"]


class LinePriceIn(Schema):
    line_id: DbId
    labour: Money | None = None
    parts: dict[DbId, Money] = Field(
        default_factory=dict,
        max_length=50,
        description="Price per part of the line: {line part id: amount}.",
        json_schema_extra={"propertyNames": {"pattern": "^[1-9][0-9]{0,17}$"}},
    )
    reason: str = Field("", max_length=200)
    payer: PayerIn | None = None


class SettleIn(Schema):
    lines: list[LinePriceIn] = Field(default_factory=list, max_length=200)
    coupon_code: str = Field("", max_length=16)


class RefundIn(Schema):
    reason: str = Field(..., min_length=1, max_length=300)


class CreditNoteOut(Schema):
    number: str
    invoice: str = Field(..., alias="invoice.number")
    amount: Decimal
    customer_amount: Decimal
    reason: str
    issued_at: dt.datetime


class DeliverIn(Schema):
    odometer_km: int = Field(..., ge=0, le=2_000_000)


class SurveyOut(Schema):
    id: int
    store: ServiceStoreRef
    vehicle: VehicleRef
    status: str
    available_at: dt.datetime
    expires_at: dt.datetime
    answered_at: dt.datetime | None
    questions: list[str]

    @staticmethod
    def resolve_vehicle(obj):
        return obj.repair_order.vehicle

    @staticmethod
    def resolve_questions(obj):
        from .choices import CSI_WEIGHTS

        return [*CSI_WEIGHTS, "nps"]


class SurveyIn(Schema):
    initiation: int = Field(..., ge=1, le=10)
    advisor: int = Field(..., ge=1, le=10)
    facility: int = Field(..., ge=1, le=10)
    pickup: int = Field(..., ge=1, le=10)
    quality: int = Field(..., ge=1, le=10)
    nps: int = Field(..., ge=0, le=10)
    comment: str = Field("", max_length=2000)


class SurveyAnswerOut(Schema):
    id: int
    status: str
    needs_follow_up: bool


class FollowUpOut(Schema):
    id: int
    customer: str
    store: ServiceStoreRef
    answered_at: dt.datetime | None
    scores: dict
    nps: int | None
    comment: str

    @staticmethod
    def resolve_customer(obj):
        return obj.customer.name

    @staticmethod
    def resolve_scores(obj):
        from .choices import CSI_WEIGHTS

        return {f: obj.score(f) for f in CSI_WEIGHTS}


class ServiceFiguresOut(Schema):
    store: ServiceStoreRef
    month: dt.date
    surveys: int
    csi: float | None
    factors: dict
    nps: float | None
    appointments: int
    shown: int
    no_shows: int
    show_rate: float | None
    delivered: int
    fixed_first_time: int
    ftfr: float | None
    follow_ups: int
