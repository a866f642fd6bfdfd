"""Service console: the day's board and an appointment's page (check-in, cancel)."""

import datetime as dt
from itertools import groupby

from django.contrib import messages
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from m4s.core.errors import DomainError
from m4s.service import booking, selectors, workshop
from m4s.service.choices import (
    OPEN_RO,
    AppointmentStatus,
    Approval,
    WorkStatus,
    staff_status_label,
)
from m4s.service.models import (
    PartReservation,
)
from m4s.staff.choices import Perm

from .common import (
    SERVICE_READERS,
    S,
    _ctx,
    _date,
    _or_404,
    _photos,
    _pick_store,
    _store_today,
    _stores,
    _whole_number,
    service_page,
)


# --- 1. the day's board ------------------------------------------------------------------------------
@service_page(Perm.WORK_REPAIR_ORDERS, Perm.BOOK_SERVICE)
def board(request):
    user = request.user
    stores = _stores(user)
    store = _pick_store(user, request.GET.get("store"), stores)
    if store is None:
        return render(request, "service/console/board.html", _ctx(request, store=None))
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
    return render(
        request,
        "service/console/board.html",
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
        "service/console/appointment.html",
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
