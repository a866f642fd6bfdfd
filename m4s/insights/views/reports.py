"""Insight console: the monthly service reports: the reports of the stores the reader sees, per
month, with their downloads, and "generate now" (a store's report for a month, made again with
today's figures; the previous version is replaced with an audit entry)."""

import datetime as dt
from urllib.parse import quote

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from m4s.core.dates import add_months
from m4s.insights import reports as service
from m4s.insights.models import ServiceReport
from m4s.staff.choices import Perm

from .common import ctx, insights_page, month_of, my_stores, store_or_404

PAGE_SIZE = 50


def _months(today: dt.date, n: int = 12) -> list[dt.date]:
    """The finished months, last month first."""
    first = today.replace(day=1)
    return [add_months(first, -i) for i in range(1, n + 1)]


@insights_page(Perm.VIEW_INSIGHTS)
@require_GET
def index(request):
    stores = my_stores(request.user)
    store_id = store_or_404(request.user, request.GET.get("store"))
    qs = (
        ServiceReport.objects.for_actor(request.user)
        .filter(store_id__in=[s.pk for s in stores])
        .select_related("store")
        .order_by("-month", "store__name", "language")
    )
    if store_id:
        qs = qs.filter(store_id=store_id)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    return render(
        request,
        "insights/console/reports.html",
        ctx(
            request,
            "reports",
            page=page,
            stores=stores,
            store_id=store_id,
            months=[m.strftime("%Y-%m") for m in _months(today)],
            default_month=add_months(today.replace(day=1), -1).strftime("%Y-%m"),
            language=service.language_of(get_language()),
        ),
    )


@insights_page(Perm.VIEW_INSIGHTS)
@require_POST
def generate_now(request):
    store_id = store_or_404(request.user, request.POST.get("store"))
    if store_id is None:
        raise Http404
    store = next(s for s in my_stores(request.user) if s.pk == store_id)
    month = month_of(request.POST.get("month"))
    if month >= timezone.localdate().replace(day=1):
        messages.error(request, _("A report is made for a finished month."))
        return redirect("console-insights-reports")
    language = service.language_of(request.POST.get("language") or get_language())
    report = service.generate(store, month, language, actor=request.user)
    messages.success(
        request,
        _("The report of %(store)s for %(month)s is ready (version %(version)d).")
        % {"store": store.name, "month": f"{month:%Y-%m}", "version": report.version},
    )
    return redirect("console-insights-reports")


def pdf_response(report: ServiceReport) -> HttpResponse:
    try:
        data = service.read_pdf(report)
    except FileNotFoundError:
        raise Http404 from None
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(report.filename)}"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@insights_page(Perm.VIEW_INSIGHTS)
@require_GET
def download(request, pk: int):
    report = ServiceReport.objects.for_actor(request.user).filter(pk=pk).first()
    if report is None or not report.file or not service.can_read(request.user, report):
        raise Http404
    return pdf_response(report)


urlpatterns = [
    path("reports/", index, name="console-insights-reports"),
    path("reports/generate/", generate_now, name="console-insights-reports-generate"),
    path("reports/<int:pk>/download/", download, name="console-insights-report-download"),
]
