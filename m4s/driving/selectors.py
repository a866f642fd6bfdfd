"""Reads of the driving area, scoped to the owner's car (another owner's or group's car is not
found) and to telematics consent (a car whose owner withdrew it shows no trips, with why)."""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from m4s.core.errors import DomainError
from m4s.telematics.consent import has_consent

from . import choices as c
from . import scoring
from .models import InsurerShareConsent, Trip
from .services import tz_of


@dataclass
class Trips:
    trips: list = field(default_factory=list)
    refused: str = ""  # a reason code when nothing can be shown: "no_telematics_consent"


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def parse_month(raw: str | None) -> dt.date:
    """'YYYY-MM' → its first day; the current month when empty. Refused: anything else."""
    raw = (raw or "").strip()
    if not raw:
        return month_start(timezone.localdate())
    try:
        if len(raw) != 7 or raw[4] != "-":
            raise ValueError
        day = dt.date(int(raw[:4]), int(raw[5:]), 1)
    except ValueError:
        raise DomainError("invalid_month", _("Give the month as YYYY-MM.")) from None
    if not 2000 <= day.year <= 2100:
        raise DomainError("invalid_month", _("Give the month as YYYY-MM.")) from None
    return day


def _local_bounds(vehicle, start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = tz_of(vehicle)
    return (
        dt.datetime.combine(start, dt.time.min, tzinfo=tz),
        dt.datetime.combine(end, dt.time.min, tzinfo=tz),
    )


def trips_of(vehicle, *, start: dt.date, end: dt.date, limit: int = 500) -> Trips:
    """The car's trips that started on days start..end (inclusive, the car's local days), newest
    first. Empty with `refused` when the owner has not given telematics consent."""
    if not has_consent(vehicle):
        return Trips(refused="no_telematics_consent")
    lo, hi = _local_bounds(vehicle, start, end + dt.timedelta(days=1))
    rows = (
        Trip.objects.for_group(vehicle.dealer_group_id)
        .filter(vehicle=vehicle, started_at__gte=lo, started_at__lt=hi)
        .order_by("-started_at")[:limit]
    )
    return Trips(trips=list(rows))


MONTH_SUMS = {
    "trips": Count("id"),
    "km": Sum("distance_km"),
    "weighted": Sum(F("score") * F("distance_km")),
    "duration_s": Sum("duration_s"),
    "night_min": Sum("night_min"),
    "harsh_brake": Sum("harsh_brake"),
    "harsh_accel": Sum("harsh_accel"),
    "harsh_corner": Sum("harsh_corner"),
    "speeding_s": Sum("speeding_s"),
}


def monthly_summary(vehicle, months: list[dt.date]) -> list[dict]:
    """Per month (first days, the car's local months): trips, km, minutes, event counts and the
    distance-weighted score with its reasons, over closed trips. One query per month."""
    g = vehicle.dealer_group_id
    out = []
    for first in months:
        lo, hi = _local_bounds(vehicle, first, next_month(first))
        agg = (
            Trip.objects.for_group(g)
            .filter(vehicle=vehicle, is_open=False, started_at__gte=lo, started_at__lt=hi)
            .aggregate(**MONTH_SUMS)
        )
        km = agg["km"] or 0.0
        counts = {
            "harsh_braking": agg["harsh_brake"] or 0,
            "harsh_acceleration": agg["harsh_accel"] or 0,
            "harsh_cornering": agg["harsh_corner"] or 0,
            "speeding": int(round((agg["speeding_s"] or 0) / 60)),
            "night": agg["night_min"] or 0,
        }
        codes = sorted(
            (code for code in c.REASON_ORDER if counts[code] > 0),
            key=lambda code: -c.PENALTY[code][0] * counts[code],
        )
        reasons: list[dict[str, Any]] = [{"code": code, "n": counts[code]} for code in codes]
        out.append(
            {
                "month": first.strftime("%Y-%m"),
                "first": first,
                "trips": agg["trips"],
                "km": km,
                "driving_min": int(round((agg["duration_s"] or 0) / 60)),
                "night_min": counts["night"],
                "harsh_brake": counts["harsh_braking"],
                "harsh_accel": counts["harsh_acceleration"],
                "harsh_corner": counts["harsh_cornering"],
                "speeding_min": counts["speeding"],
                "score": int(round(agg["weighted"] / km)) if km > 0 else None,
                "reasons": reasons,
            }
        )
    return out


def last_months(month: dt.date, n: int) -> list[dt.date]:
    out = [month]
    for _i in range(n - 1):
        out.append((out[-1] - dt.timedelta(days=1)).replace(day=1))
    return out[::-1]


def reason_texts(reasons: list[dict]) -> list[str]:
    return [t for t in (scoring.reason_text(r) for r in reasons) if t]


def active_insurer_consent(vehicle) -> InsurerShareConsent | None:
    return (
        InsurerShareConsent.objects.for_group(vehicle.dealer_group_id)
        .filter(vehicle=vehicle, revoked_at__isnull=True)
        .first()
    )


def staff_vehicle(actor, vehicle_id: int):
    from m4s.telematics.selectors import staff_vehicle as find

    return find(actor, vehicle_id)


def owner_vehicle(owner, vehicle_id: int):
    from m4s.telematics.selectors import owner_vehicle as find

    return find(owner, vehicle_id)
