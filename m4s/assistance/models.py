"""Store services on request: the group's agency fees (annual inspection, clearing a traffic
violation), the rental fleet and its bookings, the photos of a scratch-repair request, the
new-driver courses with their sessions and sign-ups (places, then a waiting list in order).

The requests themselves (status, SLA, history, quotes) are the requests area's ServiceRequest;
what is kept here is what a kind needs beyond it."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from m4s.core.i18n import Translatable, TranslationsField
from m4s.core.tenancy import TenantModel
from m4s.core.uploads import ProtectedImageField

from .choices import MAX_CAPACITY, FeeKind, RentalStatus, SignupStatus


class AgencyFee(Translatable, TenantModel):
    """What the group charges for doing something on the owner's behalf (one row per kind)."""

    kind = models.CharField(_("service"), max_length=20, choices=FeeKind.choices)
    name = models.CharField(_("name"), max_length=120)
    name_i18n = TranslationsField(_("name, translated"), max_length=120)
    fee = models.DecimalField(
        _("fee (CNY)"), validators=[MinValueValidator(0)], max_digits=12, decimal_places=2
    )
    active = models.BooleanField(_("offered"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("agency fee")
        verbose_name_plural = _("agency fees")
        ordering = ["kind"]
        constraints = [
            models.UniqueConstraint(fields=["dealer_group", "kind"], name="assist_fee_once"),
            models.CheckConstraint(condition=Q(fee__gte=0), name="assist_fee_positive"),
        ]

    def __str__(self):
        return f"{self.name} {self.fee}"


class RentalCar(TenantModel):
    store = models.ForeignKey(
        "org.Store", on_delete=models.CASCADE, related_name="+", verbose_name=_("store")
    )
    name = models.CharField(_("name"), max_length=80)
    model = models.CharField(_("model"), max_length=80, blank=True)
    plate = models.CharField(_("plate"), max_length=10)
    seats = models.PositiveSmallIntegerField(
        _("seats"), default=5, validators=[MinValueValidator(1), MaxValueValidator(60)]
    )
    price_per_day = models.DecimalField(
        _("price per day (CNY)"), validators=[MinValueValidator(0)], max_digits=12, decimal_places=2
    )
    deposit = models.DecimalField(
        _("deposit (CNY)"), validators=[MinValueValidator(0)], max_digits=12, decimal_places=2
    )
    active = models.BooleanField(_("available for rental"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("rental car")
        verbose_name_plural = _("rental cars")
        ordering = ["store_id", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["dealer_group", "plate"], name="assist_rental_plate"),
            models.CheckConstraint(
                condition=Q(price_per_day__gte=0) & Q(deposit__gte=0), name="assist_rental_money"
            ),
        ]

    def __str__(self):
        return f"{self.name} {self.plate}"


class RentalBooking(TenantModel):
    """A car held for a rental request from `starts_on` to `ends_on` (the day it comes back):
    held while the request waits, confirmed by staff; released when the request closes
    otherwise. Two held or confirmed bookings of one car never overlap (checked under the car's
    row lock)."""

    owner_lookup = "request__owner"

    request = models.OneToOneField(
        "requests.ServiceRequest", on_delete=models.CASCADE, related_name="rental"
    )
    car = models.ForeignKey(RentalCar, on_delete=models.PROTECT, related_name="bookings")
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    days = models.PositiveSmallIntegerField(_("days"))
    price_total = models.DecimalField(_("price (CNY)"), max_digits=12, decimal_places=2)
    deposit = models.DecimalField(_("deposit (CNY)"), max_digits=12, decimal_places=2)
    status = models.CharField(
        _("status"), max_length=10, choices=RentalStatus.choices, default=RentalStatus.HELD
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("rental booking")
        verbose_name_plural = _("rental bookings")
        ordering = ["starts_on", "id"]
        indexes = [models.Index(fields=["car", "status", "starts_on"], name="assist_rental_car")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gt=models.F("starts_on")), name="assist_rental_dates"
            ),
        ]

    def __str__(self):
        return f"{self.car_id} {self.starts_on}–{self.ends_on}"


class ScratchPhoto(TenantModel):
    """A photo of the damage for a scratch-repair request: uploaded first (no request yet, the
    API's two steps), then attached when the request is submitted. Its owner and the group's
    staff see it, nobody else."""

    owner_lookup = "owner"

    owner = models.ForeignKey("owners.Owner", on_delete=models.CASCADE, related_name="+")
    request = models.ForeignKey(
        "requests.ServiceRequest",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="scratch_photos",
    )
    image = ProtectedImageField(
        _("photo"), area="scratch-photos", access="m4s.assistance.access.can_see_scratch_photo"
    )
    created_at = models.DateTimeField(_("added at"), auto_now_add=True)

    class Meta:
        verbose_name = _("scratch photo")
        verbose_name_plural = _("scratch photos")
        ordering = ["id"]

    def __str__(self):
        return f"photo {self.pk} of {self.request_id}"


class Course(Translatable, TenantModel):
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
    description = models.TextField(_("description"), max_length=2000, blank=True)
    description_i18n = TranslationsField(_("description, translated"), max_length=2000)
    price = models.DecimalField(
        _("price (CNY)"), validators=[MinValueValidator(0)], max_digits=12, decimal_places=2
    )
    active = models.BooleanField(_("offered"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("new-driver course")
        verbose_name_plural = _("new-driver courses")
        ordering = ["title", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="assist_course_price"),
        ]

    def __str__(self):
        return self.title


class CourseSession(TenantModel):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="sessions")
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    capacity = models.PositiveIntegerField(
        _("places"), validators=[MinValueValidator(1), MaxValueValidator(MAX_CAPACITY)]
    )
    instructor = models.CharField(_("instructor"), max_length=80, blank=True)
    cancelled = models.BooleanField(_("cancelled"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("course session")
        verbose_name_plural = _("course sessions")
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="assist_session_times"
            ),
        ]

    def __str__(self):
        return f"{self.course_id} {self.starts_at:%Y-%m-%d %H:%M}"


class CourseSignup(TenantModel):
    """An owner's place (or place on the waiting list) in a session, made by a new_driver
    request. A cancelled place goes to the first one waiting."""

    owner_lookup = "request__owner"

    request = models.OneToOneField(
        "requests.ServiceRequest", on_delete=models.CASCADE, related_name="course_signup"
    )
    session = models.ForeignKey(CourseSession, on_delete=models.CASCADE, related_name="signups")
    status = models.CharField(_("status"), max_length=12, choices=SignupStatus.choices)
    position = models.PositiveIntegerField(_("place on the waiting list"), null=True, blank=True)
    created_at = models.DateTimeField(_("signed up at"), auto_now_add=True)
    promoted_at = models.DateTimeField(_("moved up at"), null=True, blank=True)

    class Meta:
        verbose_name = _("course sign-up")
        verbose_name_plural = _("course sign-ups")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["session", "status", "position"], name="assist_signup_list")
        ]

    def __str__(self):
        return f"{self.session_id}:{self.request_id}"


class ViolationClearing(TenantModel):
    """A traffic violation an owner asked the store to clear, with the fee for it. One open
    request per violation (checked under the violations' row locks)."""

    owner_lookup = "request__owner"

    request = models.ForeignKey(
        "requests.ServiceRequest", on_delete=models.CASCADE, related_name="violation_items"
    )
    violation = models.ForeignKey(
        "care.Violation", on_delete=models.CASCADE, related_name="+", verbose_name=_("violation")
    )
    fee = models.DecimalField(_("fee (CNY)"), max_digits=12, decimal_places=2)

    class Meta:
        verbose_name = _("violation to clear")
        verbose_name_plural = _("violations to clear")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "violation"], name="assist_violation_once_per_request"
            )
        ]

    def __str__(self):
        return f"{self.request_id}:{self.violation_id}"
