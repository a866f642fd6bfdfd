"""Insight API, insights (KPIs) (transport only): one month's KPIs for the group or one store,
read from the nightly facts. Another group's store (or one the reader may not see) is a 404; a
month outside the data answers with every figure null."""

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from m4s.core.api import errors
from m4s.core.auth import staff_auth
from m4s.core.dates import add_months
from m4s.core.errors import DomainError, NotFound
from m4s.core.types import DbId
from m4s.staff.choices import Perm
from m4s.staff.permissions import check_perm

from . import kpis
from .selectors import visible_stores

router = Router(tags=["staff: insights (KPIs)"], auth=staff_auth)

MONTH = r"^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])$"


class KpiQuery(Schema):
    scope: str = Field("group", pattern=r"^(group|store)$", description="group or store")
    store: DbId | None = Field(None, description="the store (scope=store)")
    month: str | None = Field(None, pattern=MONTH, description="YYYY-MM, default last month")


class KpiOut(Schema):
    code: str
    label: str
    unit: str = Field(description="pct (0..100), score, minutes, count, points or money")
    value: float | None


class KpisOut(Schema):
    scope: str
    store_id: int | None
    month: str
    kpis: list[KpiOut]


@router.get(
    "/insights/kpis",
    response=KpisOut,
    openapi_extra=errors(400, 404, 422),
    summary="A month's KPIs for the group or one store",
)
def staff_kpis(request, q: Query[KpiQuery]):
    user = request.user
    check_perm(user, Perm.VIEW_INSIGHTS)
    if q.month:
        year, mon = (int(x) for x in q.month.split("-"))
        month = dt.date(year, mon, 1)
    else:
        month = add_months(timezone.localdate().replace(day=1), -1)
    stores = [s.pk for s in visible_stores(user)]
    if q.scope == "store":
        if q.store is None:
            raise DomainError("store_required", _("Choose a store for scope=store."), status=422)
        if q.store not in stores:
            raise NotFound(_("No such store."))
        store_ids = [q.store]
    else:
        if q.store is not None and q.store not in stores:
            raise NotFound(_("No such store."))
        store_ids = stores
    if not user.dealer_group_id:
        values = kpis.compute({})
    else:
        values = kpis.table(user.dealer_group_id, month, store_ids)[None]
    return {
        "scope": q.scope,
        "store_id": q.store if q.scope == "store" else None,
        "month": month.strftime("%Y-%m"),
        "kpis": [
            {
                "code": code,
                "label": str(label),
                "unit": unit,
                "value": float(values[code]) if values[code] is not None else None,
            }
            for code, label, unit in kpis.KPIS
        ],
    }
