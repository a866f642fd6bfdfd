"""What a campaign changed: for 30, 60 and 90 days after launch, in each arm (treated, control),
the share of members who booked (an appointment created in the window), the share who visited
(a paid visit: an invoice with customer_pay_total > 0 issued in the window) and the spend per
member (the customer-paid totals of those invoices, members without any counting 0). The uplift
is treated − control with a 95 % confidence interval:

- shares: Newcombe's hybrid score interval for a difference of two independent proportions
  (method 10 of Newcombe 1998: Wilson score intervals of each share combined), which behaves at
  0 % and 100 % and with small arms, where the plain normal approximation does not;
- spend per member: Welch's t interval (unequal variances; Welch–Satterthwaite degrees of
  freedom; the t quantile from scipy, which scikit-learn brings; without scipy the normal
  quantile 1.96, fine from a few dozen members per arm).

A window that has not fully passed is computed up to now and marked partial. Set-based: one
aggregate query per arm per window (EXISTS / a summed subquery per member inside it).
"""

import datetime as dt
import math
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, Exists, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import Arm, Campaign, CampaignMember

WINDOWS = (30, 60, 90)
Z95 = 1.959963984540054


def t_quantile(df: float, p: float = 0.975) -> float:
    """The t distribution's p quantile (scipy), the normal one when scipy is missing."""
    try:
        from scipy.stats import t

        return float(t.ppf(p, df))
    except ImportError:  # pragma: no cover
        return Z95


def wilson(x: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a share x/n."""
    if n == 0:
        return 0.0, 1.0
    p = x / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe(x1: int, n1: int, x2: int, n2: int, z: float = Z95) -> tuple[float, float, float]:
    """p1 − p2 and its hybrid score interval (Newcombe 1998, method 10)."""
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson(x1, n1, z)
    l2, u2 = wilson(x2, n2, z)
    d = p1 - p2
    lo = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    hi = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, lo, hi


def welch(
    mean1: float, var1: float, n1: int, mean2: float, var2: float, n2: int
) -> tuple[float, float, float, float]:
    """mean1 − mean2, its 95 % Welch interval and the degrees of freedom (sample variances)."""
    d = mean1 - mean2
    a, b = var1 / n1, var2 / n2
    se = math.sqrt(a + b)
    if se == 0:
        return d, d, d, float(n1 + n2 - 2)
    df = (a + b) ** 2 / ((a * a / (n1 - 1) if n1 > 1 else 0) + (b * b / (n2 - 1) if n2 > 1 else 0))
    q = t_quantile(df)
    return d, d - q * se, d + q * se, df


@dataclass
class ArmFigures:
    n: int
    booked: int
    visited: int
    spend: Decimal
    spend_sq: float

    @property
    def booked_share(self) -> float | None:
        return self.booked / self.n if self.n else None

    @property
    def visited_share(self) -> float | None:
        return self.visited / self.n if self.n else None

    @property
    def spend_mean(self) -> float | None:
        return float(self.spend) / self.n if self.n else None

    @property
    def spend_var(self) -> float:
        if self.n < 2:
            return 0.0
        mean = float(self.spend) / self.n
        return max(0.0, (self.spend_sq - self.n * mean * mean) / (self.n - 1))


def arm_figures(campaign: Campaign, arm: str, start: dt.datetime, end: dt.datetime) -> ArmFigures:
    """One aggregate query: members of the arm, how many booked / visited, their spend."""
    from m4s.service.models import Appointment, Invoice

    gid = campaign.dealer_group_id
    bookings = Appointment.objects.unscoped().filter(
        dealer_group_id=gid,
        customer_id=OuterRef("customer_id"),
        created_at__gte=start,
        created_at__lt=end,
    )
    paid = Invoice.objects.unscoped().filter(
        dealer_group_id=gid,
        repair_order__customer_id=OuterRef("customer_id"),
        customer_pay_total__gt=0,
        issued_at__gte=start,
        issued_at__lt=end,
    )
    money = DecimalField(max_digits=14, decimal_places=2)
    spend = Coalesce(
        Subquery(
            paid.order_by()
            .values("repair_order__customer_id")
            .annotate(s=Sum("customer_pay_total"))
            .values("s")[:1],
            output_field=money,
        ),
        Decimal(0),
        output_field=money,
    )
    row = (
        CampaignMember.objects.unscoped()
        .filter(campaign_id=campaign.pk, arm=arm)
        .annotate(b=Exists(bookings), v=Exists(paid), s=spend)
        .aggregate(
            n=Count("id"),
            booked=Count("id", filter=Q(b=True)),
            visited=Count("id", filter=Q(v=True)),
            spend=Sum("s"),
            spend_sq=Sum(F("s") * F("s"), output_field=money),
        )
    )
    return ArmFigures(
        n=row["n"] or 0,
        booked=row["booked"] or 0,
        visited=row["visited"] or 0,
        spend=Decimal(row["spend"] or 0).quantize(Decimal("0.01")),
        spend_sq=float(row["spend_sq"] or 0),
    )


def _share_diff(t: ArmFigures, c: ArmFigures, field: str) -> dict[str, Any] | None:
    if not t.n or not c.n:
        return None
    d, lo, hi = newcombe(getattr(t, field), t.n, getattr(c, field), c.n)
    return {"diff": d, "low": lo, "high": hi}


def _spend_diff(t: ArmFigures, c: ArmFigures) -> dict[str, Any] | None:
    if t.n < 2 or c.n < 2:
        return None
    d, lo, hi, df = welch(
        t.spend_mean or 0.0, t.spend_var, t.n, c.spend_mean or 0.0, c.spend_var, c.n
    )
    return {"diff": d, "low": lo, "high": hi, "df": df}


def result(campaign: Campaign, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """Per window: each arm's figures and the differences with their 95 % intervals. Windows
    still running are computed up to now (`partial`); windows not begun are left out."""
    now = now or timezone.now()
    out: dict[str, Any] = {"campaign_id": campaign.pk, "windows": []}
    start = campaign.launched_at
    if start is None:
        return out
    for days in WINDOWS:
        end = start + dt.timedelta(days=days)
        partial = now < end
        if now <= start:
            break
        until = min(end, now)
        t = arm_figures(campaign, Arm.TREATED, start, until)
        c = arm_figures(campaign, Arm.CONTROL, start, until)
        out["windows"].append(
            {
                "days": days,
                "partial": partial,
                "until": until,
                "arms": {
                    "treated": _arm_dict(t),
                    "control": _arm_dict(c),
                },
                "uplift": {
                    "booked": _share_diff(t, c, "booked"),
                    "visited": _share_diff(t, c, "visited"),
                    "spend": _spend_diff(t, c),
                },
            }
        )
        if partial:
            break
    return out


def _arm_dict(a: ArmFigures) -> dict[str, Any]:
    d = asdict(a)
    d.pop("spend_sq")
    d["booked_share"] = a.booked_share
    d["visited_share"] = a.visited_share
    d["spend_per_member"] = a.spend_mean
    return d
