"""The sales console at /console/sales/ (WORK_LEADS): my board (stages as columns, overdue
follow-ups on top), a lead (activities, stage, follow-up, assignment, log a call/visit/note), a
new walk-in (duplicate warning by phone); for managers (VIEW_SALES_FIGURES) the pipeline per
consultant, the weighted forecast per month, the funnel by source, lost reasons and the .xlsx
export. Another group's lead, or a lead of another store for a consultant, is a 404."""

import datetime as dt
import io
import re
from functools import wraps

import openpyxl
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from m4s.core import charts
from m4s.core.dates import add_months
from m4s.core.errors import DomainError
from m4s.core.i18n import render as render_text
from m4s.core.types import in_calendar
from m4s.notify import selectors as inbox
from m4s.org.models import Store
from m4s.owners.phones import normalize_mobile
from m4s.sales import selectors, services
from m4s.sales.choices import OPEN_STAGES, LeadSource, LostReason, Stage
from m4s.sales.models import Lead
from m4s.staff.choices import Perm

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
STAFF_SOURCES = (
    LeadSource.WALK_IN,
    LeadSource.PHONE,
    LeadSource.EVENT,
    LeadSource.REFERRAL,
    LeadSource.WEB,
)


def sales_page(perm=Perm.WORK_LEADS):
    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not request.user.has_perm_m4s(perm):
                raise PermissionDenied
            try:
                return view(request, *args, **kwargs)
            except DomainError as exc:
                if exc.status == 404:
                    raise Http404(exc.message) from None
                raise

        return wrapper

    return decorator


def ctx(request, **extra):
    return {"unread": inbox.count_unread(staff=request.user), "nav": "sales", **extra}


def _whole(raw) -> int | None:
    raw = (raw or "").strip()
    if raw.isascii() and raw.isdigit() and 0 < len(raw) < 12:
        return int(raw)
    return None


def _date(raw) -> dt.date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        value = dt.date.fromisoformat(raw)
    except ValueError:
        raise DomainError("invalid_date", _("Give dates as YYYY-MM-DD."), status=422) from None
    if not 2000 <= value.year <= 2100:
        raise DomainError("invalid_date", _("Give dates as YYYY-MM-DD."), status=422)
    return value


def _month(raw, default: dt.date) -> dt.date:
    match = re.fullmatch(r"(\d{4})-(\d{2})", (raw or "").strip())
    if not match:
        return default
    try:
        first = dt.date(int(match[1]), int(match[2]), 1)
    except ValueError:
        return default
    return first if in_calendar(first) and first.year > 2000 else default


def _my_stores(user) -> list:
    if not user.dealer_group_id:
        return []
    qs = Store.objects.for_group(user.dealer_group_id)
    ids = selectors.store_ids_for(user)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return list(qs.order_by("name"))


# --- board ----------------------------------------------------------------------------------------
@sales_page()
@require_GET
def board(request):
    user = request.user
    consultant = user
    people = []
    if user.has_perm_m4s(Perm.VIEW_SALES_FIGURES):
        people = selectors.consultants(user)
        wanted = _whole(request.GET.get("consultant"))
        if wanted:
            consultant = next((p for p in people if p.pk == wanted), user)
    b = selectors.board(user, consultant=consultant)
    return render(
        request,
        "sales/console/board.html",
        ctx(
            request,
            b=b,
            people=people,
            consultant=consultant,
            quick_stages=[(s.value, s.label) for s in Stage if s != Stage.LOST],
        ),
    )


@sales_page()
@require_POST
def quick_move(request, lead_id: int):
    """The board's small form: move a card to another stage (lost goes through the lead page,
    which asks for the reason)."""
    lead = selectors.get_lead(request.user, lead_id)
    stage = request.POST.get("stage", "")
    if stage == Stage.LOST:
        return redirect("console-sales-lead", lead_id=lead.pk)
    try:
        services.move_stage(request.user, lead, stage)
    except DomainError as exc:
        messages.error(request, exc.message)
    back = request.POST.get("back", "")
    return redirect(back if back.startswith("/console/sales/") else "console-sales")


# --- a lead ---------------------------------------------------------------------------------------
def _lead_page(request, lead, *, error="", status=200):
    user = request.user
    acts = list(selectors.activities(lead))
    for a in acts:
        a.text = render_text(a.summary, "")
    return render(
        request,
        "sales/console/lead.html",
        ctx(
            request,
            lead=lead,
            activities=acts,
            error=error,
            stages=Stage.choices,
            reasons=LostReason.choices,
            kinds=[(k.value, k.label) for k in services.STAFF_KINDS],
            can_assign=user.has_perm_m4s(Perm.VIEW_SALES_FIGURES),
            people=selectors.consultants(user, lead.store_id)
            if user.has_perm_m4s(Perm.VIEW_SALES_FIGURES)
            else [],
            today=timezone.localdate(),
        ),
        status=status,
    )


@sales_page()
@require_GET
def lead_detail(request, lead_id: int):
    return _lead_page(request, selectors.get_lead(request.user, lead_id))


@sales_page()
@require_POST
def lead_action(request, lead_id: int, action: str):
    user = request.user
    lead = selectors.get_lead(user, lead_id)
    p = request.POST
    try:
        if action == "stage":
            services.move_stage(
                user,
                lead,
                p.get("stage", ""),
                lost_reason=p.get("lost_reason") or None,
                note=p.get("note", ""),
            )
            messages.success(request, _("Stage changed."))
        elif action == "dates":
            services.set_follow_up(
                user,
                lead,
                next_follow_up=_date(p.get("next_follow_up")),
                expected_close=_date(p.get("expected_close")),
                value=p.get("value") or None,
            )
            messages.success(request, _("Lead saved."))
        elif action == "assign":
            raw = p.get("assigned_to", "")
            target = user.pk if raw == "me" else _whole(raw)
            services.assign_lead(user, lead, target)
            messages.success(request, _("Lead assigned."))
        elif action == "activity":
            services.record_activity(user, lead, p.get("kind", ""), p.get("note", ""))
            messages.success(request, _("Logged."))
        else:
            raise Http404
    except DomainError as exc:
        if exc.status == 404:
            raise Http404(exc.message) from None
        return _lead_page(
            request, selectors.get_lead(user, lead_id), error=exc.message, status=exc.status
        )
    return redirect("console-sales-lead", lead_id=lead.pk)


# --- a walk-in ------------------------------------------------------------------------------------
def _new_page(request, form, *, error="", duplicate=None, status=200):
    from m4s.catalogue.models import CarModel

    user = request.user
    models_ = (
        list(CarModel.objects.for_group(user.dealer_group_id).order_by("sort", "name"))
        if user.dealer_group_id
        else []
    )
    return render(
        request,
        "sales/console/new.html",
        ctx(
            request,
            form=form,
            error=error,
            duplicate=duplicate,
            stores=_my_stores(user),
            sources=[(s.value, s.label) for s in STAFF_SOURCES],
            car_models=models_,
        ),
        status=status,
    )


@sales_page()
@require_http_methods(["GET", "POST"])
def new_lead(request):
    if request.method == "GET":
        return _new_page(request, {"source": LeadSource.WALK_IN})
    p = request.POST
    form = {
        k: (p.get(k) or "").strip()[:200]
        for k in (
            "phone",
            "name",
            "source",
            "campaign",
            "car_model_id",
            "value",
            "expected_close",
            "note",
            "store_id",
        )
    }
    user = request.user
    try:
        phone = normalize_mobile(form["phone"])
        if not p.get("confirm"):
            dup = (
                selectors.leads_for(user)
                .filter(phone=phone, stage__in=OPEN_STAGES)
                .select_related("customer", "assigned_to")
                .first()
            )
            if dup is None and user.dealer_group_id:
                dup = (
                    Lead.objects.for_group(user.dealer_group_id)
                    .filter(phone=phone, stage__in=OPEN_STAGES)
                    .exists()
                )
            if dup:
                return _new_page(request, form, duplicate=dup, status=409)
        source = form["source"] if form["source"] in [s.value for s in STAFF_SOURCES] else ""
        lead = services.create_walk_in(
            user,
            store_id=_whole(form["store_id"]),
            phone=phone,
            name=form["name"],
            source=source or LeadSource.WALK_IN,
            campaign=form["campaign"],
            car_model_id=_whole(form["car_model_id"]),
            value=form["value"] or None,
            expected_close=_date(form["expected_close"]),
            note=form["note"],
        )
    except DomainError as exc:
        return _new_page(request, form, error=exc.message, status=exc.status)
    messages.success(request, _("Lead saved."))
    if lead.assigned_to_id and not selectors.leads_for(user).filter(pk=lead.pk).exists():
        return redirect("console-sales")
    return redirect("console-sales-lead", lead_id=lead.pk)


# --- manager figures ------------------------------------------------------------------------------
def _money(v) -> float:
    return float(v or 0)


def _figures(request):
    user = request.user
    this_month = timezone.localdate().replace(day=1)
    month = _month(request.GET.get("month"), this_month)
    f = selectors.forecast(user, month)
    months = selectors.forecast_months(user, add_months(this_month, -2), 6)
    since = timezone.now() - dt.timedelta(days=90)
    return {
        "month": month,
        "months": [add_months(this_month, i) for i in range(-12, 7)],
        "f": f,
        "by_month": months,
        "pipeline": selectors.pipeline(user),
        "funnel": selectors.funnel_by_source(user, since),
        "lost": selectors.lost_reasons(user, since),
    }


@sales_page(Perm.VIEW_SALES_FIGURES)
@require_GET
def figures(request):
    d = _figures(request)
    forecast_chart = charts.bar_chart(
        [
            charts.Series(
                _("Weighted forecast"), [_money(m["weighted"]) for m in d["by_month"]], key="fc"
            )
        ],
        labels=[m["month"].strftime("%Y-%m") for m in d["by_month"]],
        width=480,
        height=240,
    )
    funnel_chart = charts.bar_chart(
        [
            charts.Series(_("Leads"), [r["total"] for r in d["funnel"]], key="total"),
            charts.Series(
                _("Test drive or further"), [r["further"] for r in d["funnel"]], key="further"
            ),
            charts.Series(_("Won"), [r["won"] for r in d["funnel"]], colour="#2e7d32", key="won"),
        ],
        labels=[r["label"] for r in d["funnel"]],
        width=1040,
        height=260,
    )
    lost_chart = charts.bar_chart(
        [charts.Series(_("Lost"), [r["count"] for r in d["lost"]], colour="#c0392b", key="lost")],
        labels=[r["label"] for r in d["lost"]],
        width=720,
        height=240,
    )
    return render(
        request,
        "sales/console/figures.html",
        ctx(
            request,
            nav="sales_figures",
            open_stages=[Stage(s).label for s in OPEN_STAGES],
            forecast_chart=forecast_chart,
            funnel_chart=funnel_chart,
            lost_chart=lost_chart,
            export_query=request.GET.urlencode(),
            **d,
        ),
    )


def _cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _sheet(book, title: str, header: list, rows) -> None:
    sheet = book.create_sheet(title[:31])
    sheet.append(header)
    for row in rows:
        sheet.append([_cell(v) for v in row])


@sales_page(Perm.VIEW_SALES_FIGURES)
@require_GET
def export(request):
    d = _figures(request)
    book = openpyxl.Workbook()
    book.remove(book.active)
    header = [_("Consultant")]
    for s in OPEN_STAGES:
        label = str(Stage(s).label)
        header += [f"{label}: {_('leads')}", f"{label}: {_('value')}"]
    header += [_("Leads"), _("Value")]
    _sheet(
        book,
        _("Pipeline"),
        header,
        (
            [str(p["name"])]
            + [x for c in p["cells"] for x in (c["count"], c["value"])]
            + [p["count"], p["value"]]
            for p in d["pipeline"]
        ),
    )
    f = d["f"]
    _sheet(
        book,
        _("Forecast"),
        [_("Stage"), _("Probability (%)"), _("Leads"), _("Value"), _("Weighted")],
        (
            [str(s["label"]), s["probability"], s["count"], s["value"], s["weighted"]]
            for s in f["stages"]
        ),
    )
    sheet = book.worksheets[-1]
    sheet.append([_("Total"), "", "", f["value_total"], f["weighted_total"]])
    _sheet(
        book,
        _("By consultant"),
        [_("Consultant"), _("Leads"), _("Value"), _("Weighted"), _("Won")],
        (
            [str(p["name"]), p["count"], p["value"], p["weighted"], p["won"]]
            for p in f["consultants"]
        ),
    )
    _sheet(
        book,
        _("By month"),
        [_("Month"), _("Weighted")],
        ([m["month"].strftime("%Y-%m"), m["weighted"]] for m in d["by_month"]),
    )
    buffer = io.BytesIO()
    book.save(buffer)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    name = f"m4s-sales-{d['month']:%Y-%m}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
