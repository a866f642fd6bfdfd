from django.db import models
from django.utils.translation import gettext_lazy as _

from m4s.owners.choices import Channel

__all__ = ["Category", "Channel", "Outcome", "Status", "Why"]


class Status(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    RETRY = "retry", _("Waiting to retry")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    DROPPED = "dropped", _("Dropped by the contact policy")


class Category(models.TextChoices):
    """What a message to an owner is, for the contact policy (m4s/notify/policy.py)."""

    TRANSACTIONAL = "transactional", _("Sign-in codes and safety alerts")
    SERVICE = "service", _("Service and visits")
    CARE = "care", _("Reminders")
    MARKETING = "marketing", _("Offers and greetings")


class Outcome(models.TextChoices):
    SENT = "sent", _("Sent")
    HELD = "held", _("Held")
    DROPPED = "dropped", _("Dropped")


class Why(models.TextChoices):
    """The reason code of a contact decision."""

    OK = "ok", _("Allowed")
    QUIET_HOURS = "quiet_hours", _("Quiet hours: held until they end")
    NO_MARKETING_CONSENT = "no_marketing_consent", _("No marketing consent")
    NO_TELEMATICS_CONSENT = "no_telematics_consent", _("No vehicle-data consent")
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed from this kind of message")
    CHANNEL_OFF = "channel_off", _("Channel switched off for this kind of message")
    DUPLICATE = "duplicate", _("Already sent for this reason")
    CAPPED = "capped", _("Too many messages this week")
    NO_ADDRESS = "no_address", _("No way to reach the owner")
    INACTIVE = "inactive", _("Owner account closed")
