"""The owner's link to their cars (not the car's technical record) (m4s/privacy/registry.py)."""

from django.utils import timezone

from m4s.core.personal_data import rows

from .models import Vehicle, VehicleOwnership

PERSONAL_FIELDS: dict = {}
NOT_PERSONAL = {
    "vehicles.Vehicle": {
        "plate": "identifies the car: its technical record stays with the dealer",
        "vin": "identifies the car: its technical record stays with the dealer",
    },
    "vehicles.VehicleOwnership": {"reason": "how ownership began (sale, resale)"},
}


def _cars(owner):
    return Vehicle.objects.unscoped().filter(current_owner__owner=owner)


def export_owner(owner) -> dict:
    return {
        "rows": {
            "cars": rows(
                _cars(owner).select_related("dealer_group").order_by("pk"),
                [
                    "dealer_group.name",
                    "vin",
                    "plate",
                    "brand",
                    "model",
                    "model_year",
                    "colour",
                    "fuel",
                    "purchase_date",
                    "odometer_km",
                    "warranty_end",
                    "insurance_expiry",
                    "insurer",
                    "next_inspection_date",
                    "driver_licence_expiry",
                ],
            ),
            "car_ownership": rows(
                VehicleOwnership.objects.unscoped()
                .filter(customer__owner=owner)
                .select_related("vehicle")
                .order_by("started_at"),
                ["vehicle.plate", "vehicle.vin", "reason", "started_at", "ended_at"],
            ),
        },
        "files": [],
    }


def erase_owner(owner) -> dict:
    """The cars stay (VIN, plate, model, odometer: the dealer's technical record) without their
    owner and the owner's own dates (driving licence, insurance); the ownership periods end."""
    now = timezone.now()
    ended = (
        VehicleOwnership.objects.unscoped()
        .filter(customer__owner=owner, ended_at__isnull=True)
        .update(ended_at=now)
    )
    unlinked = _cars(owner).update(
        current_owner=None, driver_licence_expiry=None, insurer="", insurance_expiry=None
    )
    return {"cars unlinked": unlinked, "ownerships ended": ended}
