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
    # the rest of the JT/T 808-2019 alarm word (table 24); values fit the 12-character columns
    IGNITION = "ignition", _("Illegal ignition")
    DOOR = "door", _("Illegal door opening")
    OVERSPEED = "overspeed", _("Overspeed")
    FATIGUE = "fatigue", _("Fatigue driving")
    DANGER = "danger", _("Dangerous driving")
    GNSS_FAULT = "gnss_fault", _("GNSS module fault")
    GNSS_CUT = "gnss_cut", _("GNSS antenna disconnected")
    GNSS_SHORT = "gnss_short", _("GNSS antenna short circuit")
    LCD_FAULT = "lcd_fault", _("Display fault")
    TTS_FAULT = "tts_fault", _("Voice (TTS) module fault")
    CAMERA_FAULT = "camera_fault", _("Camera fault")
    IC_CARD_FAULT = "ic_card", _("IC card module fault")
    SPEED_WARN = "speed_warn", _("Overspeed warning")
    FATIGUE_WARN = "fatigue_warn", _("Fatigue driving warning")
    VIOLATION = "violation", _("Illegal driving")
    TYRE_WARN = "tyre_warn", _("Tyre pressure warning")
    BLIND_SPOT = "blind_spot", _("Right-turn blind spot alarm")
    DRIVE_LIMIT = "drive_limit", _("Daily driving time exceeded")
    LONG_PARKING = "long_parking", _("Parked too long")
    AREA = "area", _("Entered or left an area")
    ROUTE = "route", _("Entered or left a route")
    ROUTE_TIME = "route_time", _("Road section driving time too short or too long")
    OFF_ROUTE = "off_route", _("Route deviation")
    VSS_FAULT = "vss_fault", _("Speed sensor (VSS) fault")
    FUEL = "fuel", _("Abnormal fuel level")


RESCUE_ALARMS = {"crash", "rollover"}
THEFT_ALARMS = {"theft", "movement", "tow", "ignition", "door"}
# Other alarms the owner is told about; the rest (driving behaviour of fleets, equipment faults
# of the terminal) are recorded and shown on the car's health record without a message.
OWNER_NOTICE_ALARMS = {"low_battery", "power_cut", "tyre_warn", "fuel", "gnss_cut"}


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    CLOSED = "closed", pgettext_lazy("case status", "Closed")


class Severity(models.TextChoices):
    INFO = "info", _("Information")
    SOON = "soon", _("See the workshop soon")
    NOW = "now", _("Stop safely and call us")
