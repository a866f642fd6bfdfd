from django import template

register = template.Library()


@register.filter
def can(user, perm: str) -> bool:
    """{% if user|can:"view_customers" %}: the same capability check as the views."""
    return bool(getattr(user, "is_authenticated", False) and user.has_perm_m4s(perm))


@register.filter
def tr(obj, field: str = "name") -> str:
    """{{ reward|tr:"name" }}: a catalogue field in the reader's language (source as fallback)."""
    from m4s.core.i18n import translated

    return translated(obj, field)
