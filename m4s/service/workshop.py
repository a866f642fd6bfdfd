"""The service area's workshop writes: reception (check-in), multi-point inspection,
item-by-item approval, repair lines, clocking on and off, quality check and delivery.

Each function runs in one transaction on the locked repair order; notifications are written to
the outbox inside it and delivered after commit."""

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from m4s.core import hooks
from m4s.core.errors import DomainError
from m4s.core.i18n import name_of, text
from m4s.core.uploads import clean_image
from m4s.customers.choices import TimelineKind
from m4s.customers.models import Customer
from m4s.customers.services import record_timeline
from m4s.staff.choices import Perm
from m4s.staff.permissions import check_perm
from m4s.vehicles import services as vehicle_services
from m4s.vehicles.models import Vehicle

from . import selectors
from ._common import (
    S,
    ServiceEvent,
    _check_store_access,
    _decimal,
    _lock_ro,
    _move,
    _new_number,
    _require_status,
    _tell_owner,
    _tell_staff,
    checked_images,
)
from .choices import (
    CLOCKABLE_RO,
    AppointmentStatus,
    Approval,
    ApprovalChannel,
    LineSource,
    Payer,
    PhotoKind,
    Rating,
    WorkStatus,
)
from .models import (
    Appointment,
    InspectionPoint,
    InspectionResult,
    LabourOperation,
    MaintenanceRecord,
    Part,
    PartReservation,
    PartStock,
    RepairLine,
    RepairLinePart,
    RepairOrder,
    RepairPhoto,
    TimeEntry,
)
from .surveys import schedule_survey

# --- reception ----------------------------------------------------------------------------------


@transaction.atomic
def check_in(
    actor,
    *,
    store,
    odometer: int,
    fuel_pct: int,
    symptoms: str = "",
    belongings: str = "",
    appointment: Appointment | None = None,
    customer: Customer | None = None,
    vehicle: Vehicle | None = None,
    photos=(),
) -> RepairOrder:
    """Reception: the car arrives. Creates the repair order with the booked work already
    approved (the owner chose it) and the owner's own words about the problem."""
    check_perm(actor, Perm.WORK_REPAIR_ORDERS)
    _check_store_access(actor, store)
    group_id = store.dealer_group_id
    if appointment is not None:
        appointment = (
            Appointment.objects.for_group(group_id)
            .select_for_update(of=("self",))
            .select_related("customer", "vehicle", "package")
            .get(pk=appointment.pk)
        )
        existing = RepairOrder.objects.for_group(group_id).filter(appointment=appointment).first()
        if existing is not None:
            return existing  # a retried check-in
        if appointment.status != AppointmentStatus.BOOKED or appointment.store_id != store.pk:
            raise DomainError(
                "not_checkable", _("This appointment cannot be checked in."), status=409
            )
        customer, vehicle = appointment.customer, appointment.vehicle
        symptoms = symptoms or appointment.problem
    photos = checked_images(photos)
    if customer is None or vehicle is None or vehicle.current_owner_id != customer.pk:
        raise DomainError("invalid_car", _("Choose the customer and one of their cars."))
    if customer.dealer_group_id != group_id:
        raise DomainError("not_found", _("No such customer."), status=404)
    if not (0 <= fuel_pct <= 100):
        raise DomainError("invalid_fuel", _("Fuel or charge level is a percentage from 0 to 100."))
    if odometer < 0 or odometer > 2_000_000:
        raise DomainError("invalid_odometer", _("The odometer reading is not plausible."))
    if vehicle.odometer_km and odometer < vehicle.odometer_km:
        raise DomainError(
            "odometer_backwards",
            _("The odometer is lower than the last reading (%(km)d km).")
            % {"km": vehicle.odometer_km},
            last_km=vehicle.odometer_km,
        )
    package = appointment.package if appointment else None
    if not symptoms.strip() and package is None:
        raise DomainError(
            "symptoms_required", _("Write down the problem in the owner's own words.")
        )
    if (
        RepairOrder.objects.for_group(group_id)
        .filter(vehicle=vehicle, status__in=selectors.OPEN_RO)
        .exists()
    ):
        raise DomainError(
            "already_in_workshop", _("This car already has an open repair order."), status=409
        )
    now = timezone.now()
    ro = RepairOrder.objects.create(
        dealer_group_id=group_id,
        number=_new_number("RO"),
        store=store,
        customer=customer,
        vehicle=vehicle,
        appointment=appointment,
        advisor=appointment.advisor if appointment else actor,
        odometer_in=odometer,
        fuel_pct=fuel_pct,
        symptoms=symptoms.strip(),
        belongings=belongings.strip(),
        checked_in_at=now,
    )
    ro.number = f"RO{ro.pk:08d}"
    ro.save(update_fields=["number"])
    vehicle_services.record_odometer(group_id, vehicle.pk, odometer)
    if appointment is not None:
        appointment.status = AppointmentStatus.CHECKED_IN
        appointment.save(update_fields=["status"])
        today = timezone.localtime(now, store.tz).date()
        if appointment.date != today:
            # Arrived on another day than booked: the work takes today's minutes and the
            # booked day's are free again.
            appointment.capacity_uses.all().update(date=today)
        hooks.after_commit(
            "service.appointment_kept",
            ServiceEvent(group_id, store.pk, customer.pk, f"appointment:{appointment.pk}", now),
        )
        jobs = (
            selectors.package_lines(package)
            if package
            else [(selectors.diagnosis_operation(group_id), [])]
        )
        prices = selectors.require_prices(
            group_id,
            timezone.localdate(),
            operations=[o.pk for o, _parts in jobs],
            parts=[p.pk for _o, parts in jobs for p, _q in parts],
        )
        for op, parts in jobs:  # each part on the line of the operation it serves
            line = _make_line(
                ro,
                op,
                prices,
                source=LineSource.BOOKING,
                actor=actor,
                parts=parts,
                reason=package.name if package else symptoms[:300],
                reason_i18n=package.name_i18n if package else None,
            )
            line.approval, line.approval_channel, line.decided_at = (
                Approval.APPROVED,
                ApprovalChannel.AT_BOOKING,
                now,
            )
            line.save(update_fields=["approval", "approval_channel", "decided_at"])
    for f in photos:
        RepairPhoto.objects.create(
            dealer_group_id=group_id, repair_order=ro, kind=PhotoKind.WALK_ROUND, image=f
        )
    record_timeline(
        customer,
        TimelineKind.VISIT,
        gettext_noop("Checked in at %(store)s (%(km)d km)"),
        params={"store": store.name, "km": odometer},
        actor=actor,
        data={"repair_order": ro.pk},
    )
    _tell_owner(
        customer,
        "service.checked_in",
        lambda: (
            text(gettext_noop("Your car is checked in")),
            text(
                gettext_noop("Repair order %(number)s. You can follow it in the app."),
                number=ro.number,
            ),
        ),
        link=f"/app/service/orders/{ro.pk}/",
        dedupe=f"ro:{ro.pk}:checked_in",
    )
    return ro


def _make_line(
    ro: RepairOrder,
    op: LabourOperation,
    prices: dict,
    *,
    source: str,
    actor,
    parts=(),
    reason="",
    reason_i18n=None,
    result=None,
    payer: str = Payer.CUSTOMER,
) -> RepairLine:
    line = RepairLine.objects.create(
        dealer_group_id=ro.dealer_group_id,
        repair_order=ro,
        operation=op,
        description=op.name,
        description_i18n=dict(op.name_i18n or {}),
        reason=reason[:300],
        reason_i18n={k: v[:300] for k, v in (reason_i18n or {}).items()},
        labour_list_price=prices[("op", op.pk)],
        labour_price=prices[("op", op.pk)],
        source=source,
        result=result,
        added_by=actor if getattr(actor, "pk", None) else None,
        payer=payer,
    )
    RepairLinePart.objects.bulk_create(
        RepairLinePart(
            dealer_group_id=ro.dealer_group_id,
            line=line,
            part=part,
            quantity=qty,
            list_price=prices[("part", part.pk)],
            unit_price=prices[("part", part.pk)],
        )
        for part, qty in parts
    )
    return line


# --- inspection ---------------------------------------------------------------------------------


@transaction.atomic
def record_inspection(actor, ro: RepairOrder, results: list[dict]) -> list[InspectionResult]:
    """Record checklist results (green/amber/red, note, measurement). Can be called repeatedly
    while inspecting; each point keeps its latest result."""
    check_perm(actor, Perm.WORK_REPAIR_ORDERS)
    ro = _lock_ro(ro)
    _require_status(ro, S.CHECKED_IN, S.INSPECTING)
    if ro.status == S.CHECKED_IN:
        _move(ro, S.INSPECTING)
    points = {
        p.pk: p
        for p in InspectionPoint.objects.for_group(ro.dealer_group_id).filter(
            template__store=ro.store, pk__in=[r.get("point_id") for r in results]
        )
    }
    saved = []
    for r in results:
        point = points.get(r.get("point_id"))
        if point is None:
            raise DomainError(
                "invalid_point", _("Unknown checklist item."), point_id=r.get("point_id")
            )
        if r.get("rating") not in Rating.values:
            raise DomainError("invalid_rating", _("Rate each item green, amber or red."))
        m = r.get("measurement")
        measurement = _decimal(m, "invalid_measurement") if m not in (None, "") else None
        if measurement is not None and measurement >= 10_000:  # the column holds 9999.99
            raise DomainError(
                "invalid_measurement", _("Not a valid amount: %(v)s") % {"v": m}, point_id=point.pk
            )
        obj, _c = InspectionResult.objects.for_group(ro.dealer_group_id).update_or_create(
            repair_order=ro,
            point=point,
            defaults={
                "dealer_group_id": ro.dealer_group_id,
                "rating": r["rating"],
                "note": (r.get("note") or "")[:300],
                "measurement": measurement,
                "inspected_by": actor,
                "at": timezone.now(),
            },
        )
        saved.append(obj)
    return saved


def add_inspection_photo(actor, ro: RepairOrder, result_id: int | None, image) -> RepairPhoto:
    check_perm(actor, Perm.WORK_REPAIR_ORDERS)
    image = clean_image(image)
    result = None
    if result_id:
        result = (
            InspectionResult.objects.for_group(ro.dealer_group_id)
            .filter(repair_order=ro, pk=result_id)
            .first()
        )
        if result is None:
            raise DomainError("invalid_point", _("Unknown checklist item."))
    return RepairPhoto.objects.create(
        dealer_group_id=ro.dealer_group_id,
        repair_order=ro,
        result=result,
        kind=PhotoKind.INSPECTION if result else PhotoKind.WALK_ROUND,
        image=image,
    )


@transaction.atomic
def complete_inspection(actor, ro: RepairOrder) -> RepairOrder:
    """Amber and red items become recommended lines priced from the published list; the owner
    is asked to approve or decline each one."""
    check_perm(actor, Perm.WORK_REPAIR_ORDERS)
    ro = _lock_ro(ro)
    _require_status(ro, S.INSPECTING)
    results = list(
        InspectionResult.objects.for_group(ro.dealer_group_id)
        .filter(repair_order=ro)
        .exclude(rating=Rating.GREEN)
        .select_related("point__operation", "point__part")
    )
    missing = [r.point.name for r in results if r.point.operation is None]
    if missing:
        raise DomainError(
            "no_operation_for_item",
            _("Set the operation that fixes: %(items)s") % {"items": ", ".join(missing)},
        )
    prices = selectors.require_prices(
        ro.dealer_group_id,
        timezone.localdate(),
        operations=[r.point.operation_id for r in results],
        parts=[r.point.part_id for r in results if r.point.part_id],
    )
    already = set(
        RepairLine.objects.for_group(ro.dealer_group_id)
        .filter(repair_order=ro, result__isnull=False)
        .values_list("result_id", flat=True)
    )
    new = 0
    for r in results:
        if r.pk in already:
            continue
        parts = [(r.point.part, r.point.part_quantity)] if r.point.part_id else []
        _make_line(
            ro,
            r.point.operation,
            prices,
            source=LineSource.INSPECTION,
            actor=actor,
            parts=parts,
            result=r,
            reason=f"{r.point.name}: {r.note}".strip(": ")[:300],
            reason_i18n={  # the checklist item in each language the dealer translated it to
                lang: f"{name}: {r.note}".strip(": ")
                for lang, name in (r.point.name_i18n or {}).items()
            },
        )
        new += 1
    _after_lines_changed(ro)
    return ro


def _after_lines_changed(ro: RepairOrder):
    pending = RepairLine.objects.for_group(ro.dealer_group_id).filter(
        repair_order=ro, approval=Approval.PENDING
    )
    if pending.exists():
        if ro.status != S.WAITING_APPROVAL:
            _move(ro, S.WAITING_APPROVAL)
        n = pending.count()
        _tell_owner(
            ro.customer,
            "service.approval",
            lambda: (
                text(gettext_noop("Your approval is needed")),
                text(
                    gettext_noop(
                        "We found %(n)d item(s) on your car. See photos and prices and decide in the app."
                    ),
                    n=n,
                ),
            ),
            link=f"/app/service/orders/{ro.pk}/",
            dedupe=f"ro:{ro.pk}:approval:{pending.order_by('-id').first().pk}",
            sms=True,
        )
    elif ro.status in (S.CHECKED_IN, S.INSPECTING, S.WAITING_APPROVAL):
        _move(ro, S.IN_REPAIR)


# --- repair lines and approval -------------------------------------------------------------------


@transaction.atomic
def add_line(
    actor,
    ro: RepairOrder,
    *,
    operation_id: int,
    parts: list[dict] = (),
    reason: str,
    payer: str = Payer.CUSTOMER,
) -> RepairLine:
    """Work found during repair. It starts as pending: nobody can clock on it or bill it until
    the owner approves it."""
    check_perm(actor, Perm.WORK_REPAIR_ORDERS)
    ro = _lock_ro(ro)
    _require_status(
        ro, S.CHECKED_IN, S.INSPECTING, S.WAITING_APPROVAL, S.IN_REPAIR, S.QUALITY_CHECK
    )
    if not reason.strip():
        raise DomainError("reason_required", _("Say why this work is needed."))
    if payer not in Payer.values:
        raise DomainError("invalid_payer", _("Unknown payer."))
    op = (
        LabourOperation.objects.for_group(ro.dealer_group_id)
        .filter(pk=operation_id, is_active=True)
        .first()
    )
    if op is None:
        raise DomainError("invalid_operation", _("Unknown labour operation."))
    part_rows = []
    for p in parts or []:
        part = (
            Part.objects.for_group(ro.dealer_group_id)
            .filter(pk=p.get("part_id"), is_active=True)
            .first()
        )
        qty = p.get("quantity", 1)
        if part is None or not isinstance(qty, int) or not 1 <= qty <= 100:
            raise DomainError("invalid_part", _("Unknown part or quantity."))
        part_rows.append((part, qty))
    prices = selectors.require_prices(
        ro.dealer_group_id,
        timezone.localdate(),
        operations=[op.pk],
        parts=[p.pk for p, _q in part_rows],
    )
    line = _make_line(
        ro,
        op,
        prices,
        source=LineSource.ADDED,
        actor=actor,
        parts=part_rows,
        reason=reason,
        payer=payer,
    )
    if ro.status == S.QUALITY_CHECK:
        _move(ro, S.IN_REPAIR)
    _after_lines_changed(ro)
    return line


@transaction.atomic
def set_lines_payer(actor, ro: RepairOrder, payer: str) -> int:
    """Who pays the lines of an open repair order (e.g. insurance for the repair of a rescue
    case): every line, those added later keep their own. Settled orders are refused."""
    check_perm(actor, Perm.WORK_REPAIR_ORDERS)
    if payer not in Payer.values:
        raise DomainError("invalid_payer", _("Unknown payer."))
    ro = _lock_ro(ro)
    _require_status(ro, *selectors.OPEN_RO)
    return (
        RepairLine.objects.for_group(ro.dealer_group_id).filter(repair_order=ro).update(payer=payer)
    )


@transaction.atomic
def decide_line(
    ro: RepairOrder, line_id: int, approve: bool, *, owner=None, actor=None, reason: str = ""
) -> RepairLine:
    """The owner approves or declines one line in the app, or staff record the owner's verbal
    answer (only with a reason). Declined lines are kept."""
    if owner is None:
        check_perm(actor, Perm.WORK_REPAIR_ORDERS)
        if not reason.strip():
            raise DomainError(
                "reason_required",
                _("Record how and why the owner decided (e.g. phone call at 10:20)."),
            )
    ro = _lock_ro(ro)
    if owner is not None and ro.customer.owner_id != owner.pk:
        raise DomainError("not_found", _("No such repair order."), status=404)
    line = (
        RepairLine.objects.for_group(ro.dealer_group_id).filter(repair_order=ro, pk=line_id).first()
    )
    if line is None:
        raise DomainError("not_found", _("No such line."), status=404)
    decision = Approval.APPROVED if approve else Approval.DECLINED
    if line.approval == decision:
        return line  # a repeated tap
    if line.approval != Approval.PENDING:
        raise DomainError("already_decided", _("This item was already decided."), status=409)
    _require_status(ro, S.CHECKED_IN, S.INSPECTING, S.WAITING_APPROVAL, S.IN_REPAIR)
    line.approval = decision
    line.approval_channel = ApprovalChannel.APP if owner is not None else ApprovalChannel.VERBAL
    line.approval_reason = reason.strip()[:200]
    line.approval_staff = actor if owner is None else None
    line.decided_at = timezone.now()
    line.save(
        update_fields=[
            "approval",
            "approval_channel",
            "approval_reason",
            "approval_staff",
            "decided_at",
        ]
    )
    record_timeline(
        ro.customer,
        TimelineKind.VISIT,
        gettext_noop("Approved: %(item)s") if approve else gettext_noop("Declined: %(item)s"),
        params={"item": name_of(line, "description")},
        actor=actor,
        data={"repair_order": ro.pk, "line": line.pk, "channel": line.approval_channel},
    )
    _after_lines_changed(ro)
    if (
        not RepairLine.objects.for_group(ro.dealer_group_id)
        .filter(repair_order=ro, approval=Approval.PENDING)
        .exists()
    ):
        _tell_staff(
            ro.advisor,
            ro.dealer_group_id,
            "service.decided",
            lambda: (
                text(
                    gettext_noop("%(plate)s: the owner has decided every item"),
                    plate=ro.vehicle.plate,
                ),
                "",
            ),
            link=f"/console/service/orders/{ro.pk}/",
            dedupe=f"ro:{ro.pk}:decided:{line.pk}",
        )
    return line


# --- work ---------------------------------------------------------------------------------------


def _work_line(actor, ro, line_id) -> tuple[RepairOrder, RepairLine]:
    check_perm(actor, Perm.WORK_REPAIR_ORDERS)
    ro = _lock_ro(ro)
    line = (
        RepairLine.objects.for_group(ro.dealer_group_id).filter(repair_order=ro, pk=line_id).first()
    )
    if line is None:
        raise DomainError("not_found", _("No such line."), status=404)
    if line.approval != Approval.APPROVED:
        raise DomainError(
            "line_not_approved", _("The owner has not approved this work."), status=409
        )
    _require_status(ro, *CLOCKABLE_RO)
    return ro, line


@transaction.atomic
def clock_on(actor, ro: RepairOrder, line_id: int) -> TimeEntry:
    ro, line = _work_line(actor, ro, line_id)
    if line.work_status == WorkStatus.DONE:
        raise DomainError("line_done", _("This work is already done."), status=409)
    group_id = ro.dealer_group_id
    open_entry = (
        TimeEntry.objects.for_group(group_id)
        .filter(technician=actor, ended_at__isnull=True)
        .first()
    )
    if open_entry is not None:
        if open_entry.line_id == line.pk:
            return open_entry
        raise DomainError(
            "already_clocked_on",
            _("Clock off your other job first."),
            status=409,
            line_id=open_entry.line_id,
        )
    try:
        with transaction.atomic():
            entry = TimeEntry.objects.create(
                dealer_group_id=group_id, line=line, technician=actor, started_at=timezone.now()
            )
    except IntegrityError:  # clocked on elsewhere at the same moment (one open clock each)
        raise DomainError(
            "already_clocked_on", _("Clock off your other job first."), status=409
        ) from None
    if line.work_status == WorkStatus.TODO:
        line.work_status = WorkStatus.IN_PROGRESS
        line.save(update_fields=["work_status"])
    if ro.status in (S.CHECKED_IN, S.INSPECTING):
        _move(ro, S.IN_REPAIR)
    return entry


@transaction.atomic
def clock_off(actor, ro: RepairOrder, line_id: int, *, done: bool = False) -> RepairLine:
    ro, line = _work_line(actor, ro, line_id)
    TimeEntry.objects.for_group(ro.dealer_group_id).filter(
        line=line, technician=actor, ended_at__isnull=True
    ).update(ended_at=timezone.now())
    if done and line.work_status != WorkStatus.DONE:
        line.work_status = WorkStatus.DONE
        line.completed_at = timezone.now()
        line.save(update_fields=["work_status", "completed_at"])
    return line


@transaction.atomic
def advance(actor, ro: RepairOrder, to: str) -> RepairOrder:
    """in repair → quality check → ready. Needs every approved line done and none pending."""
    check_perm(actor, Perm.WORK_REPAIR_ORDERS)
    ro = _lock_ro(ro)
    lines = list(RepairLine.objects.for_group(ro.dealer_group_id).filter(repair_order=ro))
    if to == S.QUALITY_CHECK:
        _require_status(ro, S.IN_REPAIR)
        if any(ln.approval == Approval.PENDING for ln in lines):
            raise DomainError(
                "waiting_approval",
                _("Some items are still waiting for the owner's decision."),
                status=409,
            )
        if any(
            ln.approval == Approval.APPROVED and ln.work_status != WorkStatus.DONE for ln in lines
        ):
            raise DomainError(
                "work_not_finished", _("Finish every approved job first."), status=409
            )
        if not any(ln.approval == Approval.APPROVED for ln in lines):
            raise DomainError("nothing_to_check", _("No approved work on this order."), status=409)
        TimeEntry.objects.for_group(ro.dealer_group_id).filter(
            line__repair_order=ro, ended_at__isnull=True
        ).update(ended_at=timezone.now())
        _move(ro, S.QUALITY_CHECK)
    elif to == S.READY:
        _require_status(ro, S.QUALITY_CHECK)
        _move(ro, S.READY)
        _tell_owner(
            ro.customer,
            "service.ready",
            lambda: (
                text(gettext_noop("Your car is ready")),
                text(
                    gettext_noop("%(plate)s is ready for pick-up at %(store)s."),
                    plate=ro.vehicle.plate,
                    store=ro.store.display_title,
                ),
            ),
            link=f"/app/service/orders/{ro.pk}/",
            dedupe=f"ro:{ro.pk}:ready",
            sms=True,
        )
    elif to == S.IN_REPAIR:  # failed quality check: back to work
        _require_status(ro, S.QUALITY_CHECK)
        _move(ro, S.IN_REPAIR)
    else:
        raise DomainError("invalid_status", _("Unknown status."))
    return ro


# --- delivery -----------------------------------------------------------------------------------


@transaction.atomic
def deliver(actor, ro: RepairOrder, *, odometer: int) -> RepairOrder:
    """Hand the car back: record the odometer, reset the maintenance items served, use up the
    reserved parts and schedule the revisit survey."""
    check_perm(actor, Perm.SETTLE_REPAIR_ORDERS)
    ro = _lock_ro(ro)
    _require_status(ro, S.READY)
    if ro.settled_at is None:
        raise DomainError("not_settled", _("Settle the repair order before delivery."), status=409)
    if odometer < ro.odometer_in or odometer > ro.odometer_in + 5000:
        raise DomainError(
            "invalid_odometer",
            _("The odometer must be at least the check-in reading (%(km)d km).")
            % {"km": ro.odometer_in},
            odometer_in=ro.odometer_in,
        )
    now = timezone.now()
    group_id = ro.dealer_group_id
    ro.status, ro.delivered_at, ro.odometer_out = S.DELIVERED, now, odometer
    ro.save(update_fields=["status", "delivered_at", "odometer_out"])
    vehicle_services.record_odometer(group_id, ro.vehicle_id, odometer)
    done = list(
        RepairLine.objects.for_group(group_id)
        .filter(repair_order=ro, approval=Approval.APPROVED)
        .prefetch_related("parts")
    )
    op_ids = {ln.operation_id for ln in done}
    schedule = selectors.schedule_for(ro.vehicle)
    if schedule is not None:
        local_day = timezone.localtime(now, ro.store.tz).date()
        MaintenanceRecord.objects.bulk_create(
            MaintenanceRecord(
                dealer_group_id=group_id,
                vehicle=ro.vehicle,
                item=item,
                done_on=local_day,
                done_km=odometer,
                repair_order=ro,
            )
            for item in schedule.items.filter(operation_id__in=op_ids)
        )
    used: dict[int, int] = {}
    for ln in done:
        for lp in ln.parts.all():
            used[lp.part_id] = used.get(lp.part_id, 0) + lp.quantity
    if ro.appointment_id:
        for r in PartReservation.objects.for_group(group_id).filter(
            appointment_id=ro.appointment_id, status=PartReservation.HELD
        ):
            PartStock.objects.for_group(group_id).filter(
                store_id=r.store_id, part_id=r.part_id
            ).update(reserved=F("reserved") - r.quantity)
            r.status = PartReservation.CONSUMED
            r.save(update_fields=["status"])
    for part_id, qty in used.items():
        PartStock.objects.for_group(group_id).filter(store=ro.store, part_id=part_id).update(
            on_hand=F("on_hand") - qty
        )
    record_timeline(
        ro.customer,
        TimelineKind.VISIT,
        gettext_noop("Car delivered (%(km)d km)"),
        params={"km": odometer},
        actor=actor,
        data={"repair_order": ro.pk},
    )
    schedule_survey(ro, now)
    return ro


def record_done_elsewhere(
    vehicle: Vehicle,
    *,
    item_ids: list[int] | tuple[int, ...] = (),
    operation_id: int | None = None,
    done_on: dt.date,
    done_km: int | None = None,
) -> list[MaintenanceRecord]:
    """The owner had maintenance done at another garage: the items of the car's schedule (these
    ids, and those served by `operation_id`) are recorded as served then, without a repair
    order, so the schedule counts from that day and those kilometres; the odometer reading is
    kept too."""
    group_id = vehicle.dealer_group_id
    if done_km is not None:
        vehicle_services.record_odometer(group_id, vehicle.pk, done_km)
    schedule = selectors.schedule_for(vehicle)
    if schedule is None or not (item_ids or operation_id):
        return []
    items = schedule.items.all()
    wanted = set(item_ids)
    chosen = [
        i for i in items if i.pk in wanted or (operation_id and i.operation_id == operation_id)
    ]
    return MaintenanceRecord.objects.bulk_create(
        MaintenanceRecord(
            dealer_group_id=group_id, vehicle=vehicle, item=item, done_on=done_on, done_km=done_km
        )
        for item in chosen
    )
