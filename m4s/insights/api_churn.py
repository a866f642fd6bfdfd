"""Insight API, customers and churn risk (transport only).

- `GET /insights/customers?segment=&risk=&store=&page=`: the customers the reader may see
  (a store manager: their stores), riskiest first, 50 a page, with the group's model card.
- `GET /insights/customers/{id}/risk`: one customer's risk, band and reasons (translated).
- `GET /insights/churn/model`: the group's current model (AUC, recency-only AUC, calibration,
  date trained), or why there is none.
Another group's customer or store is a 404; without VIEW_INSIGHTS a 403."""

import datetime as dt

from django.db.models import F, Q
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from m4s.core.api import errors
from m4s.core.auth import staff_auth
from m4s.core.errors import NotFound
from m4s.core.i18n import render
from m4s.core.types import DbId
from m4s.org.selectors import list_stores
from m4s.staff.choices import Perm
from m4s.staff.permissions import check_perm

from . import churn
from .choices import RiskBand, Segment
from .models import CustomerInsight

router = Router(tags=["staff: insights (customers and churn risk)"], auth=staff_auth)
PAGE_SIZE = 50
SEGMENTS = "^(" + "|".join(Segment.values) + ")$"
BANDS = "^(" + "|".join(RiskBand.values) + ")$"


class CustomersQuery(Schema):
    segment: str | None = Field(None, pattern=SEGMENTS, description="an RFM segment")
    risk: str | None = Field(None, pattern=BANDS, description="low, medium or high")
    store: DbId | None = Field(None, description="one of the reader's stores")
    page: int = Field(1, ge=1, le=100_000)


class CalibrationBin(Schema):
    predicted: float
    observed: float
    n: int


class ModelOut(Schema):
    trained: bool
    kind: str | None = None
    auc: float | None = None
    recency_auc: float | None = None
    aucs: dict[str, float] = {}
    calibration: list[CalibrationBin] = []
    brier: float | None = None
    trained_at: dt.datetime | None = None
    as_of: dt.date | None = None
    cutoff: dt.date | None = None
    n_train: int | None = None
    n_valid: int | None = None
    base_rate: float | None = None
    note: str = ""


class RiskOut(Schema):
    customer_id: int
    name: str
    store_id: int | None
    segment: str
    churn_risk: float | None
    risk_band: str
    reasons: list[str]
    scored_at: dt.datetime | None


class CustomersOut(Schema):
    count: int
    page: int
    pages: int
    items: list[RiskOut]
    model: ModelOut


def model_info(group_id: int | None) -> dict:
    model = churn.current_model(group_id) if group_id else None
    if model is None:
        if not group_id:
            return {"trained": False, "note": _("No group.")}
        state = churn.history_state(group_id)
        return {
            "trained": False,
            "note": _("Not enough history: %(n)s customers, need %(m)s.")
            % {"n": state["customers"], "m": state["needed"]},
        }
    return {
        "trained": True,
        "kind": model.kind,
        "auc": model.auc,
        "recency_auc": model.recency_auc,
        "aucs": model.aucs,
        "calibration": model.calibration,
        "brier": model.brier,
        "trained_at": model.trained_at,
        "as_of": model.as_of,
        "cutoff": model.cutoff,
        "n_train": model.n_train,
        "n_valid": model.n_valid,
        "base_rate": model.base_rate,
    }


def stores_of(user) -> list:
    """The stores the reader may see: every store of the group with VIEW_ALL_STORES (group
    admins), else only their own (store managers)."""
    stores = list(list_stores(user))
    if user.is_platform_admin or user.has_perm_m4s(Perm.VIEW_ALL_STORES):
        return stores
    mine = user.store_ids()
    return [s for s in stores if s.pk in mine]


def visible(user, stores: list | None = None):
    """The insight rows the reader may see: their group's, in the stores they may see."""
    stores = [s.pk for s in (stores_of(user) if stores is None else stores)]
    return CustomerInsight.objects.for_actor(user).filter(
        Q(store_id__in=stores) | Q(store__isnull=True, customer__store_id__in=stores)
    )


def _out(row) -> dict:
    return {
        "customer_id": row.customer_id,
        "name": row.customer.name,
        "store_id": row.store_id or row.customer.store_id,
        "segment": row.segment,
        "churn_risk": row.churn_risk,
        "risk_band": row.risk_band,
        "reasons": [render(r) for r in (row.reasons or []) if isinstance(r, dict)],
        "scored_at": row.scored_at,
    }


@router.get(
    "/insights/customers",
    response=CustomersOut,
    openapi_extra=errors(400, 404, 422),
    summary="Customers by segment, risk band and store, riskiest first",
)
def staff_customers(request, q: Query[CustomersQuery]):
    user = request.user
    check_perm(user, Perm.VIEW_INSIGHTS)
    stores = stores_of(user)
    rows = visible(user, stores)
    if q.store is not None:
        if not any(s.pk == q.store for s in stores):
            raise NotFound(_("No such store."))
        rows = rows.filter(Q(store_id=q.store) | Q(store__isnull=True, customer__store_id=q.store))
    if q.segment:
        rows = rows.filter(segment=q.segment)
    if q.risk:
        rows = rows.filter(risk_band=q.risk)
    count = rows.count()
    pages = max(1, -(-count // PAGE_SIZE))
    start = (q.page - 1) * PAGE_SIZE
    page = (
        rows.select_related("customer").order_by(F("churn_risk").desc(nulls_last=True), "pk")[
            start : start + PAGE_SIZE
        ]
        if start < count
        else []
    )
    return {
        "count": count,
        "page": q.page,
        "pages": pages,
        "items": [_out(r) for r in page],
        "model": model_info(user.dealer_group_id),
    }


@router.get(
    "/insights/customers/{customer_id}/risk",
    response=RiskOut,
    openapi_extra=errors(400, 404, 422),
    summary="One customer's churn risk and its reasons",
)
def staff_customer_risk(request, customer_id: DbId):
    user = request.user
    check_perm(user, Perm.VIEW_INSIGHTS)
    row = visible(user).select_related("customer").filter(customer_id=customer_id).first()
    if row is None:
        raise NotFound(_("No such customer."))
    return _out(row)


@router.get(
    "/insights/churn/model",
    response=ModelOut,
    openapi_extra=errors(400, 404, 422),
    summary="The group's churn model: AUC, recency-only AUC, calibration, date trained",
)
def staff_churn_model(request):
    user = request.user
    check_perm(user, Perm.VIEW_INSIGHTS)
    return model_info(user.dealer_group_id)
