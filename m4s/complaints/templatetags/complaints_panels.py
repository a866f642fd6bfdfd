"""Complaint panels that other areas' pages show (`{% load complaints_panels %}`), so those areas
need not import the complaints app: the customer 360's complaints and its "record" link."""

from django import template

from m4s.complaints import selectors
from m4s.staff.choices import Perm

register = template.Library()
SHOWN = 5


@register.simple_tag
def complaints_of(user, customer) -> dict | None:
    """The customer's latest complaints this user may see (None: the user does not handle or
    read complaints, so the panel is not shown)."""
    if not (
        user.has_perm_m4s(Perm.HANDLE_COMPLAINTS) or user.has_perm_m4s(Perm.VIEW_COMPLAINT_FIGURES)
    ):
        return None
    rows = list(selectors.complaints_of_customer(user, customer.pk)[: SHOWN + 1])
    return {
        "rows": rows[:SHOWN],
        "more": len(rows) > SHOWN,
        "can_record": user.has_perm_m4s(Perm.HANDLE_COMPLAINTS),
    }
