"""Service console: the store's figures (CSI, NPS, show rate, first-time fix) and follow-ups."""

import datetime as dt

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from m4s.core import charts
from m4s.core.dates import add_months
from m4s.core.errors import DomainError
from m4s.core.types import in_calendar
from m4s.service import selectors, surveys
from m4s.service.choices import (
    CSI_LABELS,
    CSI_WEIGHTS,
    UNHAPPY_AT_OR_BELOW,
)
from m4s.staff.choices import Perm

from .common import (
    _ctx,
    _pick_store,
    _store_today,
    _stores,
    service_page,
)


# --- 5. figures ------------------------------------------------------------------------------------
def _trend_chart(trend) -> dict:
    """The CSI and NPS lines on one y axis through the shared chart module: 0–100, reaching
    below 0 (in steps of 25, down to −100) only when an NPS is negative."""
    values = [v for f in trend for v in (f.csi, f.nps) if v is not None]
    low = max(-100, min(0, (int(min(values, default=0)) // 25) * 25))
    if 100 - low > 125:
        low = max(-100, (low // 50) * 50)
    return charts.line_chart(
        [
            charts.Series(_("CSI"), [f.csi for f in trend], colour=charts.BRAND, key="csi"),
            charts.Series(_("NPS"), [f.nps for f in trend], colour="#e67e22", key="nps"),
        ],
        labels=[f.month.strftime("%Y-%m") for f in trend],
        y_min=low,
        y_max=100,
        y_step=25 if 100 - low <= 125 else 50,
        point_labels=True,
        value_format=lambda v: f"{v:.0f}",
    )


def _pct(rate: float | None) -> int | None:
    return None if rate is None else round(rate * 100)


def _month(raw, default: dt.date) -> dt.date:
    try:
        year, month = (int(p) for p in (raw or "").split("-")[:2])
        first = dt.date(year, month, 1)
    except (ValueError, OverflowError):
        return default
    # the six-month trend reaches back from it: keep it where the calendar can do the sums
    return first if in_calendar(first) and first.year > 2000 else default


@service_page(Perm.VIEW_SERVICE_FIGURES)
def figures(request):
    user = request.user
    stores = _stores(user)
    store = _pick_store(user, request.GET.get("store"), stores)
    if store is None:
        return render(
            request,
            "service/console/figures.html",
            _ctx(request, nav="service_figures", store=None),
        )
    this_month = _store_today(store).replace(day=1)
    month = _month(request.GET.get("month"), this_month)
    trend = [selectors.store_figures(store, add_months(month, -i)) for i in range(5, -1, -1)]
    figures_now = trend[-1]
    factors = [
        {
            "key": key,
            "label": CSI_LABELS[key],
            "weight": weight,
            "score": figures_now.factors.get(key),
            "width": round(figures_now.factors.get(key) or 0),
        }
        for key, weight in CSI_WEIGHTS.items()
    ]
    follow_ups = list(selectors.follow_up_list(user, store.pk)[:100])
    return render(
        request,
        "service/console/figures.html",
        _ctx(
            request,
            nav="service_figures",
            stores=stores,
            store=store,
            month=month,
            months=[add_months(this_month, -i) for i in range(24)],
            f=figures_now,
            show_pct=_pct(figures_now.show_rate),
            ftfr_pct=_pct(figures_now.ftfr),
            factors=factors,
            chart=_trend_chart(trend),
            follow_ups=follow_ups,
            unhappy_at=UNHAPPY_AT_OR_BELOW,
        ),
    )


@service_page(Perm.VIEW_SERVICE_FIGURES)
@require_POST
def follow_up(request, survey_id: int):
    user = request.user
    survey = selectors.follow_up_list(user).filter(pk=survey_id).first()
    if survey is None:
        raise Http404(_("No such survey."))
    try:
        surveys.record_follow_up(user, survey, request.POST.get("note", "")[:300])
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("Follow-up recorded for %(name)s.") % {"name": survey.customer.name}
        )
    month = request.POST.get("month", "")[:7]
    return redirect(
        f"{reverse('console-service-figures')}?store={survey.store_id}&month={month}#follow-ups"
    )
