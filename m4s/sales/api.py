"""Sales API (staff): leads (list, a walk-in, change stage / follow-up / assignment), the board
and the monthly weighted forecast. Transport only: every write is a service, every read a
selector. Another group's lead, or another store's for a consultant, is a 404."""

import datetime as dt
import re

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Header, Query, Router, Status

from m4s.core.api import errors
from m4s.core.auth import owner_auth, staff_auth
from m4s.core.errors import DomainError
from m4s.core.i18n import render as render_text
from m4s.core.idempotency import call_once
from m4s.core.types import DbId
from m4s.staff.choices import Perm
from m4s.staff.permissions import check_perm

from . import selectors, services
from .choices import LeadSource, Stage
from .models import Lead, StaffRequest
from .schemas import (
    SalesActivityOut,
    SalesBoardOut,
    SalesForecastOut,
    SalesLeadIn,
    SalesLeadOut,
    SalesLeadPatchIn,
)

owner_router = Router(tags=["owner: sales"], auth=owner_auth)
staff_router = Router(tags=["staff: sales"], auth=staff_auth)
public_router = Router(tags=["sales"])

IDEMPOTENCY = Header("", alias="Idempotency-Key", max_length=100)
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def lead_out(lead: Lead, today=None) -> dict:
    today = today or timezone.localdate()
    return {
        "id": lead.pk,
        "store_id": lead.store_id,
        "customer_id": lead.customer_id,
        "name": lead.display_name,
        "phone": lead.phone,
        "source": lead.source,
        "source_label": str(LeadSource(lead.source).label),
        "campaign": lead.campaign,
        "car_model_id": lead.car_model_id,
        "car_model": lead.car_model.t("name") if lead.car_model_id and lead.car_model else "",
        "trim_id": lead.trim_id,
        "value": lead.value,
        "stage": lead.stage,
        "stage_label": str(Stage(lead.stage).label),
        "lost_reason": lead.lost_reason,
        "assigned_to": lead.assigned_to_id,
        "assigned_to_name": str(lead.assigned_to) if lead.assigned_to_id else "",
        "next_follow_up": lead.next_follow_up,
        "overdue": bool(
            lead.is_open and lead.next_follow_up is not None and lead.next_follow_up < today
        ),
        "expected_close": lead.expected_close,
        "origin_kind": lead.origin_kind,
        "origin_id": lead.origin_id,
        "won_at": lead.won_at,
        "lost_at": lead.lost_at,
        "created_at": lead.created_at,
    }


@staff_router.get("/leads", response=list[SalesLeadOut], openapi_extra=errors(403))
def staff_leads(
    request,
    stage: Stage | None = None,
    assigned: str = Query("", pattern=r"^(me)?$", max_length=2),
    overdue: bool = False,
    q: str = Query("", max_length=80),
    limit: int = Query(100, ge=1, le=500),
):
    """Leads I may see (my stores; the group's with VIEW_ALL_STORES), newest first.
    `assigned=me`: mine; `overdue`: open leads whose follow-up date is past; `q`: name or
    phone digits."""
    check_perm(request.user, Perm.WORK_LEADS)
    qs = selectors.lead_list(
        request.user, stage=stage or "", mine=assigned == "me", overdue=overdue, q=q
    )
    today = timezone.localdate()
    return [lead_out(lead, today) for lead in qs.order_by("-created_at", "-id")[:limit]]


@staff_router.post(
    "/leads",
    response={200: SalesLeadOut, 201: SalesLeadOut},
    openapi_extra=errors(400, 403, 404, 409),
)
def staff_create_lead(request, payload: SalesLeadIn, idempotency_key: str = IDEMPOTENCY):
    """A walk-in (or phone, event, referral, web) lead: 201 new, 200 when an open lead of the
    same phone or customer was updated. A retry with the same Idempotency-Key answers the same
    lead."""
    user = request.user
    check_perm(user, Perm.WORK_LEADS)
    data = payload.dict()

    def run():
        before = Lead.objects.for_actor(user).order_by("-id").values_list("id", flat=True).first()
        lead = services.create_walk_in(user, **data)
        status = 201 if before is None or lead.pk > before else 200
        return status, {"lead": lead.pk}

    if idempotency_key:
        status, answer = call_once(
            StaffRequest.objects.all(),
            key={"staff": user, "key": idempotency_key},
            body={k: str(v) for k, v in data.items()},
            create={},
            run=run,
        )
    else:
        status, answer = run()
    lead = (
        Lead.objects.for_actor(user)
        .select_related("car_model", "assigned_to")
        .get(pk=answer["lead"])
    )
    return Status(status, lead_out(lead))


@staff_router.get("/leads/{int:lead_id}", response=SalesLeadOut, openapi_extra=errors(403, 404))
def staff_lead(request, lead_id: int):
    check_perm(request.user, Perm.WORK_LEADS)
    return lead_out(selectors.get_lead(request.user, lead_id))


@staff_router.get(
    "/leads/{int:lead_id}/activities",
    response=list[SalesActivityOut],
    openapi_extra=errors(403, 404),
)
def staff_lead_activities(request, lead_id: int):
    check_perm(request.user, Perm.WORK_LEADS)
    lead = selectors.get_lead(request.user, lead_id)
    return [
        {
            "kind": a.kind,
            "kind_label": a.get_kind_display(),
            "at": a.at,
            "text": render_text(a.summary, ""),
            "note": a.note,
            "actor": str(a.actor) if a.actor_id else "",
        }
        for a in selectors.activities(lead)
    ]


@staff_router.patch(
    "/leads/{int:lead_id}", response=SalesLeadOut, openapi_extra=errors(400, 403, 404, 409)
)
def staff_update_lead(request, lead_id: int, payload: SalesLeadPatchIn):
    """Change the stage (lost needs `lost_reason`: 409 `lost_reason_required`), the follow-up
    and expected close dates, the value, or who it is assigned to (someone else: managers)."""
    user = request.user
    check_perm(user, Perm.WORK_LEADS)
    lead = selectors.get_lead(user, lead_id)
    sent = payload.dict(exclude_unset=True)
    with transaction.atomic():  # all of it or nothing
        dates = {k: sent[k] for k in ("next_follow_up", "expected_close", "value") if k in sent}
        if dates:
            services.set_follow_up(user, lead, **dates)
        if "assigned_to" in sent:
            services.assign_lead(user, lead, sent["assigned_to"])
        if sent.get("stage"):
            services.move_stage(
                user,
                lead,
                sent["stage"],
                lost_reason=sent.get("lost_reason"),
                note=sent.get("note") or "",
            )
        elif sent.get("lost_reason"):
            raise DomainError(
                "invalid_lost_reason", _("Only a lost lead has a lost reason."), status=409
            )
    return lead_out(selectors.get_lead(user, lead_id))


@staff_router.get("/sales/board", response=SalesBoardOut, openapi_extra=errors(403))
def staff_sales_board(request, consultant: DbId | None = None):
    """My board (a manager may ask for a consultant's): per stage the count, value, overdue
    follow-ups and up to 20 cards, overdue first."""
    user = request.user
    check_perm(user, Perm.WORK_LEADS)
    person = user
    if consultant and consultant != user.pk:
        check_perm(user, Perm.VIEW_SALES_FIGURES)
        person = next((p for p in selectors.consultants(user) if p.pk == consultant), None)
        if person is None:
            raise DomainError("not_found", _("No such consultant."), status=404)
    b = selectors.board(user, consultant=person)
    today = b["today"]
    return {
        "consultant_id": person.pk,
        "columns": [
            {
                **{k: c[k] for k in ("stage", "label", "count", "value", "overdue")},
                "cards": [lead_out(x, today) for x in c["cards"]],
            }
            for c in b["columns"]
        ],
    }


@staff_router.get("/sales/forecast", response=SalesForecastOut, openapi_extra=errors(403, 404))
def staff_sales_forecast(
    request,
    month: str = Query("", max_length=7, pattern=r"^(20[0-9]{2}-(0[1-9]|1[0-2]))?$"),
    store_id: DbId | None = None,
):
    """The weighted forecast of a month (YYYY-MM, default this month): open leads expected to
    close in it at their stage's probability, plus leads won in it at 100 %; per stage and per
    consultant."""
    user = request.user
    check_perm(user, Perm.VIEW_SALES_FIGURES)
    if month:
        first = dt.date(int(month[:4]), int(month[5:7]), 1)
    else:
        first = timezone.localdate().replace(day=1)
    if store_id is not None:
        ids = selectors.store_ids_for(user)
        if ids is not None and store_id not in ids:
            raise DomainError("not_found", _("No such store."), status=404)
    f = selectors.forecast(user, first, store_id=store_id)
    return {**f, "month": first.strftime("%Y-%m")}
