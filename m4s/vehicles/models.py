from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from m4s.core.tenancy import TenantModel

from .choices import Fuel, OwnershipReason


class Vehicle(TenantModel):
    """A car known to a dealer group. One current owner; earlier owners live in VehicleOwnership."""

    vin = models.CharField(_("VIN"), max_length=17)
    plate = models.CharField(
        _("plate"), max_length=10, blank=True
    )  # normalised: 京A12345, 粤BD12345
    brand = models.CharField(_("brand"), max_length=40, blank=True)
    model = models.CharField(_("model"), max_length=60, blank=True)
    model_year = models.PositiveSmallIntegerField(_("model year"), null=True, blank=True)
    colour = models.CharField(_("colour"), max_length=30, blank=True)
    fuel = models.CharField(_("fuel"), max_length=8, choices=Fuel.choices, blank=True)
    purchase_date = models.DateField(_("purchase date"), null=True, blank=True)
    purchase_store = models.ForeignKey(
        "org.Store",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("bought at"),
    )
    odometer_km = models.PositiveIntegerField(_("odometer (km)"), null=True, blank=True)
    warranty_end = models.DateField(_("warranty ends"), null=True, blank=True)
    insurance_expiry = models.DateField(_("insurance expires"), null=True, blank=True)
    insurer = models.CharField(_("insurer"), max_length=60, blank=True)
    next_inspection_date = models.DateField(_("next annual inspection"), null=True, blank=True)
    driver_licence_expiry = models.DateField(
        _("main driver's licence expires"), null=True, blank=True
    )
    current_owner = models.ForeignKey(
        "customers.Customer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="vehicles",
        verbose_name=_("current owner"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("vehicle")
        verbose_name_plural = _("vehicles")
        constraints = [
            models.UniqueConstraint(
                fields=["dealer_group", "vin"], name="vehicle_vin_unique_per_group"
            ),
            models.UniqueConstraint(
                fields=["dealer_group", "plate"],
                condition=~Q(plate=""),
                name="vehicle_plate_unique_per_group",
            ),
        ]
        indexes = [models.Index(fields=["current_owner"], name="vehicle_owner")]

    def __str__(self):
        return f"{self.plate or '—'} {self.brand} {self.model}".strip()


class VehicleOwnership(TenantModel):
    """Who owned a car when. Append-only: a resale ends one row and starts the next."""

    vehicle = models.ForeignKey(Vehicle, on_delete=models.CASCADE, related_name="ownerships")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="ownerships"
    )
    reason = models.CharField(max_length=10, choices=OwnershipReason.choices)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["vehicle"],
                condition=Q(ended_at__isnull=True),
                name="one_current_owner_per_vehicle",
            ),
        ]

    def __str__(self):
        return f"{self.vehicle_id} owned by {self.customer_id} from {self.started_at:%Y-%m-%d}"
