from django import template

register = template.Library()


@register.filter
def can(user, perm: str) -> bool:
    """{% if user|can:"view_customers" %}: the same capability check as the views."""
    return bool(getattr(user, "is_authenticated", False) and user.has_perm_m4s(perm))
