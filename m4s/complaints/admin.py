"""Back-office screens of the complaints area: each group's category tree, root causes and SLA
policies. Scoped to the staff member's dealer group and written to the audit log."""

from django.contrib import admin

from m4s.core.admin import ScopedAdminMixin, admin_site

from .models import ComplaintCategory, RootCause, SlaPolicy


@admin.register(ComplaintCategory, site=admin_site)
class ComplaintCategoryAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Two levels: a category and its sub-categories (repeat repair under service quality)."""

    list_display = ["code", "name", "parent", "position", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name"]
    fields = ["parent", "code", "name", "name_i18n", "position", "is_active"]


@admin.register(RootCause, site=admin_site)
class RootCauseAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "position", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name"]
    fields = ["code", "name", "name_i18n", "position", "is_active"]


@admin.register(SlaPolicy, site=admin_site)
class SlaPolicyAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Targets in business minutes (the store's opening hours, holidays and make-up days count);
    a severity without its own row uses the built-in defaults."""

    list_display = [
        "severity",
        "category",
        "first_response_minutes",
        "resolution_minutes",
        "level1_minutes",
        "level2_minutes",
        "level3_minutes",
    ]
    list_filter = ["severity"]
