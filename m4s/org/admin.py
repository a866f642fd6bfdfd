"""Back-office screens of the organisation: stores (hours, holidays, emergency numbers, splash
pictures), and for headquarters the dealer groups and local organisations."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from m4s.core.admin import PlatformOnlyAdmin, ScopedAdminMixin, ScopedInline, admin_site

from .choices import StatutorySource
from .models import (
    BusinessHours,
    DealerGroup,
    EmergencyNumber,
    Holiday,
    LocalOrganisation,
    SplashPicture,
    StatutoryDay,
    Store,
)


class BusinessHoursInline(ScopedInline):
    model = BusinessHours


class HolidayInline(ScopedInline):
    model = Holiday


class EmergencyNumberInline(ScopedInline):
    model = EmergencyNumber


class SplashPictureInline(ScopedInline):
    model = SplashPicture


class StoreForm(forms.ModelForm):
    class Meta:
        model = Store
        fields = [
            "dealer_group",
            "name",
            "code",
            "is_active",
            "timezone",
            "observes_statutory_holidays",
            "address",
            "latitude",
            "longitude",
            "app_title",
            "logo",
            "brand_colour",
        ]

    def __init__(self, *args, group_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._group_id = group_id

    def clean(self):
        data = super().clean()
        group_id = (
            self._group_id
            or getattr(data.get("dealer_group"), "pk", None)
            or self.instance.dealer_group_id
        )
        code = data.get("code")
        if code and group_id:
            clash = (
                Store.objects.for_group(group_id)
                .filter(code=code)
                .exclude(pk=self.instance.pk)
                .exists()
            )
            if clash:
                self.add_error("code", _("Another store of this group already uses this code."))
        return data


@admin.register(Store, site=admin_site)
class StoreAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = StoreForm
    list_display = ["name", "code", "app_title", "timezone", "address", "is_active"]
    search_fields = ["name", "code", "address"]
    inlines = [BusinessHoursInline, HolidayInline, EmergencyNumberInline, SplashPictureInline]
    fieldsets = [
        (None, {"fields": ["dealer_group", "name", "code", "is_active"]}),
        (
            _("Location"),
            {
                "fields": [
                    "timezone",
                    "observes_statutory_holidays",
                    "address",
                    "latitude",
                    "longitude",
                ]
            },
        ),
        (_("Branding"), {"fields": ["app_title", "logo", "brand_colour"]}),
    ]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_platform_admin:
            return fieldsets
        first = dict(fieldsets[0][1])
        first["fields"] = [f for f in first["fields"] if f != "dealer_group"]
        return [(fieldsets[0][0], first), *fieldsets[1:]]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        group_id = None if request.user.is_platform_admin else request.user.dealer_group_id

        class ScopedStoreForm(form):
            def __init__(self, *args, **kw):
                super().__init__(*args, group_id=group_id, **kw)

        return ScopedStoreForm


@admin.register(DealerGroup, site=admin_site)
class DealerGroupAdmin(PlatformOnlyAdmin):
    list_display = ["name", "slug", "local_org", "is_active"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(LocalOrganisation, site=admin_site)
class LocalOrganisationAdmin(PlatformOnlyAdmin):
    list_display = ["name", "city"]


@admin.register(StatutoryDay, site=admin_site)
class StatutoryDayAdmin(PlatformOnlyAdmin):
    """China's statutory holidays and make-up working days, for every store of the platform:
    loaded by `m4s sync-holidays`; a day saved here is marked as edited and the sync keeps it."""

    list_display = ["date", "kind", "holiday", "source"]
    list_filter = ["kind", "holiday", "source"]
    date_hierarchy = "date"
    fields = ["date", "kind", "holiday"]

    def save_model(self, request, obj, form, change):
        obj.source = StatutorySource.BACK_OFFICE
        super().save_model(request, obj, form, change)
