"""Constants of the driving area: why a trip ended, road bands, score reasons and weights."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EndReason(models.TextChoices):
    OPEN = "open", _("Still driving")
    IGNITION = "ignition", _("Ignition off")
    STOP = "stop", _("Stopped")
    GAP = "gap", _("No more reports")


class Band(models.TextChoices):
    """The road class a stretch of a trip is judged against (no map: from its speed profile)."""

    URBAN = "urban", _("Urban")
    ARTERIAL = "arterial", _("Arterial")
    HIGHWAY = "highway", _("Highway")


# A trip ends after this long stopped (speed 0 / no movement) or without reports.
DEFAULT_STOP_MINUTES = 5
# Speed limits per band (km/h) unless the group sets its own (DrivingPolicy).
DEFAULT_LIMITS = {"urban": 60, "arterial": 80, "highway": 120}
# A stretch's band from the median of its speeds: at or above these, the faster band (the median,
# not a high percentile, so that a burst of speeding in town is judged by the town's limit).
BAND_FROM_MEDIAN = {"highway": 85.0, "arterial": 50.0}
BAND_WINDOW_S = 300  # stretches of 5 minutes
SPEEDING_TOLERANCE = 1.10  # over the limit by more than 10 %
# Harsh events from consecutive reports at most MAX_EVENT_GAP_S apart.
HARSH_ACCEL_MS2 = 3.5
HARSH_BRAKE_MS2 = -4.0
HARSH_CORNER_MS2 = 4.0  # lateral: speed × heading change rate
CORNER_MIN_KMH = 20.0
MAX_EVENT_GAP_S = 10.0
MOVING_KMH = 1.0  # slower than this is standing
MOVING_M = 30.0  # a report without speed that moved this far is moving
MIN_TRIP_KM = 0.2  # shorter "trips" (a car moved in its parking) are not kept
NIGHT_FROM, NIGHT_UNTIL = 22, 5  # local hours
ROUTE_POINTS = 40  # a route summary keeps at most this many points

# Score: 100 minus these penalties (each capped), per trip; a month is the distance-weighted mean.
PENALTY = {
    "harsh_braking": (5.0, 30.0),  # per event, cap
    "harsh_acceleration": (3.0, 20.0),
    "harsh_cornering": (3.0, 20.0),
    "speeding": (1.0, 30.0),  # per minute over the limit
    "night": (0.25, 15.0),  # per minute at night
}
# Reasons shown with a score, most costly first: code → message (gettext_noop'd in scoring.py).
REASON_ORDER = ("harsh_braking", "speeding", "harsh_acceleration", "harsh_cornering", "night")

TRIPS_MAX_DAYS = 92  # the trips API answers at most this range
EXPORT_MONTHS = 12
