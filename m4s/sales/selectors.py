"""Scoped reads of the sales area. Front-line staff (consultants) see the leads of their stores,
staff with VIEW_ALL_STORES (group admins) the whole group's; another group's lead is a 404.

The board and the forecast are set-based: a fixed number of queries whatever the number of
leads (counts and sums are aggregated in SQL; the cards of a column are picked by a window
function, at most `CARDS_PER_COLUMN` per stage)."""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import (
    Case,
    Count,
    DecimalField,
    F,
    IntegerField,
    Q,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from m4s.core.errors import NotFound
from m4s.staff.choices import ROLE_PERMS, Perm
from m4s.staff.models import StaffUser

from .choices import DEFAULT_PROBABILITY, OPEN_STAGES, LeadSource, LostReason, Stage
from .models import Lead, LeadActivity, SalesSettings

CARDS_PER_COLUMN = 20
LEAD_ROLES = [r for r, perms in ROLE_PERMS.items() if Perm.WORK_LEADS in perms]
CLOSED_SHOWN_DAYS = 30
ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=14, decimal_places=2)


def store_ids_for(actor) -> list[int] | None:
    """None means every store of the actor's group."""
    if actor.is_platform_admin or actor.has_perm_m4s(Perm.VIEW_ALL_STORES):
        return None
    return sorted(actor.store_ids())


def leads_for(actor):
    qs = Lead.objects.for_actor(actor)
    ids = store_ids_for(actor)
    return qs if ids is None else qs.filter(store_id__in=ids)


def get_lead(actor, lead_id: int) -> Lead:
    found = (
        leads_for(actor)
        .select_related("store", "customer", "car_model", "trim", "assigned_to")
        .filter(pk=lead_id)
        .first()
    )
    if found is None:
        raise NotFound(_("No such lead."))
    return found


def activities(lead: Lead):
    return (
        LeadActivity.objects.for_group(lead.dealer_group_id)
        .filter(lead=lead)
        .select_related("actor")
        .order_by("-at", "-id")[:200]
    )


def probabilities(group_id: int | None) -> dict[str, int]:
    row = SalesSettings.objects.for_group(group_id).first() if group_id else None
    return row.probabilities() if row else {str(k): v for k, v in DEFAULT_PROBABILITY.items()}


def consultants(user, store_id: int | None = None) -> list:
    """Staff of the user's group who work leads (at a store, if given)."""
    if not user.dealer_group_id:
        return []
    qs = StaffUser.objects.filter(
        dealer_group_id=user.dealer_group_id, is_active=True, role__in=LEAD_ROLES
    )
    if store_id:
        qs = qs.filter(stores=store_id)
    ids = store_ids_for(user)
    if ids is not None:
        qs = qs.filter(stores__in=ids)
    return list(qs.distinct().order_by("display_name", "username"))


def lead_list(actor, *, stage="", mine=False, overdue=False, q="", today=None):
    """The leads the actor may see, filtered (API list)."""
    today = today or timezone.localdate()
    qs = leads_for(actor).select_related("store", "customer", "car_model", "trim", "assigned_to")
    if stage:
        qs = qs.filter(stage=stage)
    if mine:
        qs = qs.filter(assigned_to=actor)
    if overdue:
        qs = qs.filter(stage__in=OPEN_STAGES, next_follow_up__lt=today)
    q = (q or "").strip()
    if q:
        digits = "".join(c for c in q if c.isdigit())
        cond = Q(name__icontains=q) | Q(customer__name__icontains=q)
        if len(digits) >= 4:
            cond |= Q(phone__contains=digits)
        qs = qs.filter(cond)
    return qs


# --- the board ------------------------------------------------------------------------------------
def board(actor, *, consultant=None, today=None) -> dict[str, Any]:
    """A consultant's board: one column per stage with its count and value (all of them, in one
    aggregate query) and its cards (one windowed query): overdue follow-ups first, then by
    follow-up date. Won and lost show the last `CLOSED_SHOWN_DAYS` days. Two queries."""
    today = today or timezone.localdate()
    consultant = consultant or actor
    since = timezone.now() - dt.timedelta(days=CLOSED_SHOWN_DAYS)
    base = (
        leads_for(actor)
        .filter(assigned_to=consultant)
        .filter(
            Q(stage__in=OPEN_STAGES)
            | Q(stage=Stage.WON, won_at__gte=since)
            | Q(stage=Stage.LOST, lost_at__gte=since)
        )
    )
    totals = {
        row["stage"]: row
        for row in base.order_by()
        .values("stage")
        .annotate(n=Count("id"), value=Coalesce(Sum("value"), ZERO, output_field=MONEY))
    }
    overdue_first = Case(
        When(next_follow_up__lt=today, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    cards = list(
        base.select_related("customer", "car_model", "trim")
        .annotate(
            overdue_rank=overdue_first,
            rank=Window(
                RowNumber(),
                partition_by=[F("stage")],
                order_by=[
                    overdue_first.asc(),
                    F("next_follow_up").asc(nulls_last=True),
                    F("id").desc(),
                ],
            ),
        )
        .filter(rank__lte=CARDS_PER_COLUMN)
        .order_by("rank")
    )
    columns = []
    for stage in Stage:
        t = totals.get(stage.value, {})
        columns.append(
            {
                "stage": stage.value,
                "label": str(stage.label),
                "count": t.get("n", 0),
                "value": t.get("value", ZERO),
                "overdue": sum(1 for c in cards if c.stage == stage and c.overdue_rank == 0),
                "cards": [c for c in cards if c.stage == stage],
            }
        )
    return {"consultant": consultant, "today": today, "columns": columns}


# --- the forecast ---------------------------------------------------------------------------------
def month_bounds(month: dt.date) -> tuple[dt.date, dt.date]:
    first = month.replace(day=1)
    nxt = (first + dt.timedelta(days=32)).replace(day=1)
    return first, nxt


def _weighted(value: Decimal, percent: int) -> Decimal:
    return (value * percent / 100).quantize(Decimal("0.01"))


def forecast(actor, month: dt.date, *, store_id: int | None = None) -> dict[str, Any]:
    """The weighted forecast of a month: open leads expected to close in it (value × the stage's
    probability) plus the leads won in it (at 100 %), per stage and per consultant. One
    aggregate query (plus the group's probabilities)."""
    first, nxt = month_bounds(month)
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(first, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(nxt, dt.time.min, tzinfo=tz)
    probs = probabilities(actor.dealer_group_id)
    qs = leads_for(actor).filter(
        Q(stage__in=OPEN_STAGES, expected_close__gte=first, expected_close__lt=nxt)
        | Q(stage=Stage.WON, won_at__gte=start, won_at__lt=end)
    )
    if store_id:
        qs = qs.filter(store_id=store_id)
    rows = list(
        qs.order_by()
        .values("assigned_to", "assigned_to__username", "assigned_to__display_name", "stage")
        .annotate(n=Count("id"), value=Coalesce(Sum("value"), ZERO, output_field=MONEY))
    )
    per_stage: dict[str, dict[str, Any]] = {
        s.value: {
            "stage": s.value,
            "label": str(s.label),
            "probability": probs[s.value],
            "count": 0,
            "value": ZERO,
            "weighted": ZERO,
        }
        for s in Stage
        if s != Stage.LOST
    }
    per_person: dict[Any, dict[str, Any]] = {}
    total_weighted = ZERO
    total_value = ZERO
    for r in rows:
        w = _weighted(r["value"], probs[r["stage"]])
        st = per_stage[r["stage"]]
        st["count"] += r["n"]
        st["value"] += r["value"]
        st["weighted"] += w
        key = r["assigned_to"]
        person = per_person.setdefault(
            key,
            {
                "staff_id": key,
                "name": r["assigned_to__display_name"]
                or r["assigned_to__username"]
                or _("Unassigned"),
                "count": 0,
                "value": ZERO,
                "weighted": ZERO,
                "won": ZERO,
            },
        )
        person["count"] += r["n"]
        person["value"] += r["value"]
        person["weighted"] += w
        if r["stage"] == Stage.WON:
            person["won"] += r["value"]
        total_weighted += w
        total_value += r["value"]
    return {
        "month": first,
        "weighted_total": total_weighted,
        "value_total": total_value,
        "won_total": per_stage[Stage.WON]["value"],
        "stages": list(per_stage.values()),
        "consultants": sorted(per_person.values(), key=lambda p: (-p["weighted"], p["name"])),
    }


def forecast_months(actor, first: dt.date, months: int = 6) -> list[dict[str, Any]]:
    """The weighted total of `months` months from `first`, in one aggregate query."""
    start_month, _end = month_bounds(first)
    last = start_month
    for _i in range(months):
        last = month_bounds(last)[1]
    tz = timezone.get_current_timezone()
    probs = probabilities(actor.dealer_group_id)
    open_rows = (
        leads_for(actor)
        .filter(stage__in=OPEN_STAGES, expected_close__gte=start_month, expected_close__lt=last)
        .order_by()
        .annotate(m=TruncMonth("expected_close"))
        .values("m", "stage")
        .annotate(value=Sum("value"))
    )
    won_rows = (
        leads_for(actor)
        .filter(
            stage=Stage.WON,
            won_at__gte=dt.datetime.combine(start_month, dt.time.min, tzinfo=tz),
            won_at__lt=dt.datetime.combine(last, dt.time.min, tzinfo=tz),
        )
        .order_by()
        .annotate(m=TruncMonth("won_at", tzinfo=tz))
        .values("m", "stage")
        .annotate(value=Sum("value"))
    )
    out: dict[dt.date, Decimal] = {}
    m = start_month
    for _i in range(months):
        out[m] = ZERO
        m = month_bounds(m)[1]
    for r in [*open_rows, *won_rows]:
        key = r["m"].date() if isinstance(r["m"], dt.datetime) else r["m"]
        key = key.replace(day=1)
        if key in out:
            out[key] += _weighted(r["value"] or ZERO, probs[r["stage"]])
    return [{"month": k, "weighted": v} for k, v in out.items()]


# --- manager figures ------------------------------------------------------------------------------
def pipeline(actor) -> list[dict[str, Any]]:
    """Open leads per consultant: count and value per stage (one aggregate query)."""
    rows = (
        leads_for(actor)
        .filter(stage__in=OPEN_STAGES)
        .order_by()
        .values("assigned_to", "assigned_to__username", "assigned_to__display_name", "stage")
        .annotate(n=Count("id"), value=Coalesce(Sum("value"), ZERO, output_field=MONEY))
    )
    people: dict[Any, dict[str, Any]] = {}
    for r in rows:
        p = people.setdefault(
            r["assigned_to"],
            {
                "staff_id": r["assigned_to"],
                "name": r["assigned_to__display_name"]
                or r["assigned_to__username"]
                or _("Unassigned"),
                "stages": {s: {"count": 0, "value": ZERO} for s in OPEN_STAGES},
                "count": 0,
                "value": ZERO,
            },
        )
        p["stages"][r["stage"]] = {"count": r["n"], "value": r["value"]}
        p["count"] += r["n"]
        p["value"] += r["value"]
    for p in people.values():
        p["cells"] = [p["stages"][s] for s in OPEN_STAGES]
    return sorted(people.values(), key=lambda p: (-p["value"], p["name"]))


def funnel_by_source(actor, since: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Per source: leads made, how many reached a test drive or further, won, lost (one query)."""
    qs = leads_for(actor)
    if since:
        qs = qs.filter(created_at__gte=since)
    rows = (
        qs.order_by()
        .values("source")
        .annotate(
            total=Count("id"),
            further=Count(
                "id", filter=Q(stage__in=[Stage.TEST_DRIVE, Stage.NEGOTIATION, Stage.WON])
            ),
            won=Count("id", filter=Q(stage=Stage.WON)),
            lost=Count("id", filter=Q(stage=Stage.LOST)),
        )
    )
    found = {r["source"]: r for r in rows}
    out = []
    for s in LeadSource:
        r = found.get(s.value)
        if not r:
            continue
        out.append(
            {
                "source": s.value,
                "label": str(s.label),
                "total": r["total"],
                "further": r["further"],
                "won": r["won"],
                "lost": r["lost"],
                "rate": round(100 * r["won"] / r["total"]) if r["total"] else 0,
            }
        )
    return out


def lost_reasons(actor, since: dt.datetime | None = None) -> list[dict[str, Any]]:
    qs = leads_for(actor).filter(stage=Stage.LOST)
    if since:
        qs = qs.filter(lost_at__gte=since)
    found = {
        r["lost_reason"]: r["n"]
        for r in qs.order_by().values("lost_reason").annotate(n=Count("id"))
    }
    return [
        {"reason": r.value, "label": str(r.label), "count": found[r.value]}
        for r in LostReason
        if found.get(r.value)
    ]
