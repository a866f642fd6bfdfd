"""Connected-car data: a telemetry summary, charging sessions and rescue photos in the export;
positions and trips of the owner's period of ownership erased (charging places too) and the
photos they added to rescue cases deleted; raw telemetry retention (m4s/privacy/registry.py).
The tow partners and insurers of the directory are companies, not people."""

import datetime as dt
import zoneinfo

from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from m4s.core.personal_data import rows

from . import consent
from .models import (
    AlarmEvent,
    ChargingSession,
    DailyOdometer,
    Geofence,
    RescueCase,
    RescuePhoto,
    Telemetry,
)

PERSONAL_FIELDS = {
    "telematics.Telemetry": {"lat", "lon"},
    "telematics.VehicleState": {"lat", "lon", "parked_lat", "parked_lon"},
    "telematics.AlarmEvent": {"lat", "lon"},
    "telematics.RescueCase": {"lat", "lon", "note"},
    "telematics.Geofence": {"name", "lat", "lon"},
    "telematics.ChargingSession": {"lat", "lon"},
    "telematics.RescuePhoto": {"image"},
}
NOT_PERSONAL = {
    "telematics.Device": {"terminal_phone": "the terminal's SIM number, not a person's"},
    "telematics.DeadLetter": {
        "payload": "refused terminal data",
        "reason": "why it was refused",
    },
    "telematics.Telemetry": {"odometer_note": "why an odometer reading was not used"},
    "telematics.TowPartner": {
        "name": "a tow company in the group's directory",
        "phone": "a tow company's business number",
        "email": "a tow company's business address",
    },
    "telematics.Insurer": {
        "name": "an insurance company in the group's directory",
        "phone": "an insurer's claims number",
        "email": "an insurer's claims address",
    },
}


def _periods(owner) -> list[tuple[int, int, dt.datetime, dt.datetime, bool]]:
    """(group, vehicle, from, until, still owned) of each period the owner owned a car."""
    from m4s.vehicles.models import VehicleOwnership

    now = timezone.now()
    return [
        (group, vehicle, start, end or now, end is None)
        for group, vehicle, start, end in VehicleOwnership.objects.unscoped()
        .filter(customer__owner=owner)
        .values_list("dealer_group_id", "vehicle_id", "started_at", "ended_at")
    ]


def _car_zone(vehicle_id: int) -> dt.tzinfo:
    """The time zone a car's daily odometer is dated in (its owner's store's, as the writer)."""
    from m4s.vehicles.models import Vehicle

    name = (
        Vehicle.objects.unscoped()
        .filter(pk=vehicle_id)
        .values_list("current_owner__store__timezone", flat=True)
        .first()
    )
    try:
        return zoneinfo.ZoneInfo(name) if name else timezone.get_current_timezone()
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return timezone.get_current_timezone()


def _photos(owner):
    """The photos the owner added to rescue cases of their cars."""
    return RescuePhoto.objects.unscoped().filter(
        Q(case__customer__owner=owner) | Q(case__vehicle__current_owner__owner=owner)
    )


def export_owner(owner) -> dict:
    summary, alarms, daily, charging = [], [], [], []
    for group, vehicle, start, end, _current in _periods(owner):
        zone = _car_zone(vehicle)
        stats = (
            Telemetry.objects.for_group(group)
            .filter(vehicle_id=vehicle, ts__gte=start, ts__lte=end)
            .aggregate(reports=Count("id"), first=Min("ts"), last=Max("ts"))
        )
        summary.append(
            {
                "vehicle_id": vehicle,
                **{k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in stats.items()},
            }
        )
        alarms += rows(
            AlarmEvent.objects.for_group(group)
            .filter(vehicle_id=vehicle, ts__gte=start, ts__lte=end)
            .order_by("ts"),
            ["vehicle_id", "kind", "ts", "lat", "lon", "speed_kmh"],
        )
        daily += rows(
            DailyOdometer.objects.for_group(group)
            .filter(
                vehicle_id=vehicle,
                date__gte=start.astimezone(zone).date(),
                date__lte=end.astimezone(zone).date(),
            )
            .order_by("date"),
            ["vehicle_id", "date", "odometer_km"],
        )
        charging += rows(
            ChargingSession.objects.for_group(group)
            .filter(vehicle_id=vehicle, started_at__gte=start, started_at__lte=end)
            .order_by("started_at"),
            ["vehicle_id", "started_at", "ended_at", "start_soc", "end_soc", "kwh", "lat", "lon"],
        )
    photos = list(_photos(owner).order_by("created_at"))
    return {
        "rows": {
            "telemetry_summary": summary,
            "car_alarms": alarms,
            "daily_odometer": daily,
            "geofences": rows(
                Geofence.objects.unscoped().filter(vehicle__current_owner__owner=owner),
                ["vehicle_id", "name", "lat", "lon", "radius_m"],
            ),
            "charging_sessions": charging,
            "rescue_photos": rows(photos, ["case_id", "created_at"]),
        },
        "files": [p.image.name for p in photos if p.image],
    }


def erase_owner(owner) -> dict:
    """Positions and trips of the owner's periods of ownership go (the raw telemetry rows; the
    positions of alarms and rescue cases; the car's live and parked position; geofences). The
    daily odometer stays with the car: it is the car's mileage, not where anyone went."""
    # first the photos: the cases forget their customer below
    photos = list(_photos(owner))
    for p in photos:
        if p.image:
            p.image.delete(save=False)
    photo_count, _ = _photos(owner).delete()
    deleted = alarms = cases = 0
    current: dict[int, list[int]] = {}
    for group, vehicle, start, end, still_owned in _periods(owner):
        n, _ = (
            Telemetry.objects.for_group(group)
            .filter(vehicle_id=vehicle, ts__gte=start, ts__lte=end)
            .delete()
        )
        deleted += n
        alarms += (
            AlarmEvent.objects.for_group(group)
            .filter(vehicle_id=vehicle, ts__gte=start, ts__lte=end)
            .update(lat=None, lon=None)
        )
        cases += (
            RescueCase.objects.for_group(group)
            .filter(vehicle_id=vehicle, opened_at__gte=start, opened_at__lte=end)
            .update(lat=None, lon=None, note="", customer=None)
        )
        ChargingSession.objects.for_group(group).filter(
            vehicle_id=vehicle, started_at__gte=start, started_at__lte=end
        ).update(lat=None, lon=None)
        if still_owned:  # a car sold since then: its new owner's position is not ours to clear
            current.setdefault(group, []).append(vehicle)
    fences, _ = Geofence.objects.unscoped().filter(vehicle__current_owner__owner=owner).delete()
    for group, vehicles in current.items():
        consent.forget_positions(group, vehicles)
    return {
        "telemetry rows deleted": deleted,
        "alarm positions removed": alarms,
        "rescue case positions removed": cases,
        "geofences deleted": fences,
        "rescue photos deleted": photo_count,
    }


def enforce_retention(days: dict, now: dt.datetime) -> dict:
    from .storage import purge_old_telemetry

    return {"telemetry rows deleted": purge_old_telemetry(now=now, days=days["telemetry"])}
