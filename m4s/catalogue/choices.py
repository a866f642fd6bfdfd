"""Constants of the new-car catalogue and finance products."""

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _


class BodyType(models.TextChoices):
    SEDAN = "sedan", _("Sedan")
    HATCHBACK = "hatchback", _("Hatchback")
    SUV = "suv", _("SUV")
    MPV = "mpv", _("MPV")
    WAGON = "wagon", _("Estate")
    COUPE = "coupe", _("Coupé")
    PICKUP = "pickup", _("Pick-up")


class EnergyType(models.TextChoices):
    PETROL = "petrol", _("Petrol")
    DIESEL = "diesel", _("Diesel")
    HYBRID = "hybrid", _("Hybrid")
    PHEV = "phev", _("Plug-in hybrid")
    BEV = "bev", _("Battery electric")


class Drive(models.TextChoices):
    FWD = "fwd", _("Front-wheel drive")
    RWD = "rwd", _("Rear-wheel drive")
    AWD = "awd", _("All-wheel drive")


# Loan terms (months) a finance product may allow.
TERMS = (12, 24, 36, 48, 60, 72, 84)
MAX_TERM = 120
MAX_PRICE = Decimal("999999999.99")
MAX_PICTURES = 12
