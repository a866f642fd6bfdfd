"""The permission layer every page and API handler goes through."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied

from m4s.core.errors import PermissionDenied

from .choices import Perm


def check_perm(user, perm: Perm) -> None:
    """Raise a 403 DomainError unless this staff member holds the capability."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.has_perm_m4s(perm):
        raise PermissionDenied()


def staff_page(perm: Perm = Perm.USE_CONSOLE):
    """Decorator for console pages: sign-in required, then the capability."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not request.user.has_perm_m4s(perm):
                raise DjangoPermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
