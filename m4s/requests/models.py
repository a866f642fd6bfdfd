"""Online-service requests: an owner's typed request (test drive, finance, insurance, trade-in,
enquiry, and the assistance area's kinds) to a store, routed to a role with an SLA clock in
business minutes; its history (events both sides see), the quotes staff offer, per-group
settings of a kind, and the stored answers of retried submissions."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from m4s.core.tenancy import TenantModel
from m4s.core.uploads import ProtectedImageField

from .choices import MAX_SLA_MINUTES, QuoteStatus, RequestStatus


class ServiceRequest(TenantModel):
    owner_lookup = "owner"  # TenantQuerySet.for_owner

    store = models.ForeignKey(
        "org.Store", on_delete=models.PROTECT, related_name="+", verbose_name=_("store")
    )
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", verbose_name=_("customer")
    )
    owner = models.ForeignKey(
        "owners.Owner", on_delete=models.CASCADE, related_name="+", verbose_name=_("owner")
    )
    vehicle = models.ForeignKey(
        "vehicles.Vehicle",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("car"),
    )
    kind = models.CharField(_("kind"), max_length=30)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=RequestStatus.choices,
        default=RequestStatus.SUBMITTED,
    )
    details = models.JSONField(_("details"), default=dict, blank=True)
    scheduled_for = models.DateTimeField(_("scheduled for"), null=True, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assigned to"),
    )
    role = models.CharField(_("role"), max_length=24)
    due_at = models.DateTimeField(_("answer due"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    decline_reason = models.TextField(_("reason"), max_length=1000, blank=True)
    lead_id = models.PositiveBigIntegerField(_("lead"), null=True, blank=True)
    created_at = models.DateTimeField(_("submitted at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("online-service request")
        verbose_name_plural = _("online-service requests")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["dealer_group", "store", "status", "due_at"], name="requests_queue"
            ),
            models.Index(fields=["owner", "-created_at"], name="requests_owner"),
            models.Index(fields=["assigned_to", "status"], name="requests_assignee"),
            models.Index(fields=["dealer_group", "kind", "created_at"], name="requests_kind"),
        ]

    def __str__(self):
        return f"{self.kind} #{self.pk}"

    @property
    def status_label(self) -> str:
        return str(RequestStatus(self.status).label)

    @property
    def is_open(self) -> bool:
        return self.status in (
            RequestStatus.SUBMITTED,
            RequestStatus.ACCEPTED,
            RequestStatus.SCHEDULED,
        )


class RequestEvent(TenantModel):
    """One line of a request's history: stored as a message code + params, translated when
    shown. `visible_to_owner=False` lines are staff notes."""

    owner_lookup = "request__owner"

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    code = models.CharField(_("message"), max_length=200)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    visible_to_owner = models.BooleanField(_("shown to the owner"), default=True)

    class Meta:
        verbose_name = _("request event")
        verbose_name_plural = _("request events")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["request", "at"], name="requests_event_list")]

    def __str__(self):
        return f"{self.request_id}: {self.code}"


class RequestQuote(TenantModel):
    """A priced offer on a request (an insurance quote, a trade-in offer, a body-shop
    estimate): lines of Decimal strings and a total; the owner accepts one."""

    owner_lookup = "request__owner"

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="quotes")
    label = models.CharField(_("offer"), max_length=120)
    insurer_id = models.PositiveBigIntegerField(_("insurer"), null=True, blank=True)
    lines = models.JSONField(_("lines"), default=list, blank=True)
    total = models.DecimalField(_("total"), max_digits=12, decimal_places=2)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=QuoteStatus.choices, default=QuoteStatus.OFFERED
    )
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="requests_quote_total"),
            models.UniqueConstraint(
                fields=["request"],
                condition=Q(status="accepted"),
                name="requests_one_accepted_quote",
            ),
        ]

    def __str__(self):
        return f"{self.label} {self.total}"


class RequestKindSetting(TenantModel):
    """A group's own SLA and role for a kind (else the kind's defaults)."""

    kind = models.CharField(_("kind"), max_length=30)
    sla_minutes = models.PositiveIntegerField(
        _("minutes to accept (business time)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_SLA_MINUTES)],
    )
    role = models.CharField(_("role"), max_length=24, blank=True)

    class Meta:
        verbose_name = _("request kind setting")
        verbose_name_plural = _("request kind settings")
        constraints = [
            models.UniqueConstraint(fields=["dealer_group", "kind"], name="requests_kind_setting")
        ]

    def __str__(self):
        return f"{self.dealer_group_id}:{self.kind}"


class RequestKey(models.Model):
    """The stored answer of an owner's submission per Idempotency-Key (m4s.core.idempotency):
    a retried POST gets the same request, not a second one."""

    owner = models.ForeignKey("owners.Owner", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "key"], name="requests_submit_once")
        ]

    def __str__(self):
        return f"{self.owner_id}:{self.key}"


class TestDriveCar(TenantModel):
    """A car of a store's test-drive fleet."""

    store = models.ForeignKey(
        "org.Store", on_delete=models.CASCADE, related_name="+", verbose_name=_("store")
    )
    car_model = models.ForeignKey(
        "catalogue.CarModel", on_delete=models.PROTECT, related_name="+", verbose_name=_("model")
    )
    plate = models.CharField(_("plate"), max_length=10)
    active = models.BooleanField(_("available for test drives"), default=True)

    class Meta:
        verbose_name = _("test-drive car")
        verbose_name_plural = _("test-drive cars")
        ordering = ["store", "plate"]
        constraints = [
            models.UniqueConstraint(fields=["dealer_group", "plate"], name="requests_td_plate")
        ]
        indexes = [models.Index(fields=["store", "car_model", "active"], name="requests_td_fleet")]

    def __str__(self):
        return self.plate


class TestDriveBooking(TenantModel):
    """A test-drive car held for a slot by a request. One active booking per car and slot
    start (the unique constraint holds under parallel bookings)."""

    owner_lookup = "request__owner"

    request = models.OneToOneField(
        ServiceRequest, on_delete=models.CASCADE, related_name="test_drive"
    )
    car = models.ForeignKey(TestDriveCar, on_delete=models.PROTECT, related_name="bookings")
    slot_start = models.DateTimeField(_("slot start"))
    slot_end = models.DateTimeField(_("slot end"))
    active = models.BooleanField(_("holds the car"), default=True)
    licence_checked_at = models.DateTimeField(_("licence checked at"), null=True, blank=True)
    odometer_out = models.PositiveIntegerField(_("odometer out (km)"), null=True, blank=True)
    odometer_in = models.PositiveIntegerField(_("odometer in (km)"), null=True, blank=True)
    checked_out_at = models.DateTimeField(_("checked out at"), null=True, blank=True)
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    rating = models.PositiveSmallIntegerField(
        _("rating"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    feedback = models.TextField(_("feedback"), max_length=2000, blank=True)

    class Meta:
        verbose_name = _("test-drive booking")
        verbose_name_plural = _("test-drive bookings")
        ordering = ["slot_start", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["car", "slot_start"],
                condition=Q(active=True),
                name="requests_td_no_double_booking",
            )
        ]
        indexes = [models.Index(fields=["car", "slot_start"], name="requests_td_slots")]

    def __str__(self):
        return f"{self.car_id}@{self.slot_start:%Y-%m-%d %H:%M}"


class TradeInPhoto(TenantModel):
    """A photo of the car an owner offers for trade-in."""

    owner_lookup = "request__owner"

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="photos")
    image = ProtectedImageField(
        _("photo"), area="trade-in-photos", access="m4s.requests.access.can_see_photo"
    )
    created_at = models.DateTimeField(_("added at"), auto_now_add=True)

    class Meta:
        verbose_name = _("trade-in photo")
        verbose_name_plural = _("trade-in photos")
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"photo {self.pk} of {self.request_id}"
