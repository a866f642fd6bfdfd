"""Constants of the care area: the reminder kinds, their statuses and one-tap actions, the sources
and statuses of traffic violations, weather warnings, and the built-in defaults a group starts
with (lead times, the annual-inspection rule table for private passenger cars in China)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    MAINTENANCE = "maintenance", _("Maintenance due")
    DECLINED_REPAIR = "declined_repair", _("Declined repair comes back")
    INSURANCE = "insurance", _("Insurance renewal")
    INSPECTION = "inspection", _("Annual inspection")
    LICENCE = "licence", _("Driving licence renewal")
    VIOLATION = "violation", _("Traffic violation")
    WEATHER = "weather", _("Bad weather warning")
    BIRTHDAY = "birthday", _("Birthday greeting")
    ANNIVERSARY = "anniversary", _("Purchase anniversary greeting")
    FESTIVAL = "festival", _("Festival greeting")


# Greetings that go out as marketing (they need marketing consent); everything else is care.
MARKETING_KINDS = frozenset({Kind.FESTIVAL.value})
# Reminders built from the car's own data: they need telematics consent.
TELEMATICS_KINDS = frozenset({Kind.MAINTENANCE.value})


class Status(models.TextChoices):
    DUE = "due", _("Coming up")
    SENT = "sent", _("Sent")
    SNOOZED = "snoozed", _("Snoozed")
    DONE = "done", _("Done")
    DONE_ELSEWHERE = "done_elsewhere", _("Done elsewhere")
    DISMISSED = "dismissed", _("Dismissed")


OPEN_STATUSES = (Status.DUE, Status.SENT, Status.SNOOZED)


class Action(models.TextChoices):
    BOOK = "book", _("Book a visit")
    QUOTE = "quote", _("Ask for a quote")
    RENEW = "renew", _("Renew")
    CLEAR_VIOLATION = "clear_violation", _("Have the store clear it")
    CHECK_CAR = "check_car", _("Check your car")
    NONE = "none", _("No action")


class ViolationStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLEARING = "clearing", _("The store is clearing it")
    CLEARED = "cleared", _("Cleared")


class ViolationSource(models.TextChoices):
    STAFF = "staff", _("Entered by staff")
    IMPORT = "import", _("Imported from a file")
    API = "api", _("Integration")


class WeatherKind(models.TextChoices):
    RAINSTORM = "rainstorm", _("Rainstorm")
    TYPHOON = "typhoon", _("Typhoon")
    SNOW = "snow", _("Snowstorm")
    COLD = "cold", _("Cold wave")
    HEAT = "heat", _("Heat wave")
    FOG = "fog", _("Dense fog")
    HAIL = "hail", _("Hail")
    SAND = "sand", _("Sandstorm")
    WIND = "wind", _("Gale")


class Severity(models.TextChoices):
    """China's four colours of weather warnings."""

    BLUE = "blue", _("Blue")
    YELLOW = "yellow", _("Yellow")
    ORANGE = "orange", _("Orange")
    RED = "red", _("Red")


class Calendar(models.TextChoices):
    SOLAR = "solar", _("Gregorian date")
    LUNAR = "lunar", _("Chinese lunar date")


class InsuranceCover(models.TextChoices):
    COMPULSORY = "compulsory", _("Compulsory traffic insurance")
    COMMERCIAL = "commercial", _("Commercial insurance")


# --- defaults ----------------------------------------------------------------------------------
# kind → (lead days, params, action). Lead days: a reminder is written the first day the due date
# is within the largest lead, then once more at each smaller lead (one cycle per stage).
DEFAULT_RULES: dict[str, tuple[list[int], dict, str]] = {
    Kind.MAINTENANCE: ([21], {}, Action.BOOK),
    # N days after the line was declined: red lines sooner
    Kind.DECLINED_REPAIR: (
        [0],
        {"amber_days": 30, "red_days": 14, "max_age_days": 365},
        Action.BOOK,
    ),
    Kind.INSURANCE: ([60, 30, 7], {}, Action.QUOTE),
    Kind.INSPECTION: ([30, 7], {}, Action.BOOK),
    Kind.LICENCE: ([90, 30], {}, Action.RENEW),
    Kind.VIOLATION: ([0], {"remind_open_after_days": 14}, Action.CLEAR_VIOLATION),
    Kind.WEATHER: ([0], {"radius_km": 60}, Action.CHECK_CAR),
    Kind.BIRTHDAY: ([0], {}, Action.NONE),
    Kind.ANNIVERSARY: ([0], {}, Action.NONE),
    Kind.FESTIVAL: ([0], {}, Action.NONE),
}

# China's annual inspection of private (non-operating) small and mini passenger cars, counted
# from the registration date: (from_year, to_year or None, interval_months, exempt_years).
# Inspection-exempt labels in years 6 and 10; yearly from year 10; every 6 months from year 15.
CHINA_PRIVATE_CAR_INSPECTION: list[tuple[int, int | None, int, list[int]]] = [
    (0, 10, 0, [6]),
    (10, 15, 12, [10]),
    (15, None, 6, []),
]
INSPECTION_HORIZON_YEARS = 60  # no car is older than this

VIOLATION_MAX_AGE_DAYS = 3 * 365  # older violations are refused (far past)
VIOLATION_FUTURE_SLACK_HOURS = 24  # clocks differ a little; further ahead is refused
API_KEY_PREFIX = "m4sk"
SNOOZE_MAX_DAYS = 90
HANDOFF_BATCH = 500  # reminders handed to the contact policy per batch
