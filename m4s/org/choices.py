from django.db import models
from django.utils.translation import gettext_lazy as _


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class EmergencyKind(models.TextChoices):
    RESCUE = "rescue", _("Roadside rescue")
    INSURANCE = "insurance", _("Insurance claims")
    HOTLINE = "hotline", _("Store hotline")
    POLICE = "police", _("Police")
    AMBULANCE = "ambulance", _("Ambulance")
    TRAFFIC = "traffic", _("Traffic accident")
