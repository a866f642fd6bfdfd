"""Driving API: the owner's trips and monthly driving score, the insurer data-sharing consent;
staff export of a car's monthly summary for its insurer (CSV, only under that consent)."""

import datetime as dt
from typing import Annotated

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from m4s.core.api import errors
from m4s.core.auth import owner_auth, staff_auth
from m4s.core.errors import DomainError
from m4s.core.types import NON_BLANK

from . import choices as c
from . import scoring, selectors, services
from .trips import decode_polyline

MONTH_PATTERN = r"^(20[0-9][0-9]|2100)-(0[1-9]|1[0-2])$"
Month = Annotated[
    str | None, Query(None, pattern=MONTH_PATTERN, description="YYYY-MM (2000-01 to 2100-12).")
]

owner_router = Router(tags=["owner: trips and driving score"], auth=owner_auth)
staff_router = Router(tags=["staff: driving data"], auth=staff_auth)


class DrivingReasonOut(Schema):
    code: str
    n: int
    text: str


class DrivingTripOut(Schema):
    id: int
    started_at: dt.datetime
    ended_at: dt.datetime
    open: bool
    distance_km: float
    duration_min: int
    avg_kmh: float
    top_kmh: float
    night_min: int
    harsh_braking: int
    harsh_acceleration: int
    harsh_cornering: int
    speeding_min: int
    score: int
    reasons: list[DrivingReasonOut]
    route: list[tuple[float, float]] = Field(description="[lat, lon] points, simplified.")


class DrivingTripsOut(Schema):
    trips: list[DrivingTripOut]
    refused: str | None = Field(None, description="Why the list is empty: `no_telematics_consent`.")


class DrivingTripsQuery(Schema):
    from_: dt.date | None = Field(None, alias="from")
    to: dt.date | None = None


class DrivingMonthOut(Schema):
    month: str
    trips: int
    km: float
    score: int | None
    reasons: list[DrivingReasonOut]


class DrivingScoreOut(Schema):
    month: DrivingMonthOut
    history: list[DrivingMonthOut]
    refused: str | None = None


class DrivingConsentIn(Schema):
    insurer: str = Field(..., min_length=1, max_length=80, pattern=NON_BLANK)


class DrivingConsentOut(Schema):
    insurer: str | None
    granted_at: dt.datetime | None


def _reasons(reasons) -> list[dict]:
    return [{"code": r["code"], "n": r["n"], "text": scoring.reason_text(r)} for r in reasons]


def trip_out(t) -> dict:
    return {
        "id": t.pk,
        "started_at": t.started_at,
        "ended_at": t.ended_at,
        "open": t.is_open,
        "distance_km": round(t.distance_km, 1),
        "duration_min": int(round(t.duration_s / 60)),
        "avg_kmh": t.avg_kmh,
        "top_kmh": t.top_kmh,
        "night_min": t.night_min,
        "harsh_braking": t.harsh_brake,
        "harsh_acceleration": t.harsh_accel,
        "harsh_cornering": t.harsh_corner,
        "speeding_min": int(round(t.speeding_s / 60)),
        "score": t.score,
        "reasons": _reasons(t.reasons),
        "route": decode_polyline(t.route),
    }


def _month_out(m) -> dict:
    return {
        "month": m["month"],
        "trips": m["trips"],
        "km": round(m["km"], 1),
        "score": m["score"],
        "reasons": _reasons(m["reasons"]),
    }


@owner_router.get(
    "/vehicles/{int:vehicle_id}/trips", response=DrivingTripsOut, openapi_extra=errors(404)
)
def my_trips(request, vehicle_id: int, q: Query[DrivingTripsQuery]):
    """The car's trips that started between `from` and `to` (local days, inclusive; default the
    last 30 days; at most 92 days). Empty with `refused` when telematics consent is withdrawn."""
    vehicle = selectors.owner_vehicle(request.owner, vehicle_id)
    today = timezone.localdate()
    for day in (q.from_, q.to):
        if day is not None and not dt.date(2000, 1, 1) <= day <= today + dt.timedelta(days=366):
            raise DomainError("invalid_date", _("Give dates from 2000 to next year."))
    end = q.to or today
    start = q.from_ or end - dt.timedelta(days=29)
    if start > end:
        raise DomainError("invalid_range", _("`from` must not be after `to`."))
    if (end - start).days + 1 > c.TRIPS_MAX_DAYS:
        raise DomainError(
            "range_too_long",
            _("Ask for at most %(n)d days at a time.") % {"n": c.TRIPS_MAX_DAYS},
        )
    found = selectors.trips_of(vehicle, start=start, end=end)
    return {"trips": [trip_out(t) for t in found.trips], "refused": found.refused or None}


@owner_router.get(
    "/vehicles/{int:vehicle_id}/driving-score",
    response=DrivingScoreOut,
    openapi_extra=errors(404),
)
def my_driving_score(request, vehicle_id: int, month: Month = None):
    """The month's score (distance-weighted over its trips) with its reasons, and the 12 months
    up to it. `month` is YYYY-MM (default: this month)."""
    vehicle = selectors.owner_vehicle(request.owner, vehicle_id)
    first = selectors.parse_month(month)
    from m4s.telematics.consent import has_consent

    if not has_consent(vehicle):
        empty = {"month": first.strftime("%Y-%m"), "trips": 0, "km": 0.0, "score": None}
        return {
            "month": {**empty, "reasons": []},
            "history": [],
            "refused": "no_telematics_consent",
        }
    history = [
        _month_out(m) for m in selectors.monthly_summary(vehicle, selectors.last_months(first, 12))
    ]
    return {"month": history[-1], "history": history, "refused": None}


@owner_router.get(
    "/vehicles/{int:vehicle_id}/insurer-consent",
    response=DrivingConsentOut,
    openapi_extra=errors(404),
)
def my_insurer_consent(request, vehicle_id: int):
    vehicle = selectors.owner_vehicle(request.owner, vehicle_id)
    consent = selectors.active_insurer_consent(vehicle)
    return {
        "insurer": consent.insurer if consent else None,
        "granted_at": consent.granted_at if consent else None,
    }


@owner_router.post(
    "/vehicles/{int:vehicle_id}/insurer-consent",
    response={201: DrivingConsentOut},
    openapi_extra=errors(404, 409),
)
def give_insurer_consent(request, vehicle_id: int, payload: DrivingConsentIn):
    """Agree to share this car's monthly driving summary with the named insurer."""
    vehicle = selectors.owner_vehicle(request.owner, vehicle_id)
    consent = services.give_insurer_consent(request.owner, vehicle, insurer=payload.insurer)
    return Status(201, {"insurer": consent.insurer, "granted_at": consent.granted_at})


@owner_router.delete(
    "/vehicles/{int:vehicle_id}/insurer-consent", response={204: None}, openapi_extra=errors(404)
)
def withdraw_insurer_consent(request, vehicle_id: int):
    vehicle = selectors.owner_vehicle(request.owner, vehicle_id)
    services.withdraw_insurer_consent(request.owner, vehicle)
    return Status(204, None)


EXPORT_DOC = {
    **errors(403, 404, 409),
    "responses": {
        "200": {
            "description": "CSV: one row per month (vin, insurer, month, trips, km, minutes, "
            "night minutes, harsh events, minutes over the limit, score).",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
}


@staff_router.get(
    "/vehicles/{int:vehicle_id}/driving-export", response={200: None}, openapi_extra=EXPORT_DOC
)
def insurer_export(request, vehicle_id: int, month: Month = None):
    """The car's monthly driving summary (CSV: the 12 months up to `month`, default this month)
    for its insurer; 409 `no_insurer_consent` unless the owner's consent to share holds."""
    vehicle = selectors.staff_vehicle(request.user, vehicle_id)
    first = selectors.parse_month(month)
    body = services.export_for_insurer(
        request.user, vehicle, months=selectors.last_months(first, c.EXPORT_MONTHS)
    )
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="driving-{vehicle.pk}-{first:%Y-%m}.csv"'
    )
    return response
