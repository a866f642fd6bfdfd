"""Back-office screen of the owners (headquarters only)."""

from django.contrib import admin

from m4s.core.admin import PlatformOnlyAdmin, admin_site

from .models import Owner


@admin.register(Owner, site=admin_site)
class OwnerAdmin(PlatformOnlyAdmin):
    list_display = ["phone", "name", "language", "home_store", "created_at", "last_login_at"]
    search_fields = ["phone", "name"]
    readonly_fields = [
        "marketing_consent_at",
        "telematics_consent_at",
        "created_at",
        "last_login_at",
    ]
