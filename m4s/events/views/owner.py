"""The owner app's car-pal events at /app/events/: upcoming events of my groups, my tickets and
past events; an event's page with places left and sign-up / cancel; my ticket with its QR; the
photos I add after an event (they become my story). Thin views over the same selectors and
services as the API; a DomainError is shown with its message and 4xx status; another group's
event is a 404."""

from functools import wraps

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from m4s.core.errors import DomainError
from m4s.core.uploads import ACCEPT
from m4s.events import qr, selectors, services
from m4s.events.choices import ACTIVE, MAX_PHOTOS, EventStatus, SignupStatus
from m4s.owners.decorators import owner_required


def domain_errors(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            return render(
                request,
                "events/app/error.html",
                {"error": exc.message, "back": reverse("app-events")},
                status=exc.status,
            )

    return wrapper


@owner_required
@require_GET
def events(request):
    lists = selectors.owner_events(request.owner)
    return render(request, "events/app/list.html", {**lists, "tab": request.GET.get("tab") or ""})


@owner_required
@domain_errors
@require_GET
def event(request, event_id: int):
    e = selectors.get_event_for_owner(request.owner, event_id)
    signup = selectors.get_my_signup(request.owner, e.pk)
    now = timezone.now()
    active = signup is not None and signup.status in ACTIVE
    ended = e.ends_at < now or e.status == EventStatus.DONE
    return render(
        request,
        "events/app/event.html",
        {
            "event": e,
            "signup": signup,
            "active": active,
            "left": selectors.places_left(e),
            "can_sign_up": e.status == EventStatus.OPEN and not ended and now <= e.signup_deadline,
            "can_cancel": signup is not None
            and signup.status in (SignupStatus.CONFIRMED, SignupStatus.WAITLISTED)
            and e.starts_at > now,
            "deadline_passed": now > e.signup_deadline,
            "ended": ended,
            "can_add_photos": ended
            and signup is not None
            and signup.status in (SignupStatus.CHECKED_IN, SignupStatus.CONFIRMED),
            "photos": selectors.my_photos(request.owner, e.pk),
            "accept": ACCEPT,
            "max_photos": MAX_PHOTOS,
        },
    )


@owner_required
@domain_errors
@require_POST
def signup(request, event_id: int):
    result = services.sign_up(request.owner, event_id)
    if result.signup.status == SignupStatus.WAITLISTED:
        messages.success(
            request,
            _("The event is full: you are number %(n)d on the waiting list.")
            % {"n": result.signup.position or 0},
        )
    else:
        messages.success(request, _("You are signed up. Your ticket is ready."))
    return redirect("app-event", event_id=event_id)


@owner_required
@domain_errors
@require_POST
def cancel(request, event_id: int):
    services.cancel_signup(request.owner, event_id)
    messages.success(request, _("Your sign-up is cancelled."))
    return redirect("app-event", event_id=event_id)


@owner_required
@domain_errors
@require_GET
def ticket(request, event_id: int):
    e = selectors.get_event_for_owner(request.owner, event_id)
    signup = selectors.get_my_signup(request.owner, e.pk)
    if signup is None or signup.status not in ACTIVE:
        raise DomainError("no_ticket", _("You have no ticket for this event."), status=404)
    return render(
        request,
        "events/app/ticket.html",
        {"event": e, "signup": signup, "qr": qr.ticket_svg(signup.token, scale=7)},
    )


@owner_required
@domain_errors
@require_POST
def photos(request, event_id: int):
    added = services.add_photos(
        request.owner,
        event_id,
        request.FILES.getlist("photos"),
        story_text=(request.POST.get("text") or "")[:2000],
    )
    if added and added[0].story_id:
        messages.success(request, _("Thank you! Your photos were sent as a story for review."))
    else:
        messages.success(request, _("Thank you! Your photos were added."))
    return redirect("app-event", event_id=event_id)
