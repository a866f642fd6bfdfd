"""Events API: an owner's events (of their groups) with their sign-up, signing up and cancelling,
their ticket's QR; staff list, create and edit their group's events, see the sign-ups and check
owners in by ticket. Transport only: every write is a service, every read a selector. Another
group's event or ticket is a 404."""

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Header, Router, Status

from m4s.core.api import errors
from m4s.core.auth import owner_auth, staff_auth
from m4s.core.errors import DomainError
from m4s.core.uploads import media_url
from m4s.staff.choices import Perm
from m4s.staff.permissions import check_perm

from . import qr, selectors, services
from .choices import ACTIVE, EventStatus, SignupStatus
from .schemas import (
    CarPalEventOut,
    EventIn,
    EventPatchIn,
    MySignupOut,
    SignupOut,
    StaffCarPalEventOut,
    TicketCheckInIn,
    TicketOut,
)

owner_router = Router(tags=["owner: events"], auth=owner_auth)
staff_router = Router(tags=["staff: events"], auth=staff_auth)
public_router = Router(tags=["events"])

IDEMPOTENCY = Header("", alias="Idempotency-Key", max_length=100)


# --- shaping answers ---------------------------------------------------------------------------------
def signup_out(s) -> dict | None:
    if s is None:
        return None
    return {
        "id": s.pk,
        "status": s.status,
        "status_label": str(SignupStatus(s.status).label),
        "position": s.position,
        "signed_up_at": s.created_at,
        "checked_in_at": s.checked_in_at,
    }


def event_out(e, signup=None) -> dict:
    now = timezone.now()
    left = selectors.places_left(e)
    return {
        "id": e.pk,
        "title": e.t("title"),
        "description": e.t("description"),
        "place_name": e.place_name,
        "address": e.address,
        "latitude": e.latitude,
        "longitude": e.longitude,
        "starts_at": e.starts_at,
        "ends_at": e.ends_at,
        "signup_deadline": e.signup_deadline,
        "capacity": e.capacity,
        "places_left": left,
        "waiting": getattr(e, "waiting", 0),
        "status": e.status,
        "status_label": str(EventStatus(e.status).label),
        "store": e.store.display_title if e.store_id and e.store else "",
        "cover_url": media_url(e, "cover") if e.cover else "",
        "can_sign_up": e.status == EventStatus.OPEN
        and now <= e.signup_deadline
        and not (signup and signup.status in ACTIVE),
        "my_signup": signup_out(signup),
    }


def staff_event_out(e) -> dict:
    return {
        **event_out(e),
        "title_source": e.title,
        "title_i18n": e.title_i18n or {},
        "description_i18n": e.description_i18n or {},
        "checked_in": getattr(e, "checked_in", 0),
        "store_id": e.store_id,
    }


def _my_event(request, event_id: int) -> dict:
    e = selectors.get_event_for_owner(request.owner, event_id)
    return event_out(e, selectors.get_my_signup(request.owner, e.pk))


# --- owner -------------------------------------------------------------------------------------------
@owner_router.get("/events", response=list[CarPalEventOut])
def my_events(request):
    """Upcoming events of my dealer group(s), soonest first, each with my sign-up (or null)."""
    lists = selectors.owner_events(request.owner)
    return [event_out(e, e.signup) for e in lists["upcoming"]]


@owner_router.get(
    "/events/{int:event_id}/ticket", response=TicketOut, openapi_extra=errors(404, 409)
)
def my_ticket(request, event_id: int):
    """My ticket for an event: its token and QR code (SVG) to show at the entrance. No active
    sign-up: 409 `no_ticket`."""
    e = selectors.get_event_for_owner(request.owner, event_id)
    s = selectors.get_my_signup(request.owner, e.pk)
    if s is None or s.status not in ACTIVE:
        raise DomainError("no_ticket", _("You have no ticket for this event."), status=409)
    return {
        "event_id": e.pk,
        "token": s.token,
        "status": s.status,
        "status_label": str(SignupStatus(s.status).label),
        "qr_svg": qr.ticket_svg(s.token),
    }


@public_router.get(
    "/events/{int:event_id}", response=CarPalEventOut, auth=owner_auth, openapi_extra=errors(404)
)
def event_detail(request, event_id: int):
    """One event of my group(s) with places left and my sign-up."""
    return _my_event(request, event_id)


@public_router.post(
    "/events/{int:event_id}/signup",
    response={200: MySignupOut, 201: MySignupOut},
    auth=owner_auth,
    openapi_extra=errors(404, 409, 422),
)
def event_signup(request, event_id: int, idempotency_key: str = IDEMPOTENCY):
    """Sign up: a place while there are places (`confirmed`), else the waiting list
    (`waitlisted`, with its position). Idempotent: a retry (same Idempotency-Key or not) while
    signed up answers 200 with the same sign-up, and a retry with the same Idempotency-Key after
    the owner cancelled answers the cancelled sign-up (it does not sign up again). Past the
    deadline: 409 `signup_closed`."""
    result = services.sign_up(request.owner, event_id, key=idempotency_key)
    return Status(201 if result.created else 200, signup_out(result.signup))


@public_router.post(
    "/events/{int:event_id}/cancel-signup",
    response=MySignupOut,
    auth=owner_auth,
    openapi_extra=errors(404, 409),
)
def event_cancel_signup(request, event_id: int):
    """Cancel my sign-up: a place I held goes to the first one waiting. Not signed up: 409."""
    return signup_out(services.cancel_signup(request.owner, event_id))


# --- staff -------------------------------------------------------------------------------------------
def _staff_event(request, event_id: int):
    check_perm(request.user, Perm.MANAGE_EVENTS)
    return selectors.get_event_for_staff(request.user, event_id)


@staff_router.get("/events", response=list[StaffCarPalEventOut], openapi_extra=errors(403))
def staff_events(request):
    """My group's events, latest start first."""
    check_perm(request.user, Perm.MANAGE_EVENTS)
    return [
        staff_event_out(e)
        for e in selectors.events_for_staff(request.user).order_by("-starts_at", "-id")[:200]
    ]


@staff_router.post(
    "/events", response={201: StaffCarPalEventOut}, openapi_extra=errors(403, 404, 422)
)
def staff_create_event(request, payload: EventIn):
    """A new event of my group (groupless staff: 422 `no_group`)."""
    event = services.create_event(request.user, **payload.dict())
    return Status(201, staff_event_out(selectors.get_event_for_staff(request.user, event.pk)))


@staff_router.patch(
    "/events/{int:event_id}", response=StaffCarPalEventOut, openapi_extra=errors(403, 404, 409, 422)
)
def staff_update_event(request, event_id: int, payload: EventPatchIn):
    e = _staff_event(request, event_id)
    services.update_event(request.user, e, **payload.dict(exclude_unset=True, exclude_none=True))
    return staff_event_out(selectors.get_event_for_staff(request.user, event_id))


@staff_router.get(
    "/events/{int:event_id}/signups", response=list[SignupOut], openapi_extra=errors(403, 404)
)
def staff_signups(request, event_id: int):
    """Places taken (confirmed, checked in), then the waiting list in order, then cancelled."""
    e = _staff_event(request, event_id)
    return [
        {
            "id": s.pk,
            "customer_id": s.customer_id,
            "name": s.customer.name,
            "phone_last4": s.customer.phone_last4,
            "status": s.status,
            "status_label": str(SignupStatus(s.status).label),
            "position": s.position,
            "signed_up_at": s.created_at,
            "checked_in_at": s.checked_in_at,
            "checked_in_by": str(s.checked_in_by or ""),
        }
        for s in selectors.signups_of(e)
    ]


@staff_router.post(
    "/events/{int:event_id}/check-in", response=MySignupOut, openapi_extra=errors(403, 404, 409)
)
def staff_check_in(request, event_id: int, payload: TicketCheckInIn):
    """Check an owner in by their ticket's token (scanned from its QR or typed). Unknown ticket
    (or another group's): 404; already checked in: 409 `already_checked_in`; a ticket of
    another event: 409 `wrong_event`."""
    e = _staff_event(request, event_id)
    return signup_out(services.check_in(request.user, e, payload.token))
