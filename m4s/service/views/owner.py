"""The owner app's service area at /app/service/: my visits, booking, moving and cancelling a
visit, the repair order with item-by-item approval, and revisit surveys.

Thin views over m4s.service.selectors and the service write modules (the same ones the owner API
uses). Every DomainError a service raises is shown to the owner with its message and its 4xx
status, never as a 500; htmx partials answer with the same status (the service templates tell
htmx to swap 4xx answers so the message shows in place).
"""

import datetime as dt
import re
import uuid
from functools import wraps
from types import SimpleNamespace
from urllib.parse import urlencode

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from m4s.core.errors import DomainError, NotFound
from m4s.core.i18n import translated
from m4s.core.types import in_calendar
from m4s.core.uploads import clean_images
from m4s.org.choices import EmergencyKind
from m4s.org.models import EmergencyNumber, Store
from m4s.owners.decorators import owner_required
from m4s.service import booking as booking_services
from m4s.service import selectors
from m4s.service import surveys as survey_services
from m4s.service import workshop as workshop_services
from m4s.service.booking_choices import (
    DATE_CHIPS,
    PROBLEM,
    BookingChoices,
    day_slots,
    parse_date,
    parse_mode,
    resolve_booking,
    service_choice,
    store_today,
)
from m4s.service.choices import (
    CSI_LABELS,
    CSI_WEIGHTS,
    OPEN_RO,
    RO_FLOW,
    AppointmentStatus,
    Approval,
    Rating,
    RepairOrderStatus,
    SurveyStatus,
    VisitMode,
)
from m4s.service.models import Invoice

MAX_PHOTOS = 5
KEY_RE = re.compile(r"^[A-Za-z0-9-]{8,64}$")
DECIDABLE = (
    RepairOrderStatus.CHECKED_IN,
    RepairOrderStatus.INSPECTING,
    RepairOrderStatus.WAITING_APPROVAL,
    RepairOrderStatus.IN_REPAIR,
)
MEASURE_UNITS = {"tread_mm": "mm", "pad_mm": "mm", "battery_v": "V"}


# --- helpers -----------------------------------------------------------------------------------
def _error_response(request, exc: DomainError, *, back: str = ""):
    """A DomainError as a page (or an alert for htmx) with the error's own 4xx status."""
    if request.htmx:
        return render(request, "service/app/_alert.html", {"error": exc.message}, status=exc.status)
    return render(
        request,
        "service/app/error.html",
        dict(error=exc.message, back=back or reverse("app-service")),
        status=exc.status,
    )


def domain_errors(view):
    """Turn an uncaught DomainError (e.g. NotFound from a selector) into a clear 4xx page."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            return _error_response(request, exc)

    return wrapper


def _starts_at(value, store: Store) -> dt.datetime:
    """A chosen time (ISO 8601 from a time chip); naive means the store's local time."""
    value = (value or "").strip()
    if not value:
        raise DomainError("time_required", _("Choose one of the free times."))
    try:
        when = dt.datetime.fromisoformat(value)
        if not in_calendar(when.date()):
            raise ValueError
        if timezone.is_naive(when):
            when = when.replace(tzinfo=store.tz)
        past = when.astimezone(dt.UTC) <= timezone.now()
    except (ValueError, OverflowError):
        raise DomainError("invalid_time", _("Choose one of the free times.")) from None
    if past:
        raise DomainError(
            "time_in_past", _("That time has already passed. Please choose another one.")
        )
    return when


def _hotline(store: Store) -> EmergencyNumber | None:
    return (
        EmergencyNumber.objects.for_group(store.dealer_group_id)
        .filter(store=store, kind=EmergencyKind.HOTLINE)
        .first()
    )


def _service_name(appointment) -> str:
    if appointment.package_id:
        return translated(appointment.package, "name")
    return _("Diagnosis of the problem you described")


def _stepper(status: str) -> list[dict]:
    """The repair order's steps with done / current / todo, for the stepper."""
    at = RO_FLOW.index(status) if status in RO_FLOW else 0
    labels = dict(RepairOrderStatus.choices)
    return [
        {
            "key": s,
            "label": labels[s],
            "state": "done" if i < at else ("now" if i == at else "todo"),
            "n": i + 1,
        }
        for i, s in enumerate(RO_FLOW)
    ]


# --- my visits ---------------------------------------------------------------------------------
@owner_required
@require_GET
def visits(request):
    owner = request.owner
    appointments = list(
        selectors.appointments_of_owner(owner)
        .filter(status=AppointmentStatus.BOOKED)
        .order_by("starts_at")[:20]
    )
    for a in appointments:
        a.service_name = _service_name(a)
    open_orders = list(
        selectors.repair_orders_of_owner(owner)
        .filter(status__in=OPEN_RO)
        .prefetch_related("lines")[:10]
    )
    for ro in open_orders:
        ro.steps = _stepper(ro.status)
        ro.step_no = RO_FLOW.index(ro.status) + 1
        ro.pending = sum(1 for ln in ro.lines.all() if ln.approval == Approval.PENDING)
    delivered = list(
        selectors.repair_orders_of_owner(owner)
        .filter(status=RepairOrderStatus.DELIVERED)
        .select_related("invoice")[:20]
    )
    missed = list(
        selectors.appointments_of_owner(owner).filter(
            status__in=[AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW]
        )[:10]
    )
    for a in missed:
        a.service_name = _service_name(a)
    past = sorted(
        [
            SimpleNamespace(kind="ro", when=ro.delivered_at or ro.checked_in_at, ro=ro)
            for ro in delivered
        ]
        + [SimpleNamespace(kind="appt", when=a.starts_at, appt=a) for a in missed],
        key=lambda p: p.when,
        reverse=True,
    )[:20]
    surveys = list(selectors.open_surveys_of_owner(owner)[:3])
    return render(
        request,
        "service/app/visits.html",
        dict(
            appointments=appointments,
            open_orders=open_orders,
            past=past,
            surveys=surveys,
        ),
    )


# --- booking -----------------------------------------------------------------------------------
REASONS = {
    "holiday": lambda: _("The workshop is closed that day (public holiday)."),
    "closed": lambda: _("The workshop is closed that day."),
    "workshop_full": lambda: _("The workshop is fully booked that day. Please try another date."),
    "no_reception_slot": lambda: _("No free times left that day. Please try another date."),
}


def _free_times(store: Store, date: dt.date, mode: str, choice, *, check_parts: bool = True):
    """The free reception times of one day, or why there are none (closed, full, parts)."""
    today = store_today(store)
    conf = selectors.settings_for(store)
    out = SimpleNamespace(
        date=date, morning=[], afternoon=[], notice="", parts_date=None, parts_short=False
    )
    if date < today:
        raise DomainError("date_in_past", _("That day has passed. Please choose another date."))
    if date > today + dt.timedelta(days=conf.booking_horizon_days):
        out.notice = _("That date cannot be booked yet.")
        return out
    day, parts_ok, out.parts_date = day_slots(
        store, date, mode=mode, choice=choice, check_parts=check_parts, conf=conf
    )
    if not parts_ok:
        out.parts_short = True
        return out
    if not day.slots:
        out.notice = REASONS.get(day.reason, REASONS["no_reception_slot"])()
        return out
    for slot in day.slots:
        local = timezone.localtime(slot.starts_at, store.tz)
        (out.morning if local.hour < 12 else out.afternoon).append(
            SimpleNamespace(value=local.isoformat(), label=local.strftime("%H:%M"))
        )
    return out


def _first_day_with_times(b: BookingChoices, choice, tries: int = 3) -> dt.date:
    for d in b.dates[:tries]:
        times = _free_times(b.store, d, b.mode, choice)
        if times.morning or times.afternoon:
            return d
    return b.dates[0]


def _parts_url(b: BookingChoices, day: dt.date | None) -> str:
    if day is None:
        return ""
    query = {"vehicle": b.vehicle.pk, "service": b.service, "store": b.store.pk, "mode": b.mode}
    return f"{reverse('app-service-book')}?{urlencode({**query, 'date': day.isoformat()})}"


def _booking_context(
    request, b: BookingChoices, *, key: str, error: str = "", chosen: str = "", parts_date=None
):
    times, notice = None, ""
    if b.store is not None and b.service:
        try:
            choice = service_choice(b.customer.dealer_group_id, b.package_id)
            if b.date is None:
                b.date = _first_day_with_times(b, choice)
            times = _free_times(b.store, b.date, b.mode, choice)
            times.parts_url = _parts_url(b, times.parts_date)
        except DomainError as exc:
            notice = exc.message
    return dict(
        b=b,
        times=times,
        times_notice=notice,
        chosen=chosen,
        idempotency_key=key,
        error=error,
        parts_url=_parts_url(b, parts_date) if b.store is not None else "",
        modes=VisitMode.choices,
        problem_value=PROBLEM,
    )


@owner_required
@require_http_methods(["GET", "POST"])
def book(request):
    owner = request.owner
    if request.method == "POST":
        return _book_post(request)
    try:
        b = resolve_booking(owner, request.GET, strict=False)
    except DomainError as exc:
        return _error_response(request, exc)
    ctx = _booking_context(request, b, key=uuid.uuid4().hex)
    return render(request, "service/app/book.html", ctx)


def _photos(request) -> list:
    files = request.FILES.getlist("photos")
    if len(files) > MAX_PHOTOS:
        raise DomainError("too_many_photos", _("Add at most %(n)d photos.") % {"n": MAX_PHOTOS})
    return clean_images(files, limit=MAX_PHOTOS)


def _book_post(request):
    owner = request.owner
    data = request.POST
    key = data.get("idempotency_key", "").strip()
    key = key if KEY_RE.match(key) else ""
    b = None
    try:
        b = resolve_booking(owner, data, strict=True)
        starts_at = _starts_at(data.get("slot"), b.store)
        photos = _photos(request) if b.service == PROBLEM else []
        appointment, created = booking_services.book_appointment(
            customer=b.customer,
            vehicle=b.vehicle,
            store=b.store,
            starts_at=starts_at,
            mode=b.mode,
            package_id=b.package_id,
            problem=b.problem if b.service == PROBLEM else "",
            photos=photos,
            channel="app",
            owner=owner,
            idempotency_key=key,
        )
        if appointment.customer_id != b.customer.pk:  # a key that is not this owner's
            raise DomainError("invalid_request", _("Please try again."), status=409)
    except DomainError as exc:
        if b is None or b.store is None:
            return _error_response(request, exc, back=reverse("app-service-book"))
        parts_date = exc.details.get("parts_date")
        ctx = _booking_context(
            request,
            b,
            key=key or uuid.uuid4().hex,
            error=exc.message,
            chosen=data.get("slot", ""),
            parts_date=dt.date.fromisoformat(parts_date) if parts_date else None,
        )
        return render(request, "service/app/book.html", ctx, status=exc.status)
    local = timezone.localtime(appointment.starts_at, appointment.store.tz)
    messages.success(
        request,
        _("Your visit is booked: %(service)s at %(store)s on %(when)s.")
        % {
            "service": _service_name(appointment),
            "store": appointment.store.display_title,
            "when": local.strftime("%Y-%m-%d %H:%M"),
        },
    )
    return redirect("app-service")


@owner_required
@require_GET
def book_slots(request):
    """htmx partial: the free times for the choices on the booking page."""
    try:
        b = resolve_booking(request.owner, request.GET, strict=True)
        if b.date is None:
            raise DomainError("invalid_date", _("Choose a valid date."))
        choice = service_choice(b.customer.dealer_group_id, b.package_id)
        times = _free_times(b.store, b.date, b.mode, choice)
        times.parts_url = _parts_url(b, times.parts_date)
    except DomainError as exc:
        return render(request, "service/app/_alert.html", {"error": exc.message}, status=exc.status)
    return render(request, "service/app/_slots.html", {"times": times, "chosen": ""})


# --- reschedule and cancel ---------------------------------------------------------------------
def _appointment_choice(appointment) -> booking_services.ServiceChoice:
    return service_choice(appointment.dealer_group_id, appointment.package_id)


def _reschedule_context(request, appointment, *, date=None, mode=None, error="", chosen=""):
    store = appointment.store
    first = store_today(store)
    dates = [first + dt.timedelta(days=i) for i in range(DATE_CHIPS)]
    mode = mode if mode in VisitMode.values else appointment.mode
    date = date if date is not None and date >= first else None
    if date is not None and date not in dates:
        dates.append(date)
    times, notice = None, ""
    try:
        choice = _appointment_choice(appointment)
        if date is None:
            date = appointment.date if appointment.date >= first else first
        times = _free_times(store, date, mode, choice, check_parts=False)
    except DomainError as exc:
        notice = exc.message
    appointment.service_name = _service_name(appointment)
    return dict(
        appt=appointment,
        dates=dates,
        date=date,
        mode=mode,
        modes=VisitMode.choices,
        times=times,
        times_notice=notice,
        error=error,
        chosen=chosen,
        hotline=_hotline(store) if error else None,
    )


@owner_required
@require_http_methods(["GET", "POST"])
@domain_errors
def reschedule(request, appointment_id: int):
    appointment = selectors.get_owner_appointment(request.owner, appointment_id)
    if request.method == "POST":
        try:
            mode = parse_mode(request.POST.get("mode"))
            starts_at = _starts_at(request.POST.get("slot"), appointment.store)
            moved = booking_services.reschedule_appointment(
                appointment, starts_at, by_owner=True, mode=mode
            )
        except DomainError as exc:
            try:
                date = parse_date(request.POST.get("date"))
            except DomainError:
                date = None
            ctx = _reschedule_context(
                request,
                appointment,
                date=date,
                mode=request.POST.get("mode"),
                error=exc.message,
                chosen=request.POST.get("slot", ""),
            )
            return render(request, "service/app/reschedule.html", ctx, status=exc.status)
        local = timezone.localtime(moved.starts_at, moved.store.tz)
        messages.success(
            request,
            _("Your visit is moved to %(when)s.") % {"when": local.strftime("%Y-%m-%d %H:%M")},
        )
        return redirect("app-service")
    if appointment.status != AppointmentStatus.BOOKED:
        raise DomainError("not_changeable", _("This visit can no longer be changed."), status=409)
    try:
        date = parse_date(request.GET["date"]) if request.GET.get("date") else None
    except DomainError:
        date = None
    ctx = _reschedule_context(request, appointment, date=date, mode=request.GET.get("mode"))
    return render(request, "service/app/reschedule.html", ctx)


@owner_required
@require_GET
def reschedule_slots(request, appointment_id: int):
    try:
        appointment = selectors.get_owner_appointment(request.owner, appointment_id)
        date = parse_date(request.GET.get("date"))
        mode = parse_mode(request.GET.get("mode"))
        times = _free_times(
            appointment.store, date, mode, _appointment_choice(appointment), check_parts=False
        )
    except DomainError as exc:
        return render(request, "service/app/_alert.html", {"error": exc.message}, status=exc.status)
    return render(request, "service/app/_slots.html", {"times": times, "chosen": ""})


@owner_required
@require_http_methods(["GET", "POST"])
@domain_errors
def cancel(request, appointment_id: int):
    """GET: are you sure? POST: cancel (the service enforces the owner's cut-off)."""
    appointment = selectors.get_owner_appointment(request.owner, appointment_id)
    appointment.service_name = _service_name(appointment)
    error, status = "", 200
    if request.method == "POST":
        try:
            booking_services.cancel_appointment(appointment, by_owner=True)
        except DomainError as exc:
            error, status = exc.message, exc.status
        else:
            messages.success(request, _("Your visit is cancelled."))
            return redirect("app-service")
    elif appointment.status != AppointmentStatus.BOOKED:
        error, status = _("This visit can no longer be changed."), 409
    return render(
        request,
        "service/app/cancel.html",
        dict(
            appt=appointment,
            error=error,
            hotline=_hotline(appointment.store) if error else None,
        ),
        status=status,
    )


# --- repair order --------------------------------------------------------------------------------
def _order_context(request, ro, *, error: str = ""):
    lines = list(ro.lines.all())
    rate = selectors.tax_rate_for(ro.store)
    for line in lines:  # owners see prices with tax, as Chinese retail prices are
        line.amount = selectors.line_amount_incl_tax(line, rate)
        line.labour_incl_tax = selectors.with_tax(line.labour_price, rate)
        line.part_rows = [
            (p, selectors.with_tax(p.unit_price * p.quantity, rate)) for p in line.parts.all()
        ]
    decidable = ro.status in DECIDABLE
    groups = {Rating.RED: [], Rating.AMBER: [], Rating.GREEN: []}
    for r in ro.inspection.all():
        r.unit = MEASURE_UNITS.get(r.point.measure, "")
        groups.setdefault(r.rating, []).append(r)
    try:
        invoice = ro.invoice
    except Invoice.DoesNotExist:
        invoice = None
    return dict(
        ro=ro,
        steps=_stepper(ro.status),
        lines=lines,
        pending=[ln for ln in lines if ln.approval == Approval.PENDING],
        decidable=decidable,
        totals=selectors.ro_totals(ro),
        findings=[
            (Rating.RED, Rating.RED.label, groups[Rating.RED]),
            (Rating.AMBER, Rating.AMBER.label, groups[Rating.AMBER]),
        ],
        good=groups[Rating.GREEN],
        walk_round=[p for p in ro.photos.all() if p.result_id is None],
        invoice=invoice,
        tax_pct=(invoice.tax_rate if invoice else rate) * 100,
        error=error,
    )


@owner_required
@require_GET
@domain_errors
def order(request, ro_id: int):
    ro = selectors.get_owner_repair_order(request.owner, ro_id)
    return render(request, "service/app/order.html", _order_context(request, ro))


def _decide(request, ro_id: int, line_id: int, approve: bool):
    owner = request.owner
    ro = selectors.get_owner_repair_order(owner, ro_id)
    error, status = "", 200
    try:
        workshop_services.decide_line(ro, line_id, approve, owner=owner)
    except DomainError as exc:
        error, status = exc.message, exc.status
    if request.htmx or error:
        ro = selectors.get_owner_repair_order(owner, ro_id)
        ctx = _order_context(request, ro, error=error)
        template = "service/app/_order_lines.html" if request.htmx else "service/app/order.html"
        return render(request, template, ctx, status=status)
    return redirect("app-service-order", ro_id=ro_id)


@owner_required
@require_POST
@domain_errors
def approve_line(request, ro_id: int, line_id: int):
    return _decide(request, ro_id, line_id, True)


@owner_required
@require_POST
@domain_errors
def decline_line(request, ro_id: int, line_id: int):
    return _decide(request, ro_id, line_id, False)


# --- surveys -------------------------------------------------------------------------------------
def _survey_state(survey) -> str:
    if survey.status == SurveyStatus.ANSWERED:
        return "answered"
    if survey.status == SurveyStatus.EXPIRED or survey.expires_at <= timezone.now():
        return "expired"
    return "open"


@owner_required
@require_GET
def surveys(request):
    items = list(selectors.surveys_of_owner(request.owner)[:50])
    for s in items:
        s.state = _survey_state(s)
    return render(request, "service/app/surveys.html", dict(surveys=items))


def _score(raw):
    raw = (raw or "").strip()
    if raw.isascii() and raw.isdigit() and len(raw) <= 2:
        return int(raw)
    return raw or None  # the service refuses anything but a whole number in range


@owner_required
@require_http_methods(["GET", "POST"])
@domain_errors
def survey(request, survey_id: int):
    owner = request.owner
    found = selectors.surveys_of_owner(owner).filter(pk=survey_id).first()
    if found is None:
        raise NotFound(_("No such survey."))
    error, status = "", 200
    values = {}
    if request.method == "POST":
        values = {f: request.POST.get(f, "") for f in [*CSI_WEIGHTS, "nps"]}
        try:
            survey_services.answer_survey(
                owner,
                found.pk,
                scores={f: _score(request.POST.get(f)) for f in CSI_WEIGHTS},
                nps=_score(request.POST.get("nps")),
                comment=request.POST.get("comment", ""),
            )
        except DomainError as exc:
            error, status = exc.message, exc.status
            found.refresh_from_db()
        else:
            return redirect("app-service-survey", survey_id=found.pk)
    state = _survey_state(found)
    factors = [
        {
            "key": f,
            "label": CSI_LABELS[f],
            "value": str(values.get(f, "")),
            "answer": found.score(f),
        }
        for f in CSI_WEIGHTS
    ]
    return render(
        request,
        "service/app/survey.html",
        dict(
            survey=found,
            state=state,
            factors=factors,
            scale=range(1, 11),
            nps_scale=range(0, 11),
            nps_value=str(values.get("nps", "")),
            comment=request.POST.get("comment", "") if request.method == "POST" else "",
            error=error,
        ),
        status=status,
    )
