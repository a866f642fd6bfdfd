"""Panels of the contact policy that other areas' pages show (`{% load notify_panels %}`):
the customer 360's "messages and why" (what was sent, held until when, dropped and why)."""

from typing import Any

from django import template

from m4s.notify import policy
from m4s.staff.choices import Perm

register = template.Library()
SHOWN = 12


@register.simple_tag
def contact_decisions_of(user: Any, customer: Any) -> dict[str, Any] | None:
    """The latest contact decisions for this customer in their dealer group (None: the user may
    not see customers, so the panel is not shown)."""
    if not user.has_perm_m4s(Perm.VIEW_CUSTOMERS):
        return None
    rows = list(
        policy.decisions_of(customer.owner, customer.pk, customer.dealer_group_id).order_by(
            "-decided_at", "-id"
        )[: SHOWN + 1]
    )
    return {"rows": rows[:SHOWN], "more": len(rows) > SHOWN}
