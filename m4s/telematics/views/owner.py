"""The owner app's car health page at /app/cars/<id>/health/: status, odometer chart, position,
fault codes, battery and fuel, alarms, the mileage forecast with one-tap booking, the service
history; parked mode and geofences.

Thin, like every page: reads through m4s.telematics.selectors, writes through
m4s.telematics.services (the same ones the owner API uses). The chart and the map are inline
SVG computed here (no JavaScript, no external tiles). A refused action (DomainError) shows its
message in the card it came from, with its 4xx status, and changes nothing.

The presentation helpers (`health_page`, `odometer_chart`, `position_map`, `gauges`) are shared
with the console's staff health page (m4s.telematics.views.console).
"""

import datetime as dt
import math
from urllib.parse import urlencode

from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from m4s.core import charts
from m4s.core.errors import DomainError, NotFound
from m4s.core.i18n import translated
from m4s.owners.decorators import owner_required
from m4s.telematics import ev, selectors, services
from m4s.telematics.choices import Severity
from m4s.telematics.messages import distance_km

SEVERITY_ORDER = {"now": 0, "soon": 1, "info": 2}
CHART_W, CHART_H = 340, 170
CHART_PAD = {"left": 52, "right": 12, "top": 24, "bottom": 26}
MAP_W, MAP_H = 340, 210
KM_PER_DEG_LAT = 110.574
KM_PER_DEG_LON = 111.320
AUTO_ARM_CHOICES = (5, 10, 15, 30, 60, 120, 240)
FENCE_RADII = (100, 200, 500, 1000, 2000, 5000)


# --- presentation helpers (shared with the console) --------------------------------------------
def _n(value: float) -> str:
    """An SVG coordinate, formatted here so the template's number localisation never touches it."""
    return f"{value:.1f}"


def odometer_chart(series: list[tuple[dt.date, float]]) -> dict | None:
    """The odometer over time through the shared chart module: a line over the days (spaced in
    proportion), the area under it, three date labels and the last reading. None with fewer
    than two days of data."""
    if len(series) < 2:
        return None
    d0, d1 = series[0][0], series[-1][0]
    days = max((d1 - d0).days, 1)
    kms = [km for _d, km in series]
    span = max(max(kms) - min(kms), 10.0)
    middle = d0 + dt.timedelta(days=days // 2)
    chart = charts.line_chart(
        [charts.Series(_("Odometer"), kms, colour=charts.BRAND)],
        xs=[(d - d0).days for d, _km in series],
        x_labels=[
            (0, d0.strftime("%m-%d")),
            ((middle - d0).days, middle.strftime("%m-%d")),
            (days, d1.strftime("%m-%d")),
        ],
        width=CHART_W,
        height=CHART_H,
        pad=(CHART_PAD["left"], CHART_PAD["right"], CHART_PAD["top"], CHART_PAD["bottom"]),
        y_step=charts.nice_step(span, 3),
        area=True,
        last_label=f"{int(kms[-1]):,} km",
    )
    driven = kms[-1] - kms[0]
    chart.update(days=days, driven_km=int(round(driven)), per_day=f"{driven / days:.1f}")
    return chart


def amap_link(lat: float, lon: float, name: str = "") -> str:
    query = {"position": f"{lon:.6f},{lat:.6f}"}
    if name:
        query["name"] = name
    return "https://uri.amap.com/marker?" + urlencode(query)


def position_map(state, store, fences=()) -> dict | None:
    """The car and its store on a small local plane (equirectangular around their middle, true
    to scale at this size), with the distance between them, the car's geofences and a scale
    bar. None until the car has reported a position."""
    if state is None or state.lat is None or state.lon is None:
        return None
    car = (state.lat, state.lon)
    store_pt = None
    if store is not None and store.latitude is not None and store.longitude is not None:
        store_pt = (float(store.latitude), float(store.longitude))
    pts = [car] + ([store_pt] if store_pt else [])
    lat0 = sum(p[0] for p in pts) / len(pts)
    lon0 = sum(p[1] for p in pts) / len(pts)
    kx = KM_PER_DEG_LON * math.cos(math.radians(lat0))

    def km_xy(p) -> tuple[float, float]:
        return ((p[1] - lon0) * kx, (p[0] - lat0) * KM_PER_DEG_LAT)

    xs, ys = zip(*(km_xy(p) for p in pts), strict=True)
    pad_x, pad_y = 40, 42  # px kept free around the points for the markers and labels
    span_x, span_y = max(max(xs) - min(xs), 0.8), max(max(ys) - min(ys), 0.5)
    scale = min((MAP_W - 2 * pad_x) / span_x, (MAP_H - 2 * pad_y) / span_y)  # px per km
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2

    def px(p) -> tuple[float, float]:
        x, y = km_xy(p)
        return MAP_W / 2 + (x - cx) * scale, MAP_H / 2 - (y - cy) * scale

    bar_km = charts.nice_step(MAP_W / 5 / scale, 1)
    car_x, car_y = px(car)
    out = {
        "width": MAP_W,
        "height": MAP_H,
        "car": {"x": _n(car_x), "y": _n(car_y), "label_y": _n(car_y - 16), **_label_x(car_x)},
        "car_link": amap_link(car[0], car[1]),
        "store": None,
        "distance_km": None,
        "full_height": MAP_H + 20,  # a strip under the map for the scale bar
        "scale": {
            "x2": _n(4 + bar_km * scale),
            "label_x": _n(10 + bar_km * scale),
            "y": MAP_H + 11,
            "label": f"{bar_km:g} km" if bar_km >= 1 else f"{int(round(bar_km * 1000))} m",
        },
        "fences": [],
        "grid_x": [_n(i * MAP_W / 6) for i in range(1, 6)],
        "grid_y": [_n(i * MAP_H / 4) for i in range(1, 4)],
    }
    if store_pt:
        store_x, store_y = px(store_pt)
        distance = distance_km(car[0], car[1], store_pt[0], store_pt[1])
        out["store"] = {
            "x": _n(store_x),
            "y": _n(store_y),
            "box_x": _n(store_x - 7),
            "box_y": _n(store_y - 7),
            "label_y": _n(store_y + 24),
            **_label_x(store_x),
            "name": store.name,
            "link": amap_link(store_pt[0], store_pt[1], store.name),
        }
        out["distance_km"] = f"{distance:.1f}" if distance >= 1 else f"{distance:.2f}"
        out["mid"] = {"x": _n((car_x + store_x) / 2), "y": _n((car_y + store_y) / 2 - 6)}
    for fence in fences:
        fx, fy = px((fence.lat, fence.lon))
        r = fence.radius_m / 1000 * scale
        if fx + r < 0 or fx - r > MAP_W or fy + r < 0 or fy - r > MAP_H:
            continue  # wholly outside the frame
        out["fences"].append({"x": _n(fx), "y": _n(fy), "r": _n(r), "name": fence.name})
    return out


def _label_x(x: float) -> dict:
    """Where a marker's label goes so that it stays inside the map."""
    if x > MAP_W * 0.62:
        return {"label_x": _n(x + 10), "anchor": "end"}
    if x < MAP_W * 0.38:
        return {"label_x": _n(x - 10), "anchor": "start"}
    return {"label_x": _n(x), "anchor": "middle"}


def _battery(volts: float | None, ignition: bool | None) -> dict | None:
    if volts is None:
        return None
    if volts > 15.0:
        tone, label = "off", _("Too high")
    elif volts >= 13.2:
        tone, label = "ok", _("Charging")
    elif volts >= 12.4:
        tone, label = "ok", _("Good")
    elif volts >= 11.9:
        tone, label = "warn", _("Low")
    else:
        tone, label = "off", _("Very low")
    pct = max(0.0, min(100.0, (volts - 10.5) / (15.0 - 10.5) * 100))
    return {"value": f"{volts:.1f}", "unit": "V", "pct": _n(pct), "tone": tone, "label": label}


def _level(pct: float | None, *, ev: bool) -> dict | None:
    if pct is None:
        return None
    tone = "off" if pct < 10 else "warn" if pct < 20 else "ok"
    label = (_("Charge soon") if ev else _("Fill up soon")) if pct < 20 else ""
    return {"value": f"{pct:.0f}", "unit": "%", "pct": _n(pct), "tone": tone, "label": label}


def gauges(state) -> list[dict]:
    """Fuel or charge and the 12 V battery, as arcs (pct 0–100) with a tone and a word."""
    if state is None:
        return []
    out = []
    if state.soc_pct is not None:
        out.append({"key": "soc", "title": _("Charge"), **_level(state.soc_pct, ev=True)})
    if state.fuel_pct is not None:
        out.append({"key": "fuel", "title": _("Fuel"), **_level(state.fuel_pct, ev=False)})
    battery = _battery(state.battery_v, state.ignition)
    if battery:
        out.append({"key": "battery", "title": _("Battery"), **battery})
    return out


def _confidence(value: float) -> dict:
    if value >= 0.7:
        return {"tone": "ok", "label": _("high confidence")}
    if value >= 0.4:
        return {"tone": "warn", "label": _("medium confidence")}
    return {"tone": "", "label": _("rough estimate")}


def fences_of(vehicle) -> list:
    return list(selectors.geofences_of(vehicle))


def health_page(vehicle) -> dict:
    """Everything the health page shows, from the selectors, ready for the templates."""
    record = selectors.health_record(vehicle)
    forecast = selectors.forecast_of(vehicle)
    state = record["state"]
    fences = fences_of(vehicle)
    labels = dict(Severity.choices)
    dtcs = sorted(
        ({**d, "severity_label": labels.get(d["severity"], "")} for d in record["dtcs"]),
        key=lambda d: SEVERITY_ORDER.get(d["severity"], 1),
    )
    today = timezone.localdate()
    projected = [
        {
            **p,
            "confidence_label": _confidence(p["confidence"]),
            "days_left": (p["projected_on"] - today).days if p["projected_on"] else None,
        }
        for p in forecast["items"]
    ]
    projected.sort(key=lambda p: (p["projected_on"] is None, p["projected_on"] or dt.date.max))
    for ro in record["service_history"]:  # lines are prefetched
        ro.work = [
            translated(ln, "description") for ln in ro.lines.all() if ln.approval == "approved"
        ]
    last_seen = state.device.last_seen_at if state and state.device else None
    return {
        **record,
        "vehicle": vehicle,
        "dtcs": dtcs,
        "urgent": [d for d in dtcs if d["severity"] == "now"],
        "forecast": forecast["forecast"],
        "projected": projected,
        "pace_confidence": _confidence(forecast["forecast"].confidence)
        if forecast["forecast"]
        else None,
        "chart": odometer_chart(record["odometer_series"]),
        "map": position_map(state, record["store"], fences),
        "gauges": gauges(state),
        "ev": ev.ev_panel(vehicle, state),  # new-energy cars (GB/T 32960): charge, sessions
        "fences": fences,
        "last_seen": last_seen or (state.ts if state else None),
        "tz": record["store"].tz if record["store"] else timezone.get_current_timezone(),
    }


# --- owner pages ---------------------------------------------------------------------------------
def _vehicle(request, vehicle_id: int):
    try:
        return selectors.owner_vehicle(request.owner, vehicle_id)
    except NotFound as exc:
        raise Http404(exc.message) from None


def _render(request, vehicle, *, status: int = 200, **extra):
    page = health_page(vehicle)
    customer = vehicle.current_owner
    can_book = customer is not None and customer.owner_id == request.owner.pk
    return render(
        request,
        "telematics/app/health.html",
        dict(
            h=page,
            can_book=can_book,
            for_owner=True,
            auto_arm_choices=AUTO_ARM_CHOICES,
            fence_radii=FENCE_RADII,
            saved=request.GET.get("saved", ""),
            tab="home",
            **extra,
        ),
        status=status,
    )


@owner_required
@require_GET
def health(request, vehicle_id: int):
    return _render(request, _vehicle(request, vehicle_id))


def _minutes(raw) -> int | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 5):
        raise DomainError("invalid_minutes", _("Arm after 5 minutes to 24 hours."))
    return int(raw)


def _float(raw) -> float:
    try:
        value = float((raw or "").strip().replace(",", "."))
    except ValueError:
        raise DomainError(
            "invalid_geofence",
            _("A geofence needs a name, a point and a radius of 50 m to 100 km."),
        ) from None
    if not math.isfinite(value):
        raise DomainError(
            "invalid_geofence",
            _("A geofence needs a name, a point and a radius of 50 m to 100 km."),
        )
    return value


def _done(vehicle, what: str):
    url = reverse("app-car-health", args=[vehicle.pk]) + f"?saved={what}#{what}"
    return redirect(url)


@owner_required
@require_POST
def parked(request, vehicle_id: int):
    """Arm or disarm parked mode; the auto-arm delay and 'also alert the store'."""
    vehicle = _vehicle(request, vehicle_id)
    try:
        services.arm_parked(
            request.owner,
            vehicle,
            armed=request.POST.get("armed") == "1",
            auto_arm_minutes=_minutes(request.POST.get("auto_arm_minutes")),
            notify_store=request.POST.get("notify_store") == "1",
        )
    except DomainError as exc:
        return _render(request, vehicle, status=exc.status, parked_error=exc.message)
    return _done(vehicle, "parked")


@owner_required
@require_POST
def geofence(request, vehicle_id: int):
    """Add a geofence (enter and leave alerts)."""
    vehicle = _vehicle(request, vehicle_id)
    form = {k: request.POST.get(k, "") for k in ("name", "lat", "lon", "radius_m")}
    try:
        radius = (form["radius_m"] or "").strip()
        if not (radius.isascii() and radius.isdigit() and len(radius) <= 7):
            raise DomainError(
                "invalid_geofence",
                _("A geofence needs a name, a point and a radius of 50 m to 100 km."),
            )
        services.set_geofence(
            request.owner,
            vehicle,
            name=form["name"][:40],
            lat=_float(form["lat"]),
            lon=_float(form["lon"]),
            radius_m=int(radius),
        )
    except DomainError as exc:
        return _render(
            request, vehicle, status=exc.status, fence_error=exc.message, fence_form=form
        )
    return _done(vehicle, "geofences")


@owner_required
@require_POST
def geofence_remove(request, vehicle_id: int, fence_id: int):
    """Remove a geofence; its alerts stop."""
    vehicle = _vehicle(request, vehicle_id)
    try:
        services.remove_geofence(request.owner, vehicle, fence_id)
    except DomainError as exc:
        return _render(request, vehicle, status=exc.status, fence_error=exc.message)
    return _done(vehicle, "geofences")
