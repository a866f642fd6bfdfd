"""Driving data of an owner (m4s/privacy/registry.py): their trips (with start and end positions
and a route summary) during each period they owned a car, and their insurer data-sharing
consents, in the export; erasure deletes those trips and consents (with the export records
made under them)."""

import datetime as dt

from django.utils import timezone

from m4s.core.personal_data import rows

from .models import InsurerExport, InsurerShareConsent, Trip

PERSONAL_FIELDS = {
    "driving.Trip": {"start_lat", "start_lon", "end_lat", "end_lon", "route"},
    "driving.InsurerShareConsent": {"insurer"},
}
NOT_PERSONAL = {
    "driving.Trip": {"end_reason": "why a trip ended (ignition off, a stop, no reports)"},
}


def _periods(owner) -> list[tuple[int, int, dt.datetime, dt.datetime]]:
    from m4s.vehicles.models import VehicleOwnership

    now = timezone.now()
    return [
        (group, vehicle, start, end or now)
        for group, vehicle, start, end in VehicleOwnership.objects.unscoped()
        .filter(customer__owner=owner)
        .values_list("dealer_group_id", "vehicle_id", "started_at", "ended_at")
    ]


def _trips(owner):
    for group, vehicle, start, end in _periods(owner):
        yield Trip.objects.for_group(group).filter(
            vehicle_id=vehicle, started_at__gte=start, started_at__lte=end
        )


def export_owner(owner) -> dict:
    trips = []
    for qs in _trips(owner):
        trips += rows(
            qs.order_by("started_at"),
            [
                "vehicle_id",
                "started_at",
                "ended_at",
                "start_lat",
                "start_lon",
                "end_lat",
                "end_lon",
                "distance_km",
                "duration_s",
                "night_min",
                "harsh_accel",
                "harsh_brake",
                "harsh_corner",
                "speeding_s",
                "score",
            ],
        )
    consents = rows(
        InsurerShareConsent.objects.for_owner(owner).order_by("granted_at"),
        ["vehicle_id", "insurer", "granted_at", "revoked_at"],
    )
    return {"rows": {"trips": trips, "insurer_consents": consents}, "files": []}


def erase_owner(owner) -> dict:
    deleted = 0
    for qs in _trips(owner):
        n, _ = qs.delete()
        deleted += n
    consents = InsurerShareConsent.objects.for_owner(owner)
    exports, _ = InsurerExport.objects.unscoped().filter(consent__in=list(consents)).delete()
    removed, _ = consents.delete()
    return {
        "trips deleted": deleted,
        "insurer consents deleted": removed,
        "insurer export records deleted": exports,
    }
