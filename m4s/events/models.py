"""Car-pal events: a dealer group's event (place, time, capacity, sign-up deadline), the owners'
sign-ups (confirmed, on the waiting list in order, cancelled, checked in with their ticket's QR)
and the photos owners add after the event."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from m4s.core.i18n import Translatable, TranslationsField
from m4s.core.tenancy import TenantModel
from m4s.core.uploads import ProtectedImageField

from .choices import MAX_CAPACITY, EventStatus, SignupStatus


class Event(Translatable, TenantModel):
    store = models.ForeignKey(
        "org.Store",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("store"),
    )
    title = models.CharField(_("title"), max_length=120)
    title_i18n = TranslationsField(_("title, translated"), max_length=120)
    description = models.TextField(_("description"), max_length=4000, blank=True)
    description_i18n = TranslationsField(_("description, translated"), max_length=4000)
    place_name = models.CharField(_("place"), max_length=120)
    address = models.CharField(_("address"), max_length=200, blank=True)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    signup_deadline = models.DateTimeField(_("sign-up deadline"))
    capacity = models.PositiveIntegerField(
        _("places"), validators=[MinValueValidator(1), MaxValueValidator(MAX_CAPACITY)]
    )
    cover = ProtectedImageField(
        _("cover picture"),
        area="event-covers",
        access="m4s.events.access.can_see_cover",
        blank=True,
    )
    status = models.CharField(
        _("status"), max_length=10, choices=EventStatus.choices, default=EventStatus.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("car-pal event")
        verbose_name_plural = _("car-pal events")
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["dealer_group", "status", "starts_at"], name="events_list")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gte=models.F("starts_at")), name="events_ends_after_start"
            ),
        ]

    def __str__(self):
        return self.title


class Signup(TenantModel):
    owner_lookup = "customer__owner"  # TenantQuerySet.for_owner

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="signups")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", verbose_name=_("owner")
    )
    status = models.CharField(_("status"), max_length=12, choices=SignupStatus.choices)
    position = models.PositiveIntegerField(_("place on the waiting list"), null=True, blank=True)
    token = models.CharField(_("ticket"), max_length=40, unique=True)
    # the Idempotency-Key of the request that made (or renewed) this sign-up: a late retry of
    # that request, after the owner cancelled, answers the cancelled sign-up, never a new one
    request_key = models.CharField(_("request key"), max_length=100, blank=True, default="")
    created_at = models.DateTimeField(_("signed up at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    promoted_at = models.DateTimeField(_("moved up at"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("checked in by"),
    )

    class Meta:
        verbose_name = _("sign-up")
        verbose_name_plural = _("sign-ups")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "customer"], name="events_signup_once")
        ]
        indexes = [models.Index(fields=["event", "status", "position"], name="events_signup_list")]

    def __str__(self):
        return f"{self.event_id}:{self.customer_id}"


class EventPhoto(TenantModel):
    owner_lookup = "customer__owner"  # TenantQuerySet.for_owner

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="photos")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", verbose_name=_("owner")
    )
    image = ProtectedImageField(
        _("photo"), area="event-photos", access="m4s.events.access.can_see_photo"
    )
    story_id = models.PositiveIntegerField(_("story"), null=True, blank=True)
    created_at = models.DateTimeField(_("added at"), auto_now_add=True)

    class Meta:
        verbose_name = _("event photo")
        verbose_name_plural = _("event photos")
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"photo {self.pk} of {self.event_id}"
