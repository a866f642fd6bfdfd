"""Staff sign-in forms of the console and the back office: both sign in through
identity.staff_login, with the same limits as the API's POST /auth/staff/login."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from m4s.core.errors import DomainError, RateLimited

from . import services as identity
from .network import client_ip


class _ThrottledSignIn:
    """Staff sign-in through identity.staff_login: the same per-username and per-network limits
    as the API's POST /auth/staff/login."""

    rate_limited = ""

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            try:
                self.user_cache = identity.staff_login(
                    username, password, client_ip(self.request) if self.request else None
                )
            except RateLimited as exc:
                self.rate_limited = exc.message
                raise forms.ValidationError(exc.message, code="rate_limited") from exc
            except DomainError as exc:
                raise self.get_invalid_login_error() from exc
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class StaffSignInForm(_ThrottledSignIn, AuthenticationForm):
    pass


class StaffAdminSignInForm(_ThrottledSignIn, AdminAuthenticationForm):
    pass
