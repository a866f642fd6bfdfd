"""The six request kinds of the store-services area (registered with the requests framework by
`registry.py`): each an owner schema (validated before anything is stored), a `prepare` that
checks the world and returns the request's details, staff actions with their console form, and
the templates the generic owner and console pages include.

* scratch_repair (service advisor): photos + damaged panels on the car diagram → staff
  "estimate" priced from the published price list (a quote) → the owner accepts → "book" a
  visit for the estimate's operations (the body & paint pool) → scheduled.
* rental (sales consultant, a lead from "rental"): a car of the fleet held for the dates (no
  overlap, under the car's lock) → "confirm" → scheduled → "returned" → done.
* annual_inspection (service advisor): the car's due inspection (care's table) with pick-up
  or drop-off and the group's agency fee → driver assigned → picked up → inspected → returned.
* clear_violations (customer service): the owner's open violations with a fee each → accepted
  (care marks them being cleared) → done (cleared).
* new_driver (customer service): a place in a course session or a waiting-list number (moving
  up when someone leaves) → "confirm" → scheduled → "attended" → done.
* designated_driver (customer service): time, pick-up, destination, car, phone → "dispatch"
  (driver, phone, ETA) → en route → arrived → done, each step told to the owner."""

import datetime as dt
from decimal import Decimal
from typing import Annotated

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from ninja import Schema
from pydantic import Field, field_validator

from m4s.care import violations as care_violations
from m4s.care.choices import ViolationStatus
from m4s.care.models import Violation
from m4s.core.errors import DomainError, NotFound
from m4s.requests import services as rq
from m4s.requests.choices import RequestStatus
from m4s.requests.kinds import KindContext
from m4s.requests.models import RequestQuote
from m4s.service import booking as service_booking
from m4s.service import selectors as service_selectors
from m4s.service.models import LabourOperation, Part

from . import selectors, services
from .choices import (
    DESIGNATED_HORIZON_DAYS,
    MAX_SCRATCH_PHOTOS,
    MAX_VIOLATIONS,
    PANELS,
    FeeKind,
    Mode,
    RentalStatus,
    SignupStatus,
)
from .models import CourseSignup, ViolationClearing

S, A, SC = RequestStatus.SUBMITTED, RequestStatus.ACCEPTED, RequestStatus.SCHEDULED
OPEN = (S, A, SC)
CENT = Decimal("0.01")

Text200 = Annotated[str, Field(min_length=1, max_length=200)]
Phone = Annotated[str, Field(min_length=5, max_length=20, pattern=r"^\+?[0-9][0-9 \-]{3,18}$")]
Id = Annotated[int, Field(ge=1, le=2**53)]


def _local(store, when: dt.datetime | None) -> str:
    return rq.local_text(store, when) if when else ""


def _aware(store, when: dt.datetime) -> dt.datetime:
    if not 2000 <= when.year <= 2100:  # far dates overflow when moved between time zones
        raise DomainError("invalid_time", _("Give dates as YYYY-MM-DD HH:MM."), status=422)
    return timezone.make_aware(when, store.tz) if timezone.is_naive(when) else when


def _when(value) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    try:
        parsed = dt.datetime.fromisoformat(str(value or ""))
    except ValueError:
        return None
    return parsed if timezone.is_aware(parsed) else None


def _save_details(r, **changes) -> None:
    r.details = {**(r.details or {}), **rq.json_safe(changes)}
    type(r).objects.unscoped().filter(pk=r.pk).update(details=r.details)


def _step(actor, r, code: str, params: dict | None = None, **details) -> None:
    if details:
        _save_details(r, **details)
    rq.add_event(r, code, params or {}, actor=actor, tell=True)


# =============================================================================================
# scratch repair
# =============================================================================================
class AssistScratchRepairIn(Schema):
    panels: list[Annotated[str, Field(max_length=30)]] = Field(min_length=1, max_length=15)
    note: str = Field("", max_length=1000)
    photo_ids: list[Id] = Field(default_factory=list, max_length=MAX_SCRATCH_PHOTOS)

    @field_validator("panels")
    @classmethod
    def known_panels(cls, value: list[str]) -> list[str]:
        unknown = [p for p in value if p not in PANELS]
        if unknown:
            raise ValueError(f"unknown panel: {unknown[0]}")
        return list(dict.fromkeys(value))


def _prepare_scratch(ctx: KindContext, data: dict) -> dict:
    files = [f for f in (ctx.files or ()) if f]
    ids = list(dict.fromkeys(data.get("photo_ids") or []))
    if len(files) + len(ids) > MAX_SCRATCH_PHOTOS:
        raise DomainError(
            "too_many_photos", _("At most %(n)d photos.") % {"n": MAX_SCRATCH_PHOTOS}, status=422
        )
    if files:
        ids += [p.pk for p in services.stage_photos(ctx.owner, files, group_id=ctx.group_id)]
    elif ids:
        services.check_staged(ctx.owner, ctx.group_id, ids)
    if not ids:
        raise DomainError("no_photos", _("Add at least one photo of the damage."), status=422)
    return {"panels": data["panels"], "note": data.get("note", "").strip(), "photo_ids": ids}


def _after_scratch(r, data: dict) -> None:
    services.take_photos(r.owner, r, r.details.get("photo_ids") or [])


class AssistEstimateIn(Schema):
    operation_ids: list[Id] = Field(default_factory=list, max_length=30)
    part_ids: list[Id] = Field(default_factory=list, max_length=30)
    valid_days: int = Field(14, ge=1, le=90)

    @field_validator("operation_ids", "part_ids", mode="before")
    @classmethod
    def listed(cls, value):
        """A form posts one value or a comma list; empty choices are left out."""
        if value is None:
            return []
        if isinstance(value, str | int):
            value = str(value).split(",")
        return [v for v in value if str(v).strip() != ""]


def _estimate(actor, r, data: dict) -> None:
    """Lines priced from the group's published price list (tax included as owners see it); an
    operation or part listed twice is two of it."""
    op_ids, part_ids = data.get("operation_ids") or [], data.get("part_ids") or []
    if not op_ids:
        raise DomainError("no_operations", _("Choose at least one labour operation."), status=422)
    group = r.dealer_group_id
    ops = {
        o.pk: o
        for o in LabourOperation.objects.for_group(group).filter(pk__in=op_ids, is_active=True)
    }
    parts = {p.pk: p for p in Part.objects.for_group(group).filter(pk__in=part_ids, is_active=True)}
    if set(op_ids) - set(ops) or set(part_ids) - set(parts):
        raise NotFound(_("No such labour operation or part."))
    today = timezone.localdate(timezone.now(), r.store.tz)
    if r.status == S:
        rq.transition(actor, r, A)
    prices = service_selectors.require_prices(
        group, today, operations=set(op_ids), parts=set(part_ids)
    )
    rate = service_selectors.tax_rate_for(r.store, group)
    lines = []
    for pk in op_ids:
        lines.append(
            {
                "label": ops[pk].t("name"),
                "amount": service_selectors.with_tax(prices[("op", pk)], rate),
            }
        )
    for pk in part_ids:
        lines.append(
            {
                "label": parts[pk].t("name"),
                "amount": service_selectors.with_tax(prices[("part", pk)], rate),
            }
        )
    quote = rq.add_quote(
        actor,
        r,
        label=_("Body-shop estimate"),
        lines=lines,
        valid_until=today + dt.timedelta(days=int(data.get("valid_days") or 14)),
    )
    estimates = dict((r.details or {}).get("estimates") or {})
    estimates[str(quote.pk)] = {"operation_ids": op_ids, "part_ids": part_ids}
    _save_details(r, estimates=estimates)


def _accepted_estimate(r) -> tuple[RequestQuote, dict]:
    quote = (
        RequestQuote.objects.for_group(r.dealer_group_id)
        .filter(request=r, status="accepted")
        .first()
    )
    plan = ((r.details or {}).get("estimates") or {}).get(str(quote.pk)) if quote else None
    if quote is None or not plan:
        raise DomainError(
            "estimate_not_accepted",
            _("The owner has not accepted an estimate yet."),
            status=409,
        )
    return quote, plan


def _scratch_quote_accepted(r, quote) -> None:
    rq.tell_handler(
        r,
        gettext_noop("Request #%(id)s: the owner accepted the estimate. Book the body shop."),
        {"id": r.pk},
    )


class AssistBookIn(Schema):
    starts_at: dt.datetime


def _book(actor, r, data: dict) -> None:
    """A visit for the accepted estimate's operations: their pools (body and paint, the paint
    booth) at a free time of the store's workshop."""
    _quote, plan = _accepted_estimate(r)
    if r.vehicle is None:
        raise DomainError("vehicle_required", _("Choose one of your cars."), status=422)
    starts_at = _aware(r.store, data["starts_at"])
    appointment, _created = service_booking.book_for_customer(
        actor,
        customer=r.customer,
        vehicle=r.vehicle,
        store=r.store,
        starts_at=starts_at,
        operation_ids=plan["operation_ids"],
        mode="dropoff",
        problem=str(_("Body-shop estimate of request #%(id)s") % {"id": r.pk}),
        idempotency_key=f"assist-scratch:{r.pk}",
    )
    _save_details(r, appointment_id=appointment.pk)
    rq.transition(
        actor,
        r,
        SC,
        scheduled_for=appointment.starts_at,
        event_code=gettext_noop("Booked in the body shop for %(when)s"),
    )


# =============================================================================================
# rental
# =============================================================================================
class AssistRentalIn(Schema):
    car_id: Id
    starts_on: dt.date
    ends_on: dt.date


def _prepare_rental(ctx: KindContext, data: dict) -> dict:
    car = selectors.rental_cars_for_group(ctx.group_id).filter(pk=data["car_id"]).first()
    if car is None:
        raise NotFound(_("No such rental car."))
    today = timezone.localdate(ctx.now, ctx.store.tz)
    services.check_rental_dates(data["starts_on"], data["ends_on"], today=today)
    if selectors.overlapping(car, data["starts_on"], data["ends_on"]).exists():
        raise DomainError(
            "car_taken",
            _(
                "This car is already booked on some of those days. Choose other dates or another car."
            ),
            status=409,
        )
    days, total = selectors.rental_price(car, data["starts_on"], data["ends_on"])
    return {
        "car_id": car.pk,
        "car": car.name,
        "plate": car.plate,
        "starts_on": data["starts_on"],
        "ends_on": data["ends_on"],
        "days": days,
        "price_per_day": car.price_per_day,
        "price_total": total,
        "deposit": car.deposit,
    }


def _after_rental(r, data: dict) -> None:
    car = selectors.rental_cars_for_group(r.dealer_group_id).get(pk=r.details["car_id"])
    services.hold_car(r, car, data["starts_on"], data["ends_on"])


def _rental_choices(ctx: KindContext) -> dict:
    return {
        "cars": list(selectors.rental_cars_for_group(ctx.group_id)),
        "today": timezone.localdate(ctx.now, ctx.store.tz),
    }


def _confirm_rental(actor, r, data: dict) -> None:
    booking = services.set_rental_status(r, RentalStatus.CONFIRMED)
    if booking is None:
        raise NotFound(_("No such rental booking."))
    start = dt.datetime.combine(booking.starts_on, dt.time(9, 0), tzinfo=r.store.tz)
    rq.transition(
        actor,
        r,
        SC,
        scheduled_for=start,
        event_code=gettext_noop("Rental confirmed: %(car)s from %(when)s"),
        params={"car": booking.car.name},
    )


def _returned(actor, r, data: dict) -> None:
    rq.transition(actor, r, RequestStatus.DONE, event_code=gettext_noop("Car returned. Thank you!"))


def _rental_moved(actor, r, to_status: str) -> None:
    if to_status in (RequestStatus.CANCELLED, RequestStatus.DECLINED):
        services.release_rental(r)
    elif to_status == RequestStatus.DONE:
        services.set_rental_status(r, RentalStatus.RETURNED)


# =============================================================================================
# annual inspection
# =============================================================================================
class AssistInspectionIn(Schema):
    mode: Mode
    pickup_address: str = Field("", max_length=200)
    pickup_at: dt.datetime | None = None
    note: str = Field("", max_length=500)


def _prepare_inspection(ctx: KindContext, data: dict) -> dict:
    vehicle = ctx.vehicle
    due = selectors.next_inspection_of(vehicle, today=timezone.localdate(ctx.now, ctx.store.tz))
    if due is None:
        raise DomainError(
            "no_due_inspection",
            _("We do not know when this car's inspection is due: ask your store to add the date."),
            status=409,
        )
    fee = selectors.fee_of(ctx.group_id, FeeKind.INSPECTION)
    if fee is None:
        raise DomainError(
            "not_offered", _("This store does not offer this service yet."), status=409
        )
    address = data.get("pickup_address", "").strip()
    when = data.get("pickup_at")
    if data["mode"] == Mode.PICKUP:
        if not address:
            raise DomainError("address_required", _("Give the pick-up address."), status=422)
        if when is None:
            raise DomainError("time_required", _("Give the date and time."), status=422)
    if when is not None:
        when = _aware(ctx.store, when)
        if when < ctx.now:
            raise DomainError("in_the_past", _("Choose a time that has not passed."), status=422)
        if when > ctx.now + dt.timedelta(days=90):
            raise DomainError("too_far_ahead", _("That date cannot be booked yet."), status=422)
    return {
        "due_on": due[0],
        "exempt": due[1],
        "mode": data["mode"],
        "pickup_address": address,
        "pickup_at": when,
        "note": data.get("note", "").strip(),
        "fee": fee.fee,
        "fee_name": fee.t("name"),
        "step": "",
    }


def _inspection_choices(ctx: KindContext) -> dict:
    fee = selectors.fee_of(ctx.group_id, FeeKind.INSPECTION)
    due = selectors.next_inspection_of(ctx.vehicle) if ctx.vehicle is not None else None
    return {"fee": fee, "due": due, "modes": Mode.choices}


class AssistDriverIn(Schema):
    driver_name: Text200
    driver_phone: Phone | None = None


def _assign_driver(actor, r, data: dict) -> None:
    when = _when((r.details or {}).get("pickup_at")) or timezone.now() + dt.timedelta(hours=2)
    _save_details(
        r,
        step="driver_assigned",
        driver=data["driver_name"],
        driver_phone=data.get("driver_phone") or "",
    )
    rq.transition(
        actor,
        r,
        SC,
        scheduled_for=when,
        event_code=gettext_noop("%(driver)s will take care of your car (%(when)s)."),
        params={"driver": data["driver_name"]},
    )


def _picked_up(actor, r, data: dict) -> None:
    _step(actor, r, gettext_noop("Your car was picked up for the inspection."), step="picked_up")


class AssistInspectedIn(Schema):
    passed: bool = True
    remark: str = Field("", max_length=300)


def _inspected(actor, r, data: dict) -> None:
    if data.get("passed", True):
        _step(actor, r, gettext_noop("Your car passed the annual inspection."), step="inspected")
    else:
        _step(
            actor,
            r,
            gettext_noop("Your car did not pass the inspection: %(remark)s"),
            {"remark": data.get("remark", "")},
            step="inspected",
            failed=True,
        )


def _returned_car(actor, r, data: dict) -> None:
    _save_details(r, step="returned")
    rq.transition(
        actor, r, RequestStatus.DONE, event_code=gettext_noop("Your car is back. Thank you!")
    )


# =============================================================================================
# clearing traffic violations
# =============================================================================================
class AssistClearViolationsIn(Schema):
    violation_ids: list[Id] = Field(min_length=1, max_length=MAX_VIOLATIONS)


def _prepare_violations(ctx: KindContext, data: dict) -> dict:
    ids = list(dict.fromkeys(data["violation_ids"]))
    rows = list(
        Violation.objects.for_owner(ctx.owner)
        .select_for_update(of=("self",))
        .filter(pk__in=ids, dealer_group_id=ctx.group_id)
        .select_related("vehicle")
        .order_by("occurred_at", "id")
    )
    if len(rows) != len(ids):
        raise NotFound(_("No such violation."))
    if any(v.status != ViolationStatus.OPEN for v in rows):
        raise DomainError(
            "violation_not_open",
            _("A violation you chose is already cleared or being cleared."),
            status=409,
        )
    if (
        ViolationClearing.objects.for_group(ctx.group_id)
        .filter(violation_id__in=ids, request__status__in=OPEN)
        .exists()
    ):
        raise DomainError(
            "violation_requested",
            _("You already asked the store to clear a violation you chose."),
            status=409,
        )
    fee = selectors.fee_of(ctx.group_id, FeeKind.VIOLATION)
    if fee is None:
        raise DomainError(
            "not_offered", _("This store does not offer this service yet."), status=409
        )
    fines = sum((v.fine_cny for v in rows), Decimal("0.00"))
    fees = (fee.fee * len(rows)).quantize(CENT)
    return {
        "violations": [
            {
                "id": v.pk,
                "plate": v.vehicle.plate,
                "when": timezone.localtime(v.occurred_at).strftime("%Y-%m-%d %H:%M"),
                "what": v.description,
                "fine": v.fine_cny,
                "points": v.points,
            }
            for v in rows
        ],
        "fee_each": fee.fee,
        "fees_total": fees,
        "fines_total": fines,
        "total": fines + fees,
    }


def _after_violations(r, data: dict) -> None:
    fee = Decimal(str(r.details["fee_each"]))
    ViolationClearing.objects.bulk_create(
        ViolationClearing(
            dealer_group_id=r.dealer_group_id, request=r, violation_id=v["id"], fee=fee
        )
        for v in r.details["violations"]
    )


def _violation_choices(ctx: KindContext) -> dict:
    taken = set(
        ViolationClearing.objects.for_owner(ctx.owner)
        .filter(request__status__in=OPEN)
        .values_list("violation_id", flat=True)
    )
    rows = [
        v
        for v in selectors.open_violations_of_owner(ctx.owner).filter(dealer_group_id=ctx.group_id)
        if v.pk not in taken
    ]
    return {"violations": rows, "fee": selectors.fee_of(ctx.group_id, FeeKind.VIOLATION)}


def _violations_moved(actor, r, to_status: str) -> None:
    ids = list(
        ViolationClearing.objects.for_group(r.dealer_group_id)
        .filter(request=r)
        .values_list("violation_id", flat=True)
    )
    staff = actor if actor is not None else r.assigned_to
    if not ids or staff is None:
        return
    current: tuple[str, ...]
    if to_status == RequestStatus.DONE:
        target, current = ViolationStatus.CLEARED, (ViolationStatus.OPEN, ViolationStatus.CLEARING)
    elif to_status in (A, SC):
        target, current = ViolationStatus.CLEARING, (ViolationStatus.OPEN,)
    elif to_status in (RequestStatus.CANCELLED, RequestStatus.DECLINED):
        target, current = ViolationStatus.OPEN, (ViolationStatus.CLEARING,)
    else:
        return
    for v in Violation.objects.for_group(r.dealer_group_id).filter(pk__in=ids, status__in=current):
        care_violations.set_violation_status(staff, v.pk, target)


# =============================================================================================
# new-driver training
# =============================================================================================
class AssistNewDriverIn(Schema):
    session_id: Id


def _prepare_new_driver(ctx: KindContext, data: dict) -> dict:
    session = selectors.get_session_for_owner(ctx.owner, data["session_id"], now=ctx.now)
    if session.dealer_group_id != ctx.group_id:
        raise NotFound(_("No such course session."))
    if session.starts_at <= ctx.now:
        raise DomainError("session_started", _("This session has already started."), status=409)
    if (
        CourseSignup.objects.for_owner(ctx.owner)
        .filter(session=session, status__in=(SignupStatus.CONFIRMED, SignupStatus.WAITLISTED))
        .exists()
    ):
        raise DomainError(
            "already_signed_up", _("You are already signed up for this session."), status=409
        )
    return {
        "session_id": session.pk,
        "course": session.course.title,
        "course_i18n": session.course.title_i18n,
        "starts_at": session.starts_at,
        "ends_at": session.ends_at,
        "instructor": session.instructor,
        "price": session.course.price,
    }


def _after_new_driver(r, data: dict) -> None:
    from .models import CourseSession

    session = CourseSession.objects.for_group(r.dealer_group_id).get(pk=r.details["session_id"])
    signup = services.take_place(r, session)
    if signup.status == SignupStatus.WAITLISTED:
        rq.add_event(
            r,
            gettext_noop("The session is full: you are number %(n)s on the waiting list."),
            {"n": signup.position},
        )
    else:
        rq.add_event(r, gettext_noop("You have a place in the session."))


def _new_driver_choices(ctx: KindContext) -> dict:
    return {
        "courses": [
            c
            for c in selectors.courses_for_owner(ctx.owner, now=ctx.now)
            if c.dealer_group_id == ctx.group_id
        ]
    }


def _confirm_place(actor, r, data: dict) -> None:
    signup = CourseSignup.objects.for_group(r.dealer_group_id).filter(request=r).first()
    if signup is None or signup.status != SignupStatus.CONFIRMED:
        raise DomainError(
            "waitlisted",
            _("This owner is on the waiting list, without a place."),
            status=409,
        )
    rq.transition(
        actor,
        r,
        SC,
        scheduled_for=signup.session.starts_at,
        event_code=gettext_noop("Your place is confirmed: see you on %(when)s."),
    )


def _attended(actor, r, data: dict) -> None:
    services.mark_attended(r)
    rq.transition(
        actor, r, RequestStatus.DONE, event_code=gettext_noop("Thank you for attending the course!")
    )


def _new_driver_moved(actor, r, to_status: str) -> None:
    if to_status in (RequestStatus.CANCELLED, RequestStatus.DECLINED):
        services.leave_session(r)
    elif to_status == RequestStatus.DONE:
        services.mark_attended(r)


# =============================================================================================
# designated driver
# =============================================================================================
class AssistDesignatedDriverIn(Schema):
    pickup_at: dt.datetime
    pickup_address: Text200
    destination: Text200
    phone: Phone


def _prepare_designated(ctx: KindContext, data: dict) -> dict:
    when = _aware(ctx.store, data["pickup_at"])
    if when < ctx.now - dt.timedelta(minutes=5):
        raise DomainError("in_the_past", _("Choose a time that has not passed."), status=422)
    if when > ctx.now + dt.timedelta(days=DESIGNATED_HORIZON_DAYS):
        raise DomainError(
            "too_far_ahead",
            _("A driver can be booked for the next %(n)d days.") % {"n": DESIGNATED_HORIZON_DAYS},
            status=422,
        )
    return {
        "pickup_at": when,
        "pickup_address": data["pickup_address"].strip(),
        "destination": data["destination"].strip(),
        "phone": data["phone"].strip(),
        "step": "",
    }


class AssistDispatchIn(Schema):
    driver_name: Text200
    driver_phone: Phone
    eta_minutes: int = Field(ge=1, le=600)


def _dispatch(actor, r, data: dict) -> None:
    eta = timezone.now() + dt.timedelta(minutes=data["eta_minutes"])
    _save_details(
        r,
        step="dispatched",
        driver=data["driver_name"],
        driver_phone=data["driver_phone"],
        eta=eta,
    )
    rq.transition(
        actor,
        r,
        SC,
        scheduled_for=_when(r.details.get("pickup_at")) or eta,
        event_code=gettext_noop("Driver %(driver)s (%(phone)s) is coming, at about %(eta)s."),
        params={
            "driver": data["driver_name"],
            "phone": data["driver_phone"],
            "eta": _local(r.store, eta)[-5:],
        },
    )


def _en_route(actor, r, data: dict) -> None:
    _step(actor, r, gettext_noop("Your driver is on the way."), step="en_route")


def _arrived(actor, r, data: dict) -> None:
    _step(actor, r, gettext_noop("Your driver has arrived."), step="arrived")


def _delivered(actor, r, data: dict) -> None:
    _save_details(r, step="done")
    rq.transition(
        actor,
        r,
        RequestStatus.DONE,
        event_code=gettext_noop("You and your car arrived. Safe home!"),
    )
