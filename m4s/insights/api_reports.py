"""Insight API: the monthly service report of a store as a PDF (transport only; the work is in
m4s/insights/reports.py)."""

import datetime as dt
from typing import Annotated, Literal

from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.translation import get_language
from ninja import Query, Router

from m4s.core.api import errors
from m4s.core.auth import staff_auth
from m4s.core.dates import add_months
from m4s.org.selectors import list_stores
from m4s.staff.choices import Perm
from m4s.staff.permissions import check_perm

from . import reports

router = Router(tags=["staff: monthly service reports"], auth=staff_auth)

MONTH_PATTERN = r"^(20[0-9][0-9]|2100)-(0[1-9]|1[0-2])$"

REPORT_DOC = {
    **errors(403, 404),
    "responses": {
        "200": {
            "description": "The PDF: the month's KPIs with charts, unhappy revisits and what was "
            "done, the top complaint causes with their corrective actions, reminders and their "
            "conversion. A finished month's report is made once and kept (generated on demand "
            "when missing); this month or a later one is rendered as of now and not kept.",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
}


@router.get("/reports/service", response={200: None}, openapi_extra=REPORT_DOC)
def service_report(
    request,
    store: Annotated[int, Query(..., ge=1, le=2_147_483_647, description="The store's id.")],
    month: Annotated[
        str | None,
        Query(None, pattern=MONTH_PATTERN, description="YYYY-MM; default: last month."),
    ] = None,
    language: Annotated[
        Literal["zh-hans", "en", "ko"] | None,
        Query(None, description="The report's language; default: the request's."),
    ] = None,
):
    """A store's monthly service report (PDF). Another group's store, or a store outside the
    reader's scope, is 404; without the capability to see insights, 403."""
    check_perm(request.user, Perm.VIEW_INSIGHTS)
    found = list_stores(request.user).filter(pk=store).select_related("dealer_group").first()
    if found is None:
        raise Http404
    this_month = timezone.localdate().replace(day=1)
    first = dt.date(int(month[:4]), int(month[5:7]), 1) if month else add_months(this_month, -1)
    lang = reports.language_of(language or get_language())
    if first < this_month:
        report = reports.ensure(found, first, lang, actor=request.user)
        data, filename = reports.read_pdf(report), report.filename
    else:
        data = reports.preview_pdf(found, first, lang)
        filename = f"service-report-{found.pk}-{first:%Y-%m}-{lang}-draft.pdf"
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
