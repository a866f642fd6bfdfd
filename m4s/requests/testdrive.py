"""Test drives: the store's test-drive fleet, slots of SLOT_MINUTES cut from the store's opening
hours (business-time engine), free slots per model and day, and holding a car for a slot.

No double booking under parallel requests: a booking is a row with a unique constraint on
(car, slot start) among active bookings; each candidate car is tried in a savepoint, and an
IntegrityError (a parallel request took that car first) moves on to the next car; no car left
is 409 `slot_taken`."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from m4s.core.errors import DomainError, NotFound
from m4s.org.business_time import BusinessCalendar
from m4s.org.models import Store

from .models import ServiceRequest, TestDriveBooking, TestDriveCar

SLOT_MINUTES = 45
MAX_DAYS_AHEAD = 60


def slots_of_day(store: Store, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
    """Every slot of a local date: SLOT_MINUTES steps from each opening period's start that
    end within the period."""
    cal = BusinessCalendar.for_store(store, day, day)
    out = []
    step = dt.timedelta(minutes=SLOT_MINUTES)
    for start, end in cal.intervals(day):
        t = start
        while t + step <= end:
            out.append((t.astimezone(dt.UTC), (t + step).astimezone(dt.UTC)))
            t += step
    return out


def fleet(store: Store, car_model_id: int | None = None):
    qs = TestDriveCar.objects.for_group(store.dealer_group_id).filter(store=store, active=True)
    if car_model_id:
        qs = qs.filter(car_model_id=car_model_id)
    return qs


def free_slots(store: Store, car_model_id: int, day: dt.date, *, now=None) -> list[dict]:
    """[{start, end, free_cars}] for a model at a store on a local date, future slots only."""
    now = now or timezone.now()
    cars = list(fleet(store, car_model_id).values_list("pk", flat=True))
    slots = slots_of_day(store, day)
    if not cars or not slots:
        return []
    taken: dict[dt.datetime, int] = {}
    for start in (
        TestDriveBooking.objects.for_group(store.dealer_group_id)
        .filter(car_id__in=cars, active=True, slot_start__in=[s for s, _e in slots])
        .values_list("slot_start", flat=True)
    ):
        taken[start] = taken.get(start, 0) + 1
    return [
        {"start": s, "end": e, "free_cars": len(cars) - taken.get(s, 0)}
        for s, e in slots
        if s > now and len(cars) - taken.get(s, 0) > 0
    ]


def check_slot(store: Store, start: dt.datetime, *, now) -> dt.datetime:
    """The slot's end, or 422 `slot_outside_hours` / `slot_in_past` / `slot_too_far`."""
    if start <= now:
        raise DomainError("slot_in_past", _("Choose a time in the future."), status=422)
    local = timezone.localtime(start, store.tz)
    if local.date() > timezone.localdate(now, store.tz) + dt.timedelta(days=MAX_DAYS_AHEAD):
        raise DomainError("slot_too_far", _("Choose a day within two months."), status=422)
    for s, e in slots_of_day(store, local.date()):
        if s == start:
            return e
    raise DomainError(
        "slot_outside_hours",
        _("That time is not one of the store's test-drive slots (opening hours)."),
        status=422,
    )


def hold_car(
    request: ServiceRequest, car_model_id: int, start: dt.datetime, end
) -> TestDriveBooking:
    """Inside the submit transaction: the first free car of the model at the store."""
    cars = list(fleet(request.store, car_model_id).order_by("pk"))
    if not cars:
        raise NotFound(_("This store has no test-drive car of that model."))
    for car in cars:
        if (
            TestDriveBooking.objects.for_group(request.dealer_group_id)
            .filter(car=car, slot_start=start, active=True)
            .exists()
        ):
            continue
        try:
            with transaction.atomic():
                return TestDriveBooking.objects.create(
                    dealer_group_id=request.dealer_group_id,
                    request=request,
                    car=car,
                    slot_start=start,
                    slot_end=end,
                )
        except IntegrityError:  # a parallel request took this car for this slot
            continue
    raise DomainError("slot_taken", _("That slot was just taken: choose another."), status=409)


def release(request: ServiceRequest) -> None:
    TestDriveBooking.objects.for_group(request.dealer_group_id).filter(
        request=request, active=True
    ).update(active=False)


def booking_of(request: ServiceRequest) -> TestDriveBooking | None:
    return (
        TestDriveBooking.objects.for_group(request.dealer_group_id)
        .filter(request=request)
        .select_related("car")
        .first()
    )


def add_car(actor, *, store_id: int, car_model_id: int, plate: str) -> TestDriveCar:
    """A car joins a store's test-drive fleet (catalogue managers)."""
    from m4s.catalogue.selectors import get_model_of_group
    from m4s.staff.choices import Perm
    from m4s.staff.permissions import check_perm

    check_perm(actor, Perm.MANAGE_CATALOGUE)
    store = Store.objects.for_actor(actor).filter(pk=store_id).first()
    if store is None:
        raise NotFound(_("No such store."))
    get_model_of_group(store.dealer_group_id, car_model_id, published_only=False)
    plate = (plate or "").strip().upper()[:10]
    if not plate:
        raise DomainError("plate_required", _("Give the plate."), status=422)
    return TestDriveCar.objects.create(
        dealer_group_id=store.dealer_group_id, store=store, car_model_id=car_model_id, plate=plate
    )
