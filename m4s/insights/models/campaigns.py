"""Segments (a saved definition of which customers: RFM segment, churn risk, tier, car, mileage,
last visit, city, store, consent), campaigns sent to a segment with a random control arm that
gets nothing, and each campaign's members (who was in which arm, what the contact policy
decided for them, the coupon code they got)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from m4s.core.tenancy import TenantModel

__all__ = ["Arm", "Campaign", "CampaignMember", "CampaignStatus", "MemberOutcome", "Segment"]


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent")
    FINISHED = "finished", _("Finished")


class Arm(models.TextChoices):
    TREATED = "treated", _("Treated")
    CONTROL = "control", _("Control")


class MemberOutcome(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    HELD = "held", _("Held until quiet hours end")
    DROPPED = "dropped", _("Not sent (contact policy)")
    NONE = "none", _("Control: nothing sent")


class Segment(TenantModel):
    """A named definition of customers (validated by m4s.insights.segments.Definition)."""

    name = models.CharField(_("name"), max_length=80)
    definition = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("segment")

    def __str__(self) -> str:
        return self.name


class Campaign(TenantModel):
    """A message (and optional coupon) to a segment's consenting customers, minus a random
    control arm. The segment's definition is copied at launch (`definition`), the members are
    snapshot, and the seed of the random split is kept so the split can be redone and audited."""

    name = models.CharField(_("name"), max_length=80)
    segment = models.ForeignKey(
        Segment, on_delete=models.SET_NULL, null=True, blank=True, related_name="campaigns"
    )
    definition = models.JSONField(default=dict)  # the segment's definition as launched
    # what is sent, per language: {"zh-Hans": "...", "en": "...", "ko": "..."}
    title = models.JSONField(default=dict)
    body = models.JSONField(default=dict)
    coupon = models.ForeignKey(
        "loyalty.Coupon", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    control_pct = models.PositiveSmallIntegerField(_("control share (%)"), default=10)
    status = models.CharField(
        max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    seed = models.BigIntegerField(null=True, blank=True)  # the random split's seed
    launched_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)  # the treated arm handed to the policy
    finished_at = models.DateTimeField(null=True, blank=True)
    treated_count = models.PositiveIntegerField(default=0)
    control_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("campaign")
        indexes = [models.Index(fields=["dealer_group", "status"], name="campaign_status")]

    def __str__(self) -> str:
        return self.name


class CampaignMember(TenantModel):
    """One customer of a launched campaign: their arm, what the contact policy decided (treated
    arm only; the control arm is never contacted), the message and the coupon code."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="members")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="campaign_memberships"
    )
    arm = models.CharField(max_length=8, choices=Arm.choices)
    outcome = models.CharField(
        max_length=8, choices=MemberOutcome.choices, default=MemberOutcome.PENDING
    )
    why = models.CharField(max_length=24, blank=True)  # the policy's reason when dropped
    message_id = models.BigIntegerField(null=True, blank=True)  # notify.Message (in-app)
    coupon_code = models.ForeignKey(
        "loyalty.CouponCode", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    owner_lookup = "customer__owner"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "customer"], name="campaign_member_once")
        ]
        indexes = [models.Index(fields=["campaign", "arm"], name="campaign_member_arm")]

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.customer_id}:{self.arm}"
