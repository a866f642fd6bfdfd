"""The owner app's online-service requests at /app/requests/: my requests (status chips), a new
request of a kind (the generic page includes the kind's form), a request's page with its
history, the quotes to accept and cancel. Thin views over the same services as the API; a
DomainError is shown with its message and 4xx status; another owner's request is a 404."""

from functools import wraps

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from m4s.core.errors import DomainError
from m4s.core.uploads import ACCEPT
from m4s.customers.selectors import vehicles_of_owner
from m4s.owners.decorators import owner_required
from m4s.requests import selectors, services
from m4s.requests.choices import OPEN_STATUSES, RequestStatus
from m4s.requests.kinds import KindContext, get_kind


def domain_errors(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            return render(
                request,
                "requests/app/error.html",
                {"error": exc.message, "back": reverse("app-requests")},
                status=exc.status,
            )

    return wrapper


@owner_required
@require_GET
def requests_list(request):
    status = request.GET.get("status") or ""
    qs = selectors.requests_for_owner(request.owner)
    if status == "open":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif status in RequestStatus.values:
        qs = qs.filter(status=status)
    chips = [("", _("All")), ("open", _("Open"))] + [(s.value, s.label) for s in RequestStatus]
    return render(
        request,
        "requests/app/list.html",
        {"requests": list(qs[:100]), "status": status, "chips": chips},
    )


def form_values(kind, post) -> dict:
    """The kind's schema fields from a posted form (lists for list fields, '' as missing)."""
    data = {}
    for name, info in kind.schema.model_fields.items():
        origin = getattr(info.annotation, "__origin__", None)
        if origin is list:
            values = [v for v in post.getlist(name) if v != ""]
            if values:
                data[name] = values
            continue
        value = post.get(name)
        if value is None or value == "":
            continue
        data[name] = value
    return data


@owner_required
@domain_errors
@require_http_methods(["GET", "POST"])
def new_request(request, kind: str):
    k = get_kind(kind)
    stores = selectors.stores_for_owner(request.owner)
    cars = list(vehicles_of_owner(request.owner))
    store_id = (
        request.POST.get("store_id")
        or request.GET.get("store_id")
        or request.GET.get("store")
        or ""
    )
    store = next((s for s in stores if str(s.pk) == str(store_id)), stores[0] if stores else None)
    vehicle_id = (
        request.POST.get("vehicle_id")
        or request.GET.get("vehicle_id")
        or request.GET.get("vehicle")
        or ""
    )
    vehicle = next((c for c in cars if str(c.pk) == str(vehicle_id)), cars[0] if cars else None)
    error = ""
    values = dict(request.GET.items())
    if request.method == "POST":
        values = dict(request.POST.items())
        try:
            files = request.FILES.getlist("photos")
            r = services.submit_request(
                request.owner,
                kind=k.key,
                store_id=int(store_id) if str(store_id).isdigit() else 0,
                vehicle_id=int(vehicle_id) if str(vehicle_id).isdigit() else None,
                data=form_values(k, request.POST),
                idempotency_key=request.POST.get("idempotency_key", "")[:100],
                files=files,
            )
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, _("Your request was sent."))
            return redirect("app-request", r.pk)
    choices = {}
    if k.choices is not None and store is not None:
        ctx = KindContext(
            owner=request.owner,
            customer=None,
            store=store,
            vehicle=vehicle,
            group_id=store.dealer_group_id,
            now=timezone.now(),
            values=values,
        )
        choices = k.choices(ctx)
    import secrets

    return render(
        request,
        "requests/app/new.html",
        {
            "kind": k,
            "stores": stores,
            "store": store,
            "cars": cars,
            "vehicle": vehicle,
            "choices": choices,
            "values": values,
            "error": error,
            "accept": ACCEPT,
            "key": request.POST.get("idempotency_key") or secrets.token_urlsafe(16),
        },
        status=422 if error else 200,
    )


@owner_required
@domain_errors
@require_GET
def detail(request, request_id: int):
    r = selectors.get_request_for_owner(request.owner, request_id)
    kind = services.get_kind_or_none(r.kind)
    return render(
        request,
        "requests/app/detail.html",
        {
            "r": r,
            "kind": kind,
            "events": selectors.owner_events(r),
            "quotes": selectors.quotes_of(r),
            "can_cancel": r.status in OPEN_STATUSES,
        },
    )


@owner_required
@domain_errors
@require_POST
def cancel(request, request_id: int):
    r = selectors.get_request_for_owner(request.owner, request_id)
    services.cancel_request(request.owner, r)
    messages.success(request, _("Your request was cancelled."))
    return redirect("app-request", r.pk)


@owner_required
@domain_errors
@require_POST
def accept_quote(request, request_id: int):
    r = selectors.get_request_for_owner(request.owner, request_id)
    qid = request.POST.get("quote_id", "")
    services.accept_quote(request.owner, r, int(qid) if qid.isdigit() else 0)
    messages.success(request, _("You accepted the offer."))
    return redirect("app-request", r.pk)


@owner_required
@domain_errors
@require_POST
def owner_action(request, request_id: int, action: str):
    """An owner-side action a kind offers (e.g. the test drive's feedback)."""
    r = selectors.get_request_for_owner(request.owner, request_id)
    services.run_owner_action(request.owner, r, action, dict(request.POST.items()))
    messages.success(request, _("Thank you."))
    return redirect("app-request", r.pk)
