"""Constants of the store-services area: the request kinds it adds, agency fees, rental and
course sign-up statuses, the panels of the car diagram and the steps staff report."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class FeeKind(models.TextChoices):
    INSPECTION = "inspection", _("Annual inspection agency")
    VIOLATION = "violation", _("Clearing a traffic violation (per violation)")


class RentalStatus(models.TextChoices):
    HELD = "held", _("Held")
    CONFIRMED = "confirmed", _("Confirmed")
    RETURNED = "returned", _("Returned")
    RELEASED = "released", _("Released")


# A car is taken on its dates by these.
HOLDS_CAR = (RentalStatus.HELD, RentalStatus.CONFIRMED)


class SignupStatus(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed")
    WAITLISTED = "waitlisted", _("On the waiting list")
    CANCELLED = "cancelled", _("Cancelled")
    ATTENDED = "attended", _("Attended")


HOLDS_PLACE = (SignupStatus.CONFIRMED, SignupStatus.ATTENDED)


class Mode(models.TextChoices):
    PICKUP = "pickup", _("Pick my car up")
    DROPOFF = "dropoff", _("I drop the car off at the store")


# Request kinds of this area.
SCRATCH = "scratch_repair"
RENTAL = "rental"
INSPECTION = "annual_inspection"
VIOLATIONS = "clear_violations"
NEW_DRIVER = "new_driver"
DESIGNATED = "designated_driver"
KINDS = (SCRATCH, RENTAL, INSPECTION, VIOLATIONS, NEW_DRIVER, DESIGNATED)

# The car seen from above: key -> label (the diagram's clickable panels).
PANELS: dict[str, object] = {
    "front_bumper": _("Front bumper"),
    "bonnet": _("Bonnet"),
    "windscreen": _("Windscreen"),
    "roof": _("Roof"),
    "rear_window": _("Rear window"),
    "boot": _("Boot"),
    "rear_bumper": _("Rear bumper"),
    "left_front_wing": _("Left front wing"),
    "right_front_wing": _("Right front wing"),
    "left_front_door": _("Left front door"),
    "right_front_door": _("Right front door"),
    "left_rear_door": _("Left rear door"),
    "right_rear_door": _("Right rear door"),
    "left_rear_wing": _("Left rear wing"),
    "right_rear_wing": _("Right rear wing"),
}

MAX_SCRATCH_PHOTOS = 6
MAX_CAPACITY = 1000
MAX_RENTAL_DAYS = 60
RENTAL_HORIZON_DAYS = 180
DESIGNATED_HORIZON_DAYS = 7
MAX_VIOLATIONS = 50

# Steps staff report (kept in the request's details under "step"); each is an event the owner sees.
INSPECTION_STEPS = ("driver_assigned", "picked_up", "inspected", "returned")
DESIGNATED_STEPS = ("dispatched", "en_route", "arrived", "done")
