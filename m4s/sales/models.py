"""Sales leads and pipeline: a lead (a customer or a prospect with only a phone number) moving
through the stages new → contacted → test drive → negotiation → won / lost, its activities, the
group's stage probabilities (the weighted forecast) and the round-robin turns of the
consultants of a store."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from m4s.core.tenancy import TenantModel

from .choices import DEFAULT_PROBABILITY, ActivityKind, LeadSource, LostReason, Stage

PERCENT = [MinValueValidator(0), MaxValueValidator(100)]

# The board's and the forecast's indexes (bench/sales_board.py drops them for its baseline).
BOARD_INDEX = "sales_lead_board"
FORECAST_INDEX = "sales_lead_forecast"
WON_INDEX = "sales_lead_won"


class Lead(TenantModel):
    owner_lookup = "customer__owner"  # TenantQuerySet.for_owner (privacy export)

    store = models.ForeignKey(
        "org.Store", on_delete=models.PROTECT, related_name="+", verbose_name=_("store")
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customer"),
    )
    name = models.CharField(_("name"), max_length=80, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)  # E.164
    source = models.CharField(_("source"), max_length=12, choices=LeadSource.choices)
    campaign = models.CharField(_("campaign"), max_length=80, blank=True)
    car_model = models.ForeignKey(
        "catalogue.CarModel",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("model"),
    )
    trim = models.ForeignKey(
        "catalogue.Trim",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("trim"),
    )
    value = models.DecimalField(_("value"), max_digits=10, decimal_places=2, default=0)
    stage = models.CharField(_("stage"), max_length=12, choices=Stage.choices, default=Stage.NEW)
    lost_reason = models.CharField(
        _("lost reason"), max_length=20, choices=LostReason.choices, blank=True
    )
    lost_note = models.CharField(_("lost note"), max_length=500, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assigned to"),
    )
    next_follow_up = models.DateField(_("next follow-up"), null=True, blank=True)
    expected_close = models.DateField(_("expected close"), null=True, blank=True)
    origin_kind = models.CharField(_("made by"), max_length=30, blank=True)
    origin_id = models.PositiveBigIntegerField(_("made by (id)"), null=True, blank=True)
    won_at = models.DateTimeField(_("won at"), null=True, blank=True)
    lost_at = models.DateTimeField(_("lost at"), null=True, blank=True)
    stage_changed_at = models.DateTimeField(_("stage changed at"), null=True, blank=True)
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("sales lead")
        verbose_name_plural = _("sales leads")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["dealer_group", "assigned_to", "stage", "next_follow_up"],
                name=BOARD_INDEX,
            ),
            models.Index(
                # a manager's forecast spans their stores (all of the group's for a group
                # admin): the store comes after the month range, read from the index
                fields=["dealer_group", "stage", "expected_close", "store"],
                name=FORECAST_INDEX,
            ),
            models.Index(fields=["dealer_group", "stage", "won_at"], name=WON_INDEX),
            models.Index(fields=["dealer_group", "phone"], name="sales_lead_phone"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(stage=Stage.LOST) | ~Q(lost_reason=""),
                name="sales_lead_lost_has_reason",
            ),
            models.CheckConstraint(condition=Q(value__gte=0), name="sales_lead_value_positive"),
        ]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        if self.customer_id and self.customer:
            return self.customer.name
        return self.name or self.phone or f"#{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.stage not in (Stage.WON, Stage.LOST)


class LeadActivity(TenantModel):
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(_("kind"), max_length=12, choices=ActivityKind.choices)
    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    # system text (m4s.core.i18n.text): English source + params, shown in the reader's language
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    note = models.TextField(_("note"), max_length=2000, blank=True)

    class Meta:
        verbose_name = _("lead activity")
        verbose_name_plural = _("lead activities")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["lead", "at"], name="sales_activity_lead")]

    def __str__(self):
        return f"{self.lead_id}:{self.kind}"


class SalesSettings(TenantModel):
    """A group's probabilities of closing from each open stage (percent; won 100, lost 0).
    Its row is also the lock under which leads are de-duplicated and assigned round-robin."""

    p_new = models.PositiveSmallIntegerField(
        _("new (%)"), default=DEFAULT_PROBABILITY[Stage.NEW], validators=PERCENT
    )
    p_contacted = models.PositiveSmallIntegerField(
        _("contacted (%)"), default=DEFAULT_PROBABILITY[Stage.CONTACTED], validators=PERCENT
    )
    p_test_drive = models.PositiveSmallIntegerField(
        _("test drive (%)"), default=DEFAULT_PROBABILITY[Stage.TEST_DRIVE], validators=PERCENT
    )
    p_negotiation = models.PositiveSmallIntegerField(
        _("negotiation (%)"), default=DEFAULT_PROBABILITY[Stage.NEGOTIATION], validators=PERCENT
    )

    class Meta:
        verbose_name = _("sales settings")
        verbose_name_plural = _("sales settings")
        constraints = [
            models.UniqueConstraint(fields=["dealer_group"], name="sales_settings_once"),
        ]

    def __str__(self):
        return f"sales settings {self.dealer_group_id}"

    def probabilities(self) -> dict[str, int]:
        return {
            Stage.NEW: self.p_new,
            Stage.CONTACTED: self.p_contacted,
            Stage.TEST_DRIVE: self.p_test_drive,
            Stage.NEGOTIATION: self.p_negotiation,
            Stage.WON: 100,
            Stage.LOST: 0,
        }


class ConsultantTurn(TenantModel):
    """When a consultant of a store was last given a new lead round-robin."""

    store = models.ForeignKey("org.Store", on_delete=models.CASCADE, related_name="+")
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    last_assigned_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "staff"], name="sales_turn_once"),
        ]

    def __str__(self):
        return f"{self.store_id}:{self.staff_id}"


class StaffRequest(models.Model):
    """The stored answer of a staff member's walk-in POST, per Idempotency-Key
    (m4s.core.idempotency): a retried POST gets the same lead, not a second one."""

    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["staff", "key"], name="sales_request_once")]

    def __str__(self):
        return f"{self.staff_id}:{self.key}"
