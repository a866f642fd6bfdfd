"""Insight console: staff scorecards. The league table of one store for a month (VIEW_INSIGHTS;
a store manager sees their own stores, a group admin every store), a chart of the composite per
staff member and the table as .xlsx; "My scorecard" for every staff member (their own card
only). Thin: m4s.insights.scorecards computes the cards."""

import io

import openpyxl
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from m4s.core import charts
from m4s.core.dates import add_months
from m4s.core.errors import NotFound
from m4s.insights import scorecards
from m4s.staff.choices import Perm

from .common import ctx, insights_page, month_of

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
MONTHS_BACK = 12


def _store_and_month(request):
    user = request.user
    stores = scorecards.visible_stores(user)
    raw = (request.GET.get("store") or "").strip()
    if raw:
        if not (raw.isascii() and raw.isdigit() and len(raw) < 10):
            raise Http404
        store = next((s for s in stores if s.pk == int(raw)), None)
        if store is None:
            raise Http404
    else:
        store = stores[0] if stores else None
    return stores, store, month_of(request.GET.get("month"))


def _cards(user, store, month):
    if store is None:
        return []
    try:
        return scorecards.for_store(user, store.pk, month)
    except NotFound as exc:
        raise Http404 from exc


@require_GET
@insights_page(Perm.VIEW_INSIGHTS)
def index(request):
    stores, store, month = _store_and_month(request)
    cards = _cards(request.user, store, month)
    chart = charts.bar_chart(
        [
            charts.Series(
                _("Composite score"),
                [c["composite"] for c in cards],
                key="composite",
            )
        ],
        labels=[c["name"] for c in cards],
        height=240,
    )
    this_month = month_of("")
    months = [add_months(this_month, -i) for i in range(MONTHS_BACK)]
    if month not in months:
        months.append(month)
    return render(
        request,
        "insights/console/scorecards.html",
        ctx(
            request,
            "scorecards",
            stores=stores,
            store=store,
            month=month,
            months=months,
            cards=cards,
            chart=chart,
            weights=[(scorecards.COMPONENT_LABELS[k], w) for k, w in scorecards.WEIGHTS.items()],
        ),
    )


@require_GET
@insights_page(Perm.USE_CONSOLE)
def mine(request):
    month = month_of(request.GET.get("month"))
    card = scorecards.card_for(request.user, month)
    this_month = month_of("")
    return render(
        request,
        "insights/console/scorecard_mine.html",
        ctx(
            request,
            "scorecards",
            card=card,
            month=month,
            months=sorted(
                {add_months(this_month, -i) for i in range(MONTHS_BACK)} | {month}, reverse=True
            ),
            weights=[(scorecards.COMPONENT_LABELS[k], w) for k, w in scorecards.WEIGHTS.items()],
        ),
    )


def _cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


@require_GET
@insights_page(Perm.VIEW_INSIGHTS)
def export(request):
    _stores, store, month = _store_and_month(request)
    cards = _cards(request.user, store, month)
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(_("League table"))
    sheet.append(
        [
            _("Rank"),
            _("Staff member"),
            _("Role"),
            _("Composite score"),
            _("Customers served"),
            _("Bound to the app"),
            _("Binding rate (%)"),
            _("Bindings this month"),
            _("Surveys"),
            _("CSI"),
            _("First responses"),
            _("First response (business minutes)"),
            _("Complaints"),
            _("Leads won"),
            _("Value won"),
            _("Quizzes assigned"),
            _("Quizzes passed"),
            _("Mean best quiz score (%)"),
        ]
    )
    for c in cards:
        sheet.append(
            [
                _cell(v)
                for v in (
                    c["rank"],
                    c["name"],
                    c["role_label"],
                    c["composite"],
                    c["customers_served"],
                    c["customers_bound"],
                    c["binding_rate"],
                    c["bindings_in_month"],
                    c["surveys"],
                    c["csi"],
                    c["responses"],
                    c["first_response_minutes"],
                    c["complaints"],
                    c["leads_won"],
                    float(c["leads_won_value"]),
                    c["quizzes_assigned"],
                    c["quizzes_passed"],
                    c["quiz_mean_best"],
                )
            ]
        )
    out = io.BytesIO()
    book.save(out)
    response = HttpResponse(
        out.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    code = store.pk if store is not None else "none"
    response["Content-Disposition"] = (
        f'attachment; filename="m4s-scorecards-{code}-{month.strftime("%Y-%m")}.xlsx"'
    )
    return response


urlpatterns = [
    path("scorecards/", index, name="console-insights-scorecards"),
    path("scorecards/export.xlsx", export, name="console-insights-scorecards-export"),
    path("scorecards/me/", mine, name="console-insights-scorecard-mine"),
]
