"""Insight API, staff scorecards (transport only): the league table of a store for a month
(VIEW_INSIGHTS), and my own card (every staff member). See m4s/insights/scorecards.py for the
measures and the composite score."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema

from m4s.core.api import errors
from m4s.core.auth import staff_auth
from m4s.core.errors import NotFound
from m4s.core.types import DbId
from m4s.insights import scorecards
from m4s.staff.choices import Perm
from m4s.staff.permissions import check_perm

router = Router(tags=["staff: scorecards"], auth=staff_auth)

MONTH_PATTERN = r"^(19|20|21)\d{2}-(0[1-9]|1[0-2])$"


class ComponentsOut(Schema):
    csi: float | None
    binding: float | None
    response: float | None
    complaints: float | None
    quiz: float | None
    leads: float | None


class ScorecardOut(Schema):
    rank: int
    staff_id: int
    name: str
    role: str
    store_id: int
    composite: float | None
    customers_served: int
    customers_bound: int
    binding_rate: float | None
    bindings_in_month: int
    surveys: int
    csi: float | None
    responses: int
    first_response_minutes: float | None
    first_response_target: int
    complaints: int
    leads_won: int
    leads_won_value: Decimal
    quizzes_assigned: int
    quizzes_passed: int
    quiz_pass_rate: int | None
    quiz_mean_best: int | None
    components: ComponentsOut


class LeagueOut(Schema):
    store_id: int
    month: str
    weights: dict[str, int]
    cards: list[ScorecardOut]


def _month(raw: str | None) -> dt.date:
    if not raw:
        return timezone.localdate().replace(day=1)
    return dt.date(int(raw[:4]), int(raw[5:7]), 1)


@router.get("/scorecards", response=LeagueOut, openapi_extra=errors(403, 404))
def league(
    request,
    store: DbId,
    month: str | None = Query(None, pattern=MONTH_PATTERN, max_length=7),  # noqa: B008
):
    """The league table of a store I see (`YYYY-MM`, default this month), ranked by the
    composite score. Another group's store, or another store for a store manager: 404."""
    check_perm(request.user, Perm.VIEW_INSIGHTS)
    first = _month(month)
    return {
        "store_id": store,
        "month": first.strftime("%Y-%m"),
        "weights": scorecards.WEIGHTS,
        "cards": scorecards.for_store(request.user, store, first),
    }


@router.get("/scorecards/me", response=ScorecardOut, openapi_extra=errors(403, 404))
def mine(
    request,
    month: str | None = Query(None, pattern=MONTH_PATTERN, max_length=7),  # noqa: B008
):
    """My own card at my store (front-line staff); 404 when I have none."""
    check_perm(request.user, Perm.USE_CONSOLE)
    card = scorecards.card_for(request.user, _month(month))
    if card is None:
        raise NotFound(_("No scorecard."))
    return card
