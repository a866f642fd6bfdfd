"""Canned replies: a group's ready answers in zh-Hans/en/ko, with {customer}, {car} and {store}
filled in for the conversation they are used in (only these three; other braces stay as they
are, so a reply can never reach into an object's attributes)."""

import re

from django.conf import settings
from django.utils import translation

from m4s.core.i18n import translated
from m4s.customers.models import Binding

from .models import CannedReply

PLACEHOLDER = re.compile(r"\{(customer|car|store)\}")


def car_of(customer, vehicle=None) -> str:
    """The car a reply names: the one given, else the customer's most recently bound car."""
    if vehicle is None:
        binding = (
            Binding.objects.for_group(customer.dealer_group_id)
            .filter(customer=customer, ended_at__isnull=True)
            .select_related("vehicle")
            .order_by("-created_at", "-id")
            .first()
        )
        vehicle = binding.vehicle if binding else None
    if vehicle is None:
        return ""
    return " ".join(p for p in (vehicle.plate, vehicle.brand, vehicle.model) if p)


def render_canned(
    reply: CannedReply, *, customer, language: str | None = None, vehicle=None, store=None
) -> str:
    """The reply's text in `language` (the customer's app language by default), placeholders
    filled in."""
    owner = getattr(customer, "owner", None)
    language = language or getattr(owner, "language", None) or settings.LANGUAGE_CODE
    store = store or customer.store
    with translation.override(language):
        body = translated(reply, "body")
    values = {
        "customer": customer.name,
        "car": car_of(customer, vehicle),
        "store": store.display_title if store is not None else "",
    }
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], body)
