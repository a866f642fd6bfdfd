"""View decorators for the owner app's pages."""

from functools import wraps

from django.shortcuts import redirect
from django.urls import reverse


def owner_required(view):
    """Send a visitor who is not signed in as an owner to the owner sign-in page, then back."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.owner:  # request.owner is a SimpleLazyObject: never `is None`
            return redirect(f"{reverse('app-login')}?next={request.path}")
        return view(request, *args, **kwargs)

    return wrapper
