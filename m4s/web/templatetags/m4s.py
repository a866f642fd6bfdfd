from django import template

from m4s.web import icons

register = template.Library()


@register.filter
def can(user, perm: str) -> bool:
    """{% if user|can:"view_customers" %}: the same capability check as the views."""
    return bool(getattr(user, "is_authenticated", False) and user.has_perm_m4s(perm))


@register.simple_tag(name="icon")
def icon_tag(name: str, label: str = "") -> str:
    """{% icon "house" %}: a Lucide SVG icon inline (see m4s/web/icons.py)."""
    return icons.icon(name, label)


@register.simple_tag(name="icon_for")
def icon_for_tag(value: str, default: str = "gift") -> str:
    """{% icon_for reward.icon "gift" %}: the icon for a stored value (a Lucide name or an emoji)."""
    return icons.icon(icons.icon_name_for(value, default))


@register.filter
def tr(obj, field: str = "name") -> str:
    """{{ reward|tr:"name" }}: a catalogue field in the reader's language (source as fallback)."""
    from m4s.core.i18n import translated

    return translated(obj, field)
