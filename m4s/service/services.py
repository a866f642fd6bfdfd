"""Every write of the service area: booking within capacity, reception, inspection, item-by-item
approval, work, settlement against the published price list, delivery and revisit surveys.

Each function runs in one transaction; notifications are written to the outbox inside it and
delivered after commit. Bookings of one store and day are serialised by locking that day's
CapacityDay row (and the car's row), then capacity is re-checked, so parallel requests can never oversell a
reception seat, a labour pool or a part.
"""

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from m4s.core import hooks
from m4s.core.errors import DomainError
from m4s.core.i18n import name_of, text
from m4s.core.types import in_calendar
from m4s.core.uploads import clean_image, clean_images
from m4s.customers.choices import TimelineKind
from m4s.customers.models import Customer
from m4s.customers.services import record_timeline
from m4s.notify.choices import Channel as MsgChannel
from m4s.notify.services import send_message, tell_customer
from m4s.staff.choices import Perm, Role
from m4s.staff.models import StaffUser
from m4s.staff.permissions import check_perm
from m4s.vehicles import services as vehicle_services
from m4s.vehicles.models import Vehicle

from . import selectors
from .choices import (
    CSI_WEIGHTS,
    UNHAPPY_AT_OR_BELOW,
    AppointmentStatus,
    Approval,
    ApprovalChannel,
    Channel,
    LineSource,
    Payer,
    PhotoKind,
    Rating,
    RepairOrderStatus,
    SurveyStatus,
    VisitMode,
    WorkStatus,
)
from .models import (
    Appointment,
    AppointmentPhoto,
    CapacityDay,
    CapacityUse,
    CreditNote,
    InspectionPoint,
    InspectionResult,
    Invoice,
    LabourOperation,
    MaintenanceRecord,
    Part,
    PartReservation,
    PartStock,
    PriceOverride,
    RepairLine,
    RepairLinePart,
    RepairOrder,
    RepairPhoto,
    ServicePackage,
    ServiceSettings,
    Survey,
    TimeEntry,
)

S = RepairOrderStatus


# --- helpers ---------------------------------------------------------------------------------------
def in_quiet_hours(owner, now: dt.datetime) -> bool:
    start, end = owner.quiet_hours_start, owner.quiet_hours_end
    if not start or not end:
        return False
    local = timezone.localtime(now).time()
    return start <= local < end if start < end else (local >= start or local < end)


_tell_owner = tell_customer


def _tell_staff(
    staff: StaffUser, group_id: int, kind: str, compose, *, link: str = "", dedupe: str
):
    with translation.override(staff.language or settings.LANGUAGE_CODE):
        title, body = compose()
        send_message(
            channel=MsgChannel.INAPP,
            staff=staff,
            group=group_id,
            kind=kind,
            subject=title,
            body=body,
            link=link,
            dedupe_key=dedupe,
        )


def _local(store, when: dt.datetime) -> str:
    return timezone.localtime(when, store.tz).strftime("%Y-%m-%d %H:%M")


def _decimal(value, code: str) -> Decimal:
    try:
        d = Decimal(str(value))
        if not d.is_finite() or d < 0 or d >= 10**9:
            raise ValueError
        return d.quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError, TypeError):
        raise DomainError(code, _("Not a valid amount: %(v)s") % {"v": value}) from None


def checked_images(files, *, limit: int = 12) -> list:
    """Uploaded photos, each verified to be a JPEG, PNG or WebP of at most 10 MB and re-encoded
    without EXIF (no GPS position); bad input raises `invalid_image` and stores nothing."""
    return clean_images(files, limit=limit)


def _local_date(store, when: dt.datetime) -> dt.date:
    if not in_calendar(when.date()):
        raise DomainError("invalid_time", _("Choose one of the free times."))
    if timezone.is_naive(when):
        when = timezone.make_aware(when, store.tz)
    return timezone.localtime(when, store.tz).date()


def _lock_days(store, dates) -> None:
    """Serialise bookings per store and day (in date order, so two reschedules never deadlock)."""
    g = store.dealer_group_id
    for day in sorted(set(dates)):
        CapacityDay.objects.for_group(g).get_or_create(
            store=store, date=day, defaults={"dealer_group_id": g}
        )
        CapacityDay.objects.for_group(g).select_for_update().filter(store=store, date=day).first()


def ensure_settings(store) -> ServiceSettings:
    conf, _created = ServiceSettings.objects.for_group(store.dealer_group_id).get_or_create(
        store=store, defaults={"dealer_group_id": store.dealer_group_id}
    )
    return conf


def _check_store_access(actor, store):
    if actor.dealer_group_id != store.dealer_group_id and not actor.is_platform_admin:
        raise DomainError("not_found", _("No such store."), status=404)
    if not actor.has_perm_m4s(Perm.VIEW_ALL_STORES) and store.pk not in actor.store_ids():
        raise DomainError("not_found", _("No such store."), status=404)


# --- booking ---------------------------------------------------------------------------------------
@dataclass
class ServiceChoice:
    """What is being booked: a package, or a described problem booked as a diagnosis."""

    package: ServicePackage | None
    operations: list
    parts: list  # (Part, qty)
    demand: dict

    @property
    def minutes(self) -> int:
        return sum(op.minutes for op in self.operations)


def resolve_service(group_id: int, package_id: int | None, problem: str = "") -> ServiceChoice:
    if package_id:
        package = (
            ServicePackage.objects.for_group(group_id)
            .filter(pk=package_id, is_active=True)
            .prefetch_related("operations", "parts__part")
            .first()
        )
        if package is None:
            raise DomainError("invalid_service", _("No such service package."), status=404)
        ops = list(package.operations.all())
        return ServiceChoice(
            package,
            ops,
            [(p.part, p.quantity) for p in package.parts.all()],
            selectors.demand_of(ops),
        )
    if not problem.strip():
        raise DomainError("invalid_service", _("Choose a service package or describe the problem."))
    op = selectors.diagnosis_operation(group_id)
    return ServiceChoice(None, [op], [], selectors.demand_of([op]))


def _reserve_parts(appointment: Appointment, parts, date: dt.date) -> None:
    for part, qty in parts:
        stock = PartStock.objects.for_group(appointment.dealer_group_id).filter(
            store=appointment.store, part=part
        )
        got = stock.filter(on_hand__gte=F("reserved") + qty).update(reserved=F("reserved") + qty)
        if not got:  # a delivery due on or before the visit counts
            got = stock.filter(
                next_delivery_date__lte=date, on_hand__gte=F("reserved") - F("incoming") + qty
            ).update(reserved=F("reserved") + qty)
        if not got:
            _ok, later = selectors.parts_available_on(appointment.store, [(part, qty)], date)
            raise DomainError(
                "parts_short",
                _("The parts for this service are not in stock for that day."),
                status=409,
                part=part.part_number,
                parts_date=later.isoformat() if later else None,
            )
        PartReservation.objects.create(
            dealer_group_id=appointment.dealer_group_id,
            appointment=appointment,
            store=appointment.store,
            part=part,
            quantity=qty,
        )


def _release_parts(appointment: Appointment) -> None:
    held = list(
        PartReservation.objects.for_group(appointment.dealer_group_id).filter(
            appointment=appointment, status=PartReservation.HELD
        )
    )
    for r in held:
        PartStock.objects.for_group(r.dealer_group_id).filter(
            store_id=r.store_id, part_id=r.part_id
        ).update(reserved=F("reserved") - r.quantity)
    PartReservation.objects.for_group(appointment.dealer_group_id).filter(
        pk__in=[r.pk for r in held]
    ).update(status=PartReservation.RELEASED)


def _take_capacity(
    store, starts_at, choice: ServiceChoice, mode: str, *, advisor_pref=None, now=None
):
    """Under the store lock: check both layers for this exact time; return the advisor to book."""
    if mode not in VisitMode.values:
        raise DomainError("invalid_mode", _("Choose whether you wait or drop the car off."))
    if timezone.is_naive(starts_at):
        starts_at = timezone.make_aware(starts_at, store.tz)
    conf = selectors.settings_for(store)
    now = now or timezone.now()
    date = timezone.localtime(starts_at, store.tz).date()
    if starts_at < now + dt.timedelta(minutes=conf.min_lead_minutes):
        raise DomainError(
            "too_soon",
            _("That time has passed or is too soon to book. Please choose a later time."),
        )
    if date > timezone.localtime(now, store.tz).date() + dt.timedelta(
        days=conf.booking_horizon_days
    ):
        raise DomainError("too_far_ahead", _("That date cannot be booked yet."))
    day = selectors.day_capacity(
        store,
        date,
        mode=mode,
        demand=choice.demand,
        prefer_advisor_id=advisor_pref,
        now=now,
        conf=conf,
    )
    if not day.open:
        raise DomainError(
            "store_closed", _("The workshop is closed that day."), status=409, reason=day.reason
        )
    if not day.fits(choice.demand):
        raise DomainError(
            "workshop_full",
            _("The workshop is fully booked that day."),
            status=409,
            date=date.isoformat(),
        )
    slot = next((s for s in day.slots if s.starts_at == starts_at), None)
    if slot is None:
        raise DomainError(
            "slot_taken", _("That time is no longer free. Please choose another."), status=409
        )
    return slot.advisors[0], date


@transaction.atomic
def book_appointment(
    *,
    customer: Customer,
    vehicle: Vehicle,
    store,
    starts_at: dt.datetime,
    mode: str = VisitMode.WAITING,
    package_id: int | None = None,
    problem: str = "",
    photos=(),
    channel: str = Channel.APP,
    owner=None,
    actor=None,
    idempotency_key: str = "",
) -> tuple[Appointment, bool]:
    """Book a visit at a time both capacity layers can take; reserve the package's parts.
    Returns (appointment, created); a repeated idempotency key returns the first booking."""
    group_id = customer.dealer_group_id
    if idempotency_key:
        existing = (
            Appointment.objects.for_group(group_id).filter(idempotency_key=idempotency_key).first()
        )
        if existing is not None:
            if existing.customer_id != customer.pk:
                raise DomainError(
                    "idempotency_key_reused",
                    _("This Idempotency-Key was used for another booking."),
                    status=422,
                )
            return existing, False
    if store.dealer_group_id != group_id or vehicle.dealer_group_id != group_id:
        raise DomainError("not_found", _("No such store."), status=404)
    if vehicle.current_owner_id != customer.pk:
        raise DomainError(
            "not_your_car", _("This car is not registered to this customer."), status=404
        )
    if len(problem) > 2000:
        raise DomainError(
            "problem_too_long", _("Please describe the problem in at most 2000 characters.")
        )
    photos = checked_images(photos)
    choice = resolve_service(group_id, package_id, problem)
    if choice.package is not None and not choice.package.fits(vehicle):
        raise DomainError("package_not_for_car", _("This service package is not for this car."))
    ensure_settings(store)
    Vehicle.objects.for_group(group_id).select_for_update(of=("self",)).filter(
        pk=vehicle.pk
    ).first()
    if idempotency_key:  # a retry that waited for the first request's lock gets its booking
        first = (
            Appointment.objects.for_group(group_id).filter(idempotency_key=idempotency_key).first()
        )
        if first is not None and first.customer_id == customer.pk:
            return first, False
    _lock_days(store, [_local_date(store, starts_at)])
    in_workshop = (
        RepairOrder.objects.for_group(group_id)
        .filter(vehicle=vehicle, status__in=selectors.OPEN_RO)
        .select_related("store")
        .first()
    )
    if in_workshop is not None:
        # The car is with us now: its visit would fail at check-in. The advisor adds any further
        # work to the open order; the next visit is booked once the car has been picked up.
        raise DomainError(
            "car_in_workshop",
            _(
                "Your car is in our workshop now (repair order %(number)s at %(store)s). "
                "Ask your advisor to add the work to it, or book your next visit after pick-up."
            )
            % {"number": in_workshop.number, "store": in_workshop.store.display_title},
            status=409,
            repair_order=in_workshop.number,
        )
    if (
        Appointment.objects.for_group(group_id)
        .filter(vehicle=vehicle, status=AppointmentStatus.BOOKED, starts_at__gte=timezone.now())
        .exists()
    ):
        raise DomainError(
            "already_booked",
            _("This car already has a visit booked. Change that one instead."),
            status=409,
        )
    advisor_id, date = _take_capacity(
        store, starts_at, choice, mode, advisor_pref=customer.service_advisor_id
    )
    appointment = Appointment(
        dealer_group_id=group_id,
        store=store,
        customer=customer,
        vehicle=vehicle,
        owner=owner,
        advisor_id=advisor_id,
        starts_at=starts_at,
        date=date,
        mode=mode,
        package=choice.package,
        problem=problem.strip(),
        channel=channel,
        idempotency_key=idempotency_key,
        booked_by=actor,
        estimated_minutes=choice.minutes,
    )
    try:
        with transaction.atomic():
            appointment.save()
    except IntegrityError:  # the same key raced in: the first one wins
        first = Appointment.objects.for_group(group_id).get(idempotency_key=idempotency_key)
        if first.customer_id != customer.pk:
            raise DomainError(
                "idempotency_key_reused",
                _("This Idempotency-Key was used for another booking."),
                status=422,
            ) from None
        return first, False
    CapacityUse.objects.bulk_create(
        CapacityUse(
            dealer_group_id=group_id,
            appointment=appointment,
            store=store,
            date=date,
            pool=pool,
            minutes=minutes,
        )
        for pool, minutes in choice.demand.items()
    )
    _reserve_parts(appointment, choice.parts, date)
    for f in photos:
        AppointmentPhoto.objects.create(dealer_group_id=group_id, appointment=appointment, image=f)
    _after_booking(appointment)
    return appointment, True


def _service_name(appointment: Appointment) -> dict:
    """The booked package's name (every language) or "diagnosis", as system text."""
    return (
        name_of(appointment.package)
        if appointment.package_id
        else text(gettext_noop("Diagnosis of the problem you described"))
    )


def _after_booking(appointment: Appointment) -> None:
    store, when = appointment.store, _local(appointment.store, appointment.starts_at)
    record_timeline(
        appointment.customer,
        TimelineKind.VISIT,
        gettext_noop("Booked a service visit for %(when)s"),
        params={"when": when},
        data={"appointment": appointment.pk},
    )
    _tell_owner(
        appointment.customer,
        "service.booked",
        lambda: (
            text(gettext_noop("Visit booked")),
            text(
                gettext_noop("%(service)s at %(store)s on %(when)s. Your advisor is %(advisor)s."),
                service=_service_name(appointment),
                store=store.display_title,
                when=when,
                advisor=appointment.advisor.display_name or appointment.advisor.username,
            ),
        ),
        link="/app/service/",
        dedupe=f"appt:{appointment.pk}:booked",
        sms=True,
    )
    parts = ", ".join(
        f"{r.part.part_number}×{r.quantity}"
        for r in appointment.reservations.select_related("part")
    )
    _tell_staff(
        appointment.advisor,
        appointment.dealer_group_id,
        "service.booked",
        lambda: (
            text(
                gettext_noop("New visit: %(plate)s at %(when)s"),
                plate=appointment.vehicle.plate,
                when=when,
            ),
            text(
                gettext_noop(
                    "%(customer)s, %(service)s. Parts reserved: %(parts)s. Problem: %(problem)s"
                ),
                customer=appointment.customer.name,
                service=_service_name(appointment),
                parts=parts or "—",
                problem=appointment.problem or "—",
            ),
        ),
        link=f"/console/service/appointments/{appointment.pk}/",
        dedupe=f"appt:{appointment.pk}:advisor",
    )


def _check_change_allowed(appointment: Appointment, *, by_owner: bool, now=None):
    now = now or timezone.now()
    if appointment.status != AppointmentStatus.BOOKED:
        raise DomainError("not_changeable", _("This visit can no longer be changed."), status=409)
    if by_owner:
        conf = selectors.settings_for(appointment.store)
        if appointment.starts_at - now < dt.timedelta(hours=conf.change_cutoff_hours):
            raise DomainError(
                "too_late_to_change",
                _("Changes are possible until %(h)d hours before the visit. Please call the store.")
                % {"h": conf.change_cutoff_hours},
                status=409,
            )


@transaction.atomic
def cancel_appointment(
    appointment: Appointment, *, by_owner: bool, actor=None, reason: str = ""
) -> Appointment:
    if not by_owner:
        check_perm(actor, Perm.BOOK_SERVICE)
    appointment = (
        Appointment.objects.for_group(appointment.dealer_group_id)
        .select_for_update(of=("self",))
        .select_related("store", "customer", "vehicle", "advisor")
        .get(pk=appointment.pk)
    )
    if appointment.status == AppointmentStatus.CANCELLED:
        return appointment  # a retried cancel changes nothing
    _check_change_allowed(appointment, by_owner=by_owner)
    appointment.status = AppointmentStatus.CANCELLED
    appointment.cancelled_at = timezone.now()
    appointment.save(update_fields=["status", "cancelled_at"])
    appointment.capacity_uses.all().delete()
    _release_parts(appointment)
    when = _local(appointment.store, appointment.starts_at)
    record_timeline(
        appointment.customer,
        TimelineKind.VISIT,
        gettext_noop("Cancelled the visit of %(when)s"),
        params={"when": when},
        actor=actor,
        data={"appointment": appointment.pk, "reason": reason[:200]},
    )
    _tell_staff(
        appointment.advisor,
        appointment.dealer_group_id,
        "service.cancelled",
        lambda: (
            text(
                gettext_noop("Visit cancelled: %(plate)s at %(when)s"),
                plate=appointment.vehicle.plate,
                when=when,
            ),
            reason or "—",
        ),
        dedupe=f"appt:{appointment.pk}:cancelled",
    )
    if not by_owner:
        _tell_owner(
            appointment.customer,
            "service.cancelled",
            lambda: (
                text(gettext_noop("Visit cancelled")),
                text(
                    gettext_noop("Your visit on %(when)s was cancelled by the store."),
                    when=when,
                ),
            ),
            dedupe=f"appt:{appointment.pk}:cancelled",
        )
    return appointment


@transaction.atomic
def reschedule_appointment(
    appointment: Appointment, starts_at: dt.datetime, *, by_owner: bool, mode=None, actor=None
) -> Appointment:
    group_id = appointment.dealer_group_id
    ensure_settings(appointment.store)
    new_date = _local_date(appointment.store, starts_at)
    # The row first (as cancel and check-in do), so a cancel racing this reschedule is seen.
    appointment = (
        Appointment.objects.for_group(group_id)
        .select_for_update(of=("self",))
        .select_related("store", "customer", "vehicle", "package", "advisor")
        .get(pk=appointment.pk)
    )
    _lock_days(appointment.store, [appointment.date, new_date])
    _check_change_allowed(appointment, by_owner=by_owner)
    if timezone.is_naive(starts_at):
        starts_at = timezone.make_aware(starts_at, appointment.store.tz)
    mode = mode or appointment.mode
    ops = (
        list(appointment.package.operations.all())
        if appointment.package_id
        else [selectors.diagnosis_operation(group_id)]
    )
    choice = ServiceChoice(appointment.package, ops, [], selectors.demand_of(ops))
    # Free its own capacity first, then book the new time like a new visit.
    old_date = appointment.date
    appointment.capacity_uses.all().delete()
    appointment.status = AppointmentStatus.CANCELLED  # out of the counts while re-checking
    appointment.save(update_fields=["status"])
    advisor_id, date = _take_capacity(
        appointment.store, starts_at, choice, mode, advisor_pref=appointment.advisor_id
    )
    if date != old_date and appointment.package_id:
        held = list(
            appointment.reservations.filter(status=PartReservation.HELD).select_related("part")
        )
        _release_parts(appointment)
        _reserve_parts(appointment, [(r.part, r.quantity) for r in held], date)
    appointment.status = AppointmentStatus.BOOKED
    appointment.starts_at, appointment.date, appointment.mode, appointment.advisor_id = (
        starts_at,
        date,
        mode,
        advisor_id,
    )
    appointment.reminded_at = None
    appointment.save(
        update_fields=["status", "starts_at", "date", "mode", "advisor", "reminded_at"]
    )
    CapacityUse.objects.bulk_create(
        CapacityUse(
            dealer_group_id=group_id,
            appointment=appointment,
            store=appointment.store,
            date=date,
            pool=pool,
            minutes=m,
        )
        for pool, m in choice.demand.items()
    )
    when = _local(appointment.store, starts_at)
    record_timeline(
        appointment.customer,
        TimelineKind.VISIT,
        gettext_noop("Moved the visit to %(when)s"),
        params={"when": when},
        actor=actor,
        data={"appointment": appointment.pk},
    )
    _tell_staff(
        appointment.advisor,
        group_id,
        "service.rescheduled",
        lambda: (
            text(
                gettext_noop("Visit moved: %(plate)s to %(when)s"),
                plate=appointment.vehicle.plate,
                when=when,
            ),
            "",
        ),
        dedupe=f"appt:{appointment.pk}:moved:{starts_at.isoformat()}",
    )
    return appointment


def book_for_customer(actor, *, customer: Customer, vehicle: Vehicle, store, **kw):
    """Staff books on a customer's behalf (phone, desk)."""
    check_perm(actor, Perm.BOOK_SERVICE)
    _check_store_access(actor, store)
    if customer.dealer_group_id != actor.dealer_group_id:
        raise DomainError("not_found", _("No such customer."), status=404)
    return book_appointment(
        customer=customer, vehicle=vehicle, store=store, actor=actor, owner=customer.owner, **kw
    )


def send_appointment_reminders(now: dt.datetime | None = None) -> int:
    """The day before a visit (from 09:00 store time), once, outside the owner's quiet hours."""
    now = now or timezone.now()
    sent = 0
    due = (
        Appointment.objects.unscoped()
        .filter(
            status=AppointmentStatus.BOOKED,
            reminded_at__isnull=True,
            starts_at__gt=now,
            starts_at__lte=now + dt.timedelta(hours=40),
        )
        .select_related("store", "customer__owner", "vehicle", "package")
    )
    for appt in due:
        local_now = timezone.localtime(now, appt.store.tz)
        tomorrow = local_now.date() + dt.timedelta(days=1)
        if appt.date != tomorrow or local_now.hour < 9:
            continue
        owner = appt.customer.owner
        if owner is not None and in_quiet_hours(owner, now):
            continue
        with transaction.atomic():
            if (
                not Appointment.objects.unscoped()
                .filter(pk=appt.pk, reminded_at__isnull=True)
                .update(reminded_at=now)
            ):
                continue
            when = _local(appt.store, appt.starts_at)
            _tell_owner(
                appt.customer,
                "service.reminder",
                lambda a=appt, w=when: (
                    text(gettext_noop("See you tomorrow")),
                    text(
                        gettext_noop("%(service)s at %(store)s, %(when)s."),
                        service=_service_name(a),
                        store=a.store.display_title,
                        when=w,
                    ),
                ),
                link="/app/service/",
                dedupe=f"appt:{appt.pk}:reminder",
                sms=True,
            )
            sent += 1
    return sent


def mark_no_shows(now: dt.datetime | None = None) -> int:
    """Booked visits long past their time without a check-in become no-shows; parts go back."""
    now = now or timezone.now()
    n = 0
    late = Appointment.objects.unscoped().filter(status=AppointmentStatus.BOOKED, starts_at__lt=now)
    for appt in late.select_related("store"):
        conf = selectors.settings_for(appt.store)
        if now - appt.starts_at < dt.timedelta(minutes=conf.no_show_after_minutes):
            continue
        with transaction.atomic():
            if (
                Appointment.objects.unscoped()
                .filter(pk=appt.pk, status=AppointmentStatus.BOOKED)
                .update(status=AppointmentStatus.NO_SHOW)
            ):
                _release_parts(appt)
                n += 1
    return n


# --- reception ------------------------------------------------------------------------------------
def _new_number(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12].upper()}"


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


def _lock_ro(ro: RepairOrder) -> RepairOrder:
    return (
        RepairOrder.objects.for_group(ro.dealer_group_id)
        .select_for_update(of=("self",))
        .select_related("store", "customer__owner", "vehicle", "advisor")
        .get(pk=ro.pk)
    )


def _require_status(ro: RepairOrder, *allowed):
    if ro.status not in allowed:
        raise DomainError(
            "wrong_status",
            _("Not possible while the repair order is “%(status)s”.")
            % {"status": ro.get_status_display()},
            status=409,
            status_now=ro.status,
        )


def _move(ro: RepairOrder, status: str):
    ro.status = status
    ro.save(update_fields=["status"])


# --- inspection --------------------------------------------------------------------------------
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


# --- work -------------------------------------------------------------------------------------------
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
    _require_status(ro, S.CHECKED_IN, S.INSPECTING, S.WAITING_APPROVAL, S.IN_REPAIR)
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


# --- settlement ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Settlement:
    """What the loyalty area (and others) get after a repair order is settled."""

    repair_order_id: int
    dealer_group_id: int
    store_id: int
    customer_id: int
    owner_id: int | None
    invoice_id: int
    customer_pay_net: Decimal  # customer-paid lines after discounts, without tax: what earns points
    settled_at: dt.datetime


@dataclass(frozen=True)
class Refund:
    """A settled repair order refunded in full: the loyalty area claws back what it earned."""

    repair_order_id: int
    dealer_group_id: int
    store_id: int
    customer_id: int
    credit_note_id: int
    reason: str
    refunded_at: dt.datetime


@dataclass(frozen=True)
class ServiceEvent:
    """A kept appointment or an answered survey, for the loyalty area."""

    dealer_group_id: int
    store_id: int
    customer_id: int
    source: str  # e.g. "appointment:12", "survey:7": unique, so receivers can be idempotent
    at: dt.datetime


@transaction.atomic
def settle(
    actor,
    ro: RepairOrder,
    *,
    prices: dict | None = None,
    payers: dict | None = None,
    coupon_code: str = "",
) -> Invoice:
    """Bill approved lines at the published price. A lower price needs a reason and is logged
    with who and why; a higher one is refused. `prices` = {line_id: {"labour": x,
    "parts": {line_part_id: y}, "reason": "..."}}, `payers` = {line_id: payer}. A coupon code
    is redeemed by `settings.SERVICE_COUPON_REDEEMER` (the loyalty area) in the same
    transaction and comes off the customer's share. The customer's loyalty tier discount on
    labour (`settings.SERVICE_MEMBER_DISCOUNT`) is the default price of customer-paid labour,
    logged like any other discount."""
    check_perm(actor, Perm.SETTLE_REPAIR_ORDERS)
    ro = _lock_ro(ro)
    if Invoice.objects.for_group(ro.dealer_group_id).filter(repair_order=ro).exists():
        raise DomainError("already_settled", _("This repair order is already settled."), status=409)
    _require_status(ro, S.READY)
    prices, payers = prices or {}, payers or {}
    lines = list(
        RepairLine.objects.for_group(ro.dealer_group_id)
        .filter(repair_order=ro)
        .prefetch_related("parts__part")
    )
    approved = [ln for ln in lines if ln.approval == Approval.APPROVED]
    if any(ln.approval == Approval.PENDING for ln in lines):
        raise DomainError(
            "waiting_approval",
            _("Some items are still waiting for the owner's decision."),
            status=409,
        )
    known = {str(ln.pk) for ln in approved}
    unknown = [k for k in list(prices) + list(payers) if str(k) not in known]
    if unknown:
        raise DomainError(
            "invalid_line", _("Only approved lines of this order can be billed."), lines=unknown
        )
    now = timezone.now()
    conf = selectors.settings_for(ro.store)
    overrides = []
    by_payer: dict[str, Decimal] = {}
    labour_total = parts_total = discount_total = tax_total = Decimal("0")
    tax_by_payer: dict[str, Decimal] = {}

    def charge(line, list_amount, asked, what, reason):
        if asked is None:
            return list_amount
        amount = _decimal(asked, "invalid_price")
        if amount > list_amount:
            raise DomainError(
                "price_above_list",
                _("%(item)s cannot be charged above the published price %(p)s.")
                % {"item": what, "p": list_amount},
                status=422,
                line_id=line.pk,
                list_price=str(list_amount),
            )
        if amount < list_amount:
            if not (reason or "").strip():
                raise DomainError(
                    "discount_needs_reason",
                    _("Say why %(item)s is charged below the list price.") % {"item": what},
                    line_id=line.pk,
                )
            overrides.append(
                PriceOverride(
                    dealer_group_id=ro.dealer_group_id,
                    repair_order=ro,
                    line=line,
                    item=what[:200],
                    list_amount=list_amount,
                    charged_amount=amount,
                    reason=reason.strip()[:200],
                    by=actor,
                    at=now,
                )
            )
        return amount

    member_discount = None  # (percent, reason): the customer's loyalty tier, on their labour
    if getattr(settings, "SERVICE_MEMBER_DISCOUNT", ""):
        member_discount = import_string(settings.SERVICE_MEMBER_DISCOUNT)(
            group_id=ro.dealer_group_id, customer_id=ro.customer_id
        )
    for line in approved:
        p = prices.get(line.pk) or prices.get(str(line.pk)) or {}
        if not isinstance(p, dict):
            raise DomainError("invalid_price", _("Prices must be given per line."))
        reason = p.get("reason", "")
        payer = payers.get(line.pk) or payers.get(str(line.pk)) or line.payer
        if payer not in Payer.values:
            raise DomainError("invalid_payer", _("Unknown payer."))
        asked, labour_reason = p.get("labour"), reason
        if member_discount and payer == Payer.CUSTOMER:
            pct, why = member_discount
            member_price = (line.labour_list_price * (100 - pct) / 100).quantize(Decimal("0.01"))
            asked_amount = None if asked is None else _decimal(asked, "invalid_price")
            if member_price < line.labour_list_price and (
                asked_amount is None or member_price < asked_amount <= line.labour_list_price
            ):  # the member price, unless staff gave more off (with their own reason)
                asked, labour_reason = member_price, why  # for the labour only, not the parts
        line.labour_price = charge(
            line, line.labour_list_price, asked, line.description, labour_reason
        )
        line.payer = payer
        line.save(update_fields=["labour_price", "payer"])
        amount = line.labour_price
        labour_total += line.labour_list_price
        discount_total += line.labour_list_price - line.labour_price
        part_prices = p.get("parts") or {}
        for lp in line.parts.all():
            asked = part_prices.get(lp.pk, part_prices.get(str(lp.pk)))
            lp.unit_price = charge(line, lp.list_price, asked, lp.part.name, reason)
            lp.save(update_fields=["unit_price"])
            amount += lp.unit_price * lp.quantity
            parts_total += lp.list_price * lp.quantity
            discount_total += (lp.list_price - lp.unit_price) * lp.quantity
        by_payer[payer] = by_payer.get(payer, Decimal("0")) + amount
        line_tax = selectors.line_tax(line, conf.tax_rate)  # as the owner was shown it
        tax_total += line_tax
        tax_by_payer[payer] = tax_by_payer.get(payer, Decimal("0")) + line_tax
    PriceOverride.objects.bulk_create(overrides)
    coupon_discount = Decimal("0")
    if coupon_code.strip():
        redeemer = getattr(settings, "SERVICE_COUPON_REDEEMER", "")
        if not redeemer:
            raise DomainError("coupons_unavailable", _("Coupons are not enabled."))
        coupon_discount = import_string(redeemer)(
            coupon_code,
            group_id=ro.dealer_group_id,
            customer_id=ro.customer_id,
            spend=by_payer.get(Payer.CUSTOMER, Decimal("0")),
            used_on=f"repair_order:{ro.pk}",
        )
        discount_total += coupon_discount
        by_payer[Payer.CUSTOMER] = by_payer.get(Payer.CUSTOMER, Decimal("0")) - coupon_discount
        coupon_tax = selectors.tax_on(coupon_discount, conf.tax_rate)
        tax_total -= coupon_tax
        tax_by_payer[Payer.CUSTOMER] = tax_by_payer.get(Payer.CUSTOMER, Decimal("0")) - coupon_tax
    # The tax is the sum of each line's (as the owner saw the prices), so what the owner pays is
    # the sum of the tax-inclusive prices they approved, to the fen.
    net = labour_total + parts_total - discount_total
    tax = tax_total
    customer_net = by_payer.get(Payer.CUSTOMER, Decimal("0"))
    invoice = Invoice.objects.create(
        dealer_group_id=ro.dealer_group_id,
        repair_order=ro,
        number=_new_number("INV"),
        issued_at=now,
        issued_by=actor,
        labour_total=labour_total,
        parts_total=parts_total,
        discount_total=discount_total,
        net_total=net,
        tax_rate=conf.tax_rate,
        tax=tax,
        total=net + tax,
        customer_pay_net=customer_net,
        customer_pay_total=customer_net + tax_by_payer.get(Payer.CUSTOMER, Decimal("0")),
        by_payer={k: str(v) for k, v in by_payer.items()},
        coupon_code=coupon_code.strip().upper()[:16] if coupon_discount else "",
        coupon_discount=coupon_discount,
    )
    invoice.number = f"INV{invoice.pk:08d}"
    invoice.save(update_fields=["number"])
    ro.settled_at = now
    ro.save(update_fields=["settled_at"])
    record_timeline(
        ro.customer,
        TimelineKind.VISIT,
        gettext_noop("Settled %(number)s: %(total)s"),
        params={"number": ro.number, "total": str(invoice.total)},
        actor=actor,
        data={"repair_order": ro.pk, "invoice": invoice.pk},
    )
    settlement = Settlement(
        ro.pk,
        ro.dealer_group_id,
        ro.store_id,
        ro.customer_id,
        ro.customer.owner_id,
        invoice.pk,
        customer_net,
        now,
    )
    hooks.after_commit("service.settled", settlement)
    return invoice


@transaction.atomic
def refund(actor, ro: RepairOrder, *, reason: str) -> CreditNote:
    """Refund a settled repair order in full with a credit note (the invoice stays as issued).
    Needs a reason; a second refund is refused. After commit the "service.refunded" hook lets
    the loyalty area claw back the points the order earned."""
    check_perm(actor, Perm.REFUND_REPAIR_ORDERS)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("reason_required", _("Say why the repair order is refunded."))
    if len(reason) > 300:
        raise DomainError("reason_too_long", _("Please keep the reason under 300 characters."))
    ro = _lock_ro(ro)
    invoice = Invoice.objects.for_group(ro.dealer_group_id).filter(repair_order=ro).first()
    if invoice is None:
        raise DomainError(
            "not_settled", _("Only a settled repair order can be refunded."), status=409
        )
    if CreditNote.objects.for_group(ro.dealer_group_id).filter(invoice=invoice).exists():
        raise DomainError(
            "already_refunded", _("This repair order is already refunded."), status=409
        )
    now = timezone.now()
    note = CreditNote.objects.create(
        dealer_group_id=ro.dealer_group_id,
        invoice=invoice,
        number=_new_number("CN"),
        amount=invoice.total,
        customer_amount=invoice.customer_pay_total,
        reason=reason,
        issued_by=actor,
        issued_at=now,
    )
    note.number = f"CN{note.pk:08d}"
    note.save(update_fields=["number"])
    record_timeline(
        ro.customer,
        TimelineKind.VISIT,
        gettext_noop("Refunded %(number)s: %(total)s"),
        params={"number": ro.number, "total": str(invoice.total)},
        actor=actor,
        data={"repair_order": ro.pk, "credit_note": note.pk},
    )
    hooks.after_commit(
        "service.refunded",
        Refund(ro.pk, ro.dealer_group_id, ro.store_id, ro.customer_id, note.pk, reason, now),
    )
    return note


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
    _schedule_survey(ro, now)
    return ro


# --- revisit survey ------------------------------------------------------------------------------
def _schedule_survey(ro: RepairOrder, now: dt.datetime) -> Survey | None:
    owner = ro.customer.owner
    if owner is None:
        return None
    conf = selectors.settings_for(ro.store)
    recent = Survey.objects.for_group(ro.dealer_group_id).filter(
        owner=owner, available_at__gt=now - dt.timedelta(days=conf.survey_quiet_days)
    )
    if recent.exists():
        return None  # no repeat survey to the same owner within the quiet period
    available = now + dt.timedelta(days=conf.survey_delay_days)
    return Survey.objects.create(
        dealer_group_id=ro.dealer_group_id,
        repair_order=ro,
        store=ro.store,
        customer=ro.customer,
        owner=owner,
        advisor=ro.advisor,
        available_at=available,
        expires_at=available + dt.timedelta(days=conf.survey_expiry_days),
    )


def open_due_surveys(now: dt.datetime | None = None) -> int:
    """Scheduled job: surveys whose day has come are opened and the owner is asked, outside
    quiet hours; surveys past their expiry are closed."""
    now = now or timezone.now()
    Survey.objects.unscoped().filter(
        status__in=[SurveyStatus.OPEN, SurveyStatus.SCHEDULED], expires_at__lte=now
    ).update(status=SurveyStatus.EXPIRED)
    opened = 0
    for survey in (
        Survey.objects.unscoped()
        .filter(status=SurveyStatus.SCHEDULED, available_at__lte=now)
        .select_related("owner", "customer", "store", "repair_order__vehicle")
    ):
        if in_quiet_hours(survey.owner, now):
            continue
        with transaction.atomic():
            if (
                not Survey.objects.unscoped()
                .filter(pk=survey.pk, status=SurveyStatus.SCHEDULED)
                .update(status=SurveyStatus.OPEN)
            ):
                continue
            _tell_owner(
                survey.customer,
                "service.survey",
                lambda s=survey: (
                    text(gettext_noop("How was your visit?")),
                    text(
                        gettext_noop(
                            "Five quick questions about your visit to %(store)s. Every answer counts."
                        ),
                        store=s.store.display_title,
                    ),
                ),
                link=f"/app/service/surveys/{survey.pk}/",
                dedupe=f"survey:{survey.pk}:open",
            )
            opened += 1
    return opened


def _score(value, low: int, high: int, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise DomainError(
            "invalid_score",
            _("Each score is a whole number from %(low)d to %(high)d.")
            % {"low": low, "high": high},
            field=name,
        )
    return value


@transaction.atomic
def answer_survey(owner, survey_id: int, *, scores: dict, nps, comment: str = "") -> Survey:
    survey = (
        Survey.objects.unscoped()
        .select_for_update(of=("self",))
        .filter(owner=owner, pk=survey_id)
        .first()
    )
    if survey is None:
        raise DomainError("not_found", _("No such survey."), status=404)
    if survey.status == SurveyStatus.ANSWERED:
        raise DomainError(
            "already_answered", _("You already answered this survey. Thank you!"), status=409
        )
    if survey.status == SurveyStatus.EXPIRED or survey.expires_at <= timezone.now():
        raise DomainError("survey_expired", _("This survey has closed."), status=410)
    if survey.status != SurveyStatus.OPEN:
        raise DomainError("not_found", _("No such survey."), status=404)
    values = {f: _score(scores.get(f), 1, 10, f) for f in CSI_WEIGHTS}
    nps = _score(nps, 0, 10, "nps")
    if len(comment) > 2000:
        raise DomainError("comment_too_long", _("Please keep the comment under 2000 characters."))
    survey.initiation, survey.advisor_score, survey.facility = (
        values["initiation"],
        values["advisor"],
        values["facility"],
    )
    survey.pickup, survey.quality, survey.nps = values["pickup"], values["quality"], nps
    survey.comment = comment.strip()
    survey.status, survey.answered_at = SurveyStatus.ANSWERED, timezone.now()
    survey.needs_follow_up = (
        min(values.values()) <= UNHAPPY_AT_OR_BELOW or nps <= UNHAPPY_AT_OR_BELOW
    )
    survey.save()
    hooks.after_commit(
        "service.survey_answered",
        ServiceEvent(
            survey.dealer_group_id,
            survey.store_id,
            survey.customer_id,
            f"survey:{survey.pk}",
            survey.answered_at,
        ),
    )
    record_timeline(
        survey.customer,
        TimelineKind.VISIT,
        gettext_noop("Answered the revisit survey (NPS %(nps)d)"),
        params={"nps": nps},
        data={"survey": survey.pk, "follow_up": survey.needs_follow_up},
    )
    if survey.needs_follow_up:
        for manager in StaffUser.objects.filter(
            dealer_group_id=survey.dealer_group_id,
            role=Role.STORE_MANAGER,
            is_active=True,
            stores=survey.store_id,
        ).order_by("pk"):
            _tell_staff(
                manager,
                survey.dealer_group_id,
                "service.unhappy",
                lambda: (
                    text(gettext_noop("Unhappy customer: %(name)s"), name=survey.customer.name),
                    survey.comment or text(gettext_noop("Low score in the revisit survey.")),
                ),
                link="/console/service/figures/",
                dedupe=f"survey:{survey.pk}:unhappy:{manager.pk}",
            )
    return survey


@transaction.atomic
def record_follow_up(actor, survey: Survey, note: str) -> Survey:
    check_perm(actor, Perm.VIEW_SERVICE_FIGURES)
    if not note.strip():
        raise DomainError("note_required", _("Write what was done."))
    survey = Survey.objects.for_actor(actor).select_for_update(of=("self",)).get(pk=survey.pk)
    survey.followed_up_at, survey.followed_up_by, survey.follow_up_note = (
        timezone.now(),
        actor,
        note.strip()[:300],
    )
    survey.save(update_fields=["followed_up_at", "followed_up_by", "follow_up_note"])
    return survey
