"""Care panels that other areas' pages show (`{% load care_panels %}`), so those areas need not
import the care app: the declined repair items of a car, offered again by the advisor when the
car is booked or checked in."""

from urllib.parse import urlencode

from django import template
from django.urls import reverse
from django.utils.translation import gettext as _

from m4s.care import selectors
from m4s.staff.choices import Perm

register = template.Library()
SHOWN = 6


def _cars(subject) -> list:
    """A car, a customer (their cars) or a list of cars."""
    if subject is None:
        return []
    if getattr(subject, "vin", None) is not None:
        return [subject]
    vehicles = getattr(subject, "vehicles", None)
    if vehicles is not None:
        return list(vehicles.all())
    try:
        return [v for v in subject if getattr(v, "vin", None) is not None]
    except TypeError:
        return []


@register.inclusion_tag("care/console/_declined.html")
def declined_items(user, subject, customer=None):
    """{% declined_items user appointment.vehicle %}: the car's (or the customer's cars')
    declined amber and red lines not done since, each with a link to book it for the customer
    (nothing is shown to staff who do not see customers, or when there is nothing)."""
    if not getattr(user, "is_authenticated", False) or not user.has_perm_m4s(Perm.VIEW_CUSTOMERS):
        return {"items": []}
    items = []
    for vehicle in _cars(subject)[:5]:
        for item in selectors.declined_items_for_vehicle(user, vehicle):
            item["vehicle"] = vehicle
            owner = customer or getattr(vehicle, "current_owner", None)
            if owner is not None and user.has_perm_m4s(Perm.BOOK_SERVICE):
                detail = _("declined %(date)s") % {"date": item["declined_on"].isoformat()}
                if item["measurement"]:
                    detail = f"{detail}, {item['measurement']}"
                query = {
                    "customer": owner.pk,
                    "vehicle": vehicle.pk,
                    "service": "problem",
                    "problem": f"{item['name']} ({detail})"[:300],
                }
                item["book_url"] = f"{reverse('console-service-book')}?{urlencode(query)}"
            items.append(item)
    return {"items": items[:SHOWN], "more": len(items) > SHOWN}
