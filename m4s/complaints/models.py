"""Complaints: a group's category tree, root causes and SLA policy; the complaint itself with
its business-time clocks, its append-only timeline, photos, escalations and corrective actions."""

from django.conf import settings
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from m4s.core.i18n import Translatable, TranslationsField
from m4s.core.tenancy import TenantModel
from m4s.core.uploads import ProtectedImageField

from .choices import (
    DESCRIPTION_MAX,
    CallDirection,
    Channel,
    EscalationReason,
    EventKind,
    Level,
    Severity,
    Status,
)


# --- a group's setup ----------------------------------------------------------------------------
class ComplaintCategory(Translatable, TenantModel):
    """A node of the group's category tree (service quality › repeat repair ...)."""

    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent"),
    )
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=80)
    name_i18n = TranslationsField(_("name, translated"), max_length=80)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("complaint category")
        verbose_name_plural = _("complaint categories")
        ordering = ["position", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["dealer_group", "code"], name="complaint_category_code_unique"
            )
        ]

    def __str__(self):
        return self.name

    def clean(self):
        from django.core.exceptions import ValidationError

        parent = self.parent
        if parent is not None and (
            parent.pk == self.pk
            or parent.parent_id is not None
            or (self.pk is not None and self.children.exists())
        ):
            raise ValidationError(
                {"parent": _("Categories have two levels: a parent cannot have a parent.")}
            )


class RootCause(Translatable, TenantModel):
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=80)
    name_i18n = TranslationsField(_("name, translated"), max_length=80)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("root cause")
        verbose_name_plural = _("root causes")
        ordering = ["position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["dealer_group", "code"], name="root_cause_code_unique")
        ]

    def __str__(self):
        return self.name


class SlaPolicy(TenantModel):
    """Targets in business minutes for one severity and category (no category: the severity's
    default). Each escalation level has its own clock."""

    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    category = models.ForeignKey(
        ComplaintCategory,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("category"),
        help_text=_("Empty: every category without its own policy."),
    )
    first_response_minutes = models.PositiveIntegerField(
        _("first response (business minutes)"), validators=[MinValueValidator(1)]
    )
    resolution_minutes = models.PositiveIntegerField(
        _("resolution (business minutes)"), validators=[MinValueValidator(1)]
    )
    level1_minutes = models.PositiveIntegerField(
        _("store customer service may hold it (business minutes)"),
        validators=[MinValueValidator(1)],
    )
    level2_minutes = models.PositiveIntegerField(
        _("store manager may hold it (business minutes)"), validators=[MinValueValidator(1)]
    )
    level3_minutes = models.PositiveIntegerField(
        _("group customer care target (business minutes)"), validators=[MinValueValidator(1)]
    )

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["severity", "category_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dealer_group", "severity", "category"], name="sla_policy_once"
            ),
            models.UniqueConstraint(
                fields=["dealer_group", "severity"],
                condition=Q(category__isnull=True),
                name="sla_policy_default_once",
            ),
        ]

    def __str__(self):
        return f"{self.get_severity_display()} / {self.category or '*'}"

    def level_minutes(self, level: int) -> int:
        return {1: self.level1_minutes, 2: self.level2_minutes}.get(level, self.level3_minutes)


# --- the complaint ------------------------------------------------------------------------------
class Complaint(TenantModel):
    """Foreign keys read only from the complaint (the car, the visit, who recorded it ...) carry
    no index of their own: every index is rewritten when the breach scan moves a row, and the
    customer and assignee are the first columns of composite indexes already."""

    owner_lookup = "customer__owner"  # TenantQuerySet.for_owner: the customer's app account

    reference = models.CharField(_("reference"), max_length=24, unique=True)
    store = models.ForeignKey("org.Store", on_delete=models.PROTECT, related_name="complaints")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, db_index=False, related_name="complaints"
    )
    # the app account that filed it (null when staff recorded it or a survey opened it)
    owner = models.ForeignKey(
        "owners.Owner",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_index=False,
        related_name="+",
    )
    vehicle = models.ForeignKey(
        "vehicles.Vehicle",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        db_index=False,
        related_name="+",
    )
    appointment = models.ForeignKey(
        "service.Appointment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_index=False,
        related_name="+",
    )
    repair_order = models.ForeignKey(
        "service.RepairOrder",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_index=False,
        related_name="+",
    )
    concerned_staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_index=False,
        related_name="+",
        verbose_name=_("staff member concerned"),
    )
    survey = models.OneToOneField(
        "service.Survey",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="complaint",
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    category = models.ForeignKey(
        ComplaintCategory, on_delete=models.PROTECT, db_index=False, related_name="complaints"
    )
    severity = models.CharField(
        _("severity"), max_length=10, choices=Severity.choices, default=Severity.NORMAL
    )
    description = models.TextField(
        _("description"), validators=[MaxLengthValidator(DESCRIPTION_MAX)]
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.NEW
    )
    level = models.PositiveSmallIntegerField(
        _("level"), choices=Level.choices, default=Level.STORE_CS
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_index=False,
        related_name="+",
        verbose_name=_("handled by"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_index=False,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("received"))
    updated_at = models.DateTimeField(auto_now=True)
    # clocks: due moments computed with the business-time engine (m4s.org.business_time)
    first_response_due_at = models.DateTimeField(_("first response due"))
    resolution_due_at = models.DateTimeField(_("resolution due"))
    level_due_at = models.DateTimeField(_("this level due"), null=True, blank=True)
    level_started_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(_("waiting since"), null=True, blank=True)
    held_minutes = models.PositiveIntegerField(
        _("time waiting for the customer (business minutes)"), default=0
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    first_responded_at = models.DateTimeField(_("first response"), null=True, blank=True)
    first_response_breached_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    reopened_at = models.DateTimeField(null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    # business minutes from receipt to (last) resolution, time waiting for the customer excluded
    handling_minutes = models.PositiveIntegerField(null=True, blank=True)
    root_cause = models.ForeignKey(
        RootCause,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        db_index=False,
        related_name="complaints",
    )
    resolution = models.TextField(
        _("resolution"), blank=True, validators=[MaxLengthValidator(DESCRIPTION_MAX)]
    )
    rating = models.PositiveSmallIntegerField(
        _("rating"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    rating_comment = models.CharField(_("comment"), max_length=500, blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["dealer_group", "store", "status"], name="complaint_store"),
            models.Index(fields=["assignee", "status"], name="complaint_assignee"),
            models.Index(fields=["customer", "-created_at"], name="complaint_customer"),
            models.Index(fields=["dealer_group", "created_at"], name="complaint_group_month"),
            # the breach scan: open, clock running, level clock passed
            models.Index(
                fields=["level_due_at"],
                name="complaint_level_due",
                condition=Q(
                    status__in=["new", "acknowledged", "in_progress", "reopened"],
                    paused_at__isnull=True,
                ),
            ),
            models.Index(
                fields=["first_response_due_at"],
                name="complaint_fr_due",
                condition=Q(
                    first_responded_at__isnull=True, first_response_breached_at__isnull=True
                ),
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(level__gte=1, level__lte=3), name="complaint_level"),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="complaint_rating_1_5",
            ),
        ]

    def __str__(self):
        return self.reference

    @property
    def is_open(self) -> bool:
        from .choices import OPEN_STATUSES

        return self.status in OPEN_STATUSES

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None


class ComplaintEvent(TenantModel):
    """One line of a complaint's timeline. Append-only. `text` is system text (code + params,
    `m4s.core.i18n.text`), `body` what a person wrote; `owner_visible` separates replies and
    status lines the owner sees from internal notes."""

    owner_lookup = "complaint__customer__owner"

    complaint = models.ForeignKey(
        Complaint, on_delete=models.CASCADE, db_index=False, related_name="events"
    )
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    at = models.DateTimeField()
    author_staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_index=False,
        related_name="+",
    )
    author_owner = models.ForeignKey(
        "owners.Owner",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_index=False,
        related_name="+",
    )
    text = models.JSONField(default=dict, blank=True)
    body = models.TextField(blank=True, validators=[MaxLengthValidator(DESCRIPTION_MAX)])
    owner_visible = models.BooleanField(default=False)
    call_direction = models.CharField(
        max_length=3, choices=CallDirection.choices, blank=True, default=""
    )
    call_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["complaint", "at"], name="complaint_event_at")]

    def __str__(self):
        return f"{self.complaint_id} {self.kind}"

    @property
    def display_text(self) -> str:
        from m4s.core.i18n import render

        return render(self.text, "")


class ComplaintPhoto(TenantModel):
    owner_lookup = "complaint__customer__owner"

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="photos")
    event = models.ForeignKey(
        ComplaintEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="photos"
    )
    image = ProtectedImageField(
        area="complaints", access="m4s.complaints.photos.can_see_complaint_photo"
    )
    by_owner = models.BooleanField(default=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"photo {self.pk} of {self.complaint_id}"


class Escalation(TenantModel):
    """One climb. Each level is climbed at most once per complaint (the unique constraint is what
    makes parallel scans and a repeated request safe)."""

    complaint = models.ForeignKey(
        Complaint, on_delete=models.CASCADE, db_index=False, related_name="escalations"
    )
    from_level = models.PositiveSmallIntegerField(choices=Level.choices)
    to_level = models.PositiveSmallIntegerField(choices=Level.choices)
    reason = models.CharField(max_length=10, choices=EscalationReason.choices)
    note = models.CharField(max_length=500, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_index=False,
        related_name="+",
    )
    to_staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_index=False,
        related_name="+",
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["complaint", "to_level"], name="escalation_once")
        ]

    def __str__(self):
        return f"{self.complaint_id}: {self.from_level}→{self.to_level} ({self.reason})"


class CorrectiveAction(TenantModel):
    """What changes so it does not happen again, who owns it, by when; a manager checks the
    preventive action was done."""

    complaint = models.ForeignKey(
        Complaint, on_delete=models.CASCADE, related_name="corrective_actions"
    )
    root_cause = models.ForeignKey(RootCause, on_delete=models.PROTECT, related_name="+")
    store = models.ForeignKey("org.Store", on_delete=models.PROTECT, related_name="+")
    action = models.TextField(_("corrective action"), validators=[MaxLengthValidator(2000)])
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("owned by"),
    )
    due_date = models.DateField(_("due"))
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    checked_at = models.DateTimeField(_("preventive action checked"), null=True, blank=True)
    check_note = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("corrective action")
        verbose_name_plural = _("corrective actions")
        ordering = ["due_date", "id"]
        indexes = [models.Index(fields=["dealer_group", "checked_at"], name="corrective_open")]

    def __str__(self):
        return self.action[:60]


class OwnerRequest(models.Model):
    """The stored answer of an owner's create call, per Idempotency-Key (m4s.core.idempotency):
    a retried POST gets the same complaint, not a second one."""

    owner = models.ForeignKey("owners.Owner", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "key"], name="complaint_request_once")
        ]

    def __str__(self):
        return f"{self.owner_id}:{self.key}"
