"""Writes to the vehicles area's tables that other areas need."""

from django.db.models import Q

from .models import Vehicle


def record_odometer(group_id: int, vehicle_id: int, km: int) -> bool:
    """Record a reading of the car's odometer (workshop check-in or delivery, a terminal's daily
    best). An odometer only goes up, so a reading never lowers a newer (higher) one already
    stored, whoever wrote it and in whatever order the writes arrive: one conditional UPDATE,
    safe against a concurrent writer. Returns whether the stored reading moved."""
    return bool(
        Vehicle.objects.for_group(group_id)
        .filter(Q(odometer_km__isnull=True) | Q(odometer_km__lt=km), pk=vehicle_id)
        .update(odometer_km=km)
    )
