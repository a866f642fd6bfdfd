import datetime as dt
from typing import Literal

from ninja import Schema
from pydantic import ConfigDict, Field

from m4s.core.types import Bool, DbId


class StoreRef(Schema):
    id: int
    name: str


class StaffCardOut(Schema):
    id: int
    name: str
    role: str
    role_label: str
    photo_url: str | None

    @staticmethod
    def resolve_name(obj) -> str:
        return str(obj)

    @staticmethod
    def resolve_role_label(obj) -> str:
        return str(obj.get_role_display())

    @staticmethod
    def resolve_photo_url(obj) -> str | None:
        return obj.photo.url if obj.photo else None


class VehicleOut(Schema):
    id: int
    plate: str
    vin: str
    brand: str
    model: str
    model_year: int | None
    colour: str
    fuel: str
    purchase_date: dt.date | None
    odometer_km: int | None
    warranty_end: dt.date | None
    insurance_expiry: dt.date | None
    insurer: str
    next_inspection_date: dt.date | None
    driver_licence_expiry: dt.date | None


class VehicleWithOwnerOut(VehicleOut):
    current_owner_id: int | None
    current_owner_name: str | None

    @staticmethod
    def resolve_current_owner_name(obj) -> str | None:
        return obj.current_owner.name if obj.current_owner_id else None


class BindIn(Schema):
    model_config = ConfigDict(extra="forbid")

    plate: str = Field(..., min_length=2, max_length=20, examples=["京A12345"])
    vin: str = Field(
        ...,
        min_length=6,
        max_length=30,
        description="The 17-character VIN, or its last 6 characters when the store already knows the car.",
    )
    invitation: str | None = Field(
        None,
        max_length=16,
        description="Code of the invitation (QR / link) the owner came through.",
    )


class BindOut(Schema):
    status: Literal["bound", "already_bound", "transfer_requested"]
    vehicle: VehicleOut | None = None
    message: str


class ConsultantsOut(Schema):
    store: StoreRef | None
    sales_consultant: StaffCardOut | None
    service_advisor: StaffCardOut | None
    cs_agent: StaffCardOut | None


class CustomerListOut(Schema):
    id: int
    name: str
    phone: str
    store: StoreRef
    source: str
    plates: list[str]

    @staticmethod
    def resolve_plates(obj) -> list[str]:
        return sorted(v.plate for v in obj.vehicles.all())


class BindingOut(Schema):
    id: int
    vehicle_id: int
    plate: str
    via: str
    staff: str | None
    store: StoreRef
    created_at: dt.datetime
    ended_at: dt.datetime | None

    @staticmethod
    def resolve_plate(obj) -> str:
        return obj.vehicle.plate

    @staticmethod
    def resolve_staff(obj) -> str | None:
        return str(obj.staff) if obj.staff_id else None


class CustomerOut(Schema):
    id: int
    name: str
    phone: str
    phone2: str
    birthday: dt.date | None
    gender: str
    address: str
    id_number: str
    tags: list[str]
    source: str
    store: StoreRef
    signed_in: bool
    marketing_consent: bool
    telematics_consent: bool
    sales_consultant: StaffCardOut | None
    service_advisor: StaffCardOut | None
    cs_agent: StaffCardOut | None
    vehicles: list[VehicleOut]
    bindings: list[BindingOut]
    created_at: dt.datetime


class TimelineEventOut(Schema):
    id: int
    kind: str
    at: dt.datetime
    title: str
    data: dict
    actor: str | None

    @staticmethod
    def resolve_actor(obj) -> str | None:
        return str(obj.actor) if obj.actor_id else None

    @staticmethod
    def resolve_title(obj) -> str:
        return obj.display_title


class AssignIn(Schema):
    model_config = ConfigDict(extra="forbid")

    sales_consultant: DbId | None = None
    service_advisor: DbId | None = None
    cs_agent: DbId | None = None


class ReassignIn(Schema):
    model_config = ConfigDict(extra="forbid")

    role: Literal["sales_consultant", "service_advisor", "cs_agent"]
    from_staff: DbId
    to_staff: DbId
    store: DbId | None = None


class ReassignOut(Schema):
    moved: int


class TransferOut(Schema):
    id: int
    plate: str
    from_customer: StoreRef
    to_customer: StoreRef
    via: str
    status: str
    requested_at: dt.datetime

    @staticmethod
    def resolve_plate(obj) -> str:
        return obj.vehicle.plate

    @staticmethod
    def resolve_from_customer(obj):
        return {"id": obj.from_customer_id, "name": obj.from_customer.name}

    @staticmethod
    def resolve_to_customer(obj):
        return {"id": obj.to_customer_id, "name": obj.to_customer.name}


class TransferDecisionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    approve: Bool
    note: str = Field("", max_length=200)


class BindingRateOut(Schema):
    id: int
    name: str
    invited: int
    signed_in: int
    bound: int
    rate: int
