"""Online-service requests in the console at /console/requests/ (HANDLE_REQUESTS): the queue
(filters kind, status, mine / unassigned; the SLA clock in business minutes), a request's page
with the kind's panel and the actions, and the figures (SLA attainment per kind, XLSX).
Another group's request is a 404."""

from functools import wraps
from io import BytesIO

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from m4s.core import charts
from m4s.core.errors import DomainError
from m4s.org.business_time import business_minutes_between
from m4s.requests import figures as request_figures
from m4s.requests import selectors, services
from m4s.requests.choices import OPEN_STATUSES, RequestStatus
from m4s.requests.kinds import all_kinds
from m4s.staff.choices import Perm
from m4s.staff.models import StaffUser


def requests_page(*perms):
    perms = perms or (Perm.HANDLE_REQUESTS,)

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not any(request.user.has_perm_m4s(p) for p in perms):
                raise PermissionDenied
            try:
                return view(request, *args, **kwargs)
            except DomainError as exc:
                return render(
                    request,
                    "requests/console/error.html",
                    {"nav": "requests", "error": exc.message},
                    status=exc.status,
                )

        return wrapper

    return decorator


def sla_clock(r, now) -> dict:
    """{state: ok|due|overdue|answered|none, minutes: business minutes left or late}."""
    if r.accepted_at is not None or r.status not in OPEN_STATUSES:
        return {"state": "answered", "minutes": None}
    if r.due_at is None:
        return {"state": "none", "minutes": None}
    try:
        if r.due_at >= now:
            left = business_minutes_between(r.store, now, r.due_at)
            return {"state": "due" if left <= 30 else "ok", "minutes": left}
        return {"state": "overdue", "minutes": business_minutes_between(r.store, r.due_at, now)}
    except DomainError:
        return {"state": "none", "minutes": None}


@requests_page()
@require_GET
def queue(request):
    kind = request.GET.get("kind") or ""
    status = request.GET.get("status") or ""
    scope = request.GET.get("scope") or ""
    if status and status not in RequestStatus.values:
        status = ""
    rows = list(selectors.staff_queue(request.user, kind=kind, status=status, scope=scope)[:200])
    now = timezone.now()
    for r in rows:
        r.clock = sla_clock(r, now)
        r.kind_label = services.kind_label_of(r.kind)
    return render(
        request,
        "requests/console/queue.html",
        {
            "nav": "requests",
            "rows": rows,
            "kinds": [(k.key, k.label) for k in all_kinds()],
            "statuses": RequestStatus.choices,
            "kind": kind,
            "status": status,
            "scope": scope,
            "can_figures": request.user.has_perm_m4s(Perm.VIEW_SALES_FIGURES),
        },
    )


def _colleagues(actor, r):
    return [
        p
        for p in StaffUser.objects.filter(dealer_group_id=r.dealer_group_id, is_active=True)
        .order_by("username")
        .prefetch_related("stores")
        if p.has_perm_m4s(Perm.HANDLE_REQUESTS)
        and (p.has_perm_m4s(Perm.VIEW_ALL_STORES) or r.store_id in {s.pk for s in p.stores.all()})
    ]


@requests_page()
@require_GET
def detail(request, request_id: int):
    r = selectors.get_request_for_staff(request.user, request_id)
    kind = services.get_kind_or_none(r.kind)
    return render(
        request,
        "requests/console/detail.html",
        {
            "nav": "requests",
            "r": r,
            "kind": kind,
            "clock": sla_clock(r, timezone.now()),
            "events": selectors.staff_events(r),
            "quotes": selectors.quotes_of(r),
            "kind_actions": services.actions_for(request.user, r),
            "is_open": r.status in OPEN_STATUSES,
            "colleagues": _colleagues(request.user, r),
            "panel": services.console_panel(r),
        },
    )


@requests_page()
@require_POST
def action(request, request_id: int, action: str):
    r = selectors.get_request_for_staff(request.user, request_id)
    # a field the form repeats (one operation per damaged panel) arrives as a list
    data: dict = {
        k: values if len(values) > 1 else values[0]
        for k, values in request.POST.lists()
        if k != "csrfmiddlewaretoken"
    }
    if "scheduled_for" in data:
        when = parse_datetime(data["scheduled_for"] or "")
        if when is not None and timezone.is_naive(when):
            when = timezone.make_aware(when, r.store.tz)
        data["scheduled_for"] = when
    if action == "quote":
        services.add_quote_from_form(request.user, r, request.POST)
    else:
        services.run_action(request.user, r, action, data)
    messages.success(request, _("Saved."))
    return redirect("console-request", r.pk)


def _short(label: str, limit: int = 12) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


@requests_page(Perm.VIEW_SALES_FIGURES, Perm.HANDLE_REQUESTS)
@require_GET
def figures(request):
    rows = request_figures.sla_by_kind(request.user)
    chart = charts.bar_chart(
        [
            charts.Series(
                _("SLA attainment (%)"),
                [r["attainment"] or 0 for r in rows],
                key="sla",
            )
        ],
        # eleven kinds side by side: short labels (the table below has the full names)
        labels=[_short(str(r["label"])) for r in rows],
        width=1100,
        height=280,
    )
    return render(
        request,
        "requests/console/figures.html",
        {"nav": "requests", "rows": rows, "chart": chart},
    )


@requests_page(Perm.VIEW_SALES_FIGURES, Perm.HANDLE_REQUESTS)
@require_GET
def figures_xlsx(request):
    from openpyxl import Workbook

    rows = request_figures.sla_by_kind(request.user)
    wb = Workbook()
    ws = wb.active
    ws.title = "SLA"
    ws.append(
        [
            _("Kind"),
            _("Requests"),
            _("Accepted on time"),
            _("Accepted late"),
            _("Open and overdue"),
            _("SLA attainment (%)"),
        ]
    )
    for r in rows:
        ws.append(
            [r["label"], r["total"], r["on_time"], r["late"], r["open_overdue"], r["attainment"]]
        )
    out = BytesIO()
    wb.save(out)
    response = HttpResponse(
        out.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="request-sla-{stamp}.xlsx"'
    return response
