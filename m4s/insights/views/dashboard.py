"""Insight console: the KPI dashboard (the group's column and each store side by side, a month
picker, 12-month trends), the customers behind a number (drill-down) and XLSX exports of every
table. Reads only the nightly facts (m4s.insights.kpis): a fixed number of queries whatever the
data size. A store manager sees only their stores; another group's store is a 404."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from m4s.core import charts
from m4s.core.dates import add_months
from m4s.insights import kpis
from m4s.insights.selectors import drill as drill_customers
from m4s.insights.selectors import visible_stores
from m4s.staff.choices import Perm

from .common import ctx, insights_page, month_of, store_or_404

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
TREND_MONTHS = 12
PAGE = 50


def fmt(value, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "pct":
        return f"{value:.1f}%"
    if unit in ("score", "minutes"):
        return f"{value:.1f}"
    if unit == "money":
        return f"¥{value:,.0f}"
    return f"{int(value):,}"


def _state(request):
    user = request.user
    stores = visible_stores(user)
    store_id = store_or_404(user, request.GET.get("store"))
    if store_id is not None and all(s.pk != store_id for s in stores):
        raise Http404
    this_month = timezone.localdate().replace(day=1)
    month = month_of(request.GET.get("month"), add_months(this_month, -1))
    shown = [s for s in stores if store_id is None or s.pk == store_id]
    return user.dealer_group_id, stores, store_id, this_month, month, shown


def _rows(group_id, month, shown):
    ids = [s.pk for s in shown]
    cols = kpis.table(group_id, month, ids) if group_id else {None: kpis.compute({})}
    rows = []
    for code, label, unit in kpis.KPIS:
        rows.append(
            {
                "code": code,
                "label": label,
                "unit": unit,
                "group": fmt(cols[None][code], unit),
                "group_raw": cols[None][code],
                "stores": [
                    (s, fmt(cols.get(s.pk, {}).get(code), unit), cols.get(s.pk, {}).get(code))
                    for s in shown
                ],
            }
        )
    return rows


def _trend(group_id, month, shown):
    months = [add_months(month, -i) for i in range(TREND_MONTHS - 1, -1, -1)]
    values = kpis.trend(group_id, months, store_ids=[s.pk for s in shown]) if group_id else {}
    labels = [m.strftime("%m") for m in months]
    out = []
    for code in kpis.MAIN:
        series = values.get(code) or [None] * len(months)
        out.append(
            {
                "code": code,
                "label": kpis.LABELS[code],
                "chart": charts.line_chart(
                    [charts.Series(str(kpis.LABELS[code]), series, key=code)],
                    labels=labels,
                    width=360,
                    height=180,
                ),
            }
        )
    return months, values, out


@insights_page(Perm.VIEW_INSIGHTS)
@require_GET
def index(request):
    group_id, stores, store_id, this_month, month, shown = _state(request)
    rows = _rows(group_id, month, shown)
    _months, _values, trends = _trend(group_id, month, shown)
    staff = kpis.staff_binding(group_id, month, [s.pk for s in shown]) if group_id else []
    return render(
        request,
        "insights/console/dashboard.html",
        ctx(
            request,
            "kpis",
            stores=stores,
            store_id=store_id,
            shown=shown,
            month=month,
            months=[add_months(this_month, -i) for i in range(36)],
            rows=rows,
            trends=trends,
            staff=staff,
            query=request.GET.urlencode(),
            scope_label=_("My stores")
            if len(stores) and not _sees_group(request.user)
            else _("Group"),
        ),
    )


def _sees_group(user) -> bool:
    from m4s.org.models import Store

    if not user.dealer_group_id:
        return False
    return len(visible_stores(user)) == Store.objects.for_group(user.dealer_group_id).count()


@insights_page(Perm.VIEW_INSIGHTS)
@require_GET
def drill(request, code: str):
    if code not in kpis.CODES:
        raise Http404
    group_id, stores, store_id, _this, month, shown = _state(request)
    if not group_id:
        raise Http404
    qs = drill_customers(group_id, code, month, [s.pk for s in shown])
    page = Paginator(qs.select_related("store"), PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "insights/console/dashboard_drill.html",
        ctx(
            request,
            "kpis",
            code=code,
            label=kpis.LABELS[code],
            month=month,
            store_id=store_id,
            store=next((s for s in shown if s.pk == store_id), None),
            page=page,
            query=request.GET.urlencode(),
            base_query=_without(request.GET, "page"),
        ),
    )


def _without(qd, key: str) -> str:
    q = qd.copy()
    q.pop(key, None)
    return q.urlencode()


# --- workbooks --------------------------------------------------------------------------------
def _cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    if value is not None and not isinstance(value, (int, float, str, dt.date)):
        return str(value) if not hasattr(value, "quantize") else float(value)
    return value


def _sheet(book, title: str, header: list, rows) -> None:
    sheet = book.create_sheet(str(title)[:31])
    sheet.append([_cell(str(h)) for h in header])
    for row in rows:
        sheet.append([_cell(v) for v in row])


def _xlsx(book, name: str) -> HttpResponse:
    buf = io.BytesIO()
    book.save(buf)
    response = HttpResponse(
        buf.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@insights_page(Perm.VIEW_INSIGHTS)
@require_GET
def export(request):
    group_id, _stores, _store_id, _this, month, shown = _state(request)
    rows = _rows(group_id, month, shown)
    months, values, _charts = _trend(group_id, month, shown)
    book = openpyxl.Workbook(write_only=True)
    _sheet(
        book,
        _("KPIs"),
        [_("KPI"), _("Unit"), _("All stores shown"), *[s.name for s in shown]],
        [
            [str(r["label"]), r["unit"], r["group_raw"], *[raw for _s, _f, raw in r["stores"]]]
            for r in rows
        ],
    )
    _sheet(
        book,
        _("Trend"),
        [_("KPI"), *[m.strftime("%Y-%m") for m in months]],
        [[str(kpis.LABELS[c]), *(values.get(c) or [])] for c in kpis.CODES],
    )
    staff = kpis.staff_binding(group_id, month, [s.pk for s in shown]) if group_id else []
    _sheet(
        book,
        _("Binding by staff"),
        [_("Staff"), _("Store"), _("Customers"), _("Bound"), _("Binding rate (%)")],
        [[r["staff"], r["store"], r["customers"], r["bound"], r["rate"]] for r in staff],
    )
    return _xlsx(book, f"insights-{month:%Y-%m}.xlsx")


@insights_page(Perm.VIEW_INSIGHTS)
@require_GET
def drill_export(request, code: str):
    if code not in kpis.CODES:
        raise Http404
    group_id, _stores, _store_id, _this, month, shown = _state(request)
    if not group_id:
        raise Http404
    qs = drill_customers(group_id, code, month, [s.pk for s in shown]).select_related("store")
    book = openpyxl.Workbook(write_only=True)
    _sheet(
        book,
        str(kpis.LABELS[code]),
        [_("Customer"), _("Store"), _("Counts in the figure")],
        [[c.name, c.store.name if c.store else "", bool(c.hit)] for c in qs[:20000]],
    )
    return _xlsx(book, f"insights-{code}-{month:%Y-%m}.xlsx")


urlpatterns = [
    path("", index, name="console-insights"),
    path("export.xlsx", export, name="console-insights-export"),
    path("kpi/<slug:code>/", drill, name="console-insights-drill"),
    path("kpi/<slug:code>/export.xlsx", drill_export, name="console-insights-drill-export"),
]
