"""Constants of the complaints area: channels, severities, statuses, levels, event kinds, and the
built-in defaults a group starts with (categories, root causes, SLA targets)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

DESCRIPTION_MAX = 4000  # characters of the owner's own words
MESSAGE_MAX = 4000
REOPEN_WINDOW_DAYS = 14  # an owner may reopen within this many days of resolution / closing
AUTO_CLOSE_DAYS = 7  # a resolution the owner neither confirms nor disputes closes after this
MAX_PHOTOS = 8  # per complaint
PHOTO_MAX_BYTES = 8 * 1024 * 1024
UNHAPPY_AT_OR_BELOW = 6  # a survey factor or NPS at or below this opens a complaint


class Channel(models.TextChoices):
    APP = "app", _("Owner app")
    PHONE = "phone", _("Phone")
    WALK_IN = "walk_in", _("Walk-in")
    SURVEY = "survey", _("Revisit survey")
    EMAIL = "email", _("E-mail")
    SOCIAL = "social", _("Social media")


# What staff may record on an owner's behalf (the app and the survey open complaints themselves).
STAFF_CHANNELS = (Channel.PHONE, Channel.WALK_IN, Channel.EMAIL, Channel.SOCIAL)


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical (safety, legal, media)")


class Status(models.TextChoices):
    NEW = "new", _("Received")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    IN_PROGRESS = "in_progress", _("Being handled")
    WAITING_CUSTOMER = "waiting_customer", _("Waiting for you")
    RESOLVED = "resolved", _("Resolved: please confirm")
    CLOSED = "closed", _("Closed")
    REOPENED = "reopened", _("Reopened")


# Statuses in which the case is being worked on (clocks and escalation apply).
OPEN_STATUSES = (
    Status.NEW,
    Status.ACKNOWLEDGED,
    Status.IN_PROGRESS,
    Status.WAITING_CUSTOMER,
    Status.REOPENED,
)
# Open and the clock running (waiting for the customer pauses it).
RUNNING_STATUSES = (Status.NEW, Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.REOPENED)


class Level(models.IntegerChoices):
    STORE_CS = 1, _("Store customer service")
    STORE_MANAGER = 2, _("Store manager")
    GROUP_CARE = 3, _("Group customer care")


TOP_LEVEL = Level.GROUP_CARE


class EscalationReason(models.TextChoices):
    BREACH = "breach", _("Time limit passed")
    REQUEST = "request", _("Requested by staff")
    CRITICAL = "critical", _("Critical complaint")


class EventKind(models.TextChoices):
    FILED = "filed", _("Filed")
    ROUTED = "routed", _("Assigned")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    REPLY = "reply", _("Reply to the owner")
    OWNER_MESSAGE = "owner_message", _("Message from the owner")
    NOTE = "note", _("Internal note")
    CALL = "call", _("Call")
    PHOTO = "photo", _("Photo")
    WAITING = "waiting", _("Waiting for the customer")
    RESUMED = "resumed", _("Handling resumed")
    CHANGED = "changed", _("Changed")
    ESCALATED = "escalated", _("Escalated")
    FIRST_RESPONSE_BREACHED = "fr_breached", _("First response overdue")
    RESOLVED = "resolved", _("Resolved")
    PREVENTIVE_CHECKED = "preventive", _("Preventive action checked")
    CONFIRMED = "confirmed", _("Confirmed by the owner")
    CLOSED = "closed", _("Closed")
    REOPENED = "reopened", _("Reopened")
    RATED = "rated", _("Rated")


class CallDirection(models.TextChoices):
    INBOUND = "in", _("Incoming")
    OUTBOUND = "out", _("Outgoing")


class Queue(models.TextChoices):
    MINE = "mine", _("Mine")
    STORE = "store", _("My store")
    BREACHING = "breaching", _("Breached or about to breach")


# The tree a group starts with: (code, English name, parent code or "").
DEFAULT_CATEGORIES = [
    ("service_quality", gettext_noop("Service quality"), ""),
    ("repeat_repair", gettext_noop("Repeat repair (not fixed first time)"), "service_quality"),
    ("damage", gettext_noop("Damage to the car"), "service_quality"),
    ("price", gettext_noop("Price"), ""),
    ("waiting_time", gettext_noop("Waiting time"), ""),
    ("attitude", gettext_noop("Staff attitude"), ""),
    ("parts", gettext_noop("Parts"), ""),
    ("sales_promise", gettext_noop("Sales promise"), ""),
    ("telematics", gettext_noop("Telematics and app"), ""),
    ("other", gettext_noop("Other"), ""),
]

DEFAULT_ROOT_CAUSES = [
    ("process", gettext_noop("Process not followed")),
    ("training", gettext_noop("Skill or training gap")),
    ("communication", gettext_noop("Poor communication")),
    ("capacity", gettext_noop("Not enough capacity")),
    ("parts_supply", gettext_noop("Parts supply")),
    ("product", gettext_noop("Product defect")),
    ("expectation", gettext_noop("Expectation not set")),
    ("not_justified", gettext_noop("Not justified")),
]

# Built-in SLA targets in business minutes, per severity, when the group has no policy row:
# (first response, resolution, level 1 clock, level 2 clock, level 3 clock).
DEFAULT_SLA = {
    Severity.LOW: (480, 4800, 960, 960, 1440),
    Severity.NORMAL: (240, 2400, 480, 480, 960),
    Severity.HIGH: (60, 960, 120, 240, 480),
    Severity.CRITICAL: (30, 480, 60, 120, 240),
}
