"""Writes of the store-services area.

Staff (MANAGE_CATALOGUE) keep the group's agency fees, rental fleet, new-driver courses and
their sessions. The request kinds (kinds.py) call the rest inside the requests area's submit
and action transactions: a rental car held for dates (the car's row locked, no two held or
confirmed bookings overlap), a course place or a waiting-list number (the session's row
locked; a freed place goes to the first one waiting, who is told), the staged photos of a
scratch repair attached to its request."""

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from m4s.core.errors import DomainError, NotFound
from m4s.core.uploads import clean_images
from m4s.org.models import Store
from m4s.staff.choices import Perm
from m4s.staff.permissions import check_perm

from . import selectors
from .choices import (
    HOLDS_PLACE,
    MAX_CAPACITY,
    MAX_RENTAL_DAYS,
    MAX_SCRATCH_PHOTOS,
    RENTAL_HORIZON_DAYS,
    FeeKind,
    RentalStatus,
    SignupStatus,
)
from .models import (
    AgencyFee,
    Course,
    CourseSession,
    CourseSignup,
    RentalBooking,
    RentalCar,
    ScratchPhoto,
)

CENT = Decimal("0.01")
MAX_MONEY = Decimal("1000000")


def money(value, field: str = "fee") -> Decimal:
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        raise DomainError(
            "invalid_" + field, _("Give an amount in yuan, e.g. 120.00."), status=422
        ) from None
    if not amount.is_finite() or amount < 0 or amount >= MAX_MONEY:
        raise DomainError("invalid_" + field, _("Give an amount in yuan, e.g. 120.00."), status=422)
    return amount.quantize(CENT)


def _i18n(value) -> dict:
    return {k: (v or "").strip() for k, v in (value or {}).items() if (v or "").strip()}


def _group_of(actor) -> int:
    if not actor.dealer_group_id:
        raise DomainError("no_group", _("Only a dealer group's staff can do this."), status=422)
    return actor.dealer_group_id


def _store_of(group_id: int, store_id, *, required: bool) -> Store | None:
    if store_id in (None, ""):
        if required:
            raise DomainError("invalid_store", _("Choose a store."), status=422)
        return None
    store = Store.objects.for_group(group_id).filter(pk=store_id).first()
    if store is None:
        raise DomainError(
            "invalid_store", _("That store is not one of this dealer group's stores."), status=422
        )
    return store


def _required(value: str, code: str, limit: int) -> str:
    value = (value or "").strip()[:limit]
    if not value:
        raise DomainError(code, _("This field is required."), status=422)
    return value


# --- staff: fees -------------------------------------------------------------------------------------
@transaction.atomic
def save_fee(actor, *, kind: str, name: str, fee, name_i18n=None, active: bool = True) -> AgencyFee:
    check_perm(actor, Perm.MANAGE_CATALOGUE)
    group_id = _group_of(actor)
    if kind not in FeeKind.values:
        raise DomainError("invalid_kind", _("Unknown service."), status=422)
    row, _created = AgencyFee.objects.for_group(group_id).update_or_create(
        kind=kind,
        defaults={
            "dealer_group_id": group_id,
            "name": _required(name, "invalid_name", 120),
            "name_i18n": _i18n(name_i18n),
            "fee": money(fee),
            "active": bool(active),
        },
    )
    return row


# --- staff: rental fleet --------------------------------------------------------------------------------
@transaction.atomic
def save_rental_car(actor, car: RentalCar | None = None, **data) -> RentalCar:
    check_perm(actor, Perm.MANAGE_CATALOGUE)
    group_id = car.dealer_group_id if car else _group_of(actor)
    store = _store_of(group_id, data.get("store_id"), required=True)
    plate = _required(data.get("plate", ""), "invalid_plate", 10).upper()
    clash = RentalCar.objects.for_group(group_id).filter(plate=plate)
    if car is not None:
        clash = clash.exclude(pk=car.pk)
    if clash.exists():
        raise DomainError("plate_taken", _("A rental car with this plate exists."), status=409)
    seats = data.get("seats") or 5
    if not (isinstance(seats, int) and 1 <= seats <= 60):
        raise DomainError("invalid_seats", _("Give the number of seats (1 to 60)."), status=422)
    car = car or RentalCar(dealer_group_id=group_id)
    car.store = store  # type: ignore[assignment]  # required=True: never None here
    car.name = _required(data.get("name", ""), "invalid_name", 80)
    car.model = (data.get("model") or "").strip()[:80]
    car.plate = plate
    car.seats = seats
    car.price_per_day = money(data.get("price_per_day"), "price")
    car.deposit = money(data.get("deposit"), "deposit")
    car.active = bool(data.get("active", True))
    car.save()
    return car


# --- staff: courses ---------------------------------------------------------------------------------
@transaction.atomic
def save_course(actor, course: Course | None = None, **data) -> Course:
    check_perm(actor, Perm.MANAGE_CATALOGUE)
    group_id = course.dealer_group_id if course else _group_of(actor)
    course = course or Course(dealer_group_id=group_id)
    course.store = _store_of(group_id, data.get("store_id"), required=False)
    course.title = _required(data.get("title", ""), "invalid_title", 120)
    course.title_i18n = _i18n(data.get("title_i18n"))
    course.description = (data.get("description") or "").strip()[:2000]
    course.description_i18n = _i18n(data.get("description_i18n"))
    course.price = money(data.get("price"), "price")
    course.active = bool(data.get("active", True))
    course.save()
    return course


@transaction.atomic
def add_session(
    actor,
    course: Course,
    *,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    capacity: int,
    instructor: str = "",
) -> CourseSession:
    check_perm(actor, Perm.MANAGE_CATALOGUE)
    if starts_at is None or ends_at is None or ends_at <= starts_at:
        raise DomainError("invalid_time", _("The session must end after it starts."), status=422)
    if not (isinstance(capacity, int) and 1 <= capacity <= MAX_CAPACITY):
        raise DomainError(
            "invalid_capacity", _("Give the number of places (1 to 1,000)."), status=422
        )
    return CourseSession.objects.create(
        dealer_group_id=course.dealer_group_id,
        course=course,
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=capacity,
        instructor=(instructor or "").strip()[:80],
    )


@transaction.atomic
def set_session_capacity(actor, session: CourseSession, capacity: int) -> CourseSession:
    """More places move the waiting list up; fewer than are taken is refused."""
    check_perm(actor, Perm.MANAGE_CATALOGUE)
    session = lock_session(session.pk)
    if not (isinstance(capacity, int) and 1 <= capacity <= MAX_CAPACITY):
        raise DomainError(
            "invalid_capacity", _("Give the number of places (1 to 1,000)."), status=422
        )
    taken = session.signups.filter(status__in=HOLDS_PLACE).count()
    if capacity < taken:
        raise DomainError(
            "capacity_below_signups",
            _("%(n)d places are already taken: the capacity cannot be lower.") % {"n": taken},
            status=409,
        )
    session.capacity = capacity
    session.save(update_fields=["capacity"])
    fill_places(session)
    return session


# --- rental holds (inside the requests area's transactions) --------------------------------------------
def check_rental_dates(starts_on: dt.date, ends_on: dt.date, *, today: dt.date) -> None:
    if starts_on is None or ends_on is None:
        raise DomainError("invalid_dates", _("Give the first and the last day."), status=422)
    if ends_on <= starts_on:
        raise DomainError(
            "ends_before_start", _("The rental must end after it starts."), status=422
        )
    if starts_on < today:
        raise DomainError("in_the_past", _("The rental cannot start in the past."), status=422)
    if starts_on > today + dt.timedelta(days=RENTAL_HORIZON_DAYS):
        raise DomainError("too_far_ahead", _("That date cannot be booked yet."), status=422)
    if (ends_on - starts_on).days > MAX_RENTAL_DAYS:
        raise DomainError(
            "too_long",
            _("A rental is at most %(n)d days.") % {"n": MAX_RENTAL_DAYS},
            status=422,
        )


def lock_car(car_id: int) -> RentalCar:
    return RentalCar.objects.unscoped().select_for_update().get(pk=car_id)


def hold_car(request, car: RentalCar, starts_on: dt.date, ends_on: dt.date) -> RentalBooking:
    """Under the car's row lock: refuse dates another held or confirmed booking takes."""
    car = lock_car(car.pk)
    if not car.active:
        raise NotFound(_("No such rental car."))
    if selectors.overlapping(car, starts_on, ends_on).exists():
        raise DomainError(
            "car_taken",
            _(
                "This car is already booked on some of those days. Choose other dates or another car."
            ),
            status=409,
        )
    days, total = selectors.rental_price(car, starts_on, ends_on)
    return RentalBooking.objects.create(
        dealer_group_id=car.dealer_group_id,
        request=request,
        car=car,
        starts_on=starts_on,
        ends_on=ends_on,
        days=days,
        price_total=total,
        deposit=car.deposit,
    )


def set_rental_status(request, status: str) -> RentalBooking | None:
    booking = (
        RentalBooking.objects.for_group(request.dealer_group_id)
        .select_for_update()
        .filter(request=request)
        .first()
    )
    if booking is not None and booking.status != status:
        booking.status = status
        booking.save(update_fields=["status"])
    return booking


def release_rental(request) -> None:
    booking = RentalBooking.objects.for_group(request.dealer_group_id).filter(request=request)
    booking.filter(status__in=(RentalStatus.HELD, RentalStatus.CONFIRMED)).update(
        status=RentalStatus.RELEASED
    )


# --- scratch photos -----------------------------------------------------------------------------------
def stage_photos(owner, files, *, group_id: int | None = None) -> list[ScratchPhoto]:
    """Photos uploaded before the request (the API's first step; the owner page does both in one
    go). Only JPEG, PNG or WebP pass; nothing is stored when one does not."""
    images = clean_images(files, limit=MAX_SCRATCH_PHOTOS)
    if not images:
        raise DomainError("no_photos", _("Add at least one photo of the damage."), status=422)
    if group_id is None:
        store = getattr(owner, "home_store", None)
        ids = sorted(selectors.owner_group_ids(owner))
        group_id = store.dealer_group_id if store is not None else (ids[0] if ids else None)
    if group_id is None:
        raise DomainError(
            "no_store", _("Choose your store first (you are not a customer yet)."), status=409
        )
    out = []
    with transaction.atomic():
        for image in images:
            photo = ScratchPhoto(dealer_group_id=group_id, owner=owner)
            photo.image.save(image.name or "photo.jpg", image, save=False)
            photo.save()
            out.append(photo)
    return out


def take_photos(owner, request, photo_ids: list[int]) -> list[ScratchPhoto]:
    """Attach the owner's staged photos to the request (same group, not used yet)."""
    ids = list(dict.fromkeys(int(i) for i in photo_ids))
    photos = list(
        ScratchPhoto.objects.for_owner(owner)
        .select_for_update()
        .filter(pk__in=ids, dealer_group_id=request.dealer_group_id, request__isnull=True)
    )
    if not ids or len(photos) != len(ids):
        raise DomainError(
            "invalid_photos",
            _("Upload the photos of the damage again: some were not found."),
            status=422,
        )
    ScratchPhoto.objects.for_owner(owner).filter(pk__in=ids).update(request=request)
    return photos


def check_staged(owner, group_id: int, photo_ids: list[int]) -> None:
    ids = set(photo_ids)
    found = (
        ScratchPhoto.objects.for_owner(owner)
        .filter(pk__in=ids, dealer_group_id=group_id, request__isnull=True)
        .count()
    )
    if not ids or found != len(ids):
        raise DomainError(
            "invalid_photos",
            _("Upload the photos of the damage again: some were not found."),
            status=422,
        )


# --- course places ---------------------------------------------------------------------------------
def lock_session(session_id: int) -> CourseSession:
    return CourseSession.objects.unscoped().select_for_update().get(pk=session_id)


def take_place(request, session: CourseSession, *, now=None) -> CourseSignup:
    """Under the session's lock: a place while there are places, else the waiting list."""
    now = now or timezone.now()
    session = lock_session(session.pk)
    if session.cancelled:
        raise DomainError("session_cancelled", _("This session was cancelled."), status=409)
    if session.starts_at <= now:
        raise DomainError("session_started", _("This session has already started."), status=409)
    taken = session.signups.filter(status__in=HOLDS_PLACE).count()
    if taken < session.capacity:
        status, position = SignupStatus.CONFIRMED, None
    else:
        last = session.signups.aggregate(m=Max("position"))["m"] or 0
        status, position = SignupStatus.WAITLISTED, last + 1
    return CourseSignup.objects.create(
        dealer_group_id=session.dealer_group_id,
        request=request,
        session=session,
        status=status,
        position=position,
    )


def fill_places(session: CourseSession) -> list[int]:
    """Under the session's lock: the first ones waiting take the free places (told after
    commit); the rest are numbered 1, 2, 3 … again."""
    free = session.capacity - session.signups.filter(status__in=HOLDS_PLACE).count()
    moved: list[int] = []
    if free > 0:
        moved = list(
            session.signups.filter(status=SignupStatus.WAITLISTED)
            .order_by("position", "id")
            .values_list("pk", flat=True)[:free]
        )
        if moved:
            session.signups.filter(pk__in=moved).update(
                status=SignupStatus.CONFIRMED, position=None, promoted_at=timezone.now()
            )
            request_ids = list(
                CourseSignup.objects.for_group(session.dealer_group_id)
                .filter(pk__in=moved)
                .values_list("request_id", flat=True)
            )
            transaction.on_commit(lambda: _tell_promoted(request_ids))
    waiting = list(
        session.signups.filter(status=SignupStatus.WAITLISTED).order_by("position", "id")
    )
    changed = []
    for number, s in enumerate(waiting, 1):
        if s.position != number:
            s.position = number
            changed.append(s)
    if changed:
        CourseSignup.objects.for_group(session.dealer_group_id).bulk_update(changed, ["position"])
    return moved


def leave_session(request) -> CourseSignup | None:
    """The request closed (cancelled, declined): its place or waiting-list number is freed."""
    signup = CourseSignup.objects.for_group(request.dealer_group_id).filter(request=request).first()
    if signup is None or signup.status in (SignupStatus.CANCELLED, SignupStatus.ATTENDED):
        return signup
    session = lock_session(signup.session_id)
    signup.refresh_from_db()
    signup.status, signup.position = SignupStatus.CANCELLED, None
    signup.save(update_fields=["status", "position"])
    fill_places(session)  # a freed place goes to the first one waiting; the list is renumbered
    return signup


def mark_attended(request) -> None:
    CourseSignup.objects.for_group(request.dealer_group_id).filter(
        request=request, status=SignupStatus.CONFIRMED
    ).update(status=SignupStatus.ATTENDED)


def _tell_promoted(request_ids: list[int]) -> None:
    from m4s.requests import services as requests_services
    from m4s.requests.models import ServiceRequest

    for r in ServiceRequest.objects.unscoped().filter(pk__in=request_ids):
        with transaction.atomic():
            requests_services.add_event(
                r, gettext_noop("A place freed up: you have a place in the session."), tell=True
            )
