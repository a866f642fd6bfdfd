"""Connected-car panels that other areas' pages show (`{% load telematics_panels %}`), so
those areas need not import telematics."""

from django import template

from m4s.service.selectors import overdue_of
from m4s.telematics.selectors import reminders_for_store

register = template.Library()


@register.simple_tag
def due_from_driving(store, today):
    """The store's cars due for maintenance soon by their driving, each with `.overdue` (how
    long and how far past due) when it already is."""
    due_soon = list(reminders_for_store(store))
    overdue = overdue_of(due_soon, today)
    for r in due_soon:
        r.overdue = overdue.get(r.pk)
    return due_soon
