"""The owner app's care pages at /app/care/: "My reminders" (what is coming, grouped by car, each
with its one-tap action, snooze and "done elsewhere"), the weather warning and greeting cards,
one reminder's page (the link its message carries), and the owner's traffic violations with
fine and points and "have the store clear it".

Thin views over m4s.care.selectors and services (the same ones the owner API uses). A DomainError
is shown with its message and its 4xx status, never as a 500; another owner's reminder or
violation is a 404.
"""

import datetime as dt
from functools import wraps
from types import SimpleNamespace

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from m4s.care import selectors, services
from m4s.care.choices import Kind
from m4s.core.errors import DomainError
from m4s.core.i18n import render as render_text
from m4s.owners.decorators import owner_required

from .common import GREETING_KINDS, ODOMETER_KINDS, SNOOZE_DAYS, decorate, whole

GREETING_SHOWN_DAYS = 14  # a greeting stays on the page this long after its day


# --- helpers -----------------------------------------------------------------------------------
def _error_page(request, exc: DomainError, *, back: str = ""):
    return render(
        request,
        "care/app/error.html",
        {"error": exc.message, "back": back or reverse("app-care")},
        status=exc.status,
    )


def domain_errors(view):
    """An uncaught DomainError (e.g. NotFound for another owner's reminder) as a clear 4xx."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            return _error_page(request, exc)

    return wrapper


def _back(request, default: str) -> str:
    """Where to go after an action: the page it was done from (an /app/ path), else `default`."""
    back = request.POST.get("back") or ""
    if back.startswith("/app/") and url_has_allowed_host_and_scheme(back, allowed_hosts=None):
        return back
    return default


def _gift(r) -> None:
    payload = r.payload if isinstance(r.payload, dict) else {}
    r.coupon_name = render_text(payload.get("coupon"), "") if payload.get("coupon") else ""
    r.coupon_code = payload.get("coupon_code") or ""


def _cars(reminders: list) -> list[SimpleNamespace]:
    """Reminders grouped by car (cars by plate); the ones about the owner (licence ...) first,
    without a car."""
    groups: dict[int | None, SimpleNamespace] = {}
    for r in reminders:
        if r.vehicle_id not in groups:
            groups[r.vehicle_id] = SimpleNamespace(vehicle=r.vehicle, reminders=[])
        groups[r.vehicle_id].reminders.append(r)
    return sorted(
        groups.values(), key=lambda g: (g.vehicle is not None, getattr(g.vehicle, "plate", ""))
    )


# --- my reminders ------------------------------------------------------------------------------
@owner_required
@require_GET
def reminders(request):
    owner = request.owner
    today = timezone.localdate()
    rows = decorate(selectors.owner_reminders(owner), today)
    weather = [r for r in rows if r.kind == Kind.WEATHER]
    greetings = [
        r
        for r in rows
        if r.kind in GREETING_KINDS and 0 <= (today - r.due_on).days <= GREETING_SHOWN_DAYS
    ]
    for r in greetings:
        _gift(r)
    violations = list(selectors.owner_violations(owner)[:20])
    listed = {v.pk for v in violations}  # their reminders are the violations card itself
    coming = [
        r
        for r in rows
        if r.kind not in GREETING_KINDS
        and r.kind != Kind.WEATHER
        and not (r.kind == Kind.VIOLATION and r.violation_id in listed)
    ]
    return render(
        request,
        "care/app/reminders.html",
        {
            "cars": _cars(coming),
            "weather": weather,
            "greetings": greetings,
            "violations": violations,
            "snooze_days": SNOOZE_DAYS,
        },
    )


@owner_required
@require_GET
@domain_errors
def reminder(request, reminder_id: int):
    """One reminder: the page its message links to when the action is not a booking form."""
    owner = request.owner
    r = decorate([selectors.get_owner_reminder(owner, reminder_id)], timezone.localdate())[0]
    _gift(r)
    violation = None
    if r.violation_id is not None:
        violation = selectors.owner_violations(owner, include_cleared=True).filter(
            pk=r.violation_id
        )
        violation = violation.first()
    return render(
        request,
        "care/app/reminder.html",
        {
            "r": r,
            "violation": violation,
            "is_open": r.status in ("due", "sent", "snoozed"),
            "snooze_days": SNOOZE_DAYS,
        },
    )


@owner_required
@require_POST
@domain_errors
def snooze(request, reminder_id: int):
    owner = request.owner
    found = selectors.get_owner_reminder(owner, reminder_id)
    try:
        found = services.snooze(owner, found, whole(request.POST.get("days")) or 0)
    except DomainError as exc:
        if exc.status == 404:
            raise
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Snoozed: we remind you again on %(date)s.")
            % {"date": found.snoozed_until.isoformat() if found.snoozed_until else ""},
        )
    return redirect(_back(request, reverse("app-care")))


@owner_required
@require_POST
@domain_errors
def quote(request, reminder_id: int):
    """One tap on an insurance reminder: the store is asked for a renewal quote."""
    owner = request.owner
    found = selectors.get_owner_reminder(owner, reminder_id)
    try:
        services.request_quote(owner, found)
    except DomainError as exc:
        if exc.status == 404:
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Asked: the store will send you a renewal quote."))
    return redirect(_back(request, reverse("app-care")))


@owner_required
@require_http_methods(["GET", "POST"])
@domain_errors
def done_elsewhere(request, reminder_id: int):
    owner = request.owner
    today = timezone.localdate()
    r = decorate([selectors.get_owner_reminder(owner, reminder_id)], today)[0]
    if not r.can_elsewhere:
        raise DomainError("not_a_service", _("Only a service can be done elsewhere."), status=422)
    form = {"done_on": today.isoformat(), "odometer": ""}
    error, status = "", 200
    if request.method == "POST":
        form = {
            "done_on": (request.POST.get("done_on") or "").strip()[:10],
            "odometer": (request.POST.get("odometer") or "").strip()[:9],
        }
        try:
            services.done_elsewhere(
                owner,
                r,
                done_on=_date(form["done_on"]),
                odometer_km=_odometer(form["odometer"]),
            )
        except DomainError as exc:
            if exc.status == 404:
                raise
            error, status = exc.message, exc.status
        else:
            messages.success(
                request, _("Thank you: noted. We will remind you of the next one in good time.")
            )
            return redirect("app-care")
    return render(
        request,
        "care/app/done_elsewhere.html",
        {
            "r": r,
            "form": form,
            "error": error,
            "today": today,
            "ask_odometer": r.kind in ODOMETER_KINDS,
        },
        status=status,
    )


def _date(raw: str) -> dt.date:
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise DomainError("invalid_date", _("Enter the date it was done."), status=422) from None


def _odometer(raw: str) -> int | None:
    if not raw:
        return None
    value = whole(raw)
    if value is None:
        raise DomainError("invalid_odometer", _("Enter the odometer in km."), status=422)
    return value


# --- violations --------------------------------------------------------------------------------
@owner_required
@require_GET
def violations(request):
    rows = list(selectors.owner_violations(request.owner, include_cleared=True)[:100])
    return render(request, "care/app/violations.html", {"violations": rows})


@owner_required
@require_POST
@domain_errors
def clear_violation(request, violation_id: int):
    owner = request.owner
    violation = services.get_owner_violation(owner, violation_id)
    try:
        services.request_clearing(owner, violation)
    except DomainError as exc:
        if exc.status == 404:
            raise
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("The store will clear it for you and tell you when it is done.")
        )
    return redirect(_back(request, reverse("app-care")))
