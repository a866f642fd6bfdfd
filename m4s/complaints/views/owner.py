"""The owner app's complaints at /app/complaints/: my complaints with where each stands, filing
one in under a minute (category, optionally the car and the visit, the owner's own words,
photos), the complaint page with its status steps and conversation, replying with photos,
confirming or reopening, and rating the handling after closing.

Thin views over m4s.complaints.selectors and services (the same ones the owner API uses). A
DomainError is shown with its message and its 4xx status, never as a 500; another owner's
complaint is a 404.
"""

import re
import uuid
from functools import wraps
from types import SimpleNamespace

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from m4s.complaints import selectors, services
from m4s.complaints.choices import (
    DESCRIPTION_MAX,
    MAX_PHOTOS,
    MESSAGE_MAX,
    OPEN_STATUSES,
    REOPEN_WINDOW_DAYS,
    Level,
    Status,
)
from m4s.core.errors import DomainError
from m4s.owners.decorators import owner_required

KEY_RE = re.compile(r"^[A-Za-z0-9-]{8,64}$")
# Status -> pill style on the owner's list and page: yellow when the owner has something to do.
PILL = {
    Status.WAITING_CUSTOMER: "warn",
    Status.RESOLVED: "warn",
    Status.CLOSED: "ok",
}
# Who handles a complaint at each level, in the owner's words.
HANDLER = {
    Level.STORE_CS: lambda: _("the store's customer service"),
    Level.STORE_MANAGER: lambda: _("the store manager"),
    Level.GROUP_CARE: lambda: _("the group's customer care"),
}


# --- helpers -----------------------------------------------------------------------------------
def _error_page(request, exc: DomainError, *, back: str = ""):
    if request.htmx:
        return render(
            request, "complaints/app/_alert.html", {"error": exc.message}, status=exc.status
        )
    return render(
        request,
        "complaints/app/error.html",
        {"error": exc.message, "back": back or reverse("app-complaints")},
        status=exc.status,
    )


def domain_errors(view):
    """An uncaught DomainError (e.g. NotFound for another owner's complaint) as a clear 4xx."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            return _error_page(request, exc)

    return wrapper


def _id(raw) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None


def _photos(request) -> list:
    return [f for f in request.FILES.getlist("photos") if f]


def steps(complaint) -> list[SimpleNamespace]:
    """The owner's status steps: received → being handled by <who> → (waiting for you) →
    resolved: please confirm → closed; each done, now or still to come."""
    status = complaint.status
    handler = HANDLER.get(complaint.level, HANDLER[Level.STORE_CS])()
    resolved = status in (Status.RESOLVED, Status.CLOSED)
    out = [
        SimpleNamespace(key="received", label=_("Received"), state="done", at=complaint.created_at),
        SimpleNamespace(
            key="handling",
            label=_("Being handled by %(who)s") % {"who": handler},
            state="done" if resolved or status == Status.WAITING_CUSTOMER else "now",
            at=complaint.acknowledged_at or complaint.first_responded_at,
            note=_("Reopened") if status == Status.REOPENED else "",
        ),
    ]
    if status == Status.WAITING_CUSTOMER:
        out.append(
            SimpleNamespace(
                key="waiting", label=_("Waiting for you"), state="now", at=complaint.paused_at
            )
        )
    out.append(
        SimpleNamespace(
            key="resolved",
            label=_("Resolved: please confirm"),
            state="now" if status == Status.RESOLVED else ("done" if resolved else "todo"),
            at=complaint.resolved_at if resolved else None,
        )
    )
    out.append(
        SimpleNamespace(
            key="closed",
            label=pgettext("complaint", "Closed"),
            state="done" if status == Status.CLOSED else "todo",
            at=complaint.closed_at if status == Status.CLOSED else None,
        )
    )
    for n, step in enumerate(out, 1):
        step.n = n
        step.note = getattr(step, "note", "")
    return out


def status_label(complaint) -> str:
    """The status in words ("Closed" with its complaint sense: the bare msgid means a closed
    store in the catalogues)."""
    if complaint.status == Status.CLOSED:
        return pgettext("complaint", "Closed")
    return complaint.get_status_display()


def _stage(complaint) -> str:
    if complaint.status == Status.CLOSED:
        return pgettext("complaint", "Closed")
    return selectors.owner_stage(complaint)


def _can_reopen(complaint) -> bool:
    if complaint.status == Status.RESOLVED:
        return True
    if complaint.status != Status.CLOSED or complaint.closed_at is None:
        return False
    return (timezone.now() - complaint.closed_at).days < REOPEN_WINDOW_DAYS


# --- my complaints -----------------------------------------------------------------------------
@owner_required
@require_GET
def complaints(request):
    items = list(
        selectors.complaints_for_owner(request.owner).select_related("category", "store")[:50]
    )
    for c in items:
        c.stage = _stage(c)
        c.status_label = status_label(c)
        c.pill = PILL.get(c.status, "")
    return render(request, "complaints/app/list.html", {"complaints": items})


# --- file a complaint --------------------------------------------------------------------------
def _visits(choices) -> list[SimpleNamespace]:
    """Repair orders and appointments of the owner as one 'which visit' list, newest first."""
    out = []
    for ro in choices.get("repair_orders", []):
        out.append(
            SimpleNamespace(
                value=f"ro:{ro.pk}",
                when=ro.checked_in_at,
                label=f"{ro.number} · {getattr(ro.vehicle, 'plate', '')}",
                store=ro.store,
            )
        )
    seen_appointments = {ro.appointment_id for ro in choices.get("repair_orders", [])}
    for a in choices.get("appointments", []):
        if a.pk in seen_appointments:
            continue
        out.append(
            SimpleNamespace(
                value=f"ap:{a.pk}",
                when=a.starts_at,
                label=getattr(a.vehicle, "plate", ""),
                store=a.store,
            )
        )
    out.sort(key=lambda v: v.when, reverse=True)
    return out[:20]


def _form_context(request, *, data=None, key: str, error: str = ""):
    owner = request.owner
    data = data or {}
    choices = selectors.customer_choices(owner)
    stores = list(choices.get("stores", []))
    store = None
    store_id = _id(data.get("store"))
    if store_id is not None:
        store = next((s for s in stores if s.pk == store_id), None)
    if store is None and stores:
        home = getattr(owner, "home_store_id", None)
        store = next((s for s in stores if s.pk == home), stores[0])
    categories = services.categories_for(store.dealer_group_id) if store is not None else []
    vehicles = [
        v
        for v in choices.get("vehicles", [])
        if store is None or v.dealer_group_id == store.dealer_group_id
    ]
    visits = [
        v
        for v in _visits(choices)
        if store is None or v.store.dealer_group_id == store.dealer_group_id
    ]
    return dict(
        stores=stores,
        store=store,
        categories=categories,
        vehicles=vehicles,
        visits=visits,
        chosen=SimpleNamespace(
            category=_id(data.get("category")),
            vehicle=_id(data.get("vehicle")),
            visit=(data.get("visit") or "")[:20],
            description=(data.get("description") or "")[:DESCRIPTION_MAX],
        ),
        idempotency_key=key,
        error=error,
        description_max=DESCRIPTION_MAX,
        max_photos=MAX_PHOTOS,
    )


def _visit_ids(raw: str) -> tuple[int | None, int | None]:
    """'ro:12' / 'ap:7' → (repair_order_id, appointment_id)."""
    kind, _sep, pk = (raw or "").partition(":")
    value = _id(pk)
    if kind == "ro":
        return value, None
    if kind == "ap":
        return None, value
    return None, None


def _file(request, key: str):
    data = request.POST
    repair_order_id, appointment_id = _visit_ids(data.get("visit", ""))
    kwargs = dict(
        description=(data.get("description") or "").strip(),
        category_id=_id(data.get("category")),
        store_id=_id(data.get("store")),
        vehicle_id=_id(data.get("vehicle")),
        repair_order_id=repair_order_id,
        appointment_id=appointment_id,
        photos=_photos(request),
    )
    return services.file_complaint(request.owner, idempotency_key=key, **kwargs)


@owner_required
@require_http_methods(["GET", "POST"])
def new_complaint(request):
    if request.method == "GET":
        ctx = _form_context(request, data=request.GET, key=uuid.uuid4().hex)
        return render(request, "complaints/app/new.html", ctx)
    key = request.POST.get("idempotency_key", "").strip()
    key = key if KEY_RE.match(key) else ""
    try:
        complaint = _file(request, key)
    except DomainError as exc:
        ctx = _form_context(
            request, data=request.POST, key=key or uuid.uuid4().hex, error=exc.message
        )
        return render(request, "complaints/app/new.html", ctx, status=exc.status)
    messages.success(
        request,
        _("Thank you. Your complaint %(ref)s has reached the store; we will get back to you.")
        % {"ref": complaint.reference},
    )
    return redirect("app-complaint", complaint_id=complaint.pk)


# --- one complaint -----------------------------------------------------------------------------
def _complaint_page(request, complaint, *, error: str = "", status: int = 200, form: str = ""):
    events = selectors.owner_events(complaint)
    filed = next((e for e in events if e.kind == "filed"), None)
    # photos sent with the complaint: on the filing event, or on none
    first_photos = list(filed.photos.all()) if filed is not None else []
    if not first_photos:
        first_photos = [p for p in complaint.photos.all() if p.event_id is None]
    for e in events:
        e.mine = e.author_owner_id is not None or (
            e.author_staff_id is None and e.kind in ("filed", "owner_message", "reopened")
        )
    return render(
        request,
        "complaints/app/complaint.html",
        dict(
            c=complaint,
            stage=_stage(complaint),
            status_label=status_label(complaint),
            pill=PILL.get(complaint.status, ""),
            steps=steps(complaint),
            events=events,
            first_photos=first_photos,
            can_reply=complaint.status in OPEN_STATUSES,
            can_confirm=complaint.status == Status.RESOLVED,
            can_reopen=_can_reopen(complaint),
            can_rate=complaint.status == Status.CLOSED and complaint.rating is None,
            error=error,
            error_form=form,
            message_max=MESSAGE_MAX,
            max_photos=MAX_PHOTOS,
            stars=range(1, 6),
        ),
        status=status,
    )


@owner_required
@require_GET
@domain_errors
def complaint(request, complaint_id: int):
    found = selectors.get_for_owner(request.owner, complaint_id)
    return _complaint_page(request, found)


def _act(request, complaint_id: int, form: str, do, done: str):
    owner = request.owner
    found = selectors.get_for_owner(owner, complaint_id)
    try:
        do(owner, found)
    except DomainError as exc:
        if exc.status == 404:
            raise
        found = selectors.get_for_owner(owner, complaint_id)
        return _complaint_page(request, found, error=exc.message, status=exc.status, form=form)
    if done:
        messages.success(request, done)
    return redirect("app-complaint", complaint_id=found.pk)


@owner_required
@require_POST
@domain_errors
def reply(request, complaint_id: int):
    body = (request.POST.get("body") or "").strip()
    photos = _photos(request)

    def do(owner, c):
        if photos and not body:
            services.add_owner_photos(owner, c, photos)
        else:
            services.owner_reply(owner, c, body, photos=photos)

    return _act(request, complaint_id, "reply", do, _("Sent. The store sees it at once."))


@owner_required
@require_POST
@domain_errors
def confirm(request, complaint_id: int):
    return _act(
        request,
        complaint_id,
        "confirm",
        lambda owner, c: services.confirm(owner, c),
        _("Thank you for confirming. Please tell us how we handled it."),
    )


@owner_required
@require_POST
@domain_errors
def reopen(request, complaint_id: int):
    reason = (request.POST.get("reason") or "").strip()
    return _act(
        request,
        complaint_id,
        "reopen",
        lambda owner, c: services.reopen(owner, c, reason),
        _("Your complaint is open again; the store has been told."),
    )


@owner_required
@require_POST
@domain_errors
def rate(request, complaint_id: int):
    raw = (request.POST.get("rating") or "").strip()
    rating = int(raw) if raw.isascii() and raw.isdigit() and len(raw) == 1 else raw or None
    comment = (request.POST.get("comment") or "").strip()
    return _act(
        request,
        complaint_id,
        "rate",
        lambda owner, c: services.rate(owner, c, rating, comment),
        _("Thank you for your rating."),
    )
