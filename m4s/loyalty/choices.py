from django.db import models
from django.utils.translation import gettext_lazy as _


class EntryKind(models.TextChoices):
    EARN = "earn", _("Earned")
    REDEEM = "redeem", _("Redeemed")
    EXPIRE = "expire", _("Expired")
    REVERSE = "reverse", _("Reversed")
    ADJUST = "adjust", _("Adjusted by staff")


CREDIT_KINDS = (EntryKind.EARN, EntryKind.ADJUST)


class Event(models.TextChoices):
    """Things that earn points (and feed missions)."""

    SERVICE_PAID = "service_paid", _("Paid service")
    APPOINTMENT_KEPT = "appointment_kept", _("Kept appointment")
    SURVEY_COMPLETED = "survey_completed", _("Answered survey")
    CAR_BOUND = "car_bound", _("Bound a car")
    REFERRAL = "referral", _("Friend bound a car")
    STORY_APPROVED = "story_approved", _("Approved owner story")
    LIKE_RECEIVED = "like_received", _("Like received")
    EVENT_CHECKIN = "event_checkin", _("Event check-in")
    PARTNER_PURCHASE = "partner_purchase", _("Purchase at a partner")
    # km of a trip without harsh braking (m4s.driving; amount = km): "1,000 km with no harsh
    # braking" is a mission summing it
    SMOOTH_KM = "smooth_km", _("Km driven without harsh braking")


class RewardKind(models.TextChoices):
    SERVICE = "service", _("In-house service")
    ACCESSORY = "accessory", _("Accessory")
    PARTNER = "partner", _("Partner reward")


class VoucherStatus(models.TextChoices):
    ISSUED = "issued", _("Ready to use")
    USED = "used", _("Used")
    EXPIRED = "expired", _("Expired")


class Measure(models.TextChoices):
    COUNT = "count", _("Count")
    SUM = "sum", _("Sum")
    DISTINCT = "distinct", _("Distinct count")


class CouponKind(models.TextChoices):
    AMOUNT = "amount", _("Amount off")
    PERCENT = "percent", _("Per cent off")
