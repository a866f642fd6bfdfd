"""Back-office screens of the catalogue (the console at /console/catalogue/ is where staff work;
these are for the platform and for bulk fixes), scoped to the staff member's group."""

from django.contrib import admin

from m4s.core.admin import ScopedAdminMixin, ScopedInline, admin_site
from m4s.staff.choices import Perm

from .models import Brand, CarModel, Colour, FinanceProduct, Insurer, ModelPicture, Trim


class CatalogueAdmin(ScopedAdminMixin, admin.ModelAdmin):
    manage_perm = Perm.MANAGE_CATALOGUE


class TrimInline(ScopedInline):
    model = Trim
    fields = ["name", "msrp", "dealer_price", "power_kw", "drive", "seats", "active", "sort"]


class ColourInline(ScopedInline):
    model = Colour
    fields = ["name", "hex", "extra_price", "sort"]


class PictureInline(ScopedInline):
    model = ModelPicture
    fields = ["image", "caption", "sort"]


@admin.register(Brand, site=admin_site)
class BrandAdmin(CatalogueAdmin):
    list_display = ["name", "sort"]
    fields = ["name", "name_i18n", "logo", "sort"]


@admin.register(CarModel, site=admin_site)
class CarModelAdmin(CatalogueAdmin):
    list_display = ["name", "brand", "energy_type", "body_type", "published"]
    list_filter = ["published", "energy_type"]
    fields = [
        "brand",
        "name",
        "name_i18n",
        "body_type",
        "energy_type",
        "tagline",
        "tagline_i18n",
        "description",
        "description_i18n",
        "cover",
        "published",
        "sort",
    ]
    inlines = [TrimInline, ColourInline, PictureInline]


@admin.register(FinanceProduct, site=admin_site)
class FinanceProductAdmin(CatalogueAdmin):
    list_display = ["name", "annual_rate", "min_down_payment_pct", "max_down_payment_pct", "active"]
    fields = [
        "name",
        "name_i18n",
        "description",
        "description_i18n",
        "annual_rate",
        "min_down_payment_pct",
        "max_down_payment_pct",
        "terms",
        "fee",
        "active",
        "sort",
    ]


@admin.register(Insurer, site=admin_site)
class InsurerAdmin(CatalogueAdmin):
    list_display = ["name", "phone", "email", "active"]
    fields = ["name", "phone", "email", "active", "sort"]
