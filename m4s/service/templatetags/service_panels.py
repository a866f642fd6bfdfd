"""Service panels that other areas' pages show (`{% load service_panels %}`), so those areas
need not import the workshop."""

from types import SimpleNamespace

from django import template

from m4s.service import selectors

register = template.Library()


@register.simple_tag
def maintenance_of(vehicle):
    """What a car is due for: `.due` (due or overdue, with a booking link) and `.ok` (later)."""
    items = selectors.maintenance_due(vehicle)
    return SimpleNamespace(
        due=[d for d in items if d.status != "ok"], ok=[d for d in items if d.status == "ok"]
    )
