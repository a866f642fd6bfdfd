"""Care API: an owner's reminders (snooze, done elsewhere, dismiss) and traffic violations, the
advisor's care list for the week, and the integration endpoint outside systems post violations
to with a group key. Transport only: every write is a service, every read a selector."""

from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.security import APIKeyHeader, HttpBearer

from m4s.core.api import errors
from m4s.core.auth import owner_auth, staff_auth
from m4s.core.errors import NotFound

from . import selectors, services, violations
from .choices import Kind, ViolationStatus
from .models import Reminder, ReminderRule, Violation
from .schemas import (
    CareWeekRowOut,
    DoneElsewhereIn,
    ReminderOut,
    SnoozeIn,
    ViolationIn,
    ViolationOut,
    ViolationPostedOut,
    WeekQuery,
)

owner_router = Router(tags=["owner: care"], auth=owner_auth)
staff_router = Router(tags=["staff: care"], auth=staff_auth)


class IntegrationKeyBearer(HttpBearer):
    """`Authorization: Bearer <group integration key>`."""

    def authenticate(self, request: HttpRequest, token: str):
        group_id = violations.group_of_key(token)
        if group_id is not None:
            request.care_group_id = group_id  # type: ignore[attr-defined]
        return group_id


class IntegrationKeyHeader(APIKeyHeader):
    """Or `X-Api-Key: <group integration key>`."""

    param_name = "X-Api-Key"

    def authenticate(self, request: HttpRequest, key: str | None):
        group_id = violations.group_of_key(key)
        if group_id is not None:
            request.care_group_id = group_id  # type: ignore[attr-defined]
        return group_id


integration_router = Router(
    tags=["integrations"], auth=[IntegrationKeyBearer(), IntegrationKeyHeader()]
)


# --- shaping answers ----------------------------------------------------------------------------
def _vehicle(v) -> dict | None:
    if v is None:
        return None
    return {"id": v.pk, "plate": v.plate, "name": f"{v.brand} {v.model}".strip()}


def _actions(reminders: list[Reminder]) -> dict[tuple[int, str], str]:
    groups = {r.dealer_group_id for r in reminders}
    return {
        (g, k): a
        for g, k, a in ReminderRule.objects.unscoped()
        .filter(dealer_group_id__in=groups)
        .values_list("dealer_group_id", "kind", "action")
    }


def reminder_out(r: Reminder, action: str = "") -> dict:
    return {
        "id": r.pk,
        "kind": r.kind,
        "kind_label": str(Kind(r.kind).label),
        "title": getattr(r, "title", ""),
        "body": getattr(r, "body", ""),
        "due_on": r.due_on,
        "status": r.status,
        "snoozed_until": r.snoozed_until,
        "action": action or "none",
        "action_url": r.action_url or services.link_for(r),
        "vehicle": _vehicle(r.vehicle),
        "created_at": r.created_at,
        "sent_at": r.sent_at,
    }


def _reminders_out(reminders: list[Reminder]) -> list[dict]:
    actions = _actions(reminders)
    return [reminder_out(r, actions.get((r.dealer_group_id, r.kind), "")) for r in reminders]


def violation_out(v: Violation) -> dict:
    return {
        "id": v.pk,
        "vehicle": _vehicle(v.vehicle),
        "occurred_at": v.occurred_at,
        "place": v.place,
        "code": v.code,
        "description": v.description,
        "fine_cny": v.fine_cny,
        "points": v.points,
        "status": v.status,
        "status_label": str(ViolationStatus(v.status).label),
    }


# --- owner --------------------------------------------------------------------------------------
@owner_router.get("/reminders", response=list[ReminderOut])
def my_reminders(request, include_closed: bool = False):
    """What is coming for the owner and their cars (every dealer group they are a customer
    of), soonest first; closed ones too with `include_closed`."""
    return _reminders_out(selectors.owner_reminders(request.owner, include_closed=include_closed))


@owner_router.get("/reminders/{int:reminder_id}", response=ReminderOut)
def my_reminder(request, reminder_id: int):
    return _reminders_out([selectors.get_owner_reminder(request.owner, reminder_id)])[0]


@owner_router.post(
    "/reminders/{int:reminder_id}/snooze", response=ReminderOut, openapi_extra=errors(404, 409)
)
def snooze_reminder(request, reminder_id: int, payload: SnoozeIn):
    """Put a reminder away for 1 to 90 days: it comes back then."""
    r = services.get_owner_reminder(request.owner, reminder_id)
    services.snooze(request.owner, r, payload.days)
    return _reminders_out([selectors.get_owner_reminder(request.owner, reminder_id)])[0]


@owner_router.post(
    "/reminders/{int:reminder_id}/done-elsewhere",
    response=ReminderOut,
    openapi_extra=errors(404, 409),
)
def reminder_done_elsewhere(request, reminder_id: int, payload: DoneElsewhereIn):
    """The service was done at another garage (on `done_on`, at `odometer_km`): the reminder
    closes and the car's maintenance schedule counts from then. A reminder that is not about a
    service (a greeting, a violation ...) answers 422 `not_a_service`; a closed one 409."""
    r = services.get_owner_reminder(request.owner, reminder_id)
    services.done_elsewhere(
        request.owner, r, done_on=payload.done_on, odometer_km=payload.odometer_km
    )
    return _reminders_out([selectors.get_owner_reminder(request.owner, reminder_id)])[0]


@owner_router.post(
    "/reminders/{int:reminder_id}/dismiss", response=ReminderOut, openapi_extra=errors(404, 409)
)
def dismiss_reminder(request, reminder_id: int):
    r = services.get_owner_reminder(request.owner, reminder_id)
    services.dismiss(request.owner, r)
    return _reminders_out([selectors.get_owner_reminder(request.owner, reminder_id)])[0]


@owner_router.get("/violations", response=list[ViolationOut])
def my_violations(request, include_cleared: bool = False):
    """Traffic violations of the owner's cars, with fine and points."""
    return [
        violation_out(v)
        for v in selectors.owner_violations(request.owner, include_cleared=include_cleared)[:200]
    ]


@owner_router.post(
    "/violations/{int:violation_id}/clear",
    response=ViolationOut,
    openapi_extra=errors(404, 409),
)
def clear_violation(request, violation_id: int):
    """ "Have the store clear it": the store is asked to handle the violation."""
    v = services.get_owner_violation(request.owner, violation_id)
    return violation_out(services.request_clearing(request.owner, v))


# --- staff --------------------------------------------------------------------------------------
@staff_router.get("/care/week", response=list[CareWeekRowOut])
def care_week(request, query: Query[WeekQuery]):
    """The care list: open reminders of the customers this staff member may see, due from a
    week ago to a week ahead, not yet handled (one store's with `store_id`)."""
    store = None
    if query.store_id is not None:
        from m4s.org.models import Store

        store = Store.objects.for_actor(request.user).filter(pk=query.store_id).first()
        if store is None:
            raise NotFound(_("No such store."))
    rows = selectors.with_texts(list(selectors.care_week(request.user, store)[:500]))
    return [
        {
            **{
                k: v
                for k, v in reminder_out(r).items()
                if k in ("id", "kind", "kind_label", "title", "body", "due_on", "status")
            },
            "customer_id": r.customer_id,
            "customer_name": r.customer.name,
            "phone": r.customer.phone,
            "store_id": r.customer.store_id,
            "vehicle": _vehicle(r.vehicle),
            "action_url": r.action_url or services.link_for(r),
            "sent_at": r.sent_at,
        }
        for r in rows
    ]


@staff_router.post(
    "/care/reminders/{int:reminder_id}/handled",
    response=CareWeekRowOut,
    openapi_extra=errors(404),
)
def care_reminder_handled(request, reminder_id: int):
    """The reminder is followed up (called, booked ...): off the care list."""
    r = services.get_staff_reminder(request.user, reminder_id)
    r = services.mark_handled(request.user, r)
    r = selectors.with_texts([r])[0]
    return {
        **{
            k: v
            for k, v in reminder_out(r).items()
            if k in ("id", "kind", "kind_label", "title", "body", "due_on", "status")
        },
        "customer_id": r.customer_id,
        "customer_name": r.customer.name,
        "phone": r.customer.phone,
        "store_id": r.customer.store_id,
        "vehicle": _vehicle(r.vehicle),
        "action_url": r.action_url or services.link_for(r),
        "sent_at": r.sent_at,
    }


# --- integrations -------------------------------------------------------------------------------
@integration_router.post(
    "/violations",
    response={200: ViolationPostedOut, 201: ViolationPostedOut},
    openapi_extra=errors(401, 403, 404, 422),
)
def post_violation(request, payload: ViolationIn):
    """Record a traffic violation of one of the key's dealer group's cars (a traffic-police
    data service, a fleet system). A car the group does not know - or another group's car -
    answers 404 `unknown_vehicle`; a date more than 3 years ago or in the future 422
    `date_out_of_range`; nothing is stored on any error. With `external_ref`, the same
    reference again answers 200 with the first record (idempotent)."""
    group_id = request.auth
    with transaction.atomic():
        vehicle = violations.find_vehicle(group_id, vin=payload.vin, plate=payload.plate)
        violation, created = violations.record_violation(
            vehicle,
            violations.ViolationInput(
                occurred_at=payload.occurred_at,
                description=payload.description,
                place=payload.place,
                code=payload.code,
                fine_cny=payload.fine_cny,
                points=payload.points,
                external_ref=payload.external_ref,
            ),
            source="api",
        )
    body = {
        "id": violation.pk,
        "created": created,
        "vehicle_id": violation.vehicle_id,
        "status": violation.status,
        "external_ref": violation.external_ref,
    }
    return Status(201 if created else 200, body)
