"""Service API: owners book, follow and approve; staff receive, inspect, repair, settle, deliver."""

from typing import Literal

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Header, Query, Router, Schema, Status
from pydantic import Field

from m4s.core.auth import any_auth, owner_auth, staff_auth
from m4s.core.errors import DomainError, NotFound
from m4s.core.i18n import translated
from m4s.core.types import DbId, SaneDate
from m4s.customers.models import Customer
from m4s.customers.selectors import vehicles_of_owner
from m4s.org.models import Store
from m4s.staff.choices import Perm
from m4s.staff.permissions import check_perm
from m4s.vehicles.models import Vehicle

from . import billing, booking, booking_choices, selectors, surveys, workshop
from .choices import RepairOrderStatus
from .schemas import (
    AddLineIn,
    AdvanceIn,
    AppointmentOut,
    BookIn,
    CancelIn,
    CheckInIn,
    ClockOffIn,
    CreditNoteOut,
    DecisionIn,
    DeliverIn,
    FollowUpOut,
    InspectionIn,
    InvoiceOut,
    LineOut,
    MaintenanceOut,
    PackageOut,
    RefundIn,
    RepairOrderListOut,
    RepairOrderOut,
    RescheduleIn,
    ServiceFiguresOut,
    SettleIn,
    SlotsOut,
    StaffBookIn,
    SurveyAnswerOut,
    SurveyIn,
    SurveyOut,
)

public_router = Router(tags=["service"], auth=any_auth)
owner_router = Router(tags=["owner: service"], auth=owner_auth)
staff_router = Router(tags=["staff: service"], auth=staff_auth)


def _owner_of(request):
    token = getattr(request, "api_token", None)
    return token.owner if token is not None and token.owner_id else None


def _store_for(request, store_id: int) -> Store:
    owner = _owner_of(request)
    if owner is None:
        return selectors.store_for_actor(request.user, store_id)
    # Owners see the stores of the dealer groups they are a customer of.
    groups = Customer.objects.unscoped().filter(owner=owner).values("dealer_group_id")
    store = (
        Store.objects.unscoped()
        .filter(pk=store_id, is_active=True, dealer_group_id__in=groups)
        .first()
    )
    if store is None:
        raise NotFound(_("No such store."))
    return store


class SlotsQuery(Schema):
    date: SaneDate
    service: str = Field(
        "diagnosis", pattern="^(diagnosis|[0-9]{1,18})$", description="A package id or diagnosis."
    )
    mode: Literal["waiting", "dropoff"] = "waiting"


def _choice(group_id: int, service: str) -> booking.ServiceChoice:
    if service == "diagnosis":
        return booking_choices.service_choice(group_id, None)
    if not (service.isascii() and service.isdecimal()) or len(service) > 18:
        raise DomainError("invalid_service", _("`service` is a package id or “diagnosis”."))
    return booking_choices.service_choice(group_id, int(service))


def _package_out(q):
    return {
        "id": q.package.pk,
        "code": q.package.code,
        "name": translated(q.package, "name"),
        "description": translated(q.package, "description"),
        "labour": q.labour,
        "parts": q.parts_total,
        "total": q.total,
        "tax_rate": q.tax_rate,
        "tax": q.tax,
        "total_incl_tax": q.total_incl_tax,
        "minutes": sum(
            q.minutes_by_pool.get(k, 0) for k in q.minutes_by_pool if not k.startswith("resource:")
        ),
    }


@public_router.get("/stores/{int:store_id}/packages", response=list[PackageOut])
def store_packages(request, store_id: int):
    store = _store_for(request, store_id)
    return [
        _package_out(selectors.quote_package(p, store=store))
        for p in selectors.list_packages(store.dealer_group_id)
    ]


@public_router.get("/stores/{int:store_id}/slots", response=SlotsOut)
def store_slots(request, store_id: int, q: Query[SlotsQuery]):
    store = _store_for(request, store_id)
    if q.mode not in ("waiting", "dropoff"):
        raise DomainError("invalid_mode", _("`mode` is “waiting” or “dropoff”."))
    choice = _choice(store.dealer_group_id, q.service)
    day, parts_ok, parts_date = booking_choices.day_slots(store, q.date, mode=q.mode, choice=choice)
    return {
        "store": store,
        "date": q.date,
        "open": day.open,
        "reason": day.reason,
        "slots": [{"starts_at": s.starts_at, "advisors_free": len(s.advisors)} for s in day.slots]
        if parts_ok
        else [],
        "pools": [{"pool": k, **v} for k, v in sorted(day.pools.items())],
        "parts_ok": parts_ok,
        "parts_date": parts_date,
    }


# --- owner ----------------------------------------------------------------------------------------
def _my_vehicle(owner, vehicle_id: int) -> Vehicle:
    vehicle = vehicles_of_owner(owner).filter(pk=vehicle_id).first()
    if vehicle is None:
        raise NotFound(_("No such car."))
    return vehicle


@owner_router.get("/vehicles/{int:vehicle_id}/maintenance", response=MaintenanceOut)
def my_maintenance(request, vehicle_id: int):
    vehicle = _my_vehicle(request.owner, vehicle_id)
    return {
        "vehicle": vehicle,
        "odometer_km": vehicle.odometer_km,
        "items": [
            {
                "item": translated(d.item, "name"),
                "interval_km": d.item.interval_km,
                "interval_months": d.item.interval_months,
                "last_on": d.last_on,
                "last_km": d.last_km,
                "due_km": d.due_km,
                "due_on": d.due_on,
                "km_left": d.km_left,
                "days_left": d.days_left,
                "status": d.status,
                "package_id": d.item.package_id,
            }
            for d in selectors.maintenance_due(vehicle)
        ],
    }


@owner_router.get("/appointments", response=list[AppointmentOut])
def my_appointments(request):
    return list(selectors.appointments_of_owner(request.owner).select_related("repair_order")[:100])


@owner_router.post("/appointments", response={200: AppointmentOut, 201: AppointmentOut})
def book(request, payload: BookIn, idempotency_key: str = Header("", alias="Idempotency-Key")):
    vehicle = booking_choices.owner_car(request.owner, payload.vehicle_id)
    customer = vehicle.current_owner
    store = booking_choices.booking_store(customer, payload.store_id)
    appointment, created = booking.book_appointment(
        customer=customer,
        vehicle=vehicle,
        store=store,
        starts_at=payload.starts_at,
        mode=payload.mode,
        package_id=payload.package_id,
        problem=payload.problem,
        channel="app",
        owner=request.owner,
        idempotency_key=(idempotency_key or payload.idempotency_key)[:64],
    )
    return Status(201 if created else 200, appointment)


@owner_router.post("/appointments/{int:appointment_id}/cancel", response=AppointmentOut)
def cancel(request, appointment_id: int, payload: CancelIn | None = None):
    appointment = selectors.get_owner_appointment(request.owner, appointment_id)
    return booking.cancel_appointment(
        appointment, by_owner=True, reason=payload.reason if payload else ""
    )


@owner_router.post("/appointments/{int:appointment_id}/reschedule", response=AppointmentOut)
def reschedule(request, appointment_id: int, payload: RescheduleIn):
    appointment = selectors.get_owner_appointment(request.owner, appointment_id)
    return booking.reschedule_appointment(
        appointment, payload.starts_at, by_owner=True, mode=payload.mode
    )


@owner_router.get("/repair-orders", response=list[RepairOrderListOut])
def my_repair_orders(request):
    return list(selectors.repair_orders_of_owner(request.owner)[:100])


@owner_router.get("/repair-orders/{int:ro_id}", response=RepairOrderOut)
def my_repair_order(request, ro_id: int):
    return selectors.get_owner_repair_order(request.owner, ro_id)


def _owner_decide(request, ro_id, line_id, approve):
    ro = selectors.get_owner_repair_order(request.owner, ro_id)
    workshop.decide_line(ro, line_id, approve, owner=request.owner)
    return selectors.get_owner_repair_order(request.owner, ro_id)


@owner_router.post(
    "/repair-orders/{int:ro_id}/lines/{int:line_id}/approve", response=RepairOrderOut
)
def approve_line(request, ro_id: int, line_id: int):
    return _owner_decide(request, ro_id, line_id, True)


@owner_router.post(
    "/repair-orders/{int:ro_id}/lines/{int:line_id}/decline", response=RepairOrderOut
)
def decline_line(request, ro_id: int, line_id: int):
    return _owner_decide(request, ro_id, line_id, False)


@owner_router.get("/surveys", response=list[SurveyOut])
def my_surveys(request):
    return list(selectors.surveys_of_owner(request.owner)[:50])


@owner_router.post("/surveys/{int:survey_id}", response=SurveyAnswerOut)
def answer_survey(request, survey_id: int, payload: SurveyIn):
    scores = payload.dict()
    nps, comment = scores.pop("nps"), scores.pop("comment")
    return surveys.answer_survey(request.owner, survey_id, scores=scores, nps=nps, comment=comment)


# --- staff ---------------------------------------------------------------------------------------
class DayQuery(Schema):
    date: SaneDate | None = None
    store_id: DbId | None = None


@staff_router.get("/appointments", response=list[AppointmentOut])
def staff_appointments(request, q: Query[DayQuery]):
    check_perm(request.user, Perm.VIEW_CUSTOMERS)
    qs = selectors.appointments_for(request.user).select_related(
        "store", "vehicle", "package", "advisor"
    )
    qs = qs.filter(date=q.date or timezone.localdate())
    if q.store_id:
        qs = qs.filter(store_id=q.store_id)
    return list(qs.order_by("starts_at")[:500])


@staff_router.post("/appointments", response={200: AppointmentOut, 201: AppointmentOut})
def staff_book(
    request, payload: StaffBookIn, idempotency_key: str = Header("", alias="Idempotency-Key")
):
    actor = request.user
    check_perm(actor, Perm.BOOK_SERVICE)
    customer = Customer.objects.for_actor(actor).filter(pk=payload.customer_id).first()
    vehicle = Vehicle.objects.for_actor(actor).filter(pk=payload.vehicle_id).first()
    if customer is None or vehicle is None:
        raise NotFound(_("No such customer or car."))
    store = selectors.store_for_actor(actor, payload.store_id)
    if payload.channel not in ("console", "phone"):
        raise DomainError("invalid_channel", _("`channel` is “console” or “phone”."))
    appointment, created = booking.book_for_customer(
        actor,
        customer=customer,
        vehicle=vehicle,
        store=store,
        starts_at=payload.starts_at,
        mode=payload.mode,
        package_id=payload.package_id,
        problem=payload.problem,
        channel=payload.channel,
        idempotency_key=(idempotency_key or payload.idempotency_key)[:64],
    )
    return Status(201 if created else 200, appointment)


@staff_router.post("/appointments/{int:appointment_id}/cancel", response=AppointmentOut)
def staff_cancel(request, appointment_id: int, payload: CancelIn):
    check_perm(request.user, Perm.BOOK_SERVICE)
    appointment = selectors.get_appointment(request.user, appointment_id)
    return booking.cancel_appointment(
        appointment, by_owner=False, actor=request.user, reason=payload.reason
    )


@staff_router.post("/appointments/{int:appointment_id}/reschedule", response=AppointmentOut)
def staff_reschedule(request, appointment_id: int, payload: RescheduleIn):
    check_perm(request.user, Perm.BOOK_SERVICE)
    appointment = selectors.get_appointment(request.user, appointment_id)
    return booking.reschedule_appointment(
        appointment, payload.starts_at, by_owner=False, mode=payload.mode, actor=request.user
    )


class RoQuery(Schema):
    status: Literal[tuple(RepairOrderStatus.values)] | None = None
    store_id: DbId | None = None


@staff_router.get("/repair-orders", response=list[RepairOrderListOut])
def staff_repair_orders(request, q: Query[RoQuery]):
    check_perm(request.user, Perm.WORK_REPAIR_ORDERS)
    qs = selectors.repair_orders_for(request.user).select_related("store", "vehicle")
    if q.status:
        qs = qs.filter(status=q.status)
    if q.store_id:
        qs = qs.filter(store_id=q.store_id)
    return list(qs.order_by("-checked_in_at")[:200])


@staff_router.post("/repair-orders", response={201: RepairOrderOut})
def staff_check_in(request, payload: CheckInIn):
    actor = request.user
    check_perm(actor, Perm.WORK_REPAIR_ORDERS)
    store = selectors.store_for_actor(actor, payload.store_id)
    appointment = customer = vehicle = None
    if payload.appointment_id:
        appointment = selectors.get_appointment(actor, payload.appointment_id)
    else:
        customer = Customer.objects.for_actor(actor).filter(pk=payload.customer_id or 0).first()
        vehicle = Vehicle.objects.for_actor(actor).filter(pk=payload.vehicle_id or 0).first()
        if customer is None or vehicle is None:
            raise NotFound(_("No such customer or car."))
    ro = workshop.check_in(
        actor,
        store=store,
        appointment=appointment,
        customer=customer,
        vehicle=vehicle,
        odometer=payload.odometer_km,
        fuel_pct=payload.fuel_pct,
        symptoms=payload.symptoms,
        belongings=payload.belongings,
    )
    return Status(201, selectors.get_repair_order(actor, ro.pk))


@staff_router.get("/repair-orders/{int:ro_id}", response=RepairOrderOut)
def staff_repair_order(request, ro_id: int):
    check_perm(request.user, Perm.WORK_REPAIR_ORDERS)
    return selectors.get_repair_order(request.user, ro_id)


def _ro(request, ro_id):
    check_perm(request.user, Perm.WORK_REPAIR_ORDERS)
    return selectors.get_repair_order(request.user, ro_id)


@staff_router.post("/repair-orders/{int:ro_id}/inspection", response=RepairOrderOut)
def staff_inspection(request, ro_id: int, payload: InspectionIn):
    ro = _ro(request, ro_id)
    workshop.record_inspection(request.user, ro, [r.dict() for r in payload.results])
    if payload.complete:
        workshop.complete_inspection(request.user, ro)
    return selectors.get_repair_order(request.user, ro_id)


@staff_router.post("/repair-orders/{int:ro_id}/lines", response={201: LineOut})
def staff_add_line(request, ro_id: int, payload: AddLineIn):
    ro = _ro(request, ro_id)
    line = workshop.add_line(
        request.user,
        ro,
        operation_id=payload.operation_id,
        parts=[p.dict() for p in payload.parts],
        reason=payload.reason,
        payer=payload.payer,
    )
    return Status(201, line)


@staff_router.post(
    "/repair-orders/{int:ro_id}/lines/{int:line_id}/verbal-approval", response=RepairOrderOut
)
def staff_verbal_approval(request, ro_id: int, line_id: int, payload: DecisionIn):
    ro = _ro(request, ro_id)
    workshop.decide_line(ro, line_id, True, actor=request.user, reason=payload.reason)
    return selectors.get_repair_order(request.user, ro_id)


@staff_router.post(
    "/repair-orders/{int:ro_id}/lines/{int:line_id}/verbal-decline", response=RepairOrderOut
)
def staff_verbal_decline(request, ro_id: int, line_id: int, payload: DecisionIn):
    ro = _ro(request, ro_id)
    workshop.decide_line(ro, line_id, False, actor=request.user, reason=payload.reason)
    return selectors.get_repair_order(request.user, ro_id)


@staff_router.post(
    "/repair-orders/{int:ro_id}/lines/{int:line_id}/clock-on", response=RepairOrderOut
)
def staff_clock_on(request, ro_id: int, line_id: int):
    workshop.clock_on(request.user, _ro(request, ro_id), line_id)
    return selectors.get_repair_order(request.user, ro_id)


@staff_router.post(
    "/repair-orders/{int:ro_id}/lines/{int:line_id}/clock-off", response=RepairOrderOut
)
def staff_clock_off(request, ro_id: int, line_id: int, payload: ClockOffIn):
    workshop.clock_off(request.user, _ro(request, ro_id), line_id, done=payload.done)
    return selectors.get_repair_order(request.user, ro_id)


@staff_router.post("/repair-orders/{int:ro_id}/status", response=RepairOrderOut)
def staff_advance(request, ro_id: int, payload: AdvanceIn):
    workshop.advance(request.user, _ro(request, ro_id), payload.to)
    return selectors.get_repair_order(request.user, ro_id)


@staff_router.post("/repair-orders/{int:ro_id}/settle", response={201: InvoiceOut})
def staff_settle(request, ro_id: int, payload: SettleIn):
    ro = _ro(request, ro_id)
    prices = {
        p.line_id: {"labour": p.labour, "parts": p.parts, "reason": p.reason} for p in payload.lines
    }
    payers = {p.line_id: p.payer for p in payload.lines if p.payer}
    return Status(
        201,
        billing.settle(
            request.user, ro, prices=prices, payers=payers, coupon_code=payload.coupon_code
        ),
    )


@staff_router.post("/repair-orders/{int:ro_id}/refund", response={201: CreditNoteOut})
def staff_refund(request, ro_id: int, payload: RefundIn):
    return Status(201, billing.refund(request.user, _ro(request, ro_id), reason=payload.reason))


@staff_router.post("/repair-orders/{int:ro_id}/deliver", response=RepairOrderOut)
def staff_deliver(request, ro_id: int, payload: DeliverIn):
    workshop.deliver(request.user, _ro(request, ro_id), odometer=payload.odometer_km)
    return selectors.get_repair_order(request.user, ro_id)


class MonthQuery(Schema):
    store_id: DbId
    month: SaneDate | None = None


@staff_router.get("/service/figures", response=ServiceFiguresOut)
def staff_figures(request, q: Query[MonthQuery]):
    check_perm(request.user, Perm.VIEW_SERVICE_FIGURES)
    store = selectors.store_for_actor(request.user, q.store_id)
    figures = selectors.store_figures(store, q.month or timezone.localdate())
    return {"store": store, **figures.__dict__}


@staff_router.get("/service/follow-ups", response=list[FollowUpOut])
def staff_follow_ups(request, store_id: DbId | None = None):
    check_perm(request.user, Perm.VIEW_SERVICE_FIGURES)
    return list(selectors.follow_up_list(request.user, store_id)[:200])
