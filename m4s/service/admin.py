"""Back-office screens of the service area: catalogue, published prices, schedules, workshop set-up.
Every change is scoped to the staff member's dealer group and written to the audit log."""

from django.contrib import admin

from m4s.core.admin import ScopedAdminMixin, ScopedInline, admin_site
from m4s.staff.choices import Perm

from .models import (
    CreditNote,
    InspectionPoint,
    InspectionTemplate,
    LabourOperation,
    MaintenanceItem,
    MaintenanceSchedule,
    PackagePart,
    Part,
    PartStock,
    Price,
    PriceList,
    PriceOverride,
    Resource,
    ServicePackage,
    ServiceSettings,
    TechnicianProfile,
)


class PriceInline(ScopedInline):
    model = Price
    fields = ["operation", "part", "amount"]


@admin.register(PriceList, site=admin_site)
class PriceListAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Published prices: settlement never charges above the list in force on the day."""

    list_display = ["name", "effective_from", "effective_to", "published_at"]
    inlines = [PriceInline]


@admin.register(LabourOperation, site=admin_site)
class LabourOperationAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "standard_hours", "skill_line", "resource_kind", "is_active"]
    list_filter = ["skill_line", "is_active"]
    search_fields = ["code", "name"]


class PartStockInline(ScopedInline):
    model = PartStock
    fields = ["store", "on_hand", "reserved", "incoming", "next_delivery_date"]
    readonly_fields = ["reserved"]


@admin.register(Part, site=admin_site)
class PartAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["part_number", "name", "kind", "unit", "is_active"]
    search_fields = ["part_number", "name"]
    inlines = [PartStockInline]


class PackagePartInline(ScopedInline):
    model = PackagePart


@admin.register(ServicePackage, site=admin_site)
class ServicePackageAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "is_active"]
    filter_horizontal = ["operations"]
    inlines = [PackagePartInline]


class MaintenanceItemInline(ScopedInline):
    model = MaintenanceItem
    fields = [
        "position",
        "name",
        "name_i18n",
        "interval_km",
        "interval_months",
        "operation",
        "package",
    ]


@admin.register(MaintenanceSchedule, site=admin_site)
class MaintenanceScheduleAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "brand", "model"]
    inlines = [MaintenanceItemInline]


@admin.register(ServiceSettings, site=admin_site)
class ServiceSettingsAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "store",
        "slot_minutes",
        "walk_in_reserve_pct",
        "max_overbooking_pct",
        "change_cutoff_hours",
    ]


@admin.register(TechnicianProfile, site=admin_site)
class TechnicianProfileAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["staff", "skill_line", "availability_pct"]
    manage_perm = Perm.ASSIGN_CUSTOMERS


@admin.register(Resource, site=admin_site)
class ResourceAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "kind", "store"]
    list_filter = ["kind"]


class InspectionPointInline(ScopedInline):
    model = InspectionPoint
    fields = ["position", "name", "name_i18n", "measure", "operation", "part", "part_quantity"]


@admin.register(InspectionTemplate, site=admin_site)
class InspectionTemplateAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "store", "is_active"]
    inlines = [InspectionPointInline]


@admin.register(PriceOverride, site=admin_site)
class PriceOverrideAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Every charge below the published price, with who and why. Read-only."""

    list_display = ["at", "repair_order", "item", "list_amount", "charged_amount", "reason", "by"]
    readonly_fields = list_display + ["line"]

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CreditNote, site=admin_site)
class CreditNoteAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Refunds of settled repair orders, with who and why. Read-only: issued from the console."""

    list_display = [
        "number",
        "invoice",
        "amount",
        "customer_amount",
        "reason",
        "issued_by",
        "issued_at",
    ]
    readonly_fields = list_display

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
