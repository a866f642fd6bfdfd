"""The owner app's trips (/app/cars/<id>/trips/) and monthly driving score
(/app/cars/<id>/driving-score/), with the insurer data-sharing consent. Thin: reads through
m4s.driving.selectors, writes through m4s.driving.services (the same the API uses); the chart
through m4s.core.charts; the route sketches are inline SVG computed here."""

import datetime as dt
import math

from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from m4s.core import charts
from m4s.core.errors import DomainError, NotFound
from m4s.driving import selectors, services
from m4s.driving.trips import decode_polyline
from m4s.owners.decorators import owner_required

SKETCH_W, SKETCH_H, SKETCH_PAD = 96, 64, 6
CHART_W, CHART_H = 340, 190
TRIP_DAYS = 30


def _vehicle(request, vehicle_id: int):
    try:
        return selectors.owner_vehicle(request.owner, vehicle_id)
    except NotFound as exc:
        raise Http404(exc.message) from None


def route_sketch(route: str) -> dict | None:
    """The simplified route as an SVG polyline in a small box (true to scale, centred)."""
    pts = decode_polyline(route)
    if len(pts) < 2:
        return None
    lat0 = sum(p[0] for p in pts) / len(pts)
    kx = math.cos(math.radians(lat0))
    xs = [p[1] * kx for p in pts]
    ys = [p[0] for p in pts]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 1e-4)
    scale = min(SKETCH_W, SKETCH_H) - 2 * SKETCH_PAD
    sx = (max(xs) - min(xs)) * scale / span
    sy = (max(ys) - min(ys)) * scale / span
    ox, oy = (SKETCH_W - sx) / 2, (SKETCH_H - sy) / 2

    def xy(i: int) -> tuple[float, float]:
        return (ox + (xs[i] - min(xs)) * scale / span, oy + sy - (ys[i] - min(ys)) * scale / span)

    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i) for i in range(len(pts))))
    (x0, y0), (x1, y1) = xy(0), xy(len(pts) - 1)
    return {
        "w": SKETCH_W,
        "h": SKETCH_H,
        "line": line,
        "start": {"x": f"{x0:.1f}", "y": f"{y0:.1f}"},
        "end": {"x": f"{x1:.1f}", "y": f"{y1:.1f}"},
    }


def tone(score: int | None) -> str:
    if score is None:
        return ""
    return "ok" if score >= 85 else "warn" if score >= 65 else "off"


def _duration(seconds: int) -> str:
    minutes = int(round(seconds / 60))
    if minutes < 60:
        return _("%(m)d min") % {"m": minutes}
    return _("%(h)d h %(m)02d min") % {"h": minutes // 60, "m": minutes % 60}


@owner_required
@require_GET
def trips(request, vehicle_id: int):
    vehicle = _vehicle(request, vehicle_id)
    end = timezone.localdate()
    found = selectors.trips_of(vehicle, start=end - dt.timedelta(days=TRIP_DAYS - 1), end=end)
    rows = [
        {
            "trip": t,
            "sketch": route_sketch(t.route),
            "duration": _duration(t.duration_s),
            "tone": tone(t.score),
            "reasons": selectors.reason_texts(t.reasons),
        }
        for t in found.trips
    ]
    return render(
        request,
        "driving/app/trips.html",
        {
            "vehicle": vehicle,
            "rows": rows,
            "refused": found.refused,
            "days": TRIP_DAYS,
            "tz": services.tz_of(vehicle),
            "km": sum(t.distance_km for t in found.trips),
            "tab": "home",
        },
    )


def score_chart(history: list[dict]) -> dict:
    """Score per month from the first month with trips (at least three months wide)."""
    first = next((i for i, m in enumerate(history) if m["score"] is not None), len(history))
    history = history[min(first, max(0, len(history) - 3)) :]
    return charts.line_chart(
        [charts.Series(_("Driving score"), [m["score"] for m in history], colour=charts.BRAND)],
        labels=[m["first"].strftime("%m") for m in history],
        width=CHART_W,
        height=CHART_H,
        pad=(34, 12, 30, 26),
        y_min=0,
        y_max=100,
        y_step=25,
        point_labels=True,
    )


def _score_page(request, vehicle, *, status: int = 200, **extra):
    first = selectors.parse_month(request.GET.get("month"))
    from m4s.telematics.consent import has_consent

    consent = has_consent(vehicle)
    history = (
        selectors.monthly_summary(vehicle, selectors.last_months(first, 12)) if consent else []
    )
    month = history[-1] if history else None
    prev_month = (first - dt.timedelta(days=1)).replace(day=1)
    next_month = selectors.next_month(first)
    return render(
        request,
        "driving/app/score.html",
        {
            "vehicle": vehicle,
            "refused": "" if consent else "no_telematics_consent",
            "month": month,
            "month_label": first.strftime("%Y-%m"),
            "tone": tone(month["score"]) if month else "",
            "reasons": selectors.reason_texts(month["reasons"]) if month else [],
            "chart": score_chart(history) if any(m["score"] is not None for m in history) else None,
            "months": [
                {
                    **m,
                    "tone": tone(m["score"]),
                    "reason_texts": selectors.reason_texts(m["reasons"]),
                }
                for m in reversed(history)
                if m["trips"]
            ],
            "prev": prev_month.strftime("%Y-%m"),
            "next": next_month.strftime("%Y-%m") if next_month <= timezone.localdate() else None,
            "insurer": selectors.active_insurer_consent(vehicle),
            "saved": request.GET.get("saved", ""),
            "tab": "home",
            **extra,
        },
        status=status,
    )


@owner_required
@require_GET
def score(request, vehicle_id: int):
    vehicle = _vehicle(request, vehicle_id)
    try:
        return _score_page(request, vehicle)
    except DomainError as exc:  # a month that is not YYYY-MM
        raise Http404(exc.message) from None


@owner_required
@require_POST
def insurer_consent(request, vehicle_id: int):
    """Give (insurer named) or withdraw (withdraw=1) the consent to share with an insurer."""
    vehicle = _vehicle(request, vehicle_id)
    try:
        if request.POST.get("withdraw") == "1":
            services.withdraw_insurer_consent(request.owner, vehicle)
            what = "withdrawn"
        else:
            services.give_insurer_consent(
                request.owner, vehicle, insurer=request.POST.get("insurer", "")
            )
            what = "given"
    except DomainError as exc:
        request.GET = request.GET.copy()
        return _score_page(request, vehicle, status=exc.status, consent_error=exc.message)
    return redirect(reverse("app-car-driving-score", args=[vehicle.pk]) + f"?saved={what}#insurer")
