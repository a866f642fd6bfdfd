"""Traffic violations in the console at /console/care/violations/: the group's recent violations
with their status (the owner may have asked the store to clear one), entering one by plate,
importing a .csv/.xlsx file from the traffic authority's export (group managers), and marking
one as being cleared or cleared (which closes its reminder)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from m4s.care import selectors
from m4s.care import violations as violation_services
from m4s.care.choices import ViolationStatus
from m4s.care.views.common import care_page, ctx, or_404
from m4s.core.errors import DomainError
from m4s.staff.choices import Perm

SHOWN = 200
FIELDS = ("plate", "occurred_at", "place", "code", "description", "fine_cny", "points", "ref")


def _form(data) -> dict:
    return {name: (data.get(name) or "").strip()[:300] for name in FIELDS}


def _record(user, form: dict):
    if not user.dealer_group_id:
        raise DomainError("no_group", _("Only a dealer group's staff can record violations."))
    vehicle = violation_services.find_vehicle(user.dealer_group_id, plate=form["plate"])
    return violation_services.record_violation_by_staff(
        user,
        vehicle.pk,
        violation_services.ViolationInput(
            occurred_at=form["occurred_at"].replace("T", " "),
            description=form["description"],
            place=form["place"],
            code=form["code"],
            fine_cny=form["fine_cny"] or 0,
            points=form["points"] or 0,
            external_ref=form["ref"],
        ),
    )


def _page(request, *, form=None, error="", import_error=None, status=200):
    user = request.user
    wanted = request.GET.get("status") or ""
    wanted = wanted if wanted in ViolationStatus.values else ""
    rows = list(selectors.staff_violations(user, status=wanted or None)[:SHOWN])
    return render(
        request,
        "care/console/violations.html",
        ctx(
            request,
            tab="violations",
            rows=rows,
            statuses=ViolationStatus.choices,
            wanted=wanted,
            form=form or {"occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")},
            error=error,
            import_error=import_error,
            can_import=user.has_perm_m4s(Perm.MANAGE_CARE),
        ),
        status=status,
    )


@care_page(Perm.HANDLE_CARE)
@require_http_methods(["GET", "POST"])
def violations(request):
    if request.method == "GET":
        return _page(request)
    form = _form(request.POST)
    try:
        violation = _record(request.user, form)
    except DomainError as exc:
        return _page(request, form=form, error=exc.message, status=exc.status)
    messages.success(
        request,
        _("Recorded: %(plate)s, %(what)s. The owner is told.")
        % {"plate": violation.vehicle.plate, "what": violation.description},
    )
    return redirect("console-care-violations")


@care_page(Perm.MANAGE_CARE)
@require_POST
def import_file(request):
    upload = request.FILES.get("file")
    if upload is None:
        return _page(
            request, import_error={"message": _("Choose a .csv or .xlsx file.")}, status=400
        )
    try:
        result = violation_services.import_violations(request.user, upload, upload.name)
    except DomainError as exc:
        return _page(
            request,
            import_error={"message": exc.message, "rows": exc.details.get("errors") or []},
            status=exc.status,
        )
    messages.success(
        request,
        ngettext(
            "%(n)d violation imported",
            "%(n)d violations imported",
            result.created,
        )
        % {"n": result.created}
        + (
            " · "
            + ngettext(
                "%(n)d already recorded",
                "%(n)d already recorded",
                result.duplicates,
            )
            % {"n": result.duplicates}
            if result.duplicates
            else ""
        ),
    )
    return redirect("console-care-violations")


@care_page(Perm.HANDLE_CARE)
@require_POST
def set_status(request, violation_id: int):
    status = request.POST.get("status") or ""
    try:
        violation = or_404(
            violation_services.set_violation_status, request.user, violation_id, status
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("%(plate)s: %(status)s.")
            % {"plate": violation.vehicle.plate, "status": violation.get_status_display()},
        )
    return redirect(reverse("console-care-violations"))
