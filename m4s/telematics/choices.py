from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Protocol(models.TextChoices):
    HTTP = "http", _("HTTP")
    MQTT = "mqtt", _("MQTT")
    JT808 = "jt808", _("JT/T 808")
    GB32960 = "gb32960", _("GB/T 32960")


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
    # GB/T 32960: an alarm of the highest level (3) of a new-energy vehicle's battery or drive
    BATTERY = "battery", _("High-voltage battery or drive fault")


RESCUE_ALARMS = {"crash", "rollover"}
THEFT_ALARMS = {"theft", "movement", "tow", "ignition", "door"}
# Other alarms the owner is told about; the rest (driving behaviour of fleets, equipment faults
# of the terminal) are recorded and shown on the car's health record without a message.
OWNER_NOTICE_ALARMS = {"low_battery", "power_cut", "tyre_warn", "fuel", "gnss_cut"}
# told to the owner by the EV battery-alarm reminder (ev.py), through the contact policy
EV_ALARMS = {"battery"}


class ChargeState(models.IntegerChoices):
    """GB/T 32960.3-2016 table 7: the charging state of a new-energy vehicle."""

    PARKED = 1, _("Charging (parked)")
    DRIVING = 2, _("Charging while driving")
    NOT_CHARGING = 3, _("Not charging")
    COMPLETE = 4, _("Charging complete")


CHARGING_STATES = frozenset({1, 2})


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    CLOSED = "closed", pgettext_lazy("case status", "Closed")


class Severity(models.TextChoices):
    INFO = "info", _("Information")
    SOON = "soon", _("See the workshop soon")
    NOW = "now", _("Stop safely and call us")
