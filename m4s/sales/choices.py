"""Constants of the sales area: lead sources, stages, lost reasons, activity kinds."""

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _


class LeadSource(models.TextChoices):
    TEST_DRIVE = "test_drive", _("Test drive request")
    FINANCE = "finance", _("Finance application")
    INSURANCE = "insurance", _("Insurance request")
    TRADE_IN = "trade_in", _("Trade-in request")
    RENTAL = "rental", _("Rental request")
    ENQUIRY = "enquiry", _("New-car enquiry")
    WALK_IN = "walk_in", _("Walk-in")
    PHONE = "phone", _("Phone call")
    EVENT = "event", _("Event")
    REFERRAL = "referral", _("Referral")
    WEB = "web", _("Web")


class Stage(models.TextChoices):
    NEW = "new", _("New")
    CONTACTED = "contacted", _("Contacted")
    TEST_DRIVE = "test_drive", _("Test drive")
    NEGOTIATION = "negotiation", _("Negotiation")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class LostReason(models.TextChoices):
    PRICE = "price", _("Price")
    BOUGHT_ELSEWHERE = "bought_elsewhere", _("Bought elsewhere")
    FINANCING_REFUSED = "financing_refused", _("Financing refused")
    NOT_READY = "not_ready", _("Not ready to buy")
    NO_CONTACT = "no_contact", _("Could not be reached")
    OTHER = "other", _("Other")


class ActivityKind(models.TextChoices):
    CALL = "call", _("Call")
    VISIT = "visit", _("Visit")
    NOTE = "note", _("Note")
    STAGE = "stage", _("Stage change")
    ASSIGNMENT = "assignment", _("Assignment")
    REQUEST = "request", _("Request")
    TEST_DRIVE = "test_drive", _("Test drive")


# The pipeline in order; won and lost close a lead.
OPEN_STAGES = (Stage.NEW, Stage.CONTACTED, Stage.TEST_DRIVE, Stage.NEGOTIATION)
CLOSED_STAGES = (Stage.WON, Stage.LOST)
STAGE_ORDER = {s: i for i, s in enumerate([*OPEN_STAGES, Stage.WON])}

# Default probabilities (percent) of closing from each open stage; a group may change them.
DEFAULT_PROBABILITY = {
    Stage.NEW: 10,
    Stage.CONTACTED: 20,
    Stage.TEST_DRIVE: 40,
    Stage.NEGOTIATION: 60,
    Stage.WON: 100,
    Stage.LOST: 0,
}

MAX_VALUE = Decimal("99999999.99")
CENT = Decimal("0.01")

# Message kinds (notify)
KIND_NEW_LEAD = "sales.lead_new"
KIND_LEAD_UPDATED = "sales.lead_updated"
KIND_ASSIGNED = "sales.lead_assigned"
