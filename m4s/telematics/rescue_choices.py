"""Constants of rescue (m4s/telematics/rescue.py): the tow's progress and the case's steps.
Kept beside choices.py (which the other connected-car work extends) so both can change at once."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class TowStatus(models.TextChoices):
    NONE = "", _("No tow yet")
    DISPATCHED = "dispatched", _("Tow dispatched")
    ON_THE_WAY = "on_the_way", _("Tow on the way")
    ARRIVED = "arrived", _("Tow arrived at the car")
    DELIVERED = "delivered", _("Car delivered to the store")
    CANCELLED = "cancelled", pgettext_lazy("tow status", "Cancelled")


# status -> the statuses it may move to (a cancelled or delivered tow is final; a new dispatch
# after a cancellation starts again from "dispatched")
TOW_NEXT = {
    "dispatched": {"on_the_way", "arrived", "delivered", "cancelled"},
    "on_the_way": {"arrived", "delivered", "cancelled"},
    "arrived": {"delivered", "cancelled"},
    "delivered": set(),
    "cancelled": set(),
}
TOW_ACTIVE = {"dispatched", "on_the_way", "arrived"}


class StepKind(models.TextChoices):
    OPENED = "opened", _("Case opened")
    ALARM = "alarm", _("Alarm repeated")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    TOW = "tow", _("Tow")
    INSURER = "insurer", _("Insurer notified")
    PHOTO = "photo", _("Photo added")
    REPAIR_ORDER = "repair_order", _("Repair order")
    CLOSED = "closed", pgettext_lazy("case status", "Closed")


class InsurerChannel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    API = "api", _("API")


MAX_CASE_PHOTOS = 12
