"""Constants of the conversations area: topics, routing stages, message and card kinds, call
outcomes and the basis that makes an outbound call legitimate (never cold)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

BODY_MAX = 4000  # characters of one message or note
MAX_PHOTOS = 6  # per message
PHOTO_MAX_BYTES = 8 * 1024 * 1024
PREVIEW_LEN = 120  # characters of the last message shown in lists
NOTE_MAX = 2000  # call notes, hand-over notes
COMMENT_MAX = 500  # rating comment
DEFAULT_FIRST_RESPONSE_MINUTES = 30  # business minutes before the consultant's turn passes
DEFAULT_TEAM_OFFER_MINUTES = 30  # business minutes the on-duty team has before the CS queue
CALLBACK_WINDOW_MAX_HOURS = 72  # a callback window may span at most this long
CALLBACK_HORIZON_DAYS = 30  # and start at most this far ahead
REMINDER_BASIS_DAYS = 7  # an agreed reminder (appointment, due service) this close is a basis


class Topic(models.TextChoices):
    SALES = "sales", _("Sales")
    SERVICE = "service", _("Service")
    CS = "cs", _("Customer service")
    STORE = "store", _("The store")


# The customer's consultant for a topic (a field of customers.Customer); the store topic has none.
TOPIC_FIELD = {
    Topic.SALES: "sales_consultant",
    Topic.SERVICE: "service_advisor",
    Topic.CS: "cs_agent",
    Topic.STORE: None,
}
# The role whose on-duty members are offered a conversation of the topic (stage "team").
TOPIC_ROLE = {
    Topic.SALES: "sales_consultant",
    Topic.SERVICE: "service_advisor",
    Topic.CS: "customer_service",
    Topic.STORE: "customer_service",
}
# Who works the store's customer-service queue (the last stage), in this order.
QUEUE_ROLES = ("customer_service", "store_manager")


class Stage(models.TextChoices):
    CONSULTANT = "consultant", _("Consultant")
    TEAM = "team", _("On-duty team")
    CS_QUEUE = "cs_queue", _("Customer-service queue")


NEXT_STAGE = {Stage.CONSULTANT: Stage.TEAM, Stage.TEAM: Stage.CS_QUEUE}


class Status(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class AuthorKind(models.TextChoices):
    OWNER = "owner", _("Owner")
    STAFF = "staff", _("Staff")
    SYSTEM = "system", _("System")


class MessageKind(models.TextChoices):
    MESSAGE = "message", _("Message")
    NOTE = "note", _("Internal note")


class CardKind(models.TextChoices):
    NONE = "", _("None")
    CAR = "car", _("Car")
    VISIT = "visit", _("Visit")
    REPAIR_ORDER = "repair_order", _("Repair order")
    COMPLAINT = "complaint", _("Complaint")


class HandoverReason(models.TextChoices):
    ROUTED = "routed", _("Routed to the consultant")
    OFF_DUTY = "off_duty", _("Consultant off duty")
    OVERDUE = "overdue", _("No first response in time")
    CLAIMED = "claimed", _("Claimed")
    TRANSFER = "transfer", _("Transferred")


class TransferReason(models.TextChoices):
    """Why a staff member passes a conversation on (Handover.reason is `transfer`, this in note
    code `transfer_reason`)."""

    EXPERTISE = "expertise", _("Needs another specialist")
    CUSTOMER_CONSULTANT = "consultant", _("Back to the customer's consultant")
    OFF_SHIFT = "off_shift", _("Going off shift")
    WORKLOAD = "workload", _("Workload")
    CUSTOMER_REQUEST = "customer_request", _("The customer asked")
    OTHER = "other", _("Other")


class CallbackStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class CallDirection(models.TextChoices):
    OUTBOUND = "outbound", _("Outgoing")
    INBOUND = "inbound", _("Incoming")


class CallOutcome(models.TextChoices):
    RESOLVED = "resolved", _("Resolved")
    FOLLOW_UP = "follow_up", _("Follow-up needed")
    BOOKED = "booked", _("Visit booked")
    INFORMED = "informed", _("Information given")
    NO_ANSWER = "no_answer", _("No answer")
    VOICEMAIL = "voicemail", _("Left a voicemail")
    WRONG_NUMBER = "wrong_number", _("Wrong number")
    OTHER = "other", _("Other")


class CallBasis(models.TextChoices):
    """Why a call was made: an outbound call without an owner request, an open case or an agreed
    reminder is unsolicited and needs a reason (the figures count them)."""

    OWNER_REQUEST = "owner_request", _("The owner asked for a call")
    OPEN_CASE = "open_case", _("An open case")
    AGREED_REMINDER = "agreed_reminder", _("A reminder the owner agreed to")
    INBOUND = "inbound", _("The owner called")
    NONE = "none", _("Unsolicited")


class CallSource(models.TextChoices):
    MANUAL = "manual", _("Logged by hand")
    CTI = "cti", _("Telephony system")


class Box(models.TextChoices):
    MINE = "mine", _("Mine")
    TEAM = "team", _("My team")
    UNASSIGNED = "unassigned", _("Unassigned")
    WAITING = "waiting", _("Waiting longest")
    CLOSED = "closed", _("Closed")
