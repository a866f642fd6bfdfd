"""Car-pal events in the console at /console/events/ (MANAGE_EVENTS): the group's events, create
and edit one, its sign-ups (places, waiting list, check-ins), cancel it, and the check-in page
where the ticket's token is scanned or typed. Another group's event is a 404."""

import datetime as dt
from decimal import Decimal, InvalidOperation
from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from m4s.core.errors import DomainError
from m4s.core.i18n import language_codes
from m4s.core.uploads import ACCEPT
from m4s.events import selectors, services
from m4s.events.choices import MAX_CAPACITY, EventStatus, SignupStatus
from m4s.notify import selectors as inbox
from m4s.org.selectors import list_stores
from m4s.staff.choices import Perm

FIELDS = ("title", "description", "place_name", "address", "latitude", "longitude")
TIMES = ("starts_at", "ends_at", "signup_deadline")


def events_page(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.has_perm_m4s(Perm.MANAGE_EVENTS):
            raise PermissionDenied
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            if exc.status == 404:
                raise Http404(exc.message) from None
            raise

    return wrapper


def ctx(request, **extra):
    return {"unread": inbox.count_unread(staff=request.user), "nav": "events", **extra}


def _local(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M") if value else ""


def _when(raw: str):
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        value = dt.datetime.fromisoformat(raw.replace(" ", "T"))
    except ValueError:
        raise DomainError(
            "invalid_time", _("Give dates as YYYY-MM-DD HH:MM."), status=422
        ) from None
    if not 2000 <= value.year <= 2100:
        raise DomainError("invalid_time", _("Give dates as YYYY-MM-DD HH:MM."), status=422)
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _coordinate(raw: str, limit: int):
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        value = Decimal(raw)
        if not value.is_finite():  # NaN compares with nothing: refuse it here, not with a 500
            raise InvalidOperation
        value = value.quantize(Decimal("0.000001"))
    except (InvalidOperation, ValueError):
        raise DomainError(
            "invalid_position", _("Give a latitude and longitude in degrees."), status=422
        ) from None
    if abs(value) > limit:
        raise DomainError(
            "invalid_position", _("Give a latitude and longitude in degrees."), status=422
        )
    return value


def _form_of(post) -> dict:
    form = {
        k: (post.get(k) or "").strip() for k in (*FIELDS, *TIMES, "capacity", "store_id", "status")
    }
    for lang in language_codes():
        form[f"title_{lang}"] = (post.get(f"title_{lang}") or "").strip()[:120]
        form[f"description_{lang}"] = (post.get(f"description_{lang}") or "").strip()[:4000]
    return form


def _data(form: dict) -> dict:
    capacity = form["capacity"]
    if not (capacity.isascii() and capacity.isdigit() and 1 <= int(capacity) <= MAX_CAPACITY):
        raise DomainError(
            "invalid_capacity", _("Give the number of places (1 to 10,000)."), status=422
        )
    store = form["store_id"]
    data = {
        "title": form["title"][:120],
        "description": form["description"][:4000],
        "place_name": form["place_name"][:120],
        "address": form["address"][:200],
        "latitude": _coordinate(form["latitude"], 90),
        "longitude": _coordinate(form["longitude"], 180),
        "starts_at": _when(form["starts_at"]),
        "ends_at": _when(form["ends_at"]),
        "signup_deadline": _when(form["signup_deadline"]),
        "capacity": int(capacity),
        "store_id": int(store) if store.isascii() and store.isdigit() and len(store) < 12 else None,
        "title_i18n": {lang: form[f"title_{lang}"] for lang in language_codes()},
        "description_i18n": {lang: form[f"description_{lang}"] for lang in language_codes()},
    }
    if form["status"] in (EventStatus.DRAFT, EventStatus.OPEN, EventStatus.DONE):
        data["status"] = form["status"]
    return data


def _form_from(event) -> dict:
    form = {k: "" if getattr(event, k) is None else str(getattr(event, k)) for k in FIELDS}
    form.update({k: _local(getattr(event, k)) for k in TIMES})
    form.update(
        capacity=str(event.capacity), store_id=str(event.store_id or ""), status=event.status
    )
    for lang in language_codes():
        form[f"title_{lang}"] = (event.title_i18n or {}).get(lang, "")
        form[f"description_{lang}"] = (event.description_i18n or {}).get(lang, "")
    return form


def _edit_page(request, *, event=None, form, error="", status=200):
    return render(
        request,
        "events/console/edit.html",
        ctx(
            request,
            event=event,
            form=form,
            error=error,
            translations=[
                (lang, form.get(f"title_{lang}", ""), form.get(f"description_{lang}", ""))
                for lang in language_codes()
            ],
            stores=list(list_stores(request.user)) if request.user.dealer_group_id else [],
            statuses=[(v, label) for v, label in EventStatus.choices if v != EventStatus.CANCELLED],
            accept=ACCEPT,
            can_create=bool(request.user.dealer_group_id),
        ),
        status=status,
    )


@events_page
def events(request):
    rows = list(selectors.events_for_staff(request.user).order_by("-starts_at", "-id")[:200])
    now = timezone.now()
    for e in rows:
        e.left = selectors.places_left(e)
    return render(
        request,
        "events/console/list.html",
        ctx(
            request,
            upcoming=[e for e in rows if e.ends_at >= now],
            past=[e for e in rows if e.ends_at < now],
            can_create=bool(request.user.dealer_group_id),
        ),
    )


@events_page
@require_http_methods(["GET", "POST"])
def create(request):
    if request.method == "GET":
        start = timezone.localtime() + dt.timedelta(days=14)
        start = start.replace(hour=9, minute=30, second=0, microsecond=0)
        form = {
            "starts_at": _local(start),
            "ends_at": _local(start + dt.timedelta(hours=3)),
            "signup_deadline": _local(start - dt.timedelta(days=2)),
            "capacity": "30",
            "status": EventStatus.DRAFT,
        }
        return _edit_page(request, form=form)
    form = _form_of(request.POST)
    try:
        event = services.create_event(request.user, cover=request.FILES.get("cover"), **_data(form))
    except DomainError as exc:
        return _edit_page(request, form=form, error=exc.message, status=exc.status)
    messages.success(request, _("Event saved."))
    return redirect("console-event", event_id=event.pk)


@events_page
@require_http_methods(["GET", "POST"])
def edit(request, event_id: int):
    event = selectors.get_event_for_staff(request.user, event_id)
    if request.method == "GET":
        return _edit_page(request, event=event, form=_form_from(event))
    form = _form_of(request.POST)
    try:
        services.update_event(request.user, event, cover=request.FILES.get("cover"), **_data(form))
    except DomainError as exc:
        if exc.status == 404:
            raise
        return _edit_page(request, event=event, form=form, error=exc.message, status=exc.status)
    messages.success(request, _("Event saved."))
    return redirect("console-event", event_id=event.pk)


@events_page
def detail(request, event_id: int):
    event = selectors.get_event_for_staff(request.user, event_id)
    signups = selectors.signups_of(event)
    return render(
        request,
        "events/console/detail.html",
        ctx(
            request,
            event=event,
            left=selectors.places_left(event),
            placed=[
                s for s in signups if s.status in (SignupStatus.CONFIRMED, SignupStatus.CHECKED_IN)
            ],
            waiting=[s for s in signups if s.status == SignupStatus.WAITLISTED],
            cancelled=[s for s in signups if s.status == SignupStatus.CANCELLED],
            photos=selectors.event_photos(event),
        ),
    )


@events_page
@require_POST
def cancel(request, event_id: int):
    event = selectors.get_event_for_staff(request.user, event_id)
    services.cancel_event(request.user, event)
    messages.success(request, _("The event is cancelled; everyone signed up is told."))
    return redirect("console-event", event_id=event.pk)


@events_page
@require_http_methods(["GET", "POST"])
def check_in(request, event_id: int):
    event = selectors.get_event_for_staff(request.user, event_id)
    result, error, status = None, "", 200
    if request.method == "POST":
        token = (request.POST.get("token") or "").strip()[:60]
        try:
            result = services.check_in(request.user, event, token)
        except DomainError as exc:
            error, status = exc.message, exc.status
    event = selectors.get_event_for_staff(request.user, event_id)
    return render(
        request,
        "events/console/check_in.html",
        ctx(request, event=event, result=result, error=error),
        status=status,
    )
