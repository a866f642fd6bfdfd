"""One row per customer: what the nightly job knows about them (features as of `as_of`), their
RFM scores and segment, and their churn risk with its top reasons. Every part of the insight
area reads this table; the nightly facts job writes the features and RFM, the churn scoring
writes the risk (set-based, never a row at a time)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from m4s.core.tenancy import TenantModel
from m4s.insights.choices import RiskBand, Segment

__all__ = ["CustomerInsight"]


class CustomerInsight(TenantModel):
    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, related_name="insight"
    )
    store = models.ForeignKey(
        "org.Store", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )  # the customer's home store (their assigned or last-visited store)
    as_of = models.DateField(_("as of"))
    # features (what the churn model and the segment builder read)
    first_paid_visit = models.DateField(null=True, blank=True)
    last_paid_visit = models.DateField(null=True, blank=True)
    last_visit = models.DateField(null=True, blank=True)  # paid or warranty
    visits_24m = models.PositiveIntegerField(default=0)  # paid visits in the 24 months to as_of
    spend_24m = models.DecimalField(max_digits=12, decimal_places=2, default=0)  # CNY
    declined_items_12m = models.PositiveIntegerField(default=0)  # declined amber/red lines
    open_complaints = models.PositiveIntegerField(default=0)
    complaints_12m = models.PositiveIntegerField(default=0)
    no_shows_12m = models.PositiveIntegerField(default=0)
    last_nps = models.SmallIntegerField(null=True, blank=True)  # 0..10
    last_app_open = models.DateField(null=True, blank=True)
    car_age_months = models.PositiveIntegerField(null=True, blank=True)  # the oldest bound car
    out_of_warranty = models.BooleanField(default=False)
    tier = models.CharField(max_length=40, blank=True)
    bound = models.BooleanField(default=False)  # has the owner app bound to a car
    # RFM (quintiles per group, 1..5, 5 best; 0 when the customer has no paid visit)
    r = models.PositiveSmallIntegerField(default=0)
    f = models.PositiveSmallIntegerField(default=0)
    m = models.PositiveSmallIntegerField(default=0)
    segment = models.CharField(max_length=20, choices=Segment.choices, default=Segment.NEVER)
    # churn risk (the group's current model): probability of no paid visit in the next 12 months
    churn_risk = models.FloatField(null=True, blank=True)
    risk_band = models.CharField(max_length=10, choices=RiskBand.choices, blank=True)
    # up to three reasons: [{"code": "no_visit", "t": msgid, "p": {...}}] (core.i18n.text)
    reasons = models.JSONField(default=list, blank=True)
    scored_at = models.DateTimeField(null=True, blank=True)

    owner_lookup = "customer__owner"

    class Meta:
        indexes = [
            models.Index(fields=["dealer_group", "segment"]),
            models.Index(fields=["dealer_group", "risk_band"]),
            models.Index(fields=["dealer_group", "store"]),
        ]
        verbose_name = _("customer insight")

    def __str__(self) -> str:
        return f"{self.customer_id} {self.segment} {self.churn_risk}"
