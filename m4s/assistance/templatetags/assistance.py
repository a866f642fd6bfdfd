"""Template helpers of the store-services area: labels of stored keys (panels, modes, steps), an
ISO time from a request's details in local time, the options of the estimate form."""

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from m4s.assistance.choices import PANELS, Mode
from m4s.service.models import LabourOperation, Part

register = template.Library()

STEPS = {
    "driver_assigned": _("Driver assigned"),
    "picked_up": _("Picked up"),
    "inspected": _("Inspected"),
    "returned": _("Car returned"),
    "dispatched": _("Driver dispatched"),
    "en_route": _("On the way"),
    "arrived": _("Arrived"),
    "done": _("Delivered home"),
}


@register.filter
def panel_label(key: str) -> str:
    return str(PANELS.get(key, key))


@register.filter
def mode_label(key: str) -> str:
    return str(Mode(key).label) if key in Mode.values else key


@register.filter
def step_label(key: str) -> str:
    return str(STEPS.get(key, key))


@register.filter
def iso_local(value) -> str:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.strftime("%Y-%m-%d %H:%M")
    return "" if value is None else str(value)


@register.simple_tag
def estimate_options(r) -> dict:
    """The group's active labour operations (body work first) and parts for the estimate form."""
    group = r.dealer_group_id
    ops = sorted(
        LabourOperation.objects.for_group(group).filter(is_active=True),
        key=lambda o: (o.skill_line != "body", o.code),
    )
    parts = list(Part.objects.for_group(group).filter(is_active=True).order_by("part_number"))
    panels = len((r.details or {}).get("panels") or []) or 1
    return {
        "operations": ops,
        "parts": parts,
        "rows": range(min(max(panels, 1), 8)),
        "part_rows": range(2),
    }
