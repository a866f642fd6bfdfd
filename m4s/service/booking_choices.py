"""Reads behind booking a visit: which cars an owner may book for, which stores, which service
(a package or a diagnosis of a described problem), visit mode and dates, and the free reception
times of one day. The owner booking page, the staff booking page and the API share them, so a
choice is resolved by the same rules wherever it is made. Nothing here writes."""

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _

from m4s.core.errors import DomainError, NotFound
from m4s.core.types import in_calendar
from m4s.customers.selectors import vehicles_of_owner
from m4s.org.models import Store

from . import selectors
from .booking import ServiceChoice, resolve_service
from .choices import VisitMode

DATE_CHIPS = 14  # the days offered on the booking pages
PROBLEM = "problem"  # the booking form's value for "describe the problem" (a diagnosis)


# --- parsing what a form or query sent -------------------------------------------------------------
def parse_id(value) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None


def parse_date(value) -> dt.date:
    try:
        day = dt.date.fromisoformat((value or "").strip())
        if not in_calendar(day):
            raise ValueError
        return day
    except ValueError:
        raise DomainError("invalid_date", _("Choose a valid date.")) from None


def parse_mode(value) -> str:
    value = (value or VisitMode.WAITING).strip()
    if value not in VisitMode.values:
        raise DomainError("invalid_mode", _("Choose whether you wait or drop the car off."))
    return value


def store_today(store: Store) -> dt.date:
    return timezone.localtime(timezone.now(), store.tz).date()


# --- the owner's car and the stores it can be booked at ----------------------------------------------
def owner_cars(owner) -> list:
    """Bound cars whose customer record is this owner's (a car can be bound but sold on)."""
    return [
        v
        for v in vehicles_of_owner(owner)
        if v.current_owner is not None and v.current_owner.owner_id == owner.pk
    ]


def owner_car(owner, vehicle_id: int):
    """One car the owner may book for (its customer record is theirs), else 404."""
    vehicle = vehicles_of_owner(owner).filter(pk=vehicle_id).first()
    customer = vehicle.current_owner if vehicle is not None else None
    if customer is None or customer.owner_id != owner.pk:
        raise NotFound(_("No such car."))
    return vehicle


def booking_stores(customer) -> list[Store]:
    """The active stores of the car's dealer group, the customer's own store first."""
    return sorted(
        Store.objects.for_group(customer.dealer_group_id).filter(is_active=True),
        key=lambda s: (s.pk != customer.store_id, s.display_title),
    )


def booking_store(customer, store_id: int | None) -> Store:
    store = (
        Store.objects.for_group(customer.dealer_group_id)
        .filter(pk=store_id, is_active=True)
        .first()
        if store_id is not None
        else None
    )
    if store is None:
        raise NotFound(_("No such store."))
    return store


# --- the service and its free times ----------------------------------------------------------------
def service_choice(group_id: int, package_id: int | None) -> ServiceChoice:
    """A package (404 if unknown or inactive), or with no package a diagnosis."""
    if package_id:
        return resolve_service(group_id, package_id)
    return resolve_service(group_id, None, "diagnosis")


def day_slots(
    store: Store, date: dt.date, *, mode: str, choice, check_parts: bool = True, conf=None
):
    """The day's capacity for this service and whether its parts are there that day:
    (DayCapacity, parts_ok, the first day the parts are there if not)."""
    day = selectors.day_capacity(store, date, mode=mode, demand=choice.demand, conf=conf)
    if choice.parts and check_parts:
        parts_ok, parts_date = selectors.parts_available_on(store, choice.parts, date)
        return day, parts_ok, parts_date
    return day, True, None


# --- the owner booking page's choices --------------------------------------------------------------
@dataclass
class BookingChoices:
    """What the owner has chosen so far on the booking page (from GET or POST data)."""

    cars: list
    vehicle: object = None
    customer: object = None
    quotes: list = field(default_factory=list)
    due: dict = field(default_factory=dict)  # package id -> "overdue" | "due_soon"
    service: str = ""  # a package id or PROBLEM
    problem: str = ""
    stores: list = field(default_factory=list)
    store: Store | None = None
    dates: list = field(default_factory=list)
    date: dt.date | None = None
    mode: str = VisitMode.WAITING

    @property
    def package_id(self) -> int | None:
        return None if self.service == PROBLEM else parse_id(self.service)


def resolve_booking(owner, data, *, strict: bool) -> BookingChoices:
    """Resolve the choices. `strict` (posting a booking, loading free times): anything unknown
    is an error; otherwise (showing the page) unknown choices fall back to sensible defaults."""
    b = BookingChoices(cars=owner_cars(owner))
    if not b.cars:
        if strict:
            raise NotFound(_("No such car."))
        return b
    vehicle_id = parse_id(data.get("vehicle"))
    b.vehicle = next((v for v in b.cars if v.pk == vehicle_id), None)
    if b.vehicle is None:
        if strict:
            raise NotFound(_("No such car."))
        b.vehicle = b.cars[0]
    b.customer = b.vehicle.current_owner
    group_id = b.customer.dealer_group_id

    # Services: published packages with their price, the ones the car is due for marked.
    today = timezone.localdate()
    for package in selectors.list_packages(group_id, b.vehicle):
        try:
            b.quotes.append(selectors.quote_package(package, today))
        except DomainError:
            continue  # not bookable until it has a published price
    for d in selectors.maintenance_due(b.vehicle):
        if d.status != "ok" and d.item.package_id and d.item.package_id not in b.due:
            b.due[d.item.package_id] = d.status
    b.problem = (data.get("problem") or "").strip()
    service = (data.get("service") or data.get("package") or "").strip()
    known = {str(q.package.pk) for q in b.quotes}
    if service == PROBLEM or service in known:
        b.service = service
    elif strict:
        if not service:
            raise DomainError(
                "invalid_service", _("Choose a service package or describe the problem.")
            )
        if parse_id(service) is None:
            raise DomainError("invalid_service", _("No such service package."), status=404)
        b.service = service  # the service layer checks it (and answers 404 if unknown)
    else:
        due_first = next((str(pk) for pk in b.due if str(pk) in known), None)
        b.service = due_first or (str(b.quotes[0].package.pk) if b.quotes else PROBLEM)
    for q in b.quotes:
        q.due = b.due.get(q.package.pk)
        q.checked = str(q.package.pk) == b.service

    # Stores of the car's dealer group; the customer's own store first.
    b.stores = booking_stores(b.customer)
    store_id = parse_id(data.get("store"))
    b.store = next((s for s in b.stores if s.pk == store_id), None)
    if b.store is None:
        if strict and data.get("store"):
            raise NotFound(_("No such store."))
        b.store = b.stores[0] if b.stores else None
    if b.store is None:
        raise NotFound(_("No such store."))
    rate = selectors.tax_rate_for(b.store)
    for q in b.quotes:  # owners see the price with tax of the store they book
        q.tax_rate = rate

    b.mode = parse_mode(data.get("mode")) if strict else data.get("mode", "")
    if b.mode not in VisitMode.values:
        b.mode = VisitMode.WAITING
    first = store_today(b.store)
    b.dates = [first + dt.timedelta(days=i) for i in range(DATE_CHIPS)]
    if strict:
        b.date = parse_date(data.get("date")) if "date" in data else None
    else:
        try:
            b.date = parse_date(data.get("date")) if data.get("date") else None
        except DomainError:
            b.date = None
        if b.date is not None and b.date < first:
            b.date = None
    if b.date is not None and b.date not in b.dates and b.date > first:
        b.dates.append(b.date)  # e.g. the day the parts arrive, offered from the free times
    return b
