"""Online-service requests API: an owner's requests (list, submit with Idempotency-Key, one,
cancel, accept a quote), a store's free test-drive slots; staff's queue, one request, actions
and quotes. Transport only: every write is a service, every read a selector. Another group's or
another owner's request is a 404."""

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Header, Query, Router, Schema, Status
from pydantic import Field

from m4s.core.api import errors
from m4s.core.auth import owner_auth, staff_auth
from m4s.core.errors import NotFound
from m4s.core.i18n import render_source
from m4s.core.types import SaneDate
from m4s.org.models import Store
from m4s.staff.choices import Perm
from m4s.staff.permissions import check_perm

from . import selectors, services, testdrive
from .choices import QuoteStatus, RequestStatus
from .schemas import (
    RequestQuoteOut,
    RequestsAcceptQuoteIn,
    RequestsQuoteIn,
    RequestsStaffActionIn,
    RequestsSubmitIn,
    ServiceRequestOut,
    StaffServiceRequestOut,
    TestDriveSlotOut,
)

owner_router = Router(tags=["owner: requests"], auth=owner_auth)
staff_router = Router(tags=["staff: requests"], auth=staff_auth)
public_router = Router(tags=["requests"])

IDEMPOTENCY = Header("", alias="Idempotency-Key", max_length=100)


def quote_out(q) -> dict:
    return {
        "id": q.pk,
        "label": q.label,
        "lines": [
            {"label": str(x.get("label", "")), "amount": str(x.get("amount", ""))}
            for x in q.lines or []
        ],
        "total": q.total,
        "valid_until": q.valid_until,
        "status": q.status,
        "status_label": str(QuoteStatus(q.status).label),
        "accepted_at": q.accepted_at,
    }


def request_out(r, *, staff: bool = False) -> dict:
    events = selectors.staff_events(r) if staff else selectors.owner_events(r)
    out = {
        "id": r.pk,
        "kind": r.kind,
        "kind_label": services.kind_label_of(r.kind),
        "status": r.status,
        "status_label": str(RequestStatus(r.status).label),
        "store_id": r.store_id,
        "store": r.store.name,
        "vehicle_id": r.vehicle_id,
        "details": r.details or {},
        "scheduled_for": r.scheduled_for,
        "due_at": r.due_at,
        "decline_reason": r.decline_reason,
        "created_at": r.created_at,
        "events": [
            {
                "at": e.at,
                "text": render_source(e.code, e.params or {}),
                "by": str(e.actor or "") if staff else "",
            }
            for e in events
        ],
        "quotes": [quote_out(q) for q in selectors.quotes_of(r)],
    }
    if staff:
        out.update(
            customer_id=r.customer_id,
            customer_name=r.customer.name,
            assigned_to_id=r.assigned_to_id,
            assigned_to=str(r.assigned_to or ""),
            role=r.role,
            lead_id=r.lead_id,
        )
    return out


# --- owner -------------------------------------------------------------------------------------------
class RequestsListQuery(Schema):
    status: RequestStatus | None = None


@owner_router.get("/requests", response=list[ServiceRequestOut])
def my_requests(request, filters: Query[RequestsListQuery]):
    """My requests, newest first (at most 100)."""
    qs = selectors.requests_for_owner(request.owner)
    if filters.status:
        qs = qs.filter(status=filters.status)
    return [request_out(r) for r in qs[:100]]


@owner_router.post(
    "/requests",
    response={201: ServiceRequestOut},
    openapi_extra=errors(404, 409, 422),
)
def submit(request, payload: RequestsSubmitIn, idempotency_key: str = IDEMPOTENCY):
    """Send a request. Unknown kind, a store of a group I am not a customer of, or a car that
    is not mine: 404. The kind's fields are checked (422 `invalid_fields`) and against the
    world (e.g. 422 `slot_outside_hours`, 409 `slot_taken`). A retry with the same
    Idempotency-Key answers the same request."""
    r = services.submit_request(
        request.owner,
        kind=payload.kind,
        store_id=payload.store_id,
        vehicle_id=payload.vehicle_id,
        data=payload.fields,
        idempotency_key=idempotency_key,
    )
    return Status(201, request_out(selectors.get_request_for_owner(request.owner, r.pk)))


@owner_router.get(
    "/requests/{int:request_id}", response=ServiceRequestOut, openapi_extra=errors(404)
)
def my_request(request, request_id: int):
    return request_out(selectors.get_request_for_owner(request.owner, request_id))


@owner_router.post(
    "/requests/{int:request_id}/cancel",
    response=ServiceRequestOut,
    openapi_extra=errors(404, 409),
)
def cancel(request, request_id: int):
    """Cancel my open request (a closed one: 409 `not_cancellable`)."""
    r = selectors.get_request_for_owner(request.owner, request_id)
    services.cancel_request(request.owner, r)
    return request_out(selectors.get_request_for_owner(request.owner, request_id))


@owner_router.post(
    "/requests/{int:request_id}/accept-quote",
    response=ServiceRequestOut,
    openapi_extra=errors(404, 409),
)
def accept_quote(request, request_id: int, payload: RequestsAcceptQuoteIn):
    """Accept one of the offers (insurance quote, trade-in offer, estimate): the others are
    not chosen. Expired or withdrawn: 409."""
    r = selectors.get_request_for_owner(request.owner, request_id)
    services.accept_quote(request.owner, r, payload.quote_id)
    return request_out(selectors.get_request_for_owner(request.owner, request_id))


class RequestsSlotsQuery(Schema):
    model: int = Field(..., ge=1, le=2**63 - 1)
    date: SaneDate


@public_router.get(
    "/stores/{int:store_id}/test-drive-slots",
    response=list[TestDriveSlotOut],
    openapi_extra=errors(404),
)
def test_drive_slots(request, store_id: int, filters: Query[RequestsSlotsQuery]):
    """Free test-drive slots of a model at a store on a local date (45-minute slots in the
    store's opening hours, future ones with a free car)."""
    store = Store.objects.unscoped().filter(pk=store_id).first()
    if store is None:
        raise NotFound(_("No such store."))
    today = timezone.localdate(timezone.now(), store.tz)
    if filters.date < today or filters.date > today + dt.timedelta(days=testdrive.MAX_DAYS_AHEAD):
        return []
    return testdrive.free_slots(store, filters.model, filters.date)


# --- staff -------------------------------------------------------------------------------------------
class RequestsStaffQuery(Schema):
    kind: str = Field("", max_length=30)
    status: RequestStatus | None = None
    scope: str = Field("", pattern=r"^(|mine|unassigned)$")


@staff_router.get("/requests", response=list[StaffServiceRequestOut], openapi_extra=errors(403))
def staff_requests(request, filters: Query[RequestsStaffQuery]):
    """The queue: open requests (or those of `status`) by answer due time."""
    check_perm(request.user, Perm.HANDLE_REQUESTS)
    qs = selectors.staff_queue(
        request.user, kind=filters.kind, status=filters.status or "", scope=filters.scope
    )
    return [request_out(r, staff=True) for r in qs[:200]]


@staff_router.get(
    "/requests/{int:request_id}",
    response=StaffServiceRequestOut,
    openapi_extra=errors(403, 404),
)
def staff_request(request, request_id: int):
    check_perm(request.user, Perm.HANDLE_REQUESTS)
    return request_out(selectors.get_request_for_staff(request.user, request_id), staff=True)


@staff_router.post(
    "/requests/{int:request_id}/quotes",
    response={201: RequestQuoteOut},
    openapi_extra=errors(403, 404, 409, 422),
)
def staff_add_quote(request, request_id: int, payload: RequestsQuoteIn):
    """Offer a priced quote (lines of amounts; total = their sum unless given)."""
    check_perm(request.user, Perm.HANDLE_REQUESTS)
    r = selectors.get_request_for_staff(request.user, request_id)
    q = services.add_quote(
        request.user,
        r,
        label=payload.label,
        lines=[line.dict() for line in payload.lines],
        total=payload.total,
        valid_until=payload.valid_until,
        insurer_id=payload.insurer_id,
    )
    return Status(201, quote_out(q))


@staff_router.post(
    "/requests/{int:request_id}/{action}",
    response=StaffServiceRequestOut,
    openapi_extra=errors(403, 404, 409, 422),
)
def staff_action(request, request_id: int, action: str, payload: RequestsStaffActionIn):
    """Run an action: accept, schedule (`scheduled_for`), done, decline (`reason`), claim,
    transfer (`staff_id`), note (`note`), or the kind's own (test drive: licence, check_out,
    check_in with `odometer_km`; trade-in: valuation with `low` / `high`). Not allowed from
    the request's status: 409 `invalid_transition`."""
    check_perm(request.user, Perm.HANDLE_REQUESTS)
    r = selectors.get_request_for_staff(request.user, request_id)
    services.run_action(request.user, r, action, payload.dict(exclude_none=True))
    return request_out(selectors.get_request_for_staff(request.user, request_id), staff=True)
