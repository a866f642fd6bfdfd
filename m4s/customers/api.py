from django.db.models import Prefetch
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from m4s.core.auth import owner_auth, staff_auth
from m4s.staff.choices import Perm
from m4s.staff.models import StaffUser
from m4s.staff.permissions import check_perm
from m4s.vehicles.models import Vehicle

from . import selectors, services
from .choices import BIND_MESSAGES
from .models import Customer, Invitation
from .schemas import (
    AssignIn,
    BindIn,
    BindingRateOut,
    BindOut,
    ConsultantsOut,
    CustomerListOut,
    CustomerOut,
    ReassignIn,
    ReassignOut,
    TimelineEventOut,
    TransferDecisionIn,
    TransferOut,
    VehicleOut,
    VehicleWithOwnerOut,
)

owner_router = Router(tags=["owner"], auth=owner_auth)
staff_router = Router(tags=["staff: customers"], auth=staff_auth)


# --- owner --------------------------------------------------------------------------------------
@owner_router.get("/vehicles", response=list[VehicleOut])
def my_vehicles(request):
    return list(selectors.vehicles_of_owner(request.owner))


@owner_router.post("/vehicles/bind", response={200: BindOut, 201: BindOut, 202: BindOut})
def bind_vehicle(request, payload: BindIn):
    invitation = None
    if payload.invitation:
        invitation = (
            Invitation.objects.unscoped()
            .select_related("store", "staff")
            .filter(code=payload.invitation)
            .first()
        )
        if invitation is None:
            from m4s.core.errors import DomainError

            raise DomainError("invalid_invitation", _("This invitation link is not valid."))
    outcome, obj = services.bind_vehicle_for_owner(
        request.owner, payload.plate, payload.vin, invitation=invitation
    )
    status = {"bound": 201, "already_bound": 200, "transfer_requested": 202}[outcome]
    vehicle = obj.vehicle if outcome != "transfer_requested" else None
    return Status(
        status, {"status": outcome, "vehicle": vehicle, "message": BIND_MESSAGES[outcome]()}
    )


@owner_router.get("/consultants", response=ConsultantsOut)
def my_consultants(request):
    customer = selectors.consultants_of_owner(request.owner)
    if customer is None:
        return {
            "store": request.owner.home_store,
            "sales_consultant": None,
            "service_advisor": None,
            "cs_agent": None,
        }
    return {
        "store": customer.store,
        "sales_consultant": customer.sales_consultant,
        "service_advisor": customer.service_advisor,
        "cs_agent": customer.cs_agent,
    }


# --- staff ---------------------------------------------------------------------------------------
class SearchQuery(Schema):
    q: str = Field("", max_length=60)
    limit: int = Field(20, ge=1, le=100)


def _customer(request, customer_id: int) -> Customer:
    check_perm(request.user, Perm.VIEW_CUSTOMERS)
    return selectors.get_customer(request.user, customer_id)


@staff_router.get("/customers", response=list[CustomerListOut])
def search_customers(request, query: Query[SearchQuery]):
    check_perm(request.user, Perm.VIEW_CUSTOMERS)
    # Only the columns the list shows: at a million customers the ORM work on full rows is
    # most of the request (the indexed query itself is ~1-3 ms).
    rows = selectors.search_customers(request.user, query.q, limit=query.limit).only(
        "id", "name", "phone", "source", "store_id", "store__id", "store__name"
    )
    plates = Vehicle.objects.for_actor(request.user).only("id", "plate", "current_owner_id")
    return list(rows.prefetch_related(Prefetch("vehicles", queryset=plates)))


@staff_router.get("/customers/{int:customer_id}", response=CustomerOut)
def customer_detail(request, customer_id: int):
    customer = _customer(request, customer_id)
    customer.id_number = services.id_number_for(request.user, customer)
    customer.signed_in = customer.owner_id is not None
    return customer


class TimelineQuery(Schema):
    limit: int = Field(50, ge=1, le=200)
    before_id: int | None = Field(None, ge=1)


@staff_router.get("/customers/{int:customer_id}/timeline", response=list[TimelineEventOut])
def customer_timeline(request, customer_id: int, query: Query[TimelineQuery]):
    customer = _customer(request, customer_id)
    return list(selectors.list_timeline(customer, limit=query.limit, before_id=query.before_id))


@staff_router.post("/customers/{int:customer_id}/assign", response=CustomerOut)
def assign(request, customer_id: int, payload: AssignIn):
    customer = _customer(request, customer_id)
    services.assign_consultants(request.user, customer, payload.model_dump(exclude_unset=True))
    return customer_detail(request, customer_id)


@staff_router.post("/customers/reassign", response=ReassignOut)
def reassign(request, payload: ReassignIn):
    check_perm(request.user, Perm.ASSIGN_CUSTOMERS)
    group_staff = StaffUser.objects.filter(dealer_group_id=request.user.dealer_group_id)
    from_staff = group_staff.filter(pk=payload.from_staff).first()
    to_staff = group_staff.filter(pk=payload.to_staff).first()
    if from_staff is None or to_staff is None:
        raise Http404(_("No such staff member."))
    store = None
    if payload.store:
        from m4s.org.selectors import get_store

        store = get_store(request.user, payload.store)
    moved = services.bulk_reassign(
        request.user, field=payload.role, from_staff=from_staff, to_staff=to_staff, store=store
    )
    return {"moved": moved}


@staff_router.get("/vehicles", response=list[VehicleWithOwnerOut])
def search_vehicles(request, query: Query[SearchQuery]):
    check_perm(request.user, Perm.VIEW_CUSTOMERS)
    return list(selectors.search_vehicles(request.user, query.q, limit=query.limit))


@staff_router.get("/transfers", response=list[TransferOut])
def open_transfers(request):
    check_perm(request.user, Perm.VIEW_CUSTOMERS)
    return list(selectors.list_open_transfers(request.user))


@staff_router.post("/transfers/{transfer_id}/decide", response=TransferOut)
def decide_transfer(request, transfer_id: int, payload: TransferDecisionIn):
    transfer = selectors.get_transfer(request.user, transfer_id)
    return services.resolve_transfer(
        request.user, transfer, approve=payload.approve, note=payload.note
    )


class RatesQuery(Schema):
    by: str = Field("staff", pattern="^(staff|store)$")


@staff_router.get("/binding-rates", response=list[BindingRateOut])
def binding_rates(request, query: Query[RatesQuery]):
    check_perm(request.user, Perm.VIEW_CUSTOMERS)
    return selectors.binding_rates(request.user, by=query.by)
