"""Service console: booking on a customer's behalf (phone, desk) and walk-in check-in."""

import datetime as dt
import uuid

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from m4s.core.errors import DomainError
from m4s.core.types import in_calendar
from m4s.service import booking, selectors, workshop
from m4s.service.booking_choices import day_slots, service_choice
from m4s.service.choices import (
    Channel,
    VisitMode,
)
from m4s.staff.choices import Perm

from .common import (
    _car,
    _cars_of,
    _ctx,
    _customer,
    _date,
    _id,
    _photos,
    _pick_store,
    _store_today,
    _stores,
    _whole_number,
    service_page,
)

# --- 2b. staff booking ---------------------------------------------------------------------------
SLOT_REASONS = {
    "holiday": lambda: _("The store is closed that day (holiday)."),
    "closed": lambda: _("The store is closed that day."),
    "workshop_full": lambda: _("The workshop is fully booked that day."),
    "no_reception_slot": lambda: _("No free reception time that day."),
}


def _package_options(group_id) -> list:
    options = []
    for package in selectors.list_packages(group_id):
        try:
            quote = selectors.quote_package(package)
        except DomainError:
            quote = None  # not priced: still bookable, the price is settled at check-in
        options.append({"package": package, "quote": quote})
    return options


def _slot_choices(store, day, package_id, mode):
    """Free reception times for the service asked, like the owner app's slot list."""
    out = {"day": day, "slots": [], "message": ""}
    if store is None:
        return out
    try:
        choice = service_choice(store.dealer_group_id, package_id)
    except DomainError as exc:
        out["message"] = exc.message
        return out
    capacity, parts_ok, parts_date = day_slots(
        store, day, mode=mode if mode in VisitMode.values else VisitMode.WAITING, choice=choice
    )
    if not parts_ok:
        out["message"] = (
            _("The parts are not in stock that day; they can be reserved from %(date)s.")
            % {"date": parts_date.isoformat()}
            if parts_date
            else _("The parts for this service are not in stock.")
        )
        return out
    out["slots"] = [
        {
            "value": s.starts_at.isoformat(),
            "label": timezone.localtime(s.starts_at, store.tz).strftime("%H:%M"),
            "free": len(s.advisors),
        }
        for s in capacity.slots
    ]
    if not out["slots"]:
        reason = SLOT_REASONS.get(capacity.reason)
        out["message"] = reason() if reason else _("No free time that day.")
    return out


def _starts_at(raw, store) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat((raw or "").strip())
        if not in_calendar(value.date()):
            raise ValueError
    except ValueError:
        raise DomainError("invalid_time", _("Choose one of the free times.")) from None
    if timezone.is_naive(value):
        value = timezone.make_aware(value, store.tz)
    return value


def _service_id(raw) -> int | None:
    return _id(raw)  # a package id; "problem" (or nothing) books a diagnosis


@service_page(Perm.BOOK_SERVICE)
def book(request):
    user = request.user
    data = request.POST if request.method == "POST" else request.GET
    customer = _customer(user, data.get("customer"))
    cars = _cars_of(user, customer)
    stores = _stores(user)
    store = _pick_store(user, data.get("store"), stores, preferred=customer.store_id)
    today = _store_today(store) if store else timezone.localdate()
    day = _date(data.get("date"), today)
    package_id = _service_id(data.get("service"))
    mode = data.get("mode") if data.get("mode") in VisitMode.values else VisitMode.WAITING
    form = {
        "vehicle": _id(data.get("vehicle")) or (cars[0].pk if cars else None),
        "service": data.get("service", ""),
        "problem": data.get("problem", ""),
        "mode": mode,
        "channel": data.get("channel") if data.get("channel") in ("console", "phone") else "phone",
        "starts_at": data.get("starts_at", ""),
        "key": (data.get("key") or uuid.uuid4().hex)[:64],
    }
    error, status = None, 200
    if request.method == "POST":
        try:
            if store is None:
                raise DomainError("no_store", _("You are not assigned to a store yet."))
            vehicle = _car(cars, data.get("vehicle"))
            appointment, _created = booking.book_for_customer(
                user,
                customer=customer,
                vehicle=vehicle,
                store=store,
                starts_at=_starts_at(data.get("starts_at"), store),
                mode=mode,
                package_id=package_id,
                problem=data.get("problem", "")[:2000],
                channel=Channel.PHONE if form["channel"] == "phone" else Channel.CONSOLE,
                idempotency_key=form["key"],
            )
        except DomainError as exc:
            error, status = exc.message, 400
        else:
            messages.success(
                request,
                _("Visit booked for %(when)s.")
                % {
                    "when": timezone.localtime(appointment.starts_at, store.tz).strftime(
                        "%Y-%m-%d %H:%M"
                    )
                },
            )
            return redirect("console-service-appointment", appointment_id=appointment.pk)
    slots = _slot_choices(store, day, package_id, mode)
    if store and not slots["slots"] and not data.get("date"):
        # Late in the day nothing is left: offer tomorrow's times instead of an empty list.
        tomorrow = _slot_choices(store, today + dt.timedelta(days=1), package_id, mode)
        slots = tomorrow if tomorrow["slots"] else slots
    return render(
        request,
        "service/console/book.html",
        _ctx(
            request,
            customer=customer,
            cars=cars,
            stores=stores,
            store=store,
            today=today,
            packages=_package_options(customer.dealer_group_id),
            form=form,
            slots=slots,
            error=error,
            modes=VisitMode.choices,
        ),
        status=status,
    )


@service_page(Perm.BOOK_SERVICE)
def book_slots(request):
    """htmx: the free times for the booking form's store, date, service and visit mode."""
    user = request.user
    store = _pick_store(user, request.GET.get("store"), _stores(user))
    today = _store_today(store) if store else timezone.localdate()
    return render(
        request,
        "service/console/_slots.html",
        {
            "slots": _slot_choices(
                store,
                _date(request.GET.get("date"), today),
                _service_id(request.GET.get("service")),
                request.GET.get("mode", VisitMode.WAITING),
            ),
            "form": {"starts_at": request.GET.get("starts_at", "")},
            "store": store,
        },
    )


# --- 2c. walk-in check-in ----------------------------------------------------------------------
@service_page(Perm.WORK_REPAIR_ORDERS)
def walk_in(request):
    user = request.user
    data = request.POST if request.method == "POST" else request.GET
    customer = _customer(user, data.get("customer"))
    cars = _cars_of(user, customer)
    stores = _stores(user)
    store = _pick_store(user, data.get("store"), stores, preferred=customer.store_id)
    error, status = None, 200
    if request.method == "POST":
        try:
            if store is None:
                raise DomainError("no_store", _("You are not assigned to a store yet."))
            ro = workshop.check_in(
                user,
                store=store,
                customer=customer,
                vehicle=_car(cars, data.get("vehicle")),
                odometer=_whole_number(
                    data.get("odometer"), _("Enter the odometer reading in km.")
                ),
                fuel_pct=_whole_number(
                    data.get("fuel"), _("Fuel or charge level is a percentage from 0 to 100.")
                ),
                symptoms=data.get("symptoms", "")[:2000],
                belongings=data.get("belongings", "")[:300],
                photos=_photos(request.FILES.getlist("photos")),
            )
        except DomainError as exc:
            error, status = exc.message, 400
        else:
            messages.success(
                request, _("Checked in: repair order %(number)s.") % {"number": ro.number}
            )
            return redirect("console-service-order", ro_id=ro.pk)
    selected = _id(data.get("vehicle")) or (cars[0].pk if cars else None)
    return render(
        request,
        "service/console/walk_in.html",
        _ctx(
            request,
            customer=customer,
            cars=cars,
            stores=stores,
            store=store,
            form={
                "vehicle": selected,
                "odometer": data.get(
                    "odometer",
                    next((c.odometer_km for c in cars if c.pk == selected), None) or "",
                ),
                "fuel": data.get("fuel", ""),
                "symptoms": data.get("symptoms", ""),
                "belongings": data.get("belongings", ""),
            },
            error=error,
        ),
        status=status,
    )
