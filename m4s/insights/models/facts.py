"""Daily facts: per-store, per-day counts (StoreDay) and the few per-month figures that are
distinct counts and cannot be summed from days (StoreMonth: retention, return after warranty,
monthly active owners, binding, maintenance fulfilment, points liability; StaffMonth: binding
per staff member). The nightly job (m4s.insights.facts) rebuilds them set-based; the dashboards
read only these tables, never raw history.

Definitions (documented in facts.py too):
- a paid visit is an invoice with customer_pay_total > 0 (its day: issued_at); 0 = warranty or
  internal (a warranty visit);
- first-time fix: a repair order delivered that day for whose car no other repair order was
  checked in within the following 30 days (a comeback);
- days are local dates in the project's time zone (settings.TIME_ZONE)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from m4s.core.tenancy import TenantModel

__all__ = ["StoreDay", "StoreMonth", "StaffMonth"]

MONEY = {"max_digits": 14, "decimal_places": 2, "default": 0}


def _n():
    return models.PositiveIntegerField(default=0)


class StoreDay(TenantModel):
    store = models.ForeignKey("org.Store", on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("day"))
    # service
    paid_visits = _n()
    warranty_visits = _n()
    revenue = models.DecimalField(**MONEY)  # customer-paid, tax included (CNY)
    appointments_due = _n()  # appointments of the day, not cancelled
    shows = _n()
    no_shows = _n()
    delivered = _n()  # repair orders delivered
    fixed_first_time = _n()
    # surveys
    surveys = _n()
    csi_sum = models.DecimalField(**MONEY)  # the sum of the answered surveys' CSI (0..100)
    promoters = _n()
    passives = _n()
    detractors = _n()
    # complaints (SLA in business time, judged by the complaints engine's due dates)
    complaints_opened = _n()
    complaint_fr_met = _n()
    complaint_fr_total = _n()
    complaint_res_met = _n()
    complaint_res_total = _n()
    complaint_handled = _n()  # resolved with a handling time
    complaint_handling_minutes = models.PositiveBigIntegerField(default=0)
    # conversations: staff first responses (business minutes)
    first_responses = _n()
    first_response_minutes = models.PositiveBigIntegerField(default=0)
    # online-service requests: answered (accepted) by their due time
    requests_sla_met = _n()
    requests_sla_total = _n()
    # app, care, sales, loyalty
    new_bindings = _n()
    reminders_sent = _n()
    reminders_converted = _n()  # sent that day and since done
    leads_new = _n()
    leads_won = _n()
    leads_lost = _n()
    points_issued = models.BigIntegerField(default=0)
    points_redeemed = models.BigIntegerField(default=0)
    active_owners = _n()  # distinct that day (monthly distinct: StoreMonth)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "day"], name="insights_storeday_unique")
        ]
        indexes = [models.Index(fields=["dealer_group", "day"], name="insights_storeday_day")]
        verbose_name = _("store day")

    def __str__(self) -> str:
        return f"{self.store_id} {self.day}"


class StoreMonth(TenantModel):
    """Distinct counts for one store and month (as of the month's last day)."""

    store = models.ForeignKey("org.Store", on_delete=models.CASCADE, related_name="+")
    month = models.DateField(_("month"))  # its first day
    active_owners = _n()  # distinct customers with app activity in the month
    retention_base = _n()  # paid visit in the 12 months before the last 12
    retained = _n()  # ... and one in the last 12 months
    warranty_base = _n()  # cars whose warranty ended 12-24 months before the month's end
    warranty_returned = _n()  # ... with a paid visit after the warranty ended
    customers = _n()
    bound_customers = _n()  # with an active app binding at the month's end
    maint_due = _n()  # maintenance reminders due in the month
    maint_booked = _n()  # ... with an appointment for the car (30 days before to 60 after)
    maint_done = _n()  # ... done here
    maint_done_elsewhere = _n()  # ... reported done elsewhere (only when the owner says so)
    points_liability = models.BigIntegerField(default=0)  # points outstanding at the month's end

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "month"], name="insights_storemonth_unique")
        ]
        indexes = [models.Index(fields=["dealer_group", "month"], name="insights_storemonth_m")]
        verbose_name = _("store month")

    def __str__(self) -> str:
        return f"{self.store_id} {self.month}"


class StaffMonth(TenantModel):
    """App adoption per staff member (their assigned customers as service advisor)."""

    store = models.ForeignKey("org.Store", on_delete=models.CASCADE, related_name="+")
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    month = models.DateField(_("month"))
    customers = _n()
    bound_customers = _n()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["store", "staff", "month"], name="insights_staffmonth_unique"
            )
        ]
        indexes = [models.Index(fields=["dealer_group", "month"], name="insights_staffmonth_m")]
        verbose_name = _("staff month")

    def __str__(self) -> str:
        return f"{self.staff_id} {self.month}"
