"""Trips cut from telemetry, each with its score; the cut point per car; the group's speed
table; the owner's consent to share driving data with an insurer."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from m4s.core.tenancy import TenantModel

from . import choices as c


class DrivingPolicy(TenantModel):
    """The group's table (one row per group; defaults when it has none)."""

    stop_minutes = models.PositiveSmallIntegerField(
        _("a stop longer than this ends a trip (minutes)"), default=c.DEFAULT_STOP_MINUTES
    )
    urban_kmh = models.PositiveSmallIntegerField(
        _("urban limit (km/h)"), default=c.DEFAULT_LIMITS["urban"]
    )
    arterial_kmh = models.PositiveSmallIntegerField(
        _("arterial limit (km/h)"), default=c.DEFAULT_LIMITS["arterial"]
    )
    highway_kmh = models.PositiveSmallIntegerField(
        _("highway limit (km/h)"), default=c.DEFAULT_LIMITS["highway"]
    )

    class Meta:
        verbose_name = _("driving policy")
        verbose_name_plural = _("driving policies")
        constraints = [
            models.UniqueConstraint(fields=["dealer_group"], name="driving_policy_once"),
            models.CheckConstraint(
                condition=Q(stop_minutes__gte=1, stop_minutes__lte=120),
                name="driving_policy_stop_range",
            ),
        ]


class CutPoint(TenantModel):
    """Where the next cut of a car reads from (inclusive): the start of its open trip, else its
    last report read."""

    vehicle = models.OneToOneField(
        "vehicles.Vehicle", on_delete=models.CASCADE, related_name="driving_cut"
    )
    resume_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)


class Trip(TenantModel):
    owner_lookup = "vehicle__current_owner__owner"

    vehicle = models.ForeignKey("vehicles.Vehicle", on_delete=models.CASCADE, related_name="trips")
    started_at = models.DateTimeField(_("started"))
    ended_at = models.DateTimeField(_("ended"))
    start_lat = models.FloatField(null=True)
    start_lon = models.FloatField(null=True)
    end_lat = models.FloatField(null=True)
    end_lon = models.FloatField(null=True)
    distance_km = models.FloatField(_("distance (km)"))
    duration_s = models.PositiveIntegerField(_("duration (s)"))
    avg_kmh = models.FloatField(_("average speed (km/h)"))
    top_kmh = models.FloatField(_("top speed (km/h)"))
    night_min = models.PositiveIntegerField(_("minutes at night"), default=0)
    harsh_accel = models.PositiveIntegerField(_("harsh accelerations"), default=0)
    harsh_brake = models.PositiveIntegerField(_("harsh brakings"), default=0)
    harsh_corner = models.PositiveIntegerField(_("harsh cornering"), default=0)
    speeding_s = models.PositiveIntegerField(_("seconds over the limit"), default=0)
    band = models.CharField(max_length=8, choices=c.Band.choices, default=c.Band.URBAN)
    points = models.PositiveIntegerField(default=0)  # reports in the trip
    route = models.TextField(blank=True)  # encoded polyline (5 decimals) of ≤ 40 points
    end_reason = models.CharField(max_length=8, choices=c.EndReason.choices)
    is_open = models.BooleanField(default=False)
    score = models.PositiveSmallIntegerField(_("score"))
    reasons = models.JSONField(default=list)  # [{"code", "n", "points"}], translated when shown
    smooth_recorded = models.BooleanField(default=False)  # told loyalty (no harsh braking)

    class Meta:
        verbose_name = _("trip")
        verbose_name_plural = _("trips")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(fields=["vehicle", "started_at"], name="trip_once"),
            models.CheckConstraint(condition=Q(score__lte=100), name="trip_score_range"),
        ]
        indexes = [models.Index(fields=["vehicle", "-started_at"], name="trip_vehicle_time")]

    def __str__(self):
        return f"{self.vehicle_id} {self.started_at:%Y-%m-%d %H:%M}"


class InsurerShareConsent(TenantModel):
    """The owner's explicit consent to share the car's monthly driving summary with an insurer
    (usage-based insurance). Revocable: a revoked row stays as the record; one active per car."""

    owner_lookup = "owner"

    vehicle = models.ForeignKey(
        "vehicles.Vehicle", on_delete=models.CASCADE, related_name="insurer_consents"
    )
    owner = models.ForeignKey("owners.Owner", on_delete=models.CASCADE, related_name="+")
    insurer = models.CharField(_("insurer"), max_length=80)
    granted_at = models.DateTimeField(_("given"))
    revoked_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)

    class Meta:
        verbose_name = _("insurer data-sharing consent")
        verbose_name_plural = _("insurer data-sharing consents")
        ordering = ["-granted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["vehicle"],
                condition=Q(revoked_at__isnull=True),
                name="one_active_insurer_consent",
            )
        ]


class InsurerExport(TenantModel):
    """One export of a car's monthly summary to an insurer: who, when, which months, under which
    consent (the record the owner and the group can check)."""

    vehicle = models.ForeignKey("vehicles.Vehicle", on_delete=models.CASCADE, related_name="+")
    consent = models.ForeignKey(InsurerShareConsent, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    months = models.CharField(max_length=200)
    created_at = models.DateTimeField()
