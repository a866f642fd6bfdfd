"""Console pages of the connected car, at /console/telematics/: the live rescue alert (an htmx
partial polled every 5 s by every console page), a rescue case with acknowledge and close, the
staff view of a car's health, and the terminals list.

Thin: reads through m4s.telematics.selectors (scoped to the acting user's group and stores, so
another group's case or car is a 404), writes through m4s.telematics.services; a refused action
shows the service's message with its 4xx status and changes nothing.
"""

from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from m4s.core.errors import DomainError
from m4s.notify import selectors as inbox
from m4s.org.models import EmergencyNumber
from m4s.service.selectors import repair_orders_for
from m4s.staff.choices import Perm
from m4s.staff.permissions import staff_page
from m4s.telematics import selectors, services
from m4s.telematics.choices import CaseStatus
from m4s.telematics.consent import audit_staff_reads

from .owner import amap_link, health_page

ALERT_LIMIT = 10
CASE_NUMBERS = ("rescue", "hotline", "insurance")  # the store's numbers worth calling in a rescue


def _ctx(request, **extra):
    return {"unread": inbox.count_unread(staff=request.user), "nav": "telematics", **extra}


def _or_404(read, *args):
    try:
        return read(*args)
    except DomainError as exc:
        if exc.status == 404:
            raise Http404(exc.message) from None
        raise


def _numbers(user):
    return Prefetch(
        "store__emergency_numbers",
        queryset=EmergencyNumber.objects.for_actor(user)
        .filter(kind__in=CASE_NUMBERS)
        .order_by("position", "id"),
    )


# --- the live alert ------------------------------------------------------------------------------
@never_cache
@require_GET
def alerts(request):
    """The open rescue cases of the user's stores, newest first; an empty answer (so the banner
    hides) when there are none or the visitor is not signed in to the console."""
    user = request.user
    if not user.is_authenticated or not user.has_perm_m4s(Perm.USE_CONSOLE):
        return HttpResponse("")
    cases = list(selectors.open_cases_for(user).prefetch_related(_numbers(user))[: ALERT_LIMIT + 1])
    if not cases:
        return HttpResponse("")
    for c in cases:
        c.map_link = amap_link(c.lat, c.lon) if c.lat is not None else ""
    return render(
        request,
        "telematics/console/_alerts.html",
        {
            "cases": cases[:ALERT_LIMIT],
            "more": len(cases) > ALERT_LIMIT,
            "any_open": any(c.status == CaseStatus.OPEN for c in cases),
        },
    )


# --- a rescue case -------------------------------------------------------------------------------
def _case_page(request, case, *, status: int = 200, **extra):
    user = request.user
    numbers = list(
        EmergencyNumber.objects.for_actor(user)
        .filter(store_id=case.store_id, kind__in=CASE_NUMBERS)
        .order_by("position", "id")
    )
    orders = list(
        repair_orders_for(user)
        .filter(vehicle_id=case.vehicle_id)
        .select_related("store")
        .order_by("-checked_in_at")[:20]
    )
    steps = list(selectors.case_steps(case))
    from m4s.org.models import Store
    from m4s.telematics import rescue
    from m4s.telematics.rescue_choices import TOW_NEXT

    return render(
        request,
        "telematics/console/case.html",
        _ctx(
            request,
            case=case,
            numbers=numbers,
            orders=orders,
            steps=[(s, rescue.step_text(s)) for s in reversed(steps)],
            photos=list(selectors.case_photos(case)),
            tow_partners=list(selectors.tow_partners_for(user, active_only=True)),
            insurers=list(selectors.insurers_for(user, active_only=True)),
            suggested_insurer=case.insurer or rescue.insurer_for_car(case),
            stores=list(Store.objects.for_group(case.dealer_group_id).order_by("name")),
            tow_next=sorted(TOW_NEXT.get(case.tow_status, ())),
            eta=rescue.eta_minutes_left(case),
            map_link=amap_link(case.lat, case.lon) if case.lat is not None else "",
            is_open=case.status != CaseStatus.CLOSED,
            saved=request.GET.get("saved", ""),
            **extra,
        ),
        status=status,
    )


@staff_page(Perm.USE_CONSOLE)
@require_GET
def case(request, case_id: int):
    return _case_page(request, _or_404(selectors.get_case, request.user, case_id))


def _text(request, name: str, limit: int) -> str:
    return (request.POST.get(name) or "").strip()[:limit]


@staff_page(Perm.USE_CONSOLE)
@require_POST
def acknowledge(request, case_id: int):
    """'We are on it': who took the case, the tow partner sent, a note."""
    found = _or_404(selectors.get_case, request.user, case_id)
    try:
        if found.status == CaseStatus.CLOSED:
            raise DomainError("case_closed", _("This case is already closed."), status=409)
        services.acknowledge_case(
            request.user,
            found,
            tow_partner=_text(request, "tow_partner", 80),
            note=_text(request, "note", 300),
        )
    except DomainError as exc:
        return _case_page(request, found, status=exc.status, ack_error=exc.message)
    return redirect(reverse("console-telematics-case", args=[found.pk]) + "?saved=ack")


@staff_page(Perm.USE_CONSOLE)
@require_POST
def close(request, case_id: int):
    """Close the case, optionally with the repair order the car came in on."""
    found = _or_404(selectors.get_case, request.user, case_id)
    raw = (request.POST.get("repair_order") or "").strip()
    try:
        if found.status == CaseStatus.CLOSED:
            raise DomainError("case_closed", _("This case is already closed."), status=409)
        if raw and not (raw.isascii() and raw.isdigit() and len(raw) < 10):
            raise DomainError("invalid_repair_order", _("Choose a repair order of this car."))
        services.close_case(
            request.user,
            found,
            repair_order_id=int(raw) if raw else None,
            note=_text(request, "note", 300),
        )
    except DomainError as exc:
        return _case_page(request, found, status=exc.status, close_error=exc.message)
    return redirect(reverse("console-telematics-case", args=[found.pk]) + "?saved=closed")


# --- staff health page, terminals --------------------------------------------------------------
@staff_page(Perm.VIEW_CUSTOMERS)
@require_GET
def vehicle_health(request, vehicle_id: int):
    vehicle = _or_404(selectors.staff_vehicle, request.user, vehicle_id)
    cases = list(selectors.open_cases_for(request.user).filter(vehicle_id=vehicle.pk)[:5])
    page = health_page(vehicle)
    audit_staff_reads(request.user, page)
    return render(
        request,
        "telematics/console/vehicle.html",
        _ctx(request, h=page, for_owner=False, cases=cases),
    )


@staff_page(Perm.VIEW_CUSTOMERS)
@require_GET
def terminals(request):
    devices = list(selectors.devices_for(request.user)[:500])
    for d in devices:
        d.online = services.is_online(d)
    return render(
        request,
        "telematics/console/terminals.html",
        _ctx(request, devices=devices, online=sum(d.online for d in devices)),
    )
