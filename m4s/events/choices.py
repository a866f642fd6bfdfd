"""Constants of the car-pal events area."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EventStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Open for sign-up")
    CANCELLED = "cancelled", _("Cancelled")
    DONE = "done", _("Done")


class SignupStatus(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed")
    WAITLISTED = "waitlisted", _("On the waiting list")
    CANCELLED = "cancelled", _("Cancelled")
    CHECKED_IN = "checked_in", _("Checked in")


# A place is taken by these; the waiting list waits for one of them to free.
HOLDS_PLACE = (SignupStatus.CONFIRMED, SignupStatus.CHECKED_IN)
ACTIVE = (SignupStatus.CONFIRMED, SignupStatus.WAITLISTED, SignupStatus.CHECKED_IN)

# Message kinds (notify): service category (they are about something the owner signed up for).
KIND_PROMOTED = "event.promoted"
KIND_CANCELLED = "event.cancelled"
KIND_REMINDER = "event.reminder"

MAX_CAPACITY = 10_000
MAX_PHOTOS = 9
