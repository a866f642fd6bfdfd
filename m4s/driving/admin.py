"""Back-office screens of the driving area: the group's speed table; trips, insurer consents
and exports to look at (written only by the area's services)."""

from django.contrib import admin

from m4s.core.admin import ScopedAdminMixin, admin_site

from .models import DrivingPolicy, InsurerExport, InsurerShareConsent, Trip


@admin.register(DrivingPolicy, site=admin_site)
class DrivingPolicyAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["dealer_group", "stop_minutes", "urban_kmh", "arterial_kmh", "highway_kmh"]


class _ReadOnly(ScopedAdminMixin, admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Trip, site=admin_site)
class TripAdmin(_ReadOnly):
    list_display = [
        "vehicle",
        "started_at",
        "distance_km",
        "duration_s",
        "score",
        "harsh_brake",
        "speeding_s",
        "night_min",
        "is_open",
    ]
    list_filter = ["is_open", "band"]
    search_fields = ["vehicle__plate", "vehicle__vin"]
    date_hierarchy = "started_at"


@admin.register(InsurerShareConsent, site=admin_site)
class InsurerShareConsentAdmin(_ReadOnly):
    list_display = ["vehicle", "insurer", "granted_at", "revoked_at"]
    search_fields = ["vehicle__plate", "insurer"]


@admin.register(InsurerExport, site=admin_site)
class InsurerExportAdmin(_ReadOnly):
    list_display = ["vehicle", "months", "actor", "created_at"]
