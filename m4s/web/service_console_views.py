"""Console pages of the service area: the day's board, appointments (check-in, cancel, staff
booking, walk-ins), the repair-order workbench, the printable invoice and the store figures.

Thin, like every page: parse the form, call one service or selector, show the service's refusal
message (never a 500) or redirect. Objects of another dealer group are 404 through the scoped
selectors; a missing capability is 403.
"""

import datetime as dt
import uuid
from collections import defaultdict
from decimal import Decimal
from functools import wraps
from itertools import groupby

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from m4s.core import charts
from m4s.core.errors import DomainError
from m4s.core.i18n import translated
from m4s.core.types import in_calendar
from m4s.core.uploads import clean_images
from m4s.customers import selectors as customer_selectors
from m4s.customers.models import Customer
from m4s.notify import selectors as inbox
from m4s.org.selectors import list_stores
from m4s.service import billing, booking, selectors, surveys, workshop
from m4s.service.choices import (
    CSI_LABELS,
    CSI_WEIGHTS,
    OPEN_RO,
    RO_FLOW,
    UNHAPPY_AT_OR_BELOW,
    AppointmentStatus,
    Approval,
    Channel,
    Payer,
    PhotoKind,
    Rating,
    RepairOrderStatus,
    VisitMode,
    WorkStatus,
    staff_status_label,
)
from m4s.service.models import (
    InspectionPoint,
    LabourOperation,
    Part,
    PartReservation,
    TechnicianProfile,
    TimeEntry,
)
from m4s.staff.choices import Perm
from m4s.staff.selectors import list_staff
from m4s.telematics.selectors import reminders_for_store
from m4s.vehicles.models import Vehicle

S = RepairOrderStatus
# Reading an appointment, an order or its invoice: anyone who works in the service area.
SERVICE_READERS = (
    Perm.WORK_REPAIR_ORDERS,
    Perm.BOOK_SERVICE,
    Perm.SETTLE_REPAIR_ORDERS,
    Perm.VIEW_SERVICE_FIGURES,
)
MAX_PHOTOS = 12


# --- plumbing ------------------------------------------------------------------------------------
def service_page(*perms):
    """Sign-in required, then any one of the capabilities (403 otherwise)."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not any(request.user.has_perm_m4s(p) for p in perms):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def _ctx(request, **extra):
    return {"unread": inbox.count_unread(staff=request.user), "nav": "service", **extra}


def _or_404(read, *args):
    """Run a scoped selector; its 'not found' (another group's object) becomes the 404 page."""
    try:
        return read(*args)
    except DomainError as exc:
        if exc.status == 404:
            raise Http404(exc.message) from None
        raise


def _id(raw) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None


def _whole_number(raw, message: str) -> int:
    value = _id(raw)
    if value is None:
        raise DomainError("invalid_number", message)
    return value


def _stores(user) -> list:
    """The stores this user works in (every store of the group with VIEW_ALL_STORES)."""
    stores = list_stores(user)
    ids = selectors.store_ids_for(user)
    if ids is not None:
        stores = stores.filter(pk__in=ids)
    return list(stores)


def _pick_store(user, raw, stores, preferred=None):
    store_id = _id(raw)
    if store_id is not None:
        return _or_404(selectors.store_for_actor, user, store_id)
    if preferred is not None and any(s.pk == preferred for s in stores):
        return next(s for s in stores if s.pk == preferred)
    return stores[0] if stores else None


def _store_today(store) -> dt.date:
    return timezone.localtime(timezone.now(), store.tz).date()


def _date(raw, default: dt.date) -> dt.date:
    try:
        day = dt.date.fromisoformat((raw or "").strip()[:10])
    except ValueError:
        return default
    return day if in_calendar(day) else default


def _photos(files) -> list:
    """Uploaded photos, checked to be images (bad input changes nothing)."""
    if len(files) > MAX_PHOTOS:
        raise DomainError(
            "too_many_photos", _("At most %(n)d photos at a time.") % {"n": MAX_PHOTOS}
        )
    return clean_images(files, limit=MAX_PHOTOS)


def _customer(user, raw) -> Customer:
    customer_id = _id(raw)
    if customer_id is None:
        raise Http404(_("No such customer."))
    qs = (
        customer_selectors.customers_for(user)
        if user.has_perm_m4s(Perm.VIEW_CUSTOMERS)
        else Customer.objects.for_actor(user)
    )
    customer = qs.select_related("store").filter(pk=customer_id).first()
    if customer is None:
        raise Http404(_("No such customer."))
    return customer


def _cars_of(user, customer) -> list:
    return list(Vehicle.objects.for_actor(user).filter(current_owner=customer).order_by("plate"))


def _car(cars, raw):
    car_id = _id(raw)
    car = next((v for v in cars if v.pk == car_id), None)
    if car is None:
        raise DomainError("invalid_car", _("Choose one of the customer's cars."))
    return car


# --- 1. the day's board ------------------------------------------------------------------------------
@service_page(Perm.WORK_REPAIR_ORDERS, Perm.BOOK_SERVICE)
def board(request):
    user = request.user
    stores = _stores(user)
    store = _pick_store(user, request.GET.get("store"), stores)
    if store is None:
        return render(request, "web/console/service/board.html", _ctx(request, store=None))
    today = _store_today(store)
    day = _date(request.GET.get("date"), today)
    appointments = list(
        selectors.appointments_for(user)
        .filter(store=store, date=day)
        .select_related("customer", "vehicle", "package", "advisor", "repair_order")
        .prefetch_related("reservations")
        .order_by("advisor_id", "starts_at", "pk")
    )
    for a in appointments:
        held = [
            r
            for r in a.reservations.all()
            if r.status in (PartReservation.HELD, PartReservation.CONSUMED)
        ]
        a.parts_reserved = bool(held) if a.package_id else None
        a.ro = getattr(a, "repair_order", None)  # None until checked in
    by_advisor = [
        (advisor, sorted(rows, key=lambda a: a.starts_at))
        for advisor, rows in groupby(appointments, key=lambda a: a.advisor)
    ]
    by_advisor.sort(key=lambda pair: str(pair[0]))
    orders = list(
        selectors.repair_orders_for(user)
        .filter(store=store, status__in=OPEN_RO)
        .select_related("customer", "vehicle", "advisor")
        .annotate(
            n_pending=Count("lines", filter=Q(lines__approval=Approval.PENDING)),
            n_approved=Count("lines", filter=Q(lines__approval=Approval.APPROVED)),
            n_done=Count(
                "lines",
                filter=Q(lines__approval=Approval.APPROVED, lines__work_status=WorkStatus.DONE),
            ),
        )
        .order_by("checked_in_at")
    )
    columns = [
        {
            "status": value,
            "label": staff_status_label(value),
            "orders": [o for o in orders if o.status == value],
        }
        for value in S.values
        if value in OPEN_RO
    ]
    active = [a for a in appointments if a.status != AppointmentStatus.CANCELLED]
    due_soon = list(reminders_for_store(store))
    overdue = selectors.overdue_of(due_soon, today)
    for r in due_soon:  # past its date or its km: how long and how far, not a forecast
        r.overdue = overdue.get(r.pk)
    return render(
        request,
        "web/console/service/board.html",
        _ctx(
            request,
            stores=stores,
            store=store,
            day=day,
            today=today,
            prev_day=day - dt.timedelta(days=1),
            next_day=day + dt.timedelta(days=1),
            by_advisor=by_advisor,
            n_appointments=len(active),
            n_waiting_to_arrive=sum(a.status == AppointmentStatus.BOOKED for a in active),
            columns=columns,
            n_open=len(orders),
            due_soon=due_soon,
        ),
    )


# --- 2. appointments: detail, check-in, cancel ----------------------------------------------------
def _appointment_page(request, appointment, *, form=None, error=None, status=200):
    user = request.user
    ro = selectors.repair_orders_for(user).filter(appointment=appointment).first()
    reservations = list(appointment.reservations.select_related("part").order_by("pk"))
    form = form or {}
    return render(
        request,
        "web/console/service/appointment.html",
        _ctx(
            request,
            appointment=appointment,
            ro=ro,
            reservations=reservations,
            photos=list(appointment.photos.all()),
            form={
                "odometer": form.get("odometer", appointment.vehicle.odometer_km or ""),
                "fuel": form.get("fuel", ""),
                "symptoms": form.get("symptoms", appointment.problem),
                "belongings": form.get("belongings", ""),
                "reason": form.get("reason", ""),
            },
            error=error,
            can_check_in=appointment.status == AppointmentStatus.BOOKED
            and user.has_perm_m4s(Perm.WORK_REPAIR_ORDERS),
            can_cancel=appointment.status == AppointmentStatus.BOOKED
            and user.has_perm_m4s(Perm.BOOK_SERVICE),
        ),
        status=status,
    )


@service_page(*SERVICE_READERS)
def appointment_detail(request, appointment_id: int):
    appointment = _or_404(selectors.get_appointment, request.user, appointment_id)
    return _appointment_page(request, appointment)


@service_page(Perm.WORK_REPAIR_ORDERS)
@require_POST
def appointment_check_in(request, appointment_id: int):
    user = request.user
    appointment = _or_404(selectors.get_appointment, user, appointment_id)
    post = request.POST
    try:
        ro = workshop.check_in(
            user,
            store=appointment.store,
            appointment=appointment,
            odometer=_whole_number(post.get("odometer"), _("Enter the odometer reading in km.")),
            fuel_pct=_whole_number(
                post.get("fuel"), _("Fuel or charge level is a percentage from 0 to 100.")
            ),
            symptoms=post.get("symptoms", "")[:2000],
            belongings=post.get("belongings", "")[:300],
            photos=_photos(request.FILES.getlist("photos")),
        )
    except DomainError as exc:
        return _appointment_page(request, appointment, form=post, error=exc.message, status=400)
    messages.success(request, _("Checked in: repair order %(number)s.") % {"number": ro.number})
    return redirect("console-service-order", ro_id=ro.pk)


@service_page(Perm.BOOK_SERVICE)
@require_POST
def appointment_cancel(request, appointment_id: int):
    user = request.user
    appointment = _or_404(selectors.get_appointment, user, appointment_id)
    reason = request.POST.get("reason", "").strip()[:200]
    try:
        if not reason:
            raise DomainError("reason_required", _("Say why the visit is cancelled."))
        booking.cancel_appointment(appointment, by_owner=False, actor=user, reason=reason)
    except DomainError as exc:
        return _appointment_page(
            request, appointment, form=request.POST, error=exc.message, status=400
        )
    messages.success(request, _("The visit is cancelled; the owner is told."))
    return redirect(
        f"{reverse('console-service')}?store={appointment.store_id}&date={appointment.date}"
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
        choice = booking.resolve_service(
            store.dealer_group_id, package_id, "" if package_id else "diagnosis"
        )
    except DomainError as exc:
        out["message"] = exc.message
        return out
    capacity = selectors.day_capacity(
        store,
        day,
        mode=mode if mode in VisitMode.values else VisitMode.WAITING,
        demand=choice.demand,
    )
    if choice.parts:
        parts_ok, parts_date = selectors.parts_available_on(store, choice.parts, day)
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
        "web/console/service/book.html",
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
        "web/console/service/_slots.html",
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
        "web/console/service/walk_in.html",
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


# --- 3. the workbench -----------------------------------------------------------------------------
def _workbench(request, ro):
    user = request.user
    group_id = ro.dealer_group_id
    can_work = user.has_perm_m4s(Perm.WORK_REPAIR_ORDERS)
    can_settle = user.has_perm_m4s(Perm.SETTLE_REPAIR_ORDERS)
    invoice = getattr(ro, "invoice", None)
    here = RO_FLOW.index(ro.status)
    steps = [
        {
            "label": staff_status_label(value),
            "state": "done" if i < here else "current" if i == here else "todo",
        }
        for i, value in enumerate(S.values)
    ]
    results = {r.point_id: r for r in ro.inspection.all()}
    results_by_pk = {r.pk: r for r in results.values()}
    points = list(
        InspectionPoint.objects.for_group(group_id)
        .filter(Q(template__store_id=ro.store_id, template__is_active=True) | Q(pk__in=results))
        .order_by("template_id", "position", "pk")
    )
    lines = list(ro.lines.all())
    deciders = {
        s.pk: s
        for s in list_staff(user).filter(pk__in={ln.approval_staff_id for ln in lines} - {None})
    }
    is_technician = (
        can_work and TechnicianProfile.objects.for_group(group_id).filter(staff=user).exists()
    )
    workable = ro.status in (S.CHECKED_IN, S.INSPECTING, S.WAITING_APPROVAL, S.IN_REPAIR)
    # One open clock per technician: while on a job, the other jobs offer no "Clock on".
    clocked_on = (
        TimeEntry.objects.for_group(group_id)
        .filter(technician=user, ended_at__isnull=True)
        .values_list("line_id", flat=True)
        .first()
        if is_technician
        else None
    )
    rows = []
    for line in lines:
        entries = list(line.time_entries.all())
        open_entries = [e for e in entries if e.ended_at is None]
        mine = next((e for e in open_entries if e.technician_id == user.pk), None)
        result = results_by_pk.get(line.result_id)
        parts = list(line.parts.all())
        rows.append(
            {
                "line": line,
                "parts": parts,
                "amount": selectors.line_amount(line),
                "rating": result.rating if result else "",
                "decider": deciders.get(line.approval_staff_id),
                "working": [e.technician for e in open_entries],
                "clocked_minutes": sum(
                    int(((e.ended_at or timezone.now()) - e.started_at).total_seconds() // 60)
                    for e in entries
                ),
                "mine": mine,
                "can_clock": is_technician
                and clocked_on is None
                and workable
                and line.approval == Approval.APPROVED
                and line.work_status != WorkStatus.DONE,
                "can_clock_off": mine is not None and workable,
                "pending": line.approval == Approval.PENDING and can_work,
            }
        )
    operations = list(
        LabourOperation.objects.for_group(group_id).filter(is_active=True).order_by("code")
    )
    catalogue_parts = list(Part.objects.for_group(group_id).filter(is_active=True))
    prices = selectors.published_prices(
        group_id,
        timezone.localdate(),
        operations=[o.pk for o in operations],
        parts=[p.pk for p in catalogue_parts],
    )
    for o in operations:
        o.list_price = prices.get(("op", o.pk))
    for p in catalogue_parts:
        p.list_price = prices.get(("part", p.pk))
    photos = list(ro.photos.all())
    owner_photos = list(ro.appointment.photos.all()) if ro.appointment_id else []
    approved = [r for r in rows if r["line"].approval == Approval.APPROVED]
    return render(
        request,
        "web/console/service/order.html",
        _ctx(
            request,
            ro=ro,
            invoice=invoice,
            steps=steps,
            inspection=[{"point": p, "result": results.get(p.pk)} for p in points],
            inspection_open=can_work and ro.status in (S.CHECKED_IN, S.INSPECTING),
            walk_round=[p for p in photos if p.kind == PhotoKind.WALK_ROUND],
            owner_photos=owner_photos,
            rows=rows,
            approved_rows=approved,
            totals=selectors.ro_totals(ro),
            operations=operations,
            catalogue_parts=catalogue_parts,
            payers=Payer.choices,
            ratings=Rating.choices,
            can_work=can_work,
            can_settle=can_settle,
            is_technician=is_technician,
            can_add_line=can_work
            and ro.status
            in (S.CHECKED_IN, S.INSPECTING, S.WAITING_APPROVAL, S.IN_REPAIR, S.QUALITY_CHECK),
            can_advance=can_work
            and (
                ro.status == S.QUALITY_CHECK
                or (ro.status == S.IN_REPAIR and selectors.work_finished(lines))
            ),
            status_label=staff_status_label(ro.status),
            show_settle=can_settle and ro.status == S.READY and invoice is None,
            show_deliver=can_settle and ro.status == S.READY and invoice is not None,
            credit_note=getattr(invoice, "credit_note", None) if invoice is not None else None,
            can_refund=invoice is not None and user.has_perm_m4s(Perm.REFUND_REPAIR_ORDERS),
            pending_count=sum(r["line"].approval == Approval.PENDING for r in rows),
        ),
    )


def _load_ro(request, ro_id):
    return _or_404(selectors.get_repair_order, request.user, ro_id)


def _back_to(ro, anchor=""):
    return redirect(
        reverse("console-service-order", args=[ro.pk]) + (f"#{anchor}" if anchor else "")
    )


@service_page(*SERVICE_READERS)
def order(request, ro_id: int):
    return _workbench(request, _load_ro(request, ro_id))


def _ro_action(perm, anchor):
    """POST actions on an order: load it scoped (404), run the step, show the outcome."""

    def decorator(step):
        @service_page(perm)
        @require_POST
        @wraps(step)
        def view(request, ro_id: int, **kwargs):
            ro = _load_ro(request, ro_id)
            try:
                with transaction.atomic():
                    notice = step(request, ro, **kwargs)
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                if notice:
                    messages.success(request, notice)
            return _back_to(ro, anchor)

        return view

    return decorator


@_ro_action(Perm.WORK_REPAIR_ORDERS, "inspection")
def order_inspection(request, ro):
    post, user = request.POST, request.user
    points = {
        p.pk: p
        for p in InspectionPoint.objects.for_group(ro.dealer_group_id).filter(
            template__store_id=ro.store_id
        )
    }
    existing = {r.point_id: r for r in ro.inspection.all()}
    results, uploads = [], {}
    for point_id, point in points.items():
        rating = post.get(f"rating_{point_id}", "")
        note = post.get(f"note_{point_id}", "").strip()
        measurement = post.get(f"measure_{point_id}", "").strip()
        photo = request.FILES.get(f"photo_{point_id}")
        if rating:
            results.append(
                {"point_id": point_id, "rating": rating, "note": note, "measurement": measurement}
            )
        elif (note or measurement or photo) and point_id not in existing:
            raise DomainError(
                "rating_required",
                _("Rate “%(item)s” green, amber or red first.")
                % {"item": translated(point, "name")},
            )
        if photo:
            uploads[point_id] = _photos([photo])[0]
    saved = {r.point_id: r for r in workshop.record_inspection(user, ro, results)}
    for point_id, image in uploads.items():
        result = saved.get(point_id) or existing.get(point_id)
        workshop.add_inspection_photo(user, ro, result.pk, image)
    if post.get("action") == "complete":
        ro = workshop.complete_inspection(user, ro)
        if ro.status == S.WAITING_APPROVAL:
            return _("Inspection finished; the owner is asked to approve the recommended work.")
        return _("Inspection finished; nothing needs the owner's approval.")
    return _("Inspection saved.")


@_ro_action(Perm.WORK_REPAIR_ORDERS, "lines")
def order_add_line(request, ro):
    post = request.POST
    operation_id = _id(post.get("operation"))
    if operation_id is None:
        raise DomainError("invalid_operation", _("Choose the work to add."))
    parts = []
    part_id = _id(post.get("part"))
    if part_id is not None:
        parts.append(
            {
                "part_id": part_id,
                "quantity": _whole_number(
                    post.get("quantity") or "1", _("The quantity is a whole number.")
                ),
            }
        )
    line = workshop.add_line(
        request.user,
        ro,
        operation_id=operation_id,
        parts=parts,
        reason=post.get("reason", "")[:300],
        payer=post.get("payer") or Payer.CUSTOMER,
    )
    return _("Added “%(item)s”; it waits for the owner's approval.") % {
        "item": translated(line, "description")
    }


@_ro_action(Perm.WORK_REPAIR_ORDERS, "lines")
def order_decide(request, ro, line_id: int):
    approve = request.POST.get("approve") == "1"
    line = workshop.decide_line(
        ro, line_id, approve, actor=request.user, reason=request.POST.get("reason", "")[:200]
    )
    if approve:
        return _("Recorded: the owner approved “%(item)s”.") % {
            "item": translated(line, "description")
        }
    return _("Recorded: the owner declined “%(item)s”.") % {"item": translated(line, "description")}


@_ro_action(Perm.WORK_REPAIR_ORDERS, "lines")
def order_clock(request, ro, line_id: int):
    action = request.POST.get("action")
    if action == "on":
        workshop.clock_on(request.user, ro, line_id)
        return _("Clocked on.")
    if action in ("off", "done"):
        workshop.clock_off(request.user, ro, line_id, done=action == "done")
        return _("Clocked off; the job is done.") if action == "done" else _("Clocked off.")
    raise DomainError("invalid_action", _("Unknown action."))


@_ro_action(Perm.WORK_REPAIR_ORDERS, "")
def order_status(request, ro):
    to = request.POST.get("to", "")
    ro = workshop.advance(request.user, ro, to)
    return _("Status: %(status)s.") % {"status": staff_status_label(ro.status)}


@_ro_action(Perm.SETTLE_REPAIR_ORDERS, "settle")
def order_settle(request, ro):
    post = request.POST
    prices, payers = {}, {}
    for line in ro.lines.all():
        if line.approval != Approval.APPROVED:
            continue
        entry = {}
        labour = post.get(f"labour_{line.pk}", "").strip()
        if labour:
            entry["labour"] = labour
        part_prices = {
            lp.pk: post.get(f"part_{lp.pk}", "").strip()
            for lp in line.parts.all()
            if post.get(f"part_{lp.pk}", "").strip()
        }
        if part_prices:
            entry["parts"] = part_prices
        reason = post.get(f"reason_{line.pk}", "").strip()
        if reason:
            entry["reason"] = reason[:200]
        if entry:
            prices[line.pk] = entry
        if post.get(f"payer_{line.pk}"):
            payers[line.pk] = post[f"payer_{line.pk}"]
    invoice = billing.settle(
        request.user,
        ro,
        prices=prices,
        payers=payers,
        coupon_code=request.POST.get("coupon_code", "")[:16],
    )
    return _("Settled: invoice %(number)s, total ¥%(total)s.") % {
        "number": invoice.number,
        "total": invoice.total,
    }


@_ro_action(Perm.SETTLE_REPAIR_ORDERS, "")
def order_deliver(request, ro):
    odometer = _whole_number(request.POST.get("odometer"), _("Enter the odometer reading in km."))
    workshop.deliver(request.user, ro, odometer=odometer)
    return _("Delivered. The revisit survey is scheduled.")


@_ro_action(Perm.REFUND_REPAIR_ORDERS, "settle")
def order_refund(request, ro):
    note = billing.refund(request.user, ro, reason=request.POST.get("reason", "")[:300])
    return _("Refunded: credit note %(number)s, ¥%(amount)s back to the customer.") % {
        "number": note.number,
        "amount": note.customer_amount,
    }


# --- 4. invoice -----------------------------------------------------------------------------------
@service_page(*SERVICE_READERS)
def invoice(request, ro_id: int):
    ro = _load_ro(request, ro_id)
    inv = getattr(ro, "invoice", None)
    if inv is None:
        messages.error(request, _("This repair order is not settled yet."))
        return _back_to(ro, "settle")
    payer_labels = dict(Payer.choices)
    groups = defaultdict(list)
    for line in ro.lines.all():
        if line.approval != Approval.APPROVED:
            continue
        parts = [
            {
                "part": lp.part,
                "quantity": lp.quantity,
                "list_price": lp.list_price,
                "list_amount": lp.list_price * lp.quantity,
                "discount": (lp.list_price - lp.unit_price) * lp.quantity,
            }
            for lp in line.parts.all()
        ]
        groups[line.payer].append(
            {
                "line": line,
                "parts": parts,
                "labour_discount": line.labour_list_price - line.labour_price,
                "list_amount": selectors.line_amount(line, list_prices=True),
                "net": selectors.line_amount(line),
            }
        )
    by_payer = []
    for payer in Payer.values:
        rows = groups.get(payer)
        if not rows:
            continue
        listed = sum((r["list_amount"] for r in rows), Decimal("0"))
        net = sum((r["net"] for r in rows), Decimal("0"))
        tax = sum((selectors.line_tax(r["line"], inv.tax_rate) for r in rows), Decimal("0"))
        by_payer.append(
            {
                "payer": payer,
                "label": payer_labels[payer],
                "rows": rows,
                "list_total": listed,
                "discount": listed - net,
                "net": net,
                "tax": tax,
                "gross": net + tax,
            }
        )
    return render(
        request,
        "web/console/service/invoice.html",
        _ctx(
            request,
            ro=ro,
            invoice=inv,
            credit_note=getattr(inv, "credit_note", None),
            by_payer=by_payer,
            overrides=list(ro.price_overrides.select_related("by").order_by("at", "pk")),
            tax_pct=f"{inv.tax_rate * 100:.2f}".rstrip("0").rstrip("."),
        ),
    )


# --- 5. figures ------------------------------------------------------------------------------------
def _trend_chart(trend) -> dict:
    """The CSI and NPS lines on one y axis through the shared chart module: 0–100, reaching
    below 0 (in steps of 25, down to −100) only when an NPS is negative."""
    values = [v for f in trend for v in (f.csi, f.nps) if v is not None]
    low = max(-100, min(0, (int(min(values, default=0)) // 25) * 25))
    if 100 - low > 125:
        low = max(-100, (low // 50) * 50)
    return charts.line_chart(
        [
            charts.Series(_("CSI"), [f.csi for f in trend], colour=charts.BRAND, key="csi"),
            charts.Series(_("NPS"), [f.nps for f in trend], colour="#e67e22", key="nps"),
        ],
        labels=[f.month.strftime("%Y-%m") for f in trend],
        y_min=low,
        y_max=100,
        y_step=25 if 100 - low <= 125 else 50,
        point_labels=True,
        value_format=lambda v: f"{v:.0f}",
    )


def _pct(rate: float | None) -> int | None:
    return None if rate is None else round(rate * 100)


def _month(raw, default: dt.date) -> dt.date:
    try:
        year, month = (int(p) for p in (raw or "").split("-")[:2])
        first = dt.date(year, month, 1)
    except (ValueError, OverflowError):
        return default
    # the six-month trend reaches back from it: keep it where the calendar can do the sums
    return first if in_calendar(first) and first.year > 2000 else default


@service_page(Perm.VIEW_SERVICE_FIGURES)
def figures(request):
    user = request.user
    stores = _stores(user)
    store = _pick_store(user, request.GET.get("store"), stores)
    if store is None:
        return render(
            request,
            "web/console/service/figures.html",
            _ctx(request, nav="service_figures", store=None),
        )
    this_month = _store_today(store).replace(day=1)
    month = _month(request.GET.get("month"), this_month)
    trend = [
        selectors.store_figures(store, selectors.add_months(month, -i)) for i in range(5, -1, -1)
    ]
    figures_now = trend[-1]
    factors = [
        {
            "key": key,
            "label": CSI_LABELS[key],
            "weight": weight,
            "score": figures_now.factors.get(key),
            "width": round(figures_now.factors.get(key) or 0),
        }
        for key, weight in CSI_WEIGHTS.items()
    ]
    follow_ups = list(selectors.follow_up_list(user, store.pk)[:100])
    return render(
        request,
        "web/console/service/figures.html",
        _ctx(
            request,
            nav="service_figures",
            stores=stores,
            store=store,
            month=month,
            months=[selectors.add_months(this_month, -i) for i in range(24)],
            f=figures_now,
            show_pct=_pct(figures_now.show_rate),
            ftfr_pct=_pct(figures_now.ftfr),
            factors=factors,
            chart=_trend_chart(trend),
            follow_ups=follow_ups,
            unhappy_at=UNHAPPY_AT_OR_BELOW,
        ),
    )


@service_page(Perm.VIEW_SERVICE_FIGURES)
@require_POST
def follow_up(request, survey_id: int):
    user = request.user
    survey = selectors.follow_up_list(user).filter(pk=survey_id).first()
    if survey is None:
        raise Http404(_("No such survey."))
    try:
        surveys.record_follow_up(user, survey, request.POST.get("note", "")[:300])
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("Follow-up recorded for %(name)s.") % {"name": survey.customer.name}
        )
    month = request.POST.get("month", "")[:7]
    return redirect(
        f"{reverse('console-service-figures')}?store={survey.store_id}&month={month}#follow-ups"
    )
