"""The group's KPIs, read from the nightly facts only (StoreDay, StoreMonth, StaffMonth): a fixed
number of queries per page whatever the data size. A month outside the data gives None for every
ratio ("—" on the pages), never an error. Definitions: m4s/insights/facts.py.

- `KPIS`: ordered (code, label, unit); unit: "pct" (0..100), "score", "minutes", "count", "points",
  "money".
- `month(group, month, store_id)` → {code: value | None} for one store or the whole group.
- `table(group, month, store_ids)` → {None: group column, store_id: column} in two queries.
- `trend(group, months, store_id)` → {code: [value per month]} in two queries.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db.models import Sum
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext_lazy as _

from m4s.core.dates import add_months

KPIS: list[tuple[str, object, str]] = [
    ("retention", _("Retention (12 months)"), "pct"),
    ("warranty_return", _("Return after warranty ends"), "pct"),
    ("maint_booked", _("Maintenance due → booked"), "pct"),
    ("maint_done", _("Maintenance due → done here"), "pct"),
    ("maint_elsewhere", _("Maintenance done elsewhere (reported)"), "pct"),
    ("show_rate", _("Show rate"), "pct"),
    ("csi", _("CSI"), "score"),
    ("nps", _("NPS"), "score"),
    ("ftf", _("First-time fix"), "pct"),
    ("complaint_fr_sla", _("Complaints: first response on time"), "pct"),
    ("complaint_res_sla", _("Complaints: resolved on time"), "pct"),
    ("complaint_handling", _("Complaint handling time (business minutes)"), "minutes"),
    ("first_response", _("Conversation first response (business minutes)"), "minutes"),
    ("request_sla", _("Online requests answered on time"), "pct"),
    ("binding_rate", _("Binding rate (app adoption)"), "pct"),
    ("reminder_conversion", _("Reminder conversion"), "pct"),
    ("lead_conversion", _("Lead conversion"), "pct"),
    ("points_liability", _("Points liability"), "points"),
    ("active_owners", _("Monthly active owners"), "count"),
    ("paid_visits", _("Paid visits"), "count"),
    ("revenue", _("Customer-paid revenue"), "money"),
]
CODES = [k for k, _l, _u in KPIS]
LABELS = {k: label for k, label, _u in KPIS}
UNITS = {k: u for k, _l, u in KPIS}
# the trend charts of the dashboard
MAIN = ["retention", "show_rate", "csi", "nps", "ftf", "binding_rate"]

DAY_FIELDS = [
    "paid_visits",
    "warranty_visits",
    "revenue",
    "appointments_due",
    "shows",
    "no_shows",
    "delivered",
    "fixed_first_time",
    "surveys",
    "csi_sum",
    "promoters",
    "passives",
    "detractors",
    "complaints_opened",
    "complaint_fr_met",
    "complaint_fr_total",
    "complaint_res_met",
    "complaint_res_total",
    "complaint_handled",
    "complaint_handling_minutes",
    "first_responses",
    "first_response_minutes",
    "requests_sla_met",
    "requests_sla_total",
    "new_bindings",
    "reminders_sent",
    "reminders_converted",
    "leads_new",
    "leads_won",
    "leads_lost",
    "points_issued",
    "points_redeemed",
]
MONTH_FIELDS = [
    "active_owners",
    "retention_base",
    "retained",
    "warranty_base",
    "warranty_returned",
    "customers",
    "bound_customers",
    "maint_due",
    "maint_booked",
    "maint_done",
    "maint_done_elsewhere",
    "points_liability",
]


def _gid(group) -> int:
    return group if isinstance(group, int) else group.pk


def _pct(num, den) -> float | None:
    return round(float(num) * 100 / float(den), 1) if den else None


def _avg(num, den) -> float | None:
    return round(float(num) / float(den), 1) if den else None


def compute(s: dict) -> dict:
    """KPI values from summed facts (a dict of DAY_FIELDS + MONTH_FIELDS; missing = no data)."""
    g = defaultdict(int, s)
    has_month = any(k in s for k in MONTH_FIELDS)
    answered = g["promoters"] + g["passives"] + g["detractors"]
    return {
        "retention": _pct(g["retained"], g["retention_base"]),
        "warranty_return": _pct(g["warranty_returned"], g["warranty_base"]),
        "maint_booked": _pct(g["maint_booked"], g["maint_due"]),
        "maint_done": _pct(g["maint_done"], g["maint_due"]),
        "maint_elsewhere": _pct(g["maint_done_elsewhere"], g["maint_due"]),
        "show_rate": _pct(g["shows"], g["shows"] + g["no_shows"]),
        "csi": _avg(g["csi_sum"], g["surveys"]),
        "nps": _pct(g["promoters"] - g["detractors"], answered),
        "ftf": _pct(g["fixed_first_time"], g["delivered"]),
        "complaint_fr_sla": _pct(g["complaint_fr_met"], g["complaint_fr_total"]),
        "complaint_res_sla": _pct(g["complaint_res_met"], g["complaint_res_total"]),
        "complaint_handling": _avg(g["complaint_handling_minutes"], g["complaint_handled"]),
        "first_response": _avg(g["first_response_minutes"], g["first_responses"]),
        "request_sla": _pct(g["requests_sla_met"], g["requests_sla_total"]),
        "binding_rate": _pct(g["bound_customers"], g["customers"]),
        "reminder_conversion": _pct(g["reminders_converted"], g["reminders_sent"]),
        "lead_conversion": _pct(g["leads_won"], g["leads_won"] + g["leads_lost"]),
        "points_liability": int(g["points_liability"]) if has_month else None,
        "active_owners": int(g["active_owners"]) if has_month else None,
        "paid_visits": int(g["paid_visits"]) if s else None,
        "revenue": Decimal(g["revenue"]).quantize(Decimal("0.01")) if s else None,
    }


def _sums(group_id: int, first: dt.date, last: dt.date, store_ids) -> dict:
    """{(store_id, month): {field: sum}} for the months first..last (two queries)."""
    from m4s.insights.models import StoreDay, StoreMonth

    out: dict = defaultdict(dict)
    days = StoreDay.objects.for_group(group_id).filter(
        day__gte=first, day__lt=add_months(last.replace(day=1), 1)
    )
    months = StoreMonth.objects.for_group(group_id).filter(month__gte=first, month__lte=last)
    if store_ids is not None:
        days = days.filter(store_id__in=list(store_ids))
        months = months.filter(store_id__in=list(store_ids))
    for row in (
        days.annotate(_m=TruncMonth("day"))
        .values("store_id", "_m")
        .annotate(**{f: Sum(f) for f in DAY_FIELDS})
        .order_by()
    ):
        m = row.pop("_m")
        m = m.date() if isinstance(m, dt.datetime) else m
        out[(row.pop("store_id"), m)].update({k: v or 0 for k, v in row.items()})
    for row in months.values("store_id", "month", *MONTH_FIELDS):
        out[(row.pop("store_id"), row.pop("month"))].update(row)
    return out


def _add(into: dict, part: dict) -> None:
    for k, v in part.items():
        into[k] = into.get(k, 0) + v


def table(group, month: dt.date, store_ids) -> dict:
    """{None: the column of all `store_ids` (None = the whole group), store_id: column}."""
    month = month.replace(day=1)
    sums = _sums(_gid(group), month, month, store_ids)
    total: dict = {}
    cols: dict = {}
    for (sid, _m), s in sums.items():
        cols[sid] = compute(s)
        _add(total, s)
    cols[None] = compute(total)
    for sid in store_ids or ():
        cols.setdefault(sid, compute({}))
    return cols


def month(group, month: dt.date, store_id: int | None = None) -> dict:
    cols = table(group, month, [store_id] if store_id else None)
    return cols[store_id] if store_id else cols[None]


def trend(group, months: list[dt.date], store_id: int | None = None, store_ids=None) -> dict:
    """{code: [value per month]} for one store (or all `store_ids`, None = the group)."""
    months = [m.replace(day=1) for m in months]
    out: dict = {code: [] for code in CODES}
    if not months:
        return out
    ids = [store_id] if store_id else store_ids
    sums = _sums(_gid(group), min(months), max(months), ids)
    per_month: dict = defaultdict(dict)
    for (_sid, m), s in sums.items():
        _add(per_month[m], s)
    for m in months:
        values = compute(per_month.get(m, {}))
        for code in CODES:
            out[code].append(values[code])
    return out


def staff_binding(group, month: dt.date, store_ids) -> list[dict]:
    """App adoption per staff member (service advisor of the customers), best first."""
    from m4s.insights.models import StaffMonth

    qs = StaffMonth.objects.for_group(_gid(group)).filter(month=month.replace(day=1))
    if store_ids is not None:
        qs = qs.filter(store_id__in=list(store_ids))
    rows = [
        {
            "staff_id": r.staff_id,
            "staff": r.staff.get_full_name() or r.staff.get_username(),
            "store_id": r.store_id,
            "store": r.store.name,
            "customers": r.customers,
            "bound": r.bound_customers,
            "rate": _pct(r.bound_customers, r.customers),
        }
        for r in qs.select_related("staff", "store")
    ]
    return sorted(rows, key=lambda r: (-(r["rate"] or 0), r["staff"]))
