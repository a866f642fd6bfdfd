from django.db import models
from django.utils.translation import gettext_lazy as _


class SkillLine(models.TextChoices):
    QUICK = "quick", _("Quick maintenance")
    GENERAL = "general", _("General repair")
    BODY = "body", _("Body and paint")
    EV_HV = "ev_hv", _("EV high-voltage")


class ResourceKind(models.TextChoices):
    LIFT = "lift", _("Lift")
    ALIGNMENT = "alignment", _("Alignment bay")
    PAINT_BOOTH = "paint_booth", _("Paint booth")


class PartKind(models.TextChoices):
    PART = "part", _("Part")
    ACCESSORY = "accessory", _("Accessory")


class VisitMode(models.TextChoices):
    WAITING = "waiting", _("I will wait")
    DROP_OFF = "dropoff", _("I will drop the car off")


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    CHECKED_IN = "checked_in", _("Checked in")
    CANCELLED = "cancelled", _("Cancelled")
    NO_SHOW = "no_show", _("No-show")


ACTIVE_APPOINTMENT = (AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN)


class Channel(models.TextChoices):
    APP = "app", _("Owner app")
    CONSOLE = "console", _("Staff console")
    PHONE = "phone", _("Phone")


class RepairOrderStatus(models.TextChoices):
    CHECKED_IN = "checked_in", _("Checked in")
    INSPECTING = "inspecting", _("Inspecting")
    WAITING_APPROVAL = "waiting_approval", _("Waiting for your approval")
    IN_REPAIR = "in_repair", _("In repair")
    QUALITY_CHECK = "quality_check", _("Quality check")
    READY = "ready", _("Ready for pick-up")
    DELIVERED = "delivered", _("Delivered")


# Staff read the order's status from the workshop's side; the owner's wording stays in the app.
STAFF_STATUS_LABELS = {
    RepairOrderStatus.WAITING_APPROVAL: _("Waiting for the owner's approval"),
}


def staff_status_label(status: str) -> str:
    return STAFF_STATUS_LABELS.get(status) or RepairOrderStatus(status).label


RO_FLOW = [s.value for s in RepairOrderStatus]
OPEN_RO = [s for s in RO_FLOW if s != RepairOrderStatus.DELIVERED]
# Jobs of an order in these states can be clocked on and off (workshop.clock_on / clock_off).
CLOCKABLE_RO = [
    RepairOrderStatus.CHECKED_IN,
    RepairOrderStatus.INSPECTING,
    RepairOrderStatus.WAITING_APPROVAL,
    RepairOrderStatus.IN_REPAIR,
]


class Rating(models.TextChoices):
    GREEN = "green", _("Good")
    AMBER = "amber", _("Needs attention soon")
    RED = "red", _("Needs attention now")


class Measure(models.TextChoices):
    NONE = "", _("None")
    TREAD_MM = "tread_mm", _("Tread depth (mm)")
    BATTERY_V = "battery_v", _("Battery voltage (V)")
    PAD_MM = "pad_mm", _("Brake pad (mm)")


class LineSource(models.TextChoices):
    BOOKING = "booking", _("Booked")
    INSPECTION = "inspection", _("Inspection")
    ADDED = "added", _("Added in the workshop")


class Approval(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    DECLINED = "declined", _("Declined")


class ApprovalChannel(models.TextChoices):
    AT_BOOKING = "at_booking", _("Booked by the owner")
    APP = "app", _("Owner app")
    VERBAL = "verbal", _("Verbal, recorded by staff")


class Payer(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    WARRANTY = "warranty", _("Warranty")
    INSURANCE = "insurance", _("Insurance")
    INTERNAL = "internal", _("Internal")


class WorkStatus(models.TextChoices):
    TODO = "todo", _("Not started")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")


class PhotoKind(models.TextChoices):
    PROBLEM = "problem", _("Owner's photo of the problem")
    WALK_ROUND = "walk_round", _("Walk-round")
    INSPECTION = "inspection", _("Inspection")


class SurveyStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    OPEN = "open", _("Waiting for your answer")
    ANSWERED = "answered", _("Answered")
    EXPIRED = "expired", _("Expired")


# CSI factors and their weights (per cent, summing to 100). The order is the order owners answer them in.
CSI_WEIGHTS = {
    "initiation": 17,
    "advisor": 18,
    "facility": 21,
    "pickup": 20,
    "quality": 24,
}
CSI_LABELS = {
    "initiation": _("Service initiation"),
    "advisor": _("Service advisor"),
    "facility": _("Service facility"),
    "pickup": _("Vehicle pick-up"),
    "quality": _("Service quality"),
}
UNHAPPY_AT_OR_BELOW = 6
