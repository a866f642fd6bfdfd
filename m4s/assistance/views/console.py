"""Store services in the console at /console/assistance/ (MANAGE_CATALOGUE): the group's agency
fees, its rental fleet (a car's bookings), the new-driver courses with their sessions (places,
waiting list). Another group's car or course is a 404; a refused form shows its message."""

import datetime as dt
from functools import wraps

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from m4s.assistance import selectors, services
from m4s.assistance.choices import FeeKind
from m4s.core.errors import DomainError
from m4s.core.i18n import language_codes
from m4s.notify import selectors as inbox
from m4s.org.selectors import list_stores
from m4s.staff.choices import Perm
from m4s.staff.permissions import staff_page


def page(view):
    @staff_page(Perm.MANAGE_CATALOGUE)
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            if exc.status == 404:
                raise Http404(exc.message) from None
            raise

    return wrapper


def ctx(request, **extra):
    return {
        "unread": inbox.count_unread(staff=request.user),
        "nav": "assistance",
        "stores": list(list_stores(request.user)) if request.user.dealer_group_id else [],
        "can_edit": bool(request.user.dealer_group_id),
        **extra,
    }


def _int(raw, default=None):
    raw = (raw or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else default


def _i18n(post, name: str) -> dict:
    return {lang: (post.get(f"{name}_{lang}") or "").strip() for lang in language_codes()}


def _when(raw: str):
    try:
        value = dt.datetime.fromisoformat((raw or "").strip().replace(" ", "T"))
    except ValueError:
        raise DomainError(
            "invalid_time", _("Give dates as YYYY-MM-DD HH:MM."), status=422
        ) from None
    if not 2000 <= value.year <= 2100:
        raise DomainError("invalid_time", _("Give dates as YYYY-MM-DD HH:MM."), status=422)
    return timezone.make_aware(value) if timezone.is_naive(value) else value


@page
def home(request):
    return redirect("console-assistance-fleet")


@page
@require_http_methods(["GET", "POST"])
def fees(request):
    group = request.user.dealer_group_id
    error, status = "", 200
    if request.method == "POST":
        try:
            services.save_fee(
                request.user,
                kind=request.POST.get("kind", ""),
                name=request.POST.get("name", ""),
                name_i18n=_i18n(request.POST, "name"),
                fee=request.POST.get("fee", ""),
                active=request.POST.get("active") == "on",
            )
        except DomainError as exc:
            error, status = exc.message, exc.status
        else:
            messages.success(request, _("Saved."))
            return redirect("console-assistance-fees")
    current = selectors.fees_for_group(group) if group else {}
    rows = [
        (
            value,
            label,
            current.get(value),
            [
                (lang, ((current[value].name_i18n or {}) if value in current else {}).get(lang, ""))
                for lang in language_codes()
            ],
        )
        for value, label in FeeKind.choices
    ]
    return render(
        request,
        "assistance/console/fees.html",
        ctx(request, rows=rows, error=error, languages=language_codes(), tab="fees"),
        status=status,
    )


def _car_data(post) -> dict:
    return {
        "store_id": _int(post.get("store_id")),
        "name": post.get("name", ""),
        "model": post.get("model", ""),
        "plate": post.get("plate", ""),
        "seats": _int(post.get("seats"), 0),
        "price_per_day": post.get("price_per_day", ""),
        "deposit": post.get("deposit", ""),
        "active": post.get("active") == "on",
    }


@page
@require_http_methods(["GET", "POST"])
def fleet(request):
    error, status = "", 200
    if request.method == "POST":
        try:
            services.save_rental_car(request.user, **_car_data(request.POST))
        except DomainError as exc:
            error, status = exc.message, exc.status
        else:
            messages.success(request, _("Saved."))
            return redirect("console-assistance-fleet")
    return render(
        request,
        "assistance/console/fleet.html",
        ctx(request, cars=list(selectors.fleet_for_staff(request.user)), error=error, tab="fleet"),
        status=status,
    )


@page
@require_http_methods(["GET", "POST"])
def car(request, car_id: int):
    rental_car = selectors.get_rental_car_for_staff(request.user, car_id)
    error, status = "", 200
    if request.method == "POST":
        try:
            services.save_rental_car(request.user, rental_car, **_car_data(request.POST))
        except DomainError as exc:
            error, status = exc.message, exc.status
        else:
            messages.success(request, _("Saved."))
            return redirect("console-assistance-car", car_id=rental_car.pk)
    return render(
        request,
        "assistance/console/car.html",
        ctx(
            request,
            car=rental_car,
            bookings=selectors.car_bookings(rental_car),
            error=error,
            tab="fleet",
        ),
        status=status,
    )


def _course_data(post) -> dict:
    return {
        "store_id": _int(post.get("store_id")),
        "title": post.get("title", ""),
        "title_i18n": _i18n(post, "title"),
        "description": post.get("description", ""),
        "description_i18n": _i18n(post, "description"),
        "price": post.get("price", ""),
        "active": post.get("active") == "on",
    }


@page
@require_http_methods(["GET", "POST"])
def courses(request):
    error, status = "", 200
    if request.method == "POST":
        try:
            c = services.save_course(request.user, **_course_data(request.POST))
        except DomainError as exc:
            error, status = exc.message, exc.status
        else:
            messages.success(request, _("Saved."))
            return redirect("console-assistance-course", course_id=c.pk)
    return render(
        request,
        "assistance/console/courses.html",
        ctx(
            request,
            courses=list(selectors.courses_for_staff(request.user)),
            languages=language_codes(),
            error=error,
            tab="courses",
        ),
        status=status,
    )


@page
@require_http_methods(["GET", "POST"])
def course(request, course_id: int):
    c = selectors.get_course_for_staff(request.user, course_id)
    error, status = "", 200
    if request.method == "POST":
        try:
            if request.POST.get("form") == "session":
                services.add_session(
                    request.user,
                    c,
                    starts_at=_when(request.POST.get("starts_at", "")),
                    ends_at=_when(request.POST.get("ends_at", "")),
                    capacity=_int(request.POST.get("capacity"), 0),
                    instructor=request.POST.get("instructor", ""),
                )
            else:
                services.save_course(request.user, c, **_course_data(request.POST))
        except DomainError as exc:
            error, status = exc.message, exc.status
        else:
            messages.success(request, _("Saved."))
            return redirect("console-assistance-course", course_id=c.pk)
    sessions = selectors.sessions_of(c)
    for s in sessions:
        s.people = selectors.signups_of(s)  # type: ignore[attr-defined]  # shown with the session
    return render(
        request,
        "assistance/console/course.html",
        ctx(
            request,
            course=c,
            sessions=sessions,
            translations=[
                (lang, c.title_i18n.get(lang, ""), c.description_i18n.get(lang, ""))
                for lang in language_codes()
            ],
            error=error,
            tab="courses",
        ),
        status=status,
    )
