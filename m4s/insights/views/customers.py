"""Insight console: customers at risk. The group's churn model card (validation AUC beside the
recency-only rule's, calibration chart, date trained; or why there is no model yet), filters
(segment, risk band, store) and the customers riskiest first with their reasons, 50 a page,
each linking to the customer's console page. A few queries whatever the page holds."""

from django.core.paginator import Paginator
from django.db.models import F, Q
from django.http import Http404
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _

from m4s.core import charts
from m4s.core.i18n import render as render_text
from m4s.insights.api_churn import PAGE_SIZE, model_info, stores_of, visible
from m4s.insights.choices import RiskBand, Segment
from m4s.staff.choices import Perm

from .common import ctx, insights_page


def _calibration_chart(bins: list[dict]) -> dict:
    return charts.bar_chart(
        [
            charts.Series(
                _("Predicted churn %"), [round(b["predicted"] * 100) for b in bins], key="pred"
            ),
            charts.Series(
                _("Observed churn %"), [round(b["observed"] * 100) for b in bins], key="obs"
            ),
        ],
        labels=[str(i + 1) for i in range(len(bins))],
        width=560,
        height=220,
    )


@insights_page(Perm.VIEW_INSIGHTS)
def index(request):
    user = request.user
    stores = stores_of(user)
    raw = (request.GET.get("store") or "").strip()
    store_id = None
    if raw:
        if not (raw.isascii() and raw.isdigit() and len(raw) < 10):
            raise Http404
        store_id = int(raw)
        if not any(s.pk == store_id for s in stores):
            raise Http404
    segment = request.GET.get("segment", "")
    segment = segment if segment in Segment.values else ""
    band = request.GET.get("risk", "")
    band = band if band in RiskBand.values else ""
    rows = visible(user, stores)
    if store_id:
        rows = rows.filter(
            Q(store_id=store_id) | Q(store__isnull=True, customer__store_id=store_id)
        )
    if segment:
        rows = rows.filter(segment=segment)
    if band:
        rows = rows.filter(risk_band=band)
    rows = rows.select_related("customer", "store").order_by(
        F("churn_risk").desc(nulls_last=True), "pk"
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    items = [
        {
            "row": r,
            "pct": None if r.churn_risk is None else round(r.churn_risk * 100),
            "reasons": [render_text(x) for x in (r.reasons or []) if isinstance(x, dict)],
        }
        for r in page.object_list
    ]
    model = model_info(user.dealer_group_id)
    query = {k: v for k, v in (("store", store_id), ("segment", segment), ("risk", band)) if v}
    return render(
        request,
        "insights/console/customers.html",
        ctx(
            request,
            "customers",
            model=model,
            chart=_calibration_chart(model["calibration"]) if model.get("calibration") else None,
            page=page,
            items=items,
            stores=stores,
            store_id=store_id,
            segment=segment,
            band=band,
            segments=Segment.choices,
            bands=RiskBand.choices,
            query="&".join(f"{k}={v}" for k, v in query.items()),
        ),
    )


urlpatterns = [
    path("customers/", index, name="console-insights-customers"),
]
