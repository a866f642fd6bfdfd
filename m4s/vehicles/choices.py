from django.db import models
from django.utils.translation import gettext_lazy as _


class Fuel(models.TextChoices):
    PETROL = "petrol", _("Petrol")
    DIESEL = "diesel", _("Diesel")
    HYBRID = "hybrid", _("Hybrid")
    PHEV = "phev", _("Plug-in hybrid")
    BEV = "bev", _("Battery electric")


class OwnershipReason(models.TextChoices):
    PURCHASE = "purchase", _("Bought at the store")
    IMPORT = "import", _("Imported")
    BINDING = "binding", _("Bound by the owner")
    DESK = "desk", _("Registered at the desk")
    TRANSFER = "transfer", _("Transferred (resale)")
