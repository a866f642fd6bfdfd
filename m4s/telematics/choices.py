from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Protocol(models.TextChoices):
    HTTP = "http", _("HTTP")
    MQTT = "mqtt", _("MQTT")
    JT808 = "jt808", _("JT/T 808")


class OdometerSource(models.TextChoices):
    CAN = "can", _("CAN/OBD")
    TERMINAL = "terminal", _("Terminal")
    GPS = "gps", _("GPS")


# Higher wins when two readings disagree.
SOURCE_RANK = {"can": 3, "terminal": 2, "gps": 1}


class Alarm(models.TextChoices):
    NONE = "none", _("None")
    CRASH = "crash", _("Crash")
    ROLLOVER = "rollover", _("Rollover")
    THEFT = "theft", _("Theft")
    MOVEMENT = "movement", _("Movement")
    TOW = "tow", _("Tow")
    SOS = "sos", _("SOS button")
    LOW_BATTERY = "low_battery", _("Low battery")
    POWER_CUT = "power_cut", _("Power cut")


RESCUE_ALARMS = {"crash", "rollover"}
THEFT_ALARMS = {"theft", "movement", "tow"}


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    CLOSED = "closed", pgettext_lazy("case status", "Closed")


class Severity(models.TextChoices):
    INFO = "info", _("Information")
    SOON = "soon", _("See the workshop soon")
    NOW = "now", _("Stop safely and call us")
