"""Loyalty: an append-only points ledger with lots and FIFO allocation, earning rules with caps
and campaign budgets, tiers over rolling qualifying points, rewards and vouchers, coupons,
missions and badges over the member event stream, referrals and partner merchants."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from m4s.core.i18n import Translatable, TranslationsField
from m4s.core.tenancy import TenantModel

from .choices import CouponKind, EntryKind, Event, Measure, RewardKind, VoucherStatus

MONEY = {"max_digits": 12, "decimal_places": 2}


class RulesVersioned(models.Model):
    """Saving or deleting one of these changes what an earn computes: the programme's rules
    version is bumped (every process's cached rules are re-read at its next earn). Bulk
    `update()`s bypass this and must call `earning.invalidate(group_id)` themselves."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        from .earning import programme_changed

        programme_changed(self)

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        from .earning import programme_changed

        programme_changed(self)
        return result


class Programme(RulesVersioned, TenantModel):
    """One programme per dealer group."""

    name = models.CharField(_("name"), max_length=80)
    pending_days = models.PositiveSmallIntegerField(
        _("points pending for (days)"),
        default=7,
        help_text=_("The return window of paid services."),
    )
    expiry_months = models.PositiveSmallIntegerField(_("points expire after (months)"), default=24)
    expiry_warning_days = models.PositiveSmallIntegerField(
        _("warn before expiry (days)"), default=30
    )
    point_value = models.DecimalField(
        _("value of one point (CNY)"), max_digits=6, decimal_places=4, default="0.0100"
    )
    tier_review_day = models.PositiveSmallIntegerField(
        _("tier review day of the year (1 = 1 January)"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    # Bumped whenever the programme, a rule, a campaign or a mission changes: earning caches its
    # rules per (group, version) in each process (m4s/loyalty/earning.py).
    rules_version = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("loyalty programme")
        verbose_name_plural = _("loyalty programmes")
        constraints = [
            models.UniqueConstraint(fields=["dealer_group"], name="one_programme_per_group")
        ]

    def __str__(self):
        return self.name


class Tier(RulesVersioned, Translatable, TenantModel):
    name = models.CharField(_("name"), max_length=40)
    name_i18n = TranslationsField(_("name, translated"), max_length=40)
    threshold = models.PositiveIntegerField(_("qualifying points in 12 months"))
    earn_multiplier = models.DecimalField(
        _("earn multiplier"), max_digits=4, decimal_places=2, default="1.00"
    )
    labour_discount_pct = models.PositiveSmallIntegerField(
        _("labour discount (%)"), default=0, validators=[MaxValueValidator(100)]
    )
    benefits = models.CharField(_("benefits"), max_length=300, blank=True)
    benefits_i18n = TranslationsField(_("benefits, translated"), max_length=300)
    colour = models.CharField(max_length=7, default="#888888")

    class Meta:
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        ordering = ["threshold"]
        constraints = [
            models.UniqueConstraint(
                fields=["dealer_group", "threshold"], name="tier_threshold_unique"
            )
        ]

    def __str__(self):
        return self.name


class Partner(TenantModel):
    """A merchant of the alliance (car wash, coffee, fuel station)."""

    name = models.CharField(_("name"), max_length=80)
    category = models.CharField(_("category"), max_length=40, blank=True)
    key_prefix = models.CharField(max_length=12, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    points_per_yuan = models.DecimalField(
        _("points per CNY spent"), max_digits=6, decimal_places=2, default="1.00"
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("partner merchant")
        verbose_name_plural = _("partner merchants")

    def __str__(self):
        return self.name


class Member(TenantModel):
    """A customer in the programme. `balance`, `pending` and `qualifying` are projections of the
    ledger, updated in the same transaction as each entry; `m4s loyalty-check` proves them."""

    owner_lookup = "customer__owner"  # TenantQuerySet.for_owner

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, related_name="member"
    )
    code = models.CharField(_("member code"), max_length=12, unique=True)
    referral_code = models.CharField(max_length=10, unique=True)
    referred_by = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="referrals"
    )
    tier = models.ForeignKey(
        Tier, on_delete=models.SET_NULL, null=True, blank=True, related_name="members"
    )
    balance = models.IntegerField(default=0)
    pending = models.IntegerField(default=0)
    leaderboard_name = models.CharField(_("name on leaderboards"), max_length=30, blank=True)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="member_balance_not_negative")
        ]

    def __str__(self):
        return self.code


class Campaign(RulesVersioned, TenantModel):
    """A points budget that earning rules draw from; it cannot be overspent."""

    name = models.CharField(_("name"), max_length=80)
    budget = models.PositiveIntegerField(_("budget (points)"))
    spent = models.PositiveIntegerField(_("spent (points)"), default=0)
    starts_on = models.DateField(_("starts"), null=True, blank=True)
    ends_on = models.DateField(_("ends"), null=True, blank=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        constraints = [
            models.CheckConstraint(
                condition=Q(spent__lte=models.F("budget")), name="campaign_within_budget"
            )
        ]

    def __str__(self):
        return self.name


class EarningRule(RulesVersioned, Translatable, TenantModel):
    event = models.CharField(_("when"), max_length=20, choices=Event.choices)
    name = models.CharField(_("name"), max_length=80)
    name_i18n = TranslationsField(_("name, translated"), max_length=80)
    points = models.PositiveIntegerField(_("fixed points"), default=0)
    points_per_yuan = models.DecimalField(
        _("points per CNY"), max_digits=6, decimal_places=2, default="0"
    )
    daily_cap = models.PositiveIntegerField(
        _("cap per member per day (points)"), null=True, blank=True
    )
    total_cap = models.PositiveIntegerField(
        _("cap per member overall (points)"), null=True, blank=True
    )
    referral_level = models.PositiveSmallIntegerField(
        _("referral level"), default=1, validators=[MinValueValidator(1), MaxValueValidator(2)]
    )
    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, null=True, blank=True, related_name="rules"
    )
    qualifying = models.BooleanField(_("counts towards tiers"), default=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("earning rule")
        verbose_name_plural = _("earning rules")
        indexes = [models.Index(fields=["dealer_group", "event", "is_active"], name="rule_event")]

    def __str__(self):
        return self.name


class LedgerEntry(TenantModel):
    """Append-only. Credits (earn, positive adjust) are lots with `remaining`; debits (redeem,
    expire, reverse, negative adjust) are allocated to lots through Allocation rows."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=8, choices=EntryKind.choices)
    points = models.IntegerField()
    reason = models.CharField(max_length=200)  # as written (English source text for system reasons)
    reason_text = models.JSONField(default=dict, blank=True)  # m4s.core.i18n text: read translated
    source_type = models.CharField(max_length=30, blank=True)
    source_id = models.CharField(max_length=40, blank=True)
    idempotency_key = models.CharField(max_length=100)
    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )
    rule = models.ForeignKey(
        EarningRule, on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )
    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )
    reverses = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversals"
    )
    qualifying = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    available_at = models.DateTimeField(null=True, blank=True)  # credits: pending until then
    expires_at = models.DateTimeField(null=True, blank=True)  # credits
    remaining = models.IntegerField(default=0)  # credits: not yet spent, expired or reversed
    is_pending = models.BooleanField(default=False)  # credits: counted in `pending`, not `balance`
    warned_at = models.DateTimeField(null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dealer_group", "idempotency_key"], name="ledger_idempotency_key"
            ),
            models.CheckConstraint(condition=Q(remaining__gte=0), name="lot_not_below_zero"),
            models.CheckConstraint(
                condition=Q(remaining__lte=models.F("points")) | Q(points__lt=0),
                name="lot_within_credit",
            ),
        ]
        indexes = [
            models.Index(fields=["member", "-created_at"], name="ledger_member"),
            models.Index(
                fields=["member", "expires_at"],
                condition=Q(remaining__gt=0),
                name="ledger_open_lots",
            ),
            models.Index(
                fields=["expires_at"], condition=Q(remaining__gt=0), name="ledger_expiring"
            ),
            models.Index(fields=["source_type", "source_id"], name="ledger_source"),
        ]

    def __str__(self):
        return f"{self.kind} {self.points:+d} ({self.reason})"

    @property
    def display_reason(self) -> str:
        """The reason in the reader's language (free-text staff reasons stay as written)."""
        from m4s.core.i18n import render

        return render(self.reason_text, self.reason)


class Allocation(TenantModel):
    debit = models.ForeignKey(LedgerEntry, on_delete=models.PROTECT, related_name="allocations")
    lot = models.ForeignKey(LedgerEntry, on_delete=models.PROTECT, related_name="spent_by")
    points = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["lot"], name="allocation_lot")]


class Reward(Translatable, TenantModel):
    name = models.CharField(_("name"), max_length=80)
    name_i18n = TranslationsField(_("name, translated"), max_length=80)
    description = models.CharField(_("description"), max_length=300, blank=True)
    description_i18n = TranslationsField(_("description, translated"), max_length=300)
    kind = models.CharField(_("kind"), max_length=10, choices=RewardKind.choices)
    cost = models.PositiveIntegerField(_("cost (points)"), validators=[MinValueValidator(1)])
    stock = models.PositiveIntegerField(
        _("stock"), null=True, blank=True, help_text=_("Empty: unlimited.")
    )
    min_tier = models.ForeignKey(
        Tier,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("from tier"),
    )
    partner = models.ForeignKey(
        Partner, on_delete=models.SET_NULL, null=True, blank=True, related_name="rewards"
    )
    valid_days = models.PositiveSmallIntegerField(_("voucher valid for (days)"), default=30)
    value = models.DecimalField(_("cost to the dealer (CNY)"), default=0, **MONEY)
    is_active = models.BooleanField(_("active"), default=True)
    icon = models.CharField(max_length=4, default="🎁")

    class Meta:
        verbose_name = _("reward")
        verbose_name_plural = _("rewards")
        ordering = ["cost"]

    def __str__(self):
        return self.name


class Voucher(TenantModel):
    owner_lookup = "member__customer__owner"  # TenantQuerySet.for_owner

    code = models.CharField(max_length=16, unique=True)
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="vouchers")
    reward = models.ForeignKey(Reward, on_delete=models.PROTECT, related_name="vouchers")
    entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="voucher")
    status = models.CharField(
        max_length=8, choices=VoucherStatus.choices, default=VoucherStatus.ISSUED
    )
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    used_at_partner = models.ForeignKey(
        Partner, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-issued_at"]
        indexes = [models.Index(fields=["member", "status"], name="voucher_member")]


class Coupon(Translatable, TenantModel):
    """Single-use codes: an amount or a percentage off, with a minimum spend, usable at settlement."""

    name = models.CharField(_("name"), max_length=80)
    name_i18n = TranslationsField(_("name, translated"), max_length=80)
    kind = models.CharField(_("kind"), max_length=8, choices=CouponKind.choices)
    value = models.DecimalField(_("value"), validators=[MinValueValidator(0)], **MONEY)
    min_spend = models.DecimalField(_("minimum spend (CNY)"), default=0, **MONEY)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid until"))
    per_owner_limit = models.PositiveSmallIntegerField(_("per owner"), default=1)

    class Meta:
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")

    def __str__(self):
        return self.name


class CouponCode(TenantModel):
    coupon = models.ForeignKey(Coupon, on_delete=models.CASCADE, related_name="codes")
    code = models.CharField(max_length=16, unique=True)
    member = models.ForeignKey(
        Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="coupons"
    )
    used_at = models.DateTimeField(null=True, blank=True)
    used_on = models.CharField(max_length=40, blank=True)  # e.g. "repair_order:12"
    discount = models.DecimalField(null=True, blank=True, **MONEY)


class Badge(Translatable, TenantModel):
    name = models.CharField(_("name"), max_length=60)
    name_i18n = TranslationsField(_("name, translated"), max_length=60)
    icon = models.CharField(max_length=4, default="🏅")
    description = models.CharField(_("description"), max_length=200, blank=True)
    description_i18n = TranslationsField(_("description, translated"), max_length=200)

    class Meta:
        verbose_name = _("badge")
        verbose_name_plural = _("badges")

    def __str__(self):
        return self.name


class Mission(RulesVersioned, Translatable, TenantModel):
    """A rule over a sliding time window of the member's events: count, sum, or distinct count
    (e.g. refuel at 5 different partner stations within 60 days)."""

    name = models.CharField(_("name"), max_length=80)
    name_i18n = TranslationsField(_("name, translated"), max_length=80)
    description = models.CharField(_("description"), max_length=300, blank=True)
    description_i18n = TranslationsField(_("description, translated"), max_length=300)
    event = models.CharField(_("event"), max_length=20, choices=Event.choices)
    measure = models.CharField(
        _("measure"), max_length=8, choices=Measure.choices, default=Measure.COUNT
    )
    target = models.PositiveIntegerField(_("target"))
    window_days = models.PositiveSmallIntegerField(_("within (days)"))
    points = models.PositiveIntegerField(_("points on completion"), default=0)
    badge = models.ForeignKey(
        Badge, on_delete=models.SET_NULL, null=True, blank=True, related_name="missions"
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("mission")
        verbose_name_plural = _("missions")

    def __str__(self):
        return self.name


class MemberEvent(TenantModel):
    """The event stream missions are evaluated over (append-only)."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="events")
    event = models.CharField(max_length=20, choices=Event.choices)
    at = models.DateTimeField()
    amount = models.DecimalField(default=0, **MONEY)
    key = models.CharField(max_length=60, blank=True)  # what "distinct" counts, e.g. partner:7
    store = models.ForeignKey(
        "org.Store", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source = models.CharField(max_length=100)
    # True until the batched follow-up (the "+N points" message, tier upgrade, missions) has run
    # for this event: the processed marker of m4s/loyalty/earning.py, cleared in its transaction.
    follow_up = models.BooleanField(default=False, editable=False)

    class Meta:
        indexes = [
            models.Index(fields=["member", "event", "at"], name="member_event_window"),
            models.Index(fields=["id"], condition=Q(follow_up=True), name="member_event_follow_up"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["dealer_group", "source"], name="member_event_once")
        ]


class MissionCompletion(TenantModel):
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="completions")
    mission = models.ForeignKey(Mission, on_delete=models.CASCADE, related_name="completions")
    completed_at = models.DateTimeField()
    store = models.ForeignKey(
        "org.Store", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "mission"], name="mission_once_per_member")
        ]


class MemberBadge(TenantModel):
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="badges")
    badge = models.ForeignKey(Badge, on_delete=models.CASCADE, related_name="+")
    awarded_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "badge"], name="badge_once_per_member")
        ]


class Referral(TenantModel):
    referrer = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="referrals_made")
    referee = models.OneToOneField(Member, on_delete=models.CASCADE, related_name="referral")
    phone = models.CharField(max_length=20)
    vin = models.CharField(max_length=17, blank=True)
    created_at = models.DateTimeField()
    rewarded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dealer_group", "phone"], name="referral_phone_once"),
            models.UniqueConstraint(
                fields=["dealer_group", "vin"], condition=~Q(vin=""), name="referral_vin_once"
            ),
        ]


class PartnerRequest(TenantModel):
    """Stored response of a partner API call, keyed by its Idempotency-Key: a retried call gets
    the same answer and has no second effect."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="requests")
    key = models.CharField(max_length=100)
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["partner", "key"], name="partner_request_once")
        ]
