"""The complaints desk at /console/complaints/: the queues (mine, my store, breached or about to
breach, sorted by time left) with filters, refreshed by htmx every few seconds so a new complaint
appears without a reload; and recording a phone, walk-in, e-mail or social-media complaint on a
customer's behalf."""

from urllib.parse import urlencode

from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from m4s.complaints import selectors, services
from m4s.complaints.choices import (
    DESCRIPTION_MAX,
    STAFF_CHANNELS,
    Channel,
    Level,
    Queue,
    Severity,
    Status,
)
from m4s.core.errors import DomainError
from m4s.customers import selectors as customer_selectors
from m4s.service import selectors as service_selectors
from m4s.staff.choices import Perm
from m4s.staff.selectors import list_staff
from m4s.vehicles.models import Vehicle

from .common import clock, complaints_page, ctx, my_stores, status_choices, status_label, whole

POLL_SECONDS = 5
QUEUE_LIMIT = 200


def _filters(request) -> dict:
    get = request.GET
    queue = get.get("queue", "")
    status = get.get("status", "")
    severity = get.get("severity", "")
    level = whole(get.get("level"))
    return {
        "queue": queue if queue in Queue.values else Queue.MINE,
        "status": status if status in Status.values or status == "open" else "",
        "severity": severity if severity in Severity.values else "",
        "category": whole(get.get("category")),
        "store": whole(get.get("store")),
        "level": level if level in Level.values else None,
        "q": (get.get("q") or "").strip()[:60],
    }


def _rows(user, f: dict) -> list:
    rows = selectors.queue(
        user,
        f["queue"],
        status="" if f["status"] == "open" else f["status"],
        severity=f["severity"],
        category_id=f["category"],
        store_id=f["store"],
        level=f["level"],
        search=f["q"],
    )[:QUEUE_LIMIT]
    for c in rows:
        c.clock = clock(getattr(c, "minutes_left", None), paused=c.is_paused)
        c.status_label = status_label(c)
    return rows


def _query(f: dict, **change) -> str:
    values = {**f, **change}
    return urlencode({k: v for k, v in values.items() if v not in ("", None)})


@complaints_page(Perm.HANDLE_COMPLAINTS)
@require_GET
def desk(request):
    user = request.user
    f = _filters(request)
    rows = _rows(user, f)
    group_id = user.dealer_group_id
    return render(
        request,
        "complaints/console/desk.html",
        ctx(
            request,
            f=f,
            rows=rows,
            queues=[(q.value, q.label, _query(f, queue=q.value)) for q in Queue],
            statuses=status_choices(),
            severities=Severity.choices,
            levels=Level.choices,
            categories=selectors.list_categories(group_id) if group_id else [],
            stores=my_stores(user),
            poll=POLL_SECONDS,
            queue_url=f"{reverse('console-complaints-queue')}?{_query(f)}",
        ),
    )


@never_cache
@complaints_page(Perm.HANDLE_COMPLAINTS)
@require_GET
def queue_rows(request):
    """htmx partial: the rows of the queue with the page's filters (polled)."""
    f = _filters(request)
    return render(
        request, "complaints/console/_queue.html", {"rows": _rows(request.user, f), "f": f}
    )


# --- recording a complaint for a customer ------------------------------------------------------
def _record_context(request, customer, *, data=None, error: str = ""):
    user = request.user
    data = data or {}
    return ctx(
        request,
        customer=customer,
        cars=list(Vehicle.objects.for_actor(user).filter(current_owner=customer).order_by("plate")),
        orders=list(
            service_selectors.repair_orders_for(user)
            .filter(customer=customer)
            .select_related("vehicle")
            .order_by("-checked_in_at")[:20]
        ),
        channels=[(c.value, c.label) for c in STAFF_CHANNELS],
        categories=services.categories_for(customer.dealer_group_id),
        severities=Severity.choices,
        staff=list(list_staff(user).filter(is_active=True)),
        data=data,
        error=error,
        description_max=DESCRIPTION_MAX,
    )


def _customer(user, raw):
    customer_id = whole(raw)
    found = (
        customer_selectors.customers_for(user).filter(pk=customer_id).first()
        if customer_id is not None
        else None
    )
    if found is None:
        raise Http404(_("No such customer."))
    return found


@complaints_page(Perm.HANDLE_COMPLAINTS)
@require_http_methods(["GET", "POST"])
def record(request):
    user = request.user
    source = request.POST if request.method == "POST" else request.GET
    customer = _customer(user, source.get("customer"))
    if request.method == "GET":
        return render(request, "complaints/console/record.html", _record_context(request, customer))
    data = request.POST
    channel = data.get("channel", "")
    try:
        complaint = services.record_complaint(
            user,
            customer_id=customer.pk,
            channel=channel if channel in Channel.values else "",
            description=(data.get("description") or "").strip(),
            category_id=whole(data.get("category")),
            severity=data.get("severity") or Severity.NORMAL,
            vehicle_id=whole(data.get("vehicle")),
            repair_order_id=whole(data.get("repair_order")),
            concerned_staff_id=whole(data.get("concerned_staff")),
        )
    except DomainError as exc:
        if exc.status == 404:
            raise
        return render(
            request,
            "complaints/console/record.html",
            _record_context(request, customer, data=data, error=exc.message),
            status=exc.status,
        )
    return redirect("console-complaint", complaint_id=complaint.pk)
