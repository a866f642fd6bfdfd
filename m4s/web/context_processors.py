"""Template context for the two shells."""

from .owner_views import shell_context


def owner_shell(request) -> dict:
    """The owner app's shell (owner, store branding, unread count, groups) on every /app/ page."""
    if not request.path.startswith("/app/") or not hasattr(request, "owner"):
        return {}
    return shell_context(request)
