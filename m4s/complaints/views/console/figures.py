"""Complaint figures for store and group managers at /console/complaints/figures/: complaints by
category, store and month; first-response and resolution SLA attainment; mean and p90 handling
time in business hours; reopen rate; the top root causes with their open corrective actions;
complaints per 100 repair orders; and the same as an .xlsx workbook."""

import datetime as dt
import io
import re

import openpyxl
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from m4s.complaints import selectors
from m4s.core import charts
from m4s.core.dates import add_months
from m4s.core.i18n import translated
from m4s.core.types import in_calendar
from m4s.staff.choices import Perm

from .common import complaints_page, ctx, duration, my_stores, whole

MONTHS = 6
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _month(raw, default: dt.date) -> dt.date:
    match = re.fullmatch(r"(\d{4})-(\d{2})", (raw or "").strip())
    if not match:
        return default
    try:
        first = dt.date(int(match[1]), int(match[2]), 1)
    except ValueError:
        return default
    return first if in_calendar(first) and first.year > 2000 else default


def _pct(rate) -> int | None:
    return None if rate is None else round(rate * 100)


def _hours(minutes) -> float | None:
    return None if minutes is None else round(minutes / 60, 1)


def _name(obj) -> str:
    if isinstance(obj, str):
        return obj
    return translated(obj, "name") or str(obj)


def _figures(request):
    user = request.user
    stores = my_stores(user)
    store_id = whole(request.GET.get("store"))
    if store_id is not None and not any(s.pk == store_id for s in stores):
        store_id = None
    this_month = timezone.localdate().replace(day=1)
    month = _month(request.GET.get("month"), this_month)
    f = selectors.figures(user, month, store_id=store_id, months=MONTHS)
    return stores, store_id, this_month, month, f


def _charts(f) -> dict:
    by_month = list(f.get("by_month") or [])
    by_category = list(f.get("by_category") or [])
    by_store = list(f.get("by_store") or [])
    return {
        "month_chart": charts.bar_chart(
            [charts.Series(_("Complaints"), [n for _m, n in by_month], key="complaints")],
            labels=[m.strftime("%Y-%m") for m, _n in by_month],
            width=480,
            height=240,
        ),
        "category_chart": charts.bar_chart(
            [
                charts.Series(
                    _("Complaints"),
                    [n for _c, n in by_category],
                    colour="#e67e22",
                    key="category",
                )
            ],
            labels=[_name(c) for c, _n in by_category],
            height=260,
        ),
        "store_chart": charts.bar_chart(
            [charts.Series(_("Complaints"), [n for _s, n in by_store], key="store")],
            labels=[_name(s) for s, _n in by_store],
            width=480,
            height=240,
        ),
    }


@complaints_page(Perm.VIEW_COMPLAINT_FIGURES)
@require_GET
def figures(request):
    stores, store_id, this_month, month, f = _figures(request)
    top = list(f.get("top_root_causes") or [])
    return render(
        request,
        "complaints/console/figures.html",
        ctx(
            request,
            nav="complaint_figures",
            stores=stores,
            store_id=store_id,
            month=month,
            months=[add_months(this_month, -i) for i in range(24)],
            f=f,
            fr_pct=_pct(f.get("first_response_attainment")),
            res_pct=_pct(f.get("resolution_attainment")),
            reopen_pct=_pct(f.get("reopen_rate")),
            mean_h=duration(f.get("mean_handling_minutes"))
            if f.get("mean_handling_minutes") is not None
            else None,
            p90_h=duration(f.get("p90_handling_minutes"))
            if f.get("p90_handling_minutes") is not None
            else None,
            top=top,
            export_query=request.GET.urlencode(),
            **_charts(f),
        ),
    )


# --- the workbook ----------------------------------------------------------------------------------
def _cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _sheet(book, title: str, header: list, rows) -> None:
    sheet = book.create_sheet(title[:31])
    sheet.append(header)
    for row in rows:
        sheet.append([_cell(v) for v in row])


@complaints_page(Perm.VIEW_COMPLAINT_FIGURES)
@require_GET
def export(request):
    _stores_list, _store_id, _this, month, f = _figures(request)
    book = openpyxl.Workbook(write_only=True)
    summary = [
        (_("Month"), month.strftime("%Y-%m")),
        (_("Complaints"), f.get("total")),
        (_("First response on time (%)"), _pct(f.get("first_response_attainment"))),
        (_("Resolved on time (%)"), _pct(f.get("resolution_attainment"))),
        (_("Mean handling time (business hours)"), _hours(f.get("mean_handling_minutes"))),
        (_("p90 handling time (business hours)"), _hours(f.get("p90_handling_minutes"))),
        (_("Reopen rate (%)"), _pct(f.get("reopen_rate"))),
        (_("Repair orders"), f.get("repair_orders")),
        (_("Complaints per 100 repair orders"), f.get("per_100_repair_orders")),
    ]
    _sheet(book, _("Summary"), [_("Figure"), _("Value")], summary)
    _sheet(
        book,
        _("By category"),
        [_("Category"), _("Complaints")],
        [(_name(c), n) for c, n in f.get("by_category") or []],
    )
    _sheet(
        book,
        _("By store"),
        [_("Store"), _("Complaints")],
        [(_name(s), n) for s, n in f.get("by_store") or []],
    )
    _sheet(
        book,
        _("By month"),
        [_("Month"), _("Complaints")],
        [(m.strftime("%Y-%m"), n) for m, n in f.get("by_month") or []],
    )
    action_rows = []
    cause_rows = []
    for row in f.get("top_root_causes") or []:
        cause_rows.append((_name(row["root_cause"]), row["count"], len(row["open_actions"])))
        for a in row["open_actions"]:
            action_rows.append(
                (
                    _name(row["root_cause"]),
                    a.action,
                    str(a.responsible),
                    a.due_date.isoformat(),
                    a.done_at.date().isoformat() if a.done_at else "",
                    a.complaint.reference,
                )
            )
    _sheet(
        book,
        _("Root causes"),
        [_("Root cause"), _("Complaints"), _("Open corrective actions")],
        cause_rows,
    )
    _sheet(
        book,
        _("Corrective actions"),
        [
            _("Root cause"),
            _("Corrective action"),
            _("Owned by"),
            _("Due"),
            _("Done"),
            _("Complaint"),
        ],
        action_rows,
    )
    buffer = io.BytesIO()
    book.save(buffer)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="m4s-complaints-{month.strftime("%Y-%m")}.xlsx"'
    )
    return response
