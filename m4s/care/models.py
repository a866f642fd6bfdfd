"""Care: a group's reminder rules (one per kind, with lead times and templates), the reminders the
daily scan writes (one per customer, kind, target and cycle), and what they are built from that
no other area keeps: insurance policies, driving licences, the annual-inspection rule table,
traffic violations, weather warnings, greeting days, and the integration keys that post
violations. A service done elsewhere is kept as a retention signal."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from m4s.core.i18n import Translatable, TranslationsField
from m4s.core.tenancy import TenantModel

from .choices import (
    Action,
    Calendar,
    InsuranceCover,
    Kind,
    Severity,
    Status,
    ViolationSource,
    ViolationStatus,
    WeatherKind,
)


def _no_list() -> list:
    return []


# --- a group's rules ---------------------------------------------------------------------------
class ReminderRule(TenantModel):
    """How one kind of reminder works in a group. A group without a row uses the built-in
    defaults (choices.DEFAULT_RULES); the row is written the first time the scan or the back
    office needs it. Empty templates use the built-in text, translated."""

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    enabled = models.BooleanField(_("on"), default=True)
    lead_days = models.JSONField(
        _("lead times (days before)"),
        default=_no_list,
        help_text=_("e.g. 60, 30, 7: one reminder at each, counted back from the due date."),
    )
    params = models.JSONField(_("settings"), default=dict, blank=True)
    title = models.CharField(_("title"), max_length=120, blank=True)
    title_i18n = TranslationsField(_("title, translated"), max_length=120)
    body = models.CharField(_("text"), max_length=500, blank=True)
    body_i18n = TranslationsField(_("text, translated"), max_length=500)
    action = models.CharField(_("one-tap action"), max_length=16, choices=Action.choices)
    coupon = models.ForeignKey(
        "loyalty.Coupon",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("gift coupon"),
        help_text=_("Greetings only: a coupon issued with the greeting."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("reminder rule")
        verbose_name_plural = _("reminder rules")
        ordering = ["kind"]
        constraints = [
            models.UniqueConstraint(fields=["dealer_group", "kind"], name="care_rule_once")
        ]

    def __str__(self):
        return str(self.get_kind_display())


class InspectionRule(TenantModel):
    """One row of the annual-inspection table, counted from the registration date: from
    `from_year` (inclusive) to `to_year` (exclusive; empty: for ever) an inspection every
    `interval_months` (0: none), and an inspection-exempt label in each of `exempt_years`."""

    from_year = models.PositiveSmallIntegerField(_("from year"), validators=[MaxValueValidator(60)])
    to_year = models.PositiveSmallIntegerField(
        _("until year"), null=True, blank=True, validators=[MaxValueValidator(60)]
    )
    interval_months = models.PositiveSmallIntegerField(
        _("every (months)"), default=12, validators=[MaxValueValidator(60)]
    )
    exempt_years = models.JSONField(
        _("inspection-exempt label in years"), default=_no_list, blank=True
    )

    class Meta:
        verbose_name = _("annual inspection rule")
        verbose_name_plural = _("annual inspection rules")
        ordering = ["from_year"]
        constraints = [
            models.UniqueConstraint(
                fields=["dealer_group", "from_year"], name="care_inspection_rule_once"
            ),
            models.CheckConstraint(
                condition=Q(to_year__isnull=True) | Q(to_year__gt=models.F("from_year")),
                name="care_inspection_rule_years",
            ),
        ]

    def __str__(self):
        return f"{self.from_year}–{self.to_year or '∞'}: {self.interval_months}"


# --- what reminders are built from -------------------------------------------------------------
class InsurancePolicy(TenantModel):
    owner_lookup = "customer__owner"  # TenantQuerySet.for_owner

    vehicle = models.ForeignKey(
        "vehicles.Vehicle", on_delete=models.CASCADE, related_name="+", verbose_name=_("car")
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("policy holder"),
    )
    insurer = models.CharField(_("insurer"), max_length=60)
    policy_number = models.CharField(_("policy number"), max_length=40, blank=True)
    cover = models.CharField(
        _("cover"), max_length=12, choices=InsuranceCover.choices, default=InsuranceCover.COMMERCIAL
    )
    starts_on = models.DateField(_("starts"), null=True, blank=True)
    ends_on = models.DateField(_("ends"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("insurance policy")
        verbose_name_plural = _("insurance policies")
        ordering = ["-ends_on"]
        indexes = [models.Index(fields=["ends_on"], name="care_policy_ends")]

    def __str__(self):
        return f"{self.insurer} {self.policy_number}".strip()


class DrivingLicence(TenantModel):
    owner_lookup = "customer__owner"  # TenantQuerySet.for_owner

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", verbose_name=_("driver")
    )
    licence_class = models.CharField(_("class"), max_length=8, blank=True)  # C1, C2 ...
    expires_on = models.DateField(_("expires"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("driving licence")
        verbose_name_plural = _("driving licences")
        constraints = [models.UniqueConstraint(fields=["customer"], name="care_licence_once")]
        indexes = [models.Index(fields=["expires_on"], name="care_licence_expires")]

    def __str__(self):
        return f"{self.licence_class} {self.expires_on}"


class Violation(TenantModel):
    """A traffic violation of one of the group's cars: entered by staff, imported from a file or
    posted by an integration (idempotent by its external reference)."""

    owner_lookup = "customer__owner"  # TenantQuerySet.for_owner

    vehicle = models.ForeignKey(
        "vehicles.Vehicle", on_delete=models.CASCADE, related_name="+", verbose_name=_("car")
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("owner at the time"),
    )
    occurred_at = models.DateTimeField(_("when"))
    place = models.CharField(_("where"), max_length=200, blank=True)
    code = models.CharField(_("violation code"), max_length=20, blank=True)
    description = models.CharField(_("what"), max_length=300)
    fine_cny = models.DecimalField(
        _("fine (CNY)"),
        validators=[MinValueValidator(0)],
        default=0,
        max_digits=12,
        decimal_places=2,
    )
    points = models.PositiveSmallIntegerField(
        _("points"), default=0, validators=[MaxValueValidator(12)]
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ViolationStatus.choices, default=ViolationStatus.OPEN
    )
    source = models.CharField(_("source"), max_length=8, choices=ViolationSource.choices)
    external_ref = models.CharField(_("reference"), max_length=64, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("recorded at"))
    cleared_at = models.DateTimeField(_("cleared at"), null=True, blank=True)

    class Meta:
        verbose_name = _("traffic violation")
        verbose_name_plural = _("traffic violations")
        ordering = ["-occurred_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["dealer_group", "external_ref"],
                condition=~Q(external_ref=""),
                name="care_violation_ref_once",
            )
        ]
        indexes = [
            models.Index(fields=["vehicle", "-occurred_at"], name="care_violation_car"),
            models.Index(fields=["customer", "status"], name="care_violation_customer"),
        ]

    def __str__(self):
        return f"{self.vehicle_id} {self.occurred_at:%Y-%m-%d} {self.description}"


class WeatherWarning(models.Model):
    """A warning for a city, published by a local organisation (every group of it) or by one
    dealer group. Owners whose store, or whose car's last known position, lies within
    `radius_km` of the city's centre get it (without a centre: stores of groups of a local
    organisation of that city)."""

    local_org = models.ForeignKey(
        "org.LocalOrganisation",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("local organisation"),
    )
    dealer_group = models.ForeignKey(
        "org.DealerGroup",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("dealer group"),
    )
    city = models.CharField(_("city"), max_length=80)
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    radius_km = models.PositiveSmallIntegerField(
        _("radius (km)"), default=60, validators=[MinValueValidator(1), MaxValueValidator(500)]
    )
    kind = models.CharField(_("type"), max_length=12, choices=WeatherKind.choices)
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices)
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    advice = models.CharField(_("advice"), max_length=300, blank=True)
    advice_i18n = TranslationsField(_("advice, translated"), max_length=300)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("published at"))

    class Meta:
        verbose_name = _("weather warning")
        verbose_name_plural = _("weather warnings")
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(local_org__isnull=False, dealer_group__isnull=True)
                | Q(local_org__isnull=True, dealer_group__isnull=False),
                name="care_warning_one_publisher",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="care_warning_period"
            ),
        ]
        indexes = [models.Index(fields=["ends_at"], name="care_warning_ends")]

    def __str__(self):
        return f"{self.city} {self.kind} {self.severity}"


class GreetingDay(Translatable, TenantModel):
    """A day of the group's calendar (Spring Festival, Mid-Autumn ...): on a Gregorian date every
    year, or on a Chinese lunar date (converted each year)."""

    name = models.CharField(_("name"), max_length=60)
    name_i18n = TranslationsField(_("name, translated"), max_length=60)
    calendar = models.CharField(
        _("calendar"), max_length=6, choices=Calendar.choices, default=Calendar.SOLAR
    )
    month = models.PositiveSmallIntegerField(
        _("month"), validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    day = models.PositiveSmallIntegerField(
        _("day"), validators=[MinValueValidator(1), MaxValueValidator(31)]
    )
    message = models.CharField(_("greeting"), max_length=300, blank=True)
    message_i18n = TranslationsField(_("greeting, translated"), max_length=300)
    coupon = models.ForeignKey(
        "loyalty.Coupon",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("gift coupon"),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("greeting day")
        verbose_name_plural = _("greeting days")
        ordering = ["month", "day"]

    def __str__(self):
        return self.name


class IntegrationKey(TenantModel):
    """A key an outside system posts violations with. Only a hash is stored; the key is shown
    once, when it is made. `prefix` finds the row, the hash proves the key."""

    name = models.CharField(_("name"), max_length=80)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)  # sha256 hex of the whole key
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("integration key")
        verbose_name_plural = _("integration keys")

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"


# --- reminders ---------------------------------------------------------------------------------
class Reminder(TenantModel):
    """One reminder: for a customer (and their car), of one kind and target, in one cycle (a due
    date and lead stage, a year ...). The unique key makes the scan idempotent."""

    owner_lookup = "customer__owner"  # TenantQuerySet.for_owner

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(
        "owners.Owner", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    vehicle = models.ForeignKey(
        "vehicles.Vehicle", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    target_ref = models.CharField(max_length=40)  # e.g. "line:123", "vehicle:9", "item:4:9"
    cycle = models.CharField(max_length=40)  # e.g. "2026-05-01/30", "2026"
    due_on = models.DateField(_("due"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DUE
    )
    snoozed_until = models.DateField(_("snoozed until"), null=True, blank=True)
    action_url = models.CharField(max_length=300, blank=True)
    payload = models.JSONField(default=dict, blank=True)  # template parameters
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)  # handed to the contact policy
    closed_at = models.DateTimeField(null=True, blank=True)  # done, done elsewhere, dismissed
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)  # by staff
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handled by"),
    )

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "kind", "target_ref", "cycle"], name="care_reminder_once"
            )
        ]
        indexes = [
            # the hand-off: reminders written and not yet given to the contact policy
            models.Index(
                fields=["created_at"], condition=Q(sent_at__isnull=True), name="care_unsent"
            ),
            models.Index(fields=["dealer_group", "due_on"], name="care_group_due"),
            models.Index(fields=["owner", "status"], name="care_owner_status"),
        ]

    def __str__(self):
        return f"{self.kind} {self.target_ref} {self.cycle}"


class DoneElsewhere(TenantModel):
    """The owner says a reminded service was done at another garage: kept as a retention signal
    (who we are losing, for what)."""

    owner_lookup = "customer__owner"  # TenantQuerySet.for_owner

    reminder = models.OneToOneField(
        Reminder, on_delete=models.SET_NULL, null=True, blank=True, related_name="done_elsewhere"
    )
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    vehicle = models.ForeignKey(
        "vehicles.Vehicle", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    done_on = models.DateField(_("done on"))
    odometer_km = models.PositiveIntegerField(_("odometer (km)"), null=True, blank=True)
    created_at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("service done elsewhere")
        verbose_name_plural = _("services done elsewhere")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["dealer_group", "created_at"], name="care_elsewhere")]

    def __str__(self):
        return f"{self.kind} {self.done_on}"
