"""Back-office screens of the connected-car area: terminals (key shown once), dead letters."""

import secrets

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from m4s.core.admin import ScopedAdminMixin, admin_site
from m4s.staff.choices import Perm

from .models import DeadLetter, Device
from .services import hash_secret, token_for


@admin.register(Device, site=admin_site)
class DeviceAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "device_id",
        "protocol",
        "vehicle",
        "terminal_phone",
        "last_seen_at",
        "is_active",
    ]
    list_filter = ["protocol", "is_active"]
    search_fields = ["device_id", "terminal_phone", "vehicle__plate"]
    readonly_fields = ["key"]
    actions = ["issue_key"]

    def get_form(self, request, obj=None, **kwargs):
        base = super().get_form(request, obj, **kwargs)
        user_group = request.user.dealer_group_id

        class DeviceForm(base):
            def clean(self):
                """Device id and terminal phone are unique within the group (the database says
                so too; this turns it into a form error instead of a crash)."""
                data = super().clean()
                group = data.get("dealer_group")
                group_id = group.pk if group else self.instance.dealer_group_id or user_group
                others = Device.objects.for_group(group_id).exclude(pk=self.instance.pk)
                if data.get("device_id") and others.filter(device_id=data["device_id"]).exists():
                    raise forms.ValidationError(_("Your group has a terminal with this id."))
                phone = data.get("terminal_phone")
                if phone and others.filter(terminal_phone=phone).exists():
                    raise forms.ValidationError(
                        _("Your group has a terminal with this phone number.")
                    )
                return data

        return DeviceForm

    def save_model(self, request, obj, form, change):
        if not obj.secret_hash:
            self._new_key(request, obj)
        super().save_model(request, obj, form, change)

    def _new_key(self, request, obj):
        raw = secrets.token_urlsafe(24)
        obj.secret_hash = hash_secret(raw)
        messages.warning(
            request,
            _("Token for %(device)s (shown once): %(token)s")
            % {"device": obj.device_id, "token": token_for(obj, raw)},
        )

    @admin.action(description=_("Issue a new token (the old one stops working)"))
    def issue_key(self, request, queryset):
        for device in queryset:
            self._new_key(request, device)
            device.save(update_fields=["secret_hash"])


@admin.register(DeadLetter, site=admin_site)
class DeadLetterAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Messages that could not be stored, with why (read-only)."""

    view_perm = Perm.MANAGE_GROUP_SETTINGS
    list_display = ["received_at", "device_id", "via", "reason", "detail"]
    list_filter = ["reason", "via"]
    readonly_fields = ["received_at", "device_id", "via", "reason", "detail", "payload"]
    exclude = ["dealer_group"]

    def scoped_queryset(self, request):
        qs = DeadLetter.objects.all()
        return (
            qs
            if request.user.is_platform_admin
            else qs.filter(dealer_group_id=request.user.dealer_group_id)
        )

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
