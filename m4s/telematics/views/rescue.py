"""Rescue pages: the owner's case at /app/rescue/<id>/ (milestones, the tow's ETA, the log, photos
to add) and the console's tow partners and insurers directory at /console/telematics/tow-partners/
and /console/telematics/insurers/, plus the case page's rescue actions (dispatch a tow, its
status, notify the insurer, the repair order), which redirect back to the case page.

Thin: reads through selectors (scoped: another owner's or group's case is a 404), writes through
m4s.telematics.rescue; a refused action shows the service's message with its 4xx status."""

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from m4s.core.errors import DomainError
from m4s.core.uploads import ACCEPT
from m4s.notify import selectors as inbox
from m4s.owners.decorators import owner_required
from m4s.staff.choices import Perm
from m4s.staff.permissions import staff_page
from m4s.telematics import rescue, selectors
from m4s.telematics.models import Insurer, TowPartner


def _or_404(read, *args):
    try:
        return read(*args)
    except DomainError as exc:
        if exc.status == 404:
            raise Http404(exc.message) from None
        raise


# --- the owner's case ----------------------------------------------------------------------------
def _owner_page(request, case, *, status=200, error=""):
    steps = list(selectors.case_steps(case))
    case._prefetched_objects_cache = {"steps": steps}
    return render(
        request,
        "telematics/app/rescue.html",
        {
            "case": case,
            "milestones": rescue.owner_progress(case),
            "steps": [(s, rescue.step_text(s, for_owner=True)) for s in reversed(steps)],
            "photos": list(selectors.case_photos(case)),
            "eta": rescue.eta_minutes_left(case),
            "accept": ACCEPT,
            "error": error,
            "saved": request.GET.get("saved", ""),
            "tab": "sos",
        },
        status=status,
    )


@owner_required
@require_GET
def owner_case(request, case_id: int):
    return _owner_page(request, _or_404(selectors.owner_case, request.owner, case_id))


@owner_required
@require_POST
def owner_photo(request, case_id: int):
    case = _or_404(selectors.owner_case, request.owner, case_id)
    upload = request.FILES.get("photo")
    try:
        if upload is None:
            raise DomainError("photo_required", _("Choose a photo."))
        rescue.add_case_photo(request.owner, case, upload)
    except DomainError as exc:
        return _owner_page(request, case, status=exc.status, error=exc.message)
    return redirect(reverse("app-rescue-case", args=[case.pk]) + "?saved=photo")


@owner_required
@require_GET
def owner_current(request):
    """The owner's open rescue cases (an htmx fragment on the SOS page; empty when none)."""
    cases = [c for c in selectors.owner_cases(request.owner)[:5] if c.closed_at is None]
    return render(request, "telematics/app/_rescue_current.html", {"cases": cases})


# --- the directory (console) -----------------------------------------------------------------------
class TowPartnerForm(forms.ModelForm):
    api_url = forms.URLField(
        label=gettext_lazy("API address"), required=False, assume_scheme="https"
    )

    class Meta:
        model = TowPartner
        fields = ["name", "phone", "service_area", "email", "api_url", "active"]


class InsurerForm(forms.ModelForm):
    api_url = forms.URLField(
        label=gettext_lazy("API address"), required=False, assume_scheme="https"
    )

    class Meta:
        model = Insurer
        fields = ["name", "phone", "service_area", "email", "api_url", "channel", "active"]


DIRECTORY: dict[str, tuple[Any, ...]] = {
    "tow": (
        TowPartnerForm,
        selectors.tow_partners_for,
        selectors.get_tow_partner,
        rescue.save_tow_partner,
        gettext_lazy("Tow partners"),
        "console-telematics-tow-partners",
        "console-telematics-tow-partner",
    ),
    "insurer": (
        InsurerForm,
        selectors.insurers_for,
        selectors.get_insurer,
        rescue.save_insurer,
        gettext_lazy("Insurers (claims)"),
        "console-telematics-insurers",
        "console-telematics-insurer",
    ),
}


def _directory(request, which: str, pk: int | None):
    form_class, list_rows, get_row, save, title, list_url, row_url = DIRECTORY[which]
    user = request.user
    obj = _or_404(get_row, user, pk) if pk else None
    can_edit = user.has_perm_m4s(Perm.MANAGE_GROUP_SETTINGS) and bool(user.dealer_group_id)
    form = form_class(request.POST or None, instance=obj)
    status, error = 200, ""
    if request.method == "POST":
        if not can_edit:
            status, error = 403, _("You may not change the directory.")
        elif form.is_valid():
            try:
                saved = save(user, obj, **form.cleaned_data)
            except DomainError as exc:
                status, error = exc.status, exc.message
            else:
                messages.success(request, _("Saved."))
                return redirect(row_url, saved.pk)
        else:
            status = 422
    return render(
        request,
        "telematics/console/directory.html",
        {
            "unread": inbox.count_unread(staff=user),
            "nav": "telematics",
            "which": which,
            "title": title,
            "rows": list(list_rows(user)[:500]),
            "obj": obj,
            "form": form,
            "error": error,
            "can_edit": can_edit,
            "list_url": list_url,
            "row_url": row_url,
        },
        status=status,
    )


@staff_page(Perm.USE_CONSOLE)
@require_http_methods(["GET", "POST"])
def tow_partners(request, pk: int | None = None):
    return _directory(request, "tow", pk)


@staff_page(Perm.USE_CONSOLE)
@require_http_methods(["GET", "POST"])
def insurers(request, pk: int | None = None):
    return _directory(request, "insurer", pk)


# --- the case page's rescue actions -----------------------------------------------------------------
def _number(raw, *, code: str, message: str) -> int | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) < 10):
        raise DomainError(code, message)
    return int(raw)


def _act(request, case_id: int, action, saved: str):
    from .console import _case_page

    found = _or_404(selectors.get_case, request.user, case_id)
    try:
        action(found)
    except DomainError as exc:
        return _case_page(request, found, status=exc.status, rescue_error=exc.message)
    return redirect(reverse("console-telematics-case", args=[found.pk]) + f"?saved={saved}")


@staff_page(Perm.USE_CONSOLE)
@require_POST
def dispatch(request, case_id: int):
    p = request.POST

    def run(case):
        partner = _number(
            p.get("tow_partner"), code="tow_partner_not_found", message=_("Choose a tow partner.")
        )
        if partner is None:
            raise DomainError("tow_partner_required", _("Choose a tow partner."))
        eta = _number(
            p.get("eta_minutes"), code="invalid_eta", message=_("The ETA is 1 to 720 minutes.")
        )
        rescue.dispatch_tow(
            request.user,
            case,
            tow_partner_id=partner,
            eta_minutes=eta or 0,
            destination_store_id=_number(
                p.get("destination"), code="store_not_found", message=_("No such store.")
            ),
            note=(p.get("note") or "").strip()[:300],
        )

    return _act(request, case_id, run, "tow")


@staff_page(Perm.USE_CONSOLE)
@require_POST
def tow_status(request, case_id: int):
    p = request.POST

    def run(case):
        rescue.update_tow(
            request.user,
            case,
            status=(p.get("status") or "").strip()[:12],
            eta_minutes=_number(
                p.get("eta_minutes"), code="invalid_eta", message=_("The ETA is 1 to 720 minutes.")
            ),
            note=(p.get("note") or "").strip()[:300],
        )

    return _act(request, case_id, run, "tow")


@staff_page(Perm.USE_CONSOLE)
@require_POST
def notify_insurer(request, case_id: int):
    def run(case):
        rescue.notify_insurer(
            request.user,
            case,
            insurer_id=_number(
                request.POST.get("insurer"), code="insurer_not_found", message=_("No such insurer.")
            ),
        )

    return _act(request, case_id, run, "insurer")


@staff_page(Perm.USE_CONSOLE)
@require_POST
def repair_order(request, case_id: int):
    def run(case):
        rescue.open_repair_order(
            request.user,
            case,
            repair_order_id=_number(
                request.POST.get("repair_order"),
                code="repair_order_not_found",
                message=_("No such repair order."),
            ),
        )

    return _act(request, case_id, run, "ro")
