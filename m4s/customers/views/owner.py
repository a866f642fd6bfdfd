"""Owner-app pages of the customers area: my cars (binding by plate + VIN), my consultants, and
the invitation landing page behind a store's or staff member's QR code."""

import secrets
from types import SimpleNamespace

from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from m4s.core.errors import DomainError
from m4s.customers import selectors, services
from m4s.customers.choices import BIND_MESSAGES
from m4s.owners.decorators import owner_required

from .session import INVITATION_KEY, VISITOR_KEY, session_invitation


def invitation(request, code: str):
    """A store's or staff member's QR code / link: remember who invited this visitor, then sign in."""
    visitor = request.session.get(VISITOR_KEY) or secrets.token_hex(12)
    invite = services.open_invitation(code, visitor)
    if invite is None:
        raise Http404
    request.session[VISITOR_KEY] = visitor
    request.session[INVITATION_KEY] = invite.code
    request.session["m4s_store_id"] = invite.store_id
    if request.owner:
        services.mark_signed_in(request.owner, invite, visitor)
        return redirect("app-cars")
    return redirect("app-login")


@owner_required
@require_http_methods(["GET", "POST"])
def cars(request):
    """My cars, and binding a car by plate + VIN."""
    result, error = None, None
    if request.method == "POST":
        try:
            outcome, _obj = services.bind_vehicle_for_owner(
                request.owner,
                request.POST.get("plate", ""),
                request.POST.get("vin", ""),
                invitation=session_invitation(request),
            )
        except DomainError as exc:
            error = exc.message
        else:
            result = {"status": outcome, "message": BIND_MESSAGES[outcome]()}
    vehicles = list(selectors.vehicles_of_owner(request.owner))
    for v in vehicles:  # the page shows what each car is due for (service_panels)
        v.can_book = v.current_owner is not None and v.current_owner.owner_id == request.owner.pk
    template = "customers/app/_cars.html" if request.htmx else "customers/app/cars.html"
    return render(
        request,
        template,
        dict(
            vehicles=vehicles,
            result=result,
            error=error,
            form_plate=request.POST.get("plate", ""),
            tab="home",
        ),
    )


@owner_required
def consultants(request):
    customer = selectors.consultants_of_owner(request.owner)
    people = []
    if customer is not None:
        # each with the topic of a message to them (the conversations area's topic codes)
        people = [
            SimpleNamespace(person=p, topic=topic)
            for p, topic in (
                (customer.sales_consultant, "sales"),
                (customer.service_advisor, "service"),
                (customer.cs_agent, "cs"),
            )
            if p
        ]
    return render(
        request,
        "customers/app/consultants.html",
        dict(people=people, customer=customer),
    )
