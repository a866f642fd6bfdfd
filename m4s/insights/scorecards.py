"""Staff scorecards and the league table of a store (issue 19, item 6; the CVM deck's
performance appraisal, 绩效考核).

`for_store(user, store_id, month)` gives one card per front-line staff member of the store
(sales consultants, service advisors, customer-service agents, technicians) for the month, read
set-based (one aggregate query per measure, never one per person):

- binding rate: of the customers they look after in this store (as sales consultant, service
  advisor or customer-service agent), the share whose car is bound to the owner app at the end
  of the month (an active Binding); beside it the bindings attributed to them in the month
  (their invitation QR code, Binding.staff);
- CSI of their visits: the answered surveys of the month on which they were the advisor
  (Survey.advisor), the weighted mean of the five factors with the service area's CSI weights
  (0–100);
- first response: the mean business minutes owners waited for their first answer in the
  store's conversations that month (Message.response_minutes, written by the business-time
  engine), against the group's target (ConversationSettings.first_response_minutes);
- complaints about them: complaints of the month at the store naming them as the staff
  member concerned;
- leads won: leads assigned to them and won in the month at the store (count and value);
- quiz scores: for the quizzes assigned to them, the mean of their best scores (0 for a quiz
  not taken) and the pass rate, counting attempts finished before the month's end.

The composite score (0–100) ranks the league table. Each available measure becomes 0–100:
binding rate as is; CSI as is; first response 100 at or under the target, falling linearly to 0
at four times the target; complaints 100 − 25 per complaint (0 from four; counted beside another measure, or when there are complaints);
leads won relative to the store's best seller of the month (only for people with leads
assigned); quiz = mean best score.
The composite is the weighted mean of the measures a person has (weights: CSI 25, binding 20,
first response 15, complaints 15, quiz 15, leads 10), so an advisor is not punished for having
no leads. Ties rank by name. A person with no measure at all has no composite and ranks last.
"""

import datetime as dt
from collections import defaultdict

from django.db.models import Avg, Count, Exists, OuterRef, Q, Sum
from django.utils.translation import gettext_lazy as _

from m4s.complaints.models import Complaint
from m4s.conversations.models import ConversationSettings, Message
from m4s.core.errors import NotFound
from m4s.customers.models import Binding, Customer
from m4s.org.models import Store
from m4s.sales.choices import Stage
from m4s.sales.models import Lead
from m4s.service.choices import CSI_WEIGHTS, SurveyStatus
from m4s.service.models import Survey
from m4s.service.selectors import month_bounds
from m4s.staff.choices import Perm, Role
from m4s.staff.models import StaffUser
from m4s.training.selectors import quiz_scores

FRONT_ROLES = (
    Role.SALES_CONSULTANT,
    Role.SERVICE_ADVISOR,
    Role.CUSTOMER_SERVICE,
    Role.TECHNICIAN,
)
WEIGHTS = {
    "csi": 25,
    "binding": 20,
    "response": 15,
    "complaints": 15,
    "quiz": 15,
    "leads": 10,
}
COMPONENT_LABELS = {
    "csi": _("CSI"),
    "binding": _("Binding rate"),
    "response": _("First response"),
    "complaints": _("Complaints"),
    "quiz": _("Quiz"),
    "leads": _("Leads won"),
}
COMPLAINT_PENALTY = 25
# the weights add up to 101 (service/choices.py): divide by their sum, so that all-9 answers
# give CSI 90
CSI_TOTAL = sum(CSI_WEIGHTS.values())


def visible_stores(user) -> list[Store]:
    """The stores whose league table the reader may see: every store of the group for those
    who see all stores, else their own."""
    if user.dealer_group_id is None:
        return []
    qs = Store.objects.for_group(user.dealer_group_id).filter(is_active=True).order_by("name")
    if not user.has_perm_m4s(Perm.VIEW_ALL_STORES):
        qs = qs.filter(pk__in=user.store_ids())
    return list(qs)


def _store(user, store_id: int) -> Store:
    store = next((s for s in visible_stores(user) if s.pk == store_id), None)
    if store is None:
        raise NotFound(_("No such store."))
    return store


def _rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def response_score(mean_minutes: float | None, target: int) -> float | None:
    if mean_minutes is None:
        return None
    if mean_minutes <= target:
        return 100.0
    over = (mean_minutes - target) / (3 * max(target, 1))
    return round(max(0.0, 100 * (1 - over)), 1)


def composite(components: dict[str, float | None]) -> float | None:
    have = {k: v for k, v in components.items() if v is not None}
    if not have:
        return None
    weight = sum(WEIGHTS[k] for k in have)
    return round(sum(WEIGHTS[k] * v for k, v in have.items()) / weight, 1)


def _served(group_id, store, ids, end) -> dict[int, dict]:
    """Per staff member: customers they look after in the store now (the assignment has no
    history), and how many of those had a car bound to the app at `end` (one query per role
    field)."""
    bound_now = Binding.objects.filter(customer=OuterRef("pk"), created_at__lt=end).filter(
        Q(ended_at__isnull=True) | Q(ended_at__gte=end)
    )
    out: dict[int, dict] = defaultdict(lambda: {"served": 0, "bound": 0})
    base = (
        Customer.objects.for_group(group_id)
        .filter(store=store)
        .annotate(is_bound=Exists(bound_now))
    )
    for field in ("sales_consultant", "service_advisor", "cs_agent"):
        rows = (
            base.filter(**{f"{field}__in": ids})
            .values(field)
            .annotate(n=Count("id"), bound=Count("id", filter=Q(is_bound=True)))
            .order_by()
        )
        for r in rows:
            out[r[field]]["served"] += r["n"]
            out[r[field]]["bound"] += r["bound"]
    return out


def for_store(user, store_id: int, month: dt.date) -> list[dict]:
    """The league table of one store for one month: a card per front-line staff member, ranked
    by the composite score (see the module's docstring). Another group's store, or a store the
    reader does not see, is a NotFound."""
    store = _store(user, store_id)
    return _cards(store, month)


def card_for(user, month: dt.date) -> dict | None:
    """The reader's own card at their first store (for "My scorecard")."""
    if user.dealer_group_id is None:
        return None
    store = (
        Store.objects.for_group(user.dealer_group_id)
        .filter(pk__in=user.store_ids(), is_active=True)
        .order_by("name")
        .first()
    )
    if store is None:
        return None
    return next((c for c in _cards(store, month) if c["staff_id"] == user.pk), None)


def _cards(store: Store, month: dt.date) -> list[dict]:
    group_id = store.dealer_group_id
    start, end = month_bounds(store, month)
    people = list(
        StaffUser.objects.filter(
            dealer_group_id=group_id, is_active=True, stores=store, role__in=FRONT_ROLES
        ).order_by("display_name", "username")
    )
    ids = [p.pk for p in people]
    if not ids:
        return []

    served = _served(group_id, store, ids, end)
    new_bindings = dict(
        Binding.objects.for_group(group_id)
        .filter(staff_id__in=ids, store=store, created_at__gte=start, created_at__lt=end)
        .values("staff_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("staff_id", "n")
    )
    surveys = {
        r["advisor_id"]: r
        for r in Survey.objects.for_group(group_id)
        .filter(
            store=store,
            advisor_id__in=ids,
            status=SurveyStatus.ANSWERED,
            answered_at__gte=start,
            answered_at__lt=end,
        )
        .values("advisor_id")
        .annotate(
            n=Count("id"),
            initiation=Sum("initiation"),
            advisor=Sum("advisor_score"),
            facility=Sum("facility"),
            pickup=Sum("pickup"),
            quality=Sum("quality"),
        )
        .order_by()
    }
    responses = {
        r["author_staff_id"]: r
        for r in Message.objects.for_group(group_id)
        .filter(
            author_staff_id__in=ids,
            response_minutes__isnull=False,
            conversation__store=store,
            created_at__gte=start,
            created_at__lt=end,
        )
        .values("author_staff_id")
        .annotate(n=Count("id"), mean=Avg("response_minutes"))
        .order_by()
    }
    complaints = dict(
        Complaint.objects.for_group(group_id)
        .filter(concerned_staff_id__in=ids, store=store, created_at__gte=start, created_at__lt=end)
        .values("concerned_staff_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("concerned_staff_id", "n")
    )
    leads = {
        r["assigned_to_id"]: r
        for r in Lead.objects.for_group(group_id)
        .filter(assigned_to_id__in=ids, store=store)
        .values("assigned_to_id")
        .annotate(
            assigned=Count("id"),
            won=Count("id", filter=Q(stage=Stage.WON, won_at__gte=start, won_at__lt=end)),
            value=Sum("value", filter=Q(stage=Stage.WON, won_at__gte=start, won_at__lt=end)),
        )
        .order_by()
    }
    quizzes = quiz_scores(group_id, ids, until=end)
    settings_row = ConversationSettings.objects.for_group(group_id).first()
    target = (
        settings_row.first_response_minutes
        if settings_row
        else ConversationSettings._meta.get_field("first_response_minutes").get_default()
    )
    best_won = max((r["won"] for r in leads.values()), default=0)

    cards = []
    for p in people:
        s = served.get(p.pk, {"served": 0, "bound": 0})
        sv = surveys.get(p.pk)
        csi = None
        if sv and sv["n"]:
            csi = round(
                sum((sv[f] or 0) / sv["n"] * 10 * w for f, w in CSI_WEIGHTS.items()) / CSI_TOTAL,
                1,
            )
        resp = responses.get(p.pk)
        mean_resp = round(resp["mean"], 1) if resp and resp["mean"] is not None else None
        n_complaints = complaints.get(p.pk, 0)
        ld = leads.get(p.pk)
        won = ld["won"] if ld else 0
        had_leads = bool(ld and ld["assigned"])
        qz = quizzes.get(p.pk) or {}
        binding_rate = _rate(s["bound"], s["served"])
        components = {
            "csi": csi,
            "binding": binding_rate,
            "response": response_score(mean_resp, target),
            "complaints": None,
            "quiz": float(qz["mean_best"]) if qz.get("mean_best") is not None else None,
            "leads": (
                round(100 * won / best_won, 1)
                if had_leads and best_won
                else (0.0 if had_leads else None)
            ),
        }
        if any(v is not None for v in components.values()) or n_complaints:
            # complaints count beside another measure (or when there are some): a person with
            # nothing else to show is not ranked top for a clean record alone
            components["complaints"] = float(max(0, 100 - COMPLAINT_PENALTY * n_complaints))
        cards.append(
            {
                "staff_id": p.pk,
                "name": str(p),
                "role": p.role,
                "role_label": str(Role(p.role).label),
                "store_id": store.pk,
                "customers_served": s["served"],
                "customers_bound": s["bound"],
                "binding_rate": binding_rate,
                "bindings_in_month": new_bindings.get(p.pk, 0),
                "surveys": sv["n"] if sv else 0,
                "csi": csi,
                "responses": resp["n"] if resp else 0,
                "first_response_minutes": mean_resp,
                "first_response_target": target,
                "complaints": n_complaints,
                "leads_won": won,
                "leads_won_value": ld["value"] if ld and ld["value"] is not None else 0,
                "quizzes_assigned": qz.get("assigned", 0),
                "quizzes_passed": qz.get("passed", 0),
                "quiz_pass_rate": qz.get("pass_rate"),
                "quiz_mean_best": qz.get("mean_best"),
                "components": components,
                "composite": composite(components),
            }
        )
    cards.sort(
        key=lambda c: (c["composite"] is None, -(c["composite"] or 0), c["name"], c["staff_id"])
    )
    for i, c in enumerate(cards, start=1):
        c["rank"] = i
    return cards
