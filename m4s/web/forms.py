from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from m4s.core.errors import DomainError, RateLimited
from m4s.identity import services as identity
from m4s.identity.api import client_ip
from m4s.owners.choices import Channel, Language


class PhoneForm(forms.Form):
    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=32,
        widget=forms.TextInput(
            attrs={"inputmode": "tel", "autocomplete": "tel", "placeholder": "138 0000 0001"}
        ),
    )


class CodeForm(forms.Form):
    phone = forms.CharField(widget=forms.HiddenInput, max_length=32)
    code = forms.CharField(
        label=_("6-digit code"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9]{6}"}
        ),
    )


class ProfileForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    birthday = forms.DateField(
        label=_("Birthday"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
    channels = forms.MultipleChoiceField(
        label=_("How we may reach you"),
        choices=Channel.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    quiet_hours_start = forms.TimeField(
        label=_("Quiet hours from"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    quiet_hours_end = forms.TimeField(
        label=_("Quiet hours until"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    marketing_consent = forms.BooleanField(label=_("Send me offers and news"), required=False)
    telematics_consent = forms.BooleanField(
        label=_("Use my car's data to look after it"), required=False
    )


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
