"""Back-office screen of the outbox (headquarters only, read-only)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from m4s.core.admin import PlatformOnlyAdmin, ScopedAdminMixin, admin_site

from .models import ContactRules, Message


@admin.register(Message, site=admin_site)
class MessageAdmin(PlatformOnlyAdmin):
    list_display = ["created_at", "channel", "kind", "to_address", "status", "attempts"]
    list_filter = ["channel", "status"]
    readonly_fields = [f.name for f in Message._meta.fields]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False


@admin.register(ContactRules, site=admin_site)
class ContactRulesAdmin(ScopedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]  # generic only in the stubs
    """The group's frequency cap for reminders and offers (the contact policy)."""

    list_display = ["dealer_group", "cap_count", "cap_days"]

    def has_add_permission(self, request: Any, *args: Any) -> bool:
        """One row per group: a group that has its rules changes them."""
        if not super().has_add_permission(request, *args):
            return False
        user = request.user
        return bool(
            user.is_platform_admin
            or not ContactRules.objects.for_group(user.dealer_group_id).exists()
        )
