"""Weather warnings at /console/care/weather/: a local organisation's editor (for every group of
the city) or a group admin (for their group) publishes a warning for a city (type, severity,
period, advice in each language); owners whose store or car is near the city are told at once
with a "check your car" tip. The warnings in force and of the last week are listed."""

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from m4s.care import selectors, services
from m4s.care.choices import Severity, WeatherKind
from m4s.care.views.common import care_page, ctx
from m4s.core.errors import DomainError
from m4s.core.i18n import language_codes
from m4s.staff.choices import Perm

FIELDS = ("city", "kind", "severity", "starts_at", "ends_at", "radius_km", "latitude", "longitude")


def _home_city(user) -> str:
    org = getattr(user, "local_org", None)
    if org is None and user.dealer_group_id:
        org = getattr(user.dealer_group, "local_org", None)
    return getattr(org, "city", "") or ""


def _moment(raw: str, label: str):
    value = parse_datetime((raw or "").replace("T", " ").strip()) if raw else None
    if value is None:
        raise DomainError("invalid_date", _("%(field)s: enter a date and time.") % {"field": label})
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _number(raw: str):
    raw = (raw or "").strip()
    return raw or None


def _publish(user, form: dict, advice: dict):
    radius = form["radius_km"] or "60"
    if not (radius.isascii() and radius.isdigit() and len(radius) < 4):
        raise DomainError("invalid_radius", _("The radius is 1 to 500 km."))
    source = advice.get("zh-hans") or next((v for v in advice.values() if v), "")
    return services.publish_warning(
        user,
        city=form["city"],
        kind=form["kind"],
        severity=form["severity"],
        starts_at=_moment(form["starts_at"], _("From")),
        ends_at=_moment(form["ends_at"], _("Until")),
        advice=source,
        advice_i18n={k: v for k, v in advice.items() if v},
        latitude=_number(form["latitude"]),
        longitude=_number(form["longitude"]),
        radius_km=int(radius),
    )


@care_page(Perm.PUBLISH_WEATHER)
@require_http_methods(["GET", "POST"])
def weather(request):
    user = request.user
    now = timezone.localtime()
    form = {
        "city": _home_city(user),
        "kind": WeatherKind.RAINSTORM,
        "severity": Severity.YELLOW,
        "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (now + dt.timedelta(hours=24)).strftime("%Y-%m-%dT%H:%M"),
        "radius_km": "60",
        "latitude": "",
        "longitude": "",
    }
    advice = {code: "" for code in language_codes()}
    error, status = "", 200
    if request.method == "POST":
        form = {name: (request.POST.get(name) or "").strip()[:80] for name in FIELDS}
        advice = {code: (request.POST.get(f"advice_{code}") or "").strip()[:300] for code in advice}
        try:
            warning = _publish(user, form, advice)
        except DomainError as exc:
            error, status = exc.message, exc.status
        else:
            messages.success(
                request,
                _("Published: %(kind)s warning for %(city)s. Owners nearby are told now.")
                % {"kind": warning.get_kind_display(), "city": warning.city},
            )
            return redirect("console-care-weather")
    return render(
        request,
        "care/console/weather.html",
        ctx(
            request,
            tab="weather",
            warnings=list(selectors.warnings_for_actor(user)[:50]),
            now=timezone.now(),
            form=form,
            advice=[(code, name, advice.get(code, "")) for code, name in _languages()],
            kinds=WeatherKind.choices,
            severities=Severity.choices,
            error=error,
        ),
        status=status,
    )


def _languages():
    return [(code, name) for code, name in settings.LANGUAGES]
