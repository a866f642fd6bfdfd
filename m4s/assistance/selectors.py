"""Scoped reads of the store-services area: a group's fees, rental fleet, courses and sessions
(staff see their group's; owners the active ones of their groups), a car's next annual
inspection (the date staff entered on the car, else the group's inspection table from care),
an owner's open traffic violations. Another group's or another owner's row is a NotFound."""

import datetime as dt
from decimal import Decimal

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from m4s.care import rules as care_rules
from m4s.care.choices import ViolationStatus
from m4s.care.models import InspectionRule, Violation
from m4s.core.errors import NotFound
from m4s.customers.models import Customer
from m4s.customers.selectors import vehicles_of_owner

from .choices import HOLDS_CAR, HOLDS_PLACE, FeeKind, SignupStatus
from .models import AgencyFee, Course, CourseSession, CourseSignup, RentalBooking, RentalCar

CENT = Decimal("0.01")


def owner_group_ids(owner) -> set[int]:
    if not owner or getattr(owner, "pk", None) is None:
        return set()
    ids = set(Customer.objects.for_owner(owner).values_list("dealer_group_id", flat=True))
    store = getattr(owner, "home_store", None)
    if store is not None:
        ids.add(store.dealer_group_id)
    return ids


# --- fees ------------------------------------------------------------------------------------------
def fees_for_group(group_id: int) -> dict[str, AgencyFee]:
    return {f.kind: f for f in AgencyFee.objects.for_group(group_id)}


def fee_of(group_id: int, kind: str) -> AgencyFee | None:
    return AgencyFee.objects.for_group(group_id).filter(kind=kind, active=True).first()


def fee_amount(group_id: int, kind: str) -> Decimal | None:
    fee = fee_of(group_id, kind)
    return fee.fee if fee is not None else None


# --- rental ----------------------------------------------------------------------------------------
def rental_cars_for_group(group_id: int, *, store_id: int | None = None) -> QuerySet:
    qs = RentalCar.objects.for_group(group_id).filter(active=True).select_related("store")
    if store_id:
        qs = qs.filter(store_id=store_id)
    return qs.order_by("store_id", "price_per_day", "name", "id")


def rental_cars_for_owner(owner) -> QuerySet:
    return (
        RentalCar.objects.unscoped()
        .filter(dealer_group_id__in=owner_group_ids(owner), active=True)
        .select_related("store")
        .order_by("store_id", "price_per_day", "name", "id")
    )


def get_rental_car_for_owner(owner, car_id) -> RentalCar:
    car = rental_cars_for_owner(owner).filter(pk=car_id).first() if car_id else None
    if car is None:
        raise NotFound(_("No such rental car."))
    return car


def fleet_for_staff(actor) -> QuerySet:
    return RentalCar.objects.for_actor(actor).select_related("store").order_by("store_id", "name")


def get_rental_car_for_staff(actor, car_id: int) -> RentalCar:
    car = fleet_for_staff(actor).filter(pk=car_id).first()
    if car is None:
        raise NotFound(_("No such rental car."))
    return car


def overlapping(car: RentalCar, starts_on: dt.date, ends_on: dt.date, *, exclude=None) -> QuerySet:
    qs = RentalBooking.objects.for_group(car.dealer_group_id).filter(
        car=car, status__in=HOLDS_CAR, starts_on__lt=ends_on, ends_on__gt=starts_on
    )
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    return qs


def car_bookings(car: RentalCar, *, today: dt.date | None = None) -> list[RentalBooking]:
    today = today or timezone.localdate()
    return list(
        RentalBooking.objects.for_group(car.dealer_group_id)
        .filter(car=car, status__in=HOLDS_CAR, ends_on__gte=today)
        .order_by("starts_on")
    )


def rental_price(car: RentalCar, starts_on: dt.date, ends_on: dt.date) -> tuple[int, Decimal]:
    days = (ends_on - starts_on).days
    return days, (car.price_per_day * days).quantize(CENT)


# --- annual inspection -------------------------------------------------------------------------------
def next_inspection_of(vehicle, *, today: dt.date | None = None) -> tuple[dt.date, bool] | None:
    """(due date, inspection-exempt label) of the car's next annual inspection: the date staff
    entered on the car wins; else from the registration (purchase) date by the group's
    inspection table (care's default table when the group has none)."""
    today = today or timezone.localdate()
    if vehicle.next_inspection_date:
        return vehicle.next_inspection_date, False
    if not vehicle.purchase_date:
        return None
    rows = list(InspectionRule.objects.for_group(vehicle.dealer_group_id))
    table = care_rules.table_rows(rows) if rows else care_rules.default_table()
    return care_rules.next_inspection(vehicle.purchase_date, table, today)


def owner_cars(owner) -> list:
    return list(vehicles_of_owner(owner))


def get_owner_car(owner, vehicle_id) -> object:
    car = vehicles_of_owner(owner).filter(pk=vehicle_id).first() if vehicle_id else None
    if car is None:
        raise NotFound(_("No such car."))
    return car


# --- traffic violations --------------------------------------------------------------------------------
def open_violations_of_owner(owner) -> QuerySet:
    """The owner's violations the store can still clear (open: not being cleared already)."""
    return (
        Violation.objects.for_owner(owner)
        .filter(status=ViolationStatus.OPEN)
        .select_related("vehicle", "customer__store")
        .order_by("-occurred_at", "-id")
    )


def violations_of_owner(owner) -> QuerySet:
    return (
        Violation.objects.for_owner(owner).select_related("vehicle").order_by("-occurred_at", "-id")
    )


# --- courses ----------------------------------------------------------------------------------------
def _with_counts(qs: QuerySet) -> QuerySet:
    return qs.annotate(
        taken=Count("signups", filter=Q(signups__status__in=HOLDS_PLACE)),
        waiting=Count("signups", filter=Q(signups__status=SignupStatus.WAITLISTED)),
    )


def places_left(session: CourseSession) -> int:
    taken = getattr(session, "taken", None)
    if taken is None:
        taken = session.signups.filter(status__in=HOLDS_PLACE).count()
    return max(session.capacity - taken, 0)


def courses_for_owner(owner, *, now=None) -> list[Course]:
    """Active courses of the owner's groups, each with `.upcoming` sessions (with counts)."""
    now = now or timezone.now()
    courses = list(
        Course.objects.unscoped()
        .filter(dealer_group_id__in=owner_group_ids(owner), active=True)
        .select_related("store")
        .order_by("title", "id")
    )
    sessions = _with_counts(
        CourseSession.objects.unscoped().filter(
            course__in=courses, cancelled=False, starts_at__gt=now
        )
    ).order_by("starts_at", "id")
    by_course: dict[int, list] = {}
    for s in sessions:
        s.left = places_left(s)
        by_course.setdefault(s.course_id, []).append(s)
    for c in courses:
        c.upcoming = by_course.get(c.pk, [])
    return courses


def get_session_for_owner(owner, session_id, *, now=None) -> CourseSession:
    now = now or timezone.now()
    s = (
        _with_counts(
            CourseSession.objects.unscoped().filter(
                course__dealer_group_id__in=owner_group_ids(owner),
                course__active=True,
                cancelled=False,
                pk=session_id or 0,
            )
        )
        .select_related("course__store")
        .first()
    )
    if s is None:
        raise NotFound(_("No such course session."))
    return s


def courses_for_staff(actor) -> QuerySet:
    return Course.objects.for_actor(actor).select_related("store").order_by("title", "id")


def get_course_for_staff(actor, course_id: int) -> Course:
    c = courses_for_staff(actor).filter(pk=course_id).first()
    if c is None:
        raise NotFound(_("No such course."))
    return c


def sessions_of(course: Course) -> list[CourseSession]:
    rows = list(_with_counts(course.sessions.all()).order_by("-starts_at", "-id"))
    for s in rows:
        s.left = places_left(s)
    return rows


def signups_of(session: CourseSession) -> list[CourseSignup]:
    order: dict[str, int] = {
        SignupStatus.CONFIRMED: 0,
        SignupStatus.ATTENDED: 0,
        SignupStatus.WAITLISTED: 1,
        SignupStatus.CANCELLED: 2,
    }
    rows = list(session.signups.select_related("request__customer").order_by("created_at", "id"))
    return sorted(rows, key=lambda s: (order[s.status], s.position or 0))


def fee_kinds() -> list[tuple[str, str]]:
    return [(value, str(label)) for value, label in FeeKind.choices]
