"""The service area's booking writes: booking within capacity, reschedule, cancel, part
reservations, no-shows and the reminder the day before.

Each function runs in one transaction; notifications are written to the outbox inside it and
delivered after commit. Bookings of one store and day are serialised by locking that day's
CapacityDay row (and the car's row), then capacity is re-checked, so parallel requests can never
oversell a reception seat, a labour pool or a part.
"""

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from m4s.core.errors import DomainError
from m4s.core.i18n import name_of, text
from m4s.core.types import in_calendar
from m4s.customers.choices import TimelineKind
from m4s.customers.models import Customer
from m4s.customers.services import record_timeline
from m4s.owners.selectors import in_quiet_hours
from m4s.staff.choices import Perm
from m4s.staff.permissions import check_perm
from m4s.vehicles.models import Vehicle

from . import selectors
from ._common import (
    _check_store_access,
    _tell_owner,
    _tell_staff,
    checked_images,
)
from .choices import (
    AppointmentStatus,
    Channel,
    VisitMode,
)
from .models import (
    Appointment,
    AppointmentPhoto,
    CapacityDay,
    CapacityUse,
    LabourOperation,
    PartReservation,
    PartStock,
    RepairOrder,
    ServicePackage,
    ServiceSettings,
)


def _local(store, when: dt.datetime) -> str:
    return timezone.localtime(when, store.tz).strftime("%Y-%m-%d %H:%M")


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


def resolve_service(
    group_id: int, package_id: int | None, problem: str = "", operation_ids=None
) -> ServiceChoice:
    """A package, or named labour operations of the group (e.g. a body-shop estimate's lines:
    their skill lines decide the pools the visit takes), or a described problem (a diagnosis)."""
    if operation_ids:
        wanted = {int(i) for i in operation_ids}
        ops = list(
            LabourOperation.objects.for_group(group_id).filter(pk__in=wanted, is_active=True)
        )
        if len(ops) != len(wanted):
            raise DomainError("invalid_service", _("No such labour operation."), status=404)
        return ServiceChoice(None, ops, [], selectors.demand_of(ops))
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
    operation_ids=None,
    photos=(),
    channel: str = Channel.APP,
    owner=None,
    actor=None,
    idempotency_key: str = "",
) -> tuple[Appointment, bool]:
    """Book a visit at a time both capacity layers can take; reserve the package's parts.
    `operation_ids` books named labour operations instead of a package (their pools).
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
    choice = resolve_service(group_id, package_id, problem, operation_ids)
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
