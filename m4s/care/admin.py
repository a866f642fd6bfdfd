"""Back-office screens of the care area: a group's reminder rules (lead times, settings, the
one-tap action, a gift coupon, its own title and text per language with a preview in every
language), the annual-inspection rule table, greeting days, insurance policies and driving
licences entered by staff, and integration keys (shown once). Scoped to the staff member's
dealer group and written to the audit log."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from m4s.core.admin import ScopedAdminMixin, admin_site
from m4s.staff.choices import Perm

from .models import (
    DrivingLicence,
    GreetingDay,
    InspectionRule,
    InsurancePolicy,
    IntegrationKey,
    ReminderRule,
)
from .rules import clean_lead_days, ensure_rules


class CareAdmin(ScopedAdminMixin, admin.ModelAdmin):
    manage_perm = Perm.MANAGE_CARE


class ReminderRuleForm(forms.ModelForm):
    class Meta:
        model = ReminderRule
        fields = [
            "kind",
            "enabled",
            "lead_days",
            "params",
            "action",
            "coupon",
            "title",
            "title_i18n",
            "body",
            "body_i18n",
        ]

    def clean_lead_days(self) -> list[int]:
        value = self.cleaned_data.get("lead_days")
        if not isinstance(value, list) or not value:
            raise forms.ValidationError(
                _("Give the lead times as a list of days, e.g. [60, 30, 7].")
            )
        if not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 366 for v in value):
            raise forms.ValidationError(_("Each lead time is a whole number of days, 0 to 366."))
        return clean_lead_days(value)

    def clean_params(self) -> dict:
        value = self.cleaned_data.get("params")
        if value in (None, ""):
            return {}
        if not isinstance(value, dict):
            raise forms.ValidationError(_('Settings are an object, e.g. {"red_days": 14}.'))
        for key, v in value.items():
            if key.endswith("_days") and (not isinstance(v, int) or not 0 <= v <= 3650):
                raise forms.ValidationError(
                    _("%(key)s: a whole number of days, 0 to 3650.") % {"key": key}
                )
        return value


@admin.register(ReminderRule, site=admin_site)
class ReminderRuleAdmin(CareAdmin):
    """One rule per kind. An empty title or text uses the built-in words (translated); the
    preview shows the rule in every language with a sample reminder."""

    form = ReminderRuleForm
    list_display = ["kind", "enabled", "lead_days", "action", "coupon"]
    list_filter = ["enabled", "kind"]
    fields = [
        "kind",
        "enabled",
        "lead_days",
        "params",
        "action",
        "coupon",
        "title",
        "title_i18n",
        "body",
        "body_i18n",
        "preview",
    ]
    readonly_fields = ["preview"]

    @admin.display(description=_("Preview"))
    def preview(self, obj: ReminderRule | None) -> Any:
        from .views.preview import rule_preview_html

        return rule_preview_html(obj)

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), *(["kind"] if obj else [])]

    def changelist_view(self, request, extra_context=None):
        # a group starts with a rule of every kind: written the first time they are shown
        if getattr(request.user, "dealer_group_id", None):
            ensure_rules([request.user.dealer_group_id])
        return super().changelist_view(request, extra_context)


@admin.register(InspectionRule, site=admin_site)
class InspectionRuleAdmin(CareAdmin):
    """China's defaults for private passenger cars: exempt labels in years 6 and 10, yearly
    inspections from year 10, every 6 months from year 15."""

    list_display = ["from_year", "to_year", "interval_months", "exempt_years"]
    fields = ["from_year", "to_year", "interval_months", "exempt_years"]

    def changelist_view(self, request, extra_context=None):
        if getattr(request.user, "dealer_group_id", None):
            ensure_rules([request.user.dealer_group_id])
        return super().changelist_view(request, extra_context)


@admin.register(GreetingDay, site=admin_site)
class GreetingDayAdmin(CareAdmin):
    list_display = ["name", "calendar", "month", "day", "coupon", "is_active"]
    list_filter = ["calendar", "is_active"]
    fields = [
        "name",
        "name_i18n",
        "calendar",
        "month",
        "day",
        "message",
        "message_i18n",
        "coupon",
        "is_active",
    ]


@admin.register(InsurancePolicy, site=admin_site)
class InsurancePolicyAdmin(CareAdmin):
    list_display = ["vehicle", "customer", "insurer", "cover", "ends_on"]
    list_filter = ["cover"]
    search_fields = ["policy_number", "vehicle__plate", "customer__name"]
    fields = ["vehicle", "customer", "insurer", "policy_number", "cover", "starts_on", "ends_on"]


@admin.register(DrivingLicence, site=admin_site)
class DrivingLicenceAdmin(CareAdmin):
    list_display = ["customer", "licence_class", "expires_on"]
    search_fields = ["customer__name"]
    fields = ["customer", "licence_class", "expires_on"]


@admin.register(IntegrationKey, site=admin_site)
class IntegrationKeyAdmin(CareAdmin):
    """Keys outside systems post traffic violations with (POST /api/v1/integrations/violations).
    A new key is shown once; only its SHA-256 is stored."""

    list_display = ["name", "prefix", "created_at", "last_used_at", "revoked_at"]
    fields = ["name", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def save_model(self, request, obj, form, change):
        if not obj.prefix:
            from .violations import new_key

            obj.prefix, key, obj.key_hash = new_key()
            messages.warning(
                request,
                _("Integration key for %(name)s (shown once): %(key)s")
                % {"name": obj.name, "key": key},
            )
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Revoke (the key stops working)"))
    def revoke(self, request, queryset):
        for key in queryset.filter(revoked_at__isnull=True):
            key.revoked_at = timezone.now()
            self.save_model(request, key, None, True)
