"""Back-office screens of the connected-car area: terminals (key shown once), dead letters."""

import secrets

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from m4s.staff.choices import Perm
from m4s.web.admin_site import ScopedAdminMixin, admin_site

from .models import DeadLetter, Device
from .services import hash_secret


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
    actions = ["issue_key"]

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
            % {"device": obj.device_id, "token": f"{obj.device_id}.{raw}"},
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
