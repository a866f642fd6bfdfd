"""Template filters of the requests area: a kind's label, a history line in the reader's
language."""

from django import template

from m4s.core.i18n import render_source
from m4s.requests.kinds import kind_label

register = template.Library()


@register.filter
def request_kind(key: str) -> str:
    return kind_label(key)


@register.filter
def request_event(event) -> str:
    return render_source(event.code, event.params or {})
