"""Back-office screens of the staff: accounts, roles, stores."""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserCreationForm
from django.utils.translation import gettext_lazy as _

from m4s.core.admin import ScopedAdminMixin, admin_site

from .choices import GROUPLESS_ROLES, Perm, Role
from .models import Shift, StaffUser
from .selectors import list_staff


class StaffCreationForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        model = StaffUser
        fields = ("username",)


@admin.register(StaffUser, site=admin_site)
class StaffAdmin(ScopedAdminMixin, UserAdmin):
    manage_perm = Perm.MANAGE_STAFF
    add_form = StaffCreationForm
    list_display = ["username", "display_name", "role", "dealer_group", "is_active"]
    list_filter = ["role", "is_active"]
    search_fields = ["username", "display_name", "phone", "email"]
    ordering = ["username"]
    filter_horizontal = ["stores"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (
            _("Person"),
            {
                "fields": [
                    "display_name",
                    "first_name",
                    "last_name",
                    "email",
                    "phone",
                    "photo",
                    "language",
                ]
            },
        ),
        (_("Work"), {"fields": ["role", "dealer_group", "local_org", "stores", "is_active"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["username", "password1", "password2"]}),
        (_("Work"), {"fields": ["display_name", "role", "dealer_group", "stores"]}),
    ]

    def scoped_queryset(self, request):
        return list_staff(request.user)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        hidden = set()
        if obj is not None and not self.has_change_permission(request, obj):
            hidden.add("password")  # its "change the password" link is for those who may
        if not request.user.is_platform_admin:
            hidden |= {"dealer_group", "local_org"}
        if not hidden:
            return fieldsets
        return [
            (name, {**opts, "fields": [f for f in opts["fields"] if f not in hidden]})
            for name, opts in fieldsets
        ]

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "role" and not request.user.is_platform_admin:
            kwargs["choices"] = [
                (v, label) for v, label in Role.choices if v not in GROUPLESS_ROLES
            ]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not request.user.is_platform_admin:
            obj.dealer_group_id = request.user.dealer_group_id
            obj.local_org = None
            if obj.role in GROUPLESS_ROLES:
                obj.role = Role.SALES_CONSULTANT
        obj.is_staff = obj.role in {Role.PLATFORM_ADMIN, Role.GROUP_ADMIN, Role.STORE_MANAGER}
        obj.is_superuser = obj.role == Role.PLATFORM_ADMIN
        super().save_model(request, obj, form, change)


class ShiftForm(forms.ModelForm):
    class Meta:
        model = Shift
        fields = ["staff", "store", "date", "starts_at", "ends_at"]

    def clean(self):
        data = super().clean()
        staff, store = data.get("staff"), data.get("store")
        if staff and store and store.pk not in staff.store_ids():
            self.add_error("staff", _("This staff member does not work at that store."))
        day, starts, ends = data.get("date"), data.get("starts_at"), data.get("ends_at")
        if staff and day and starts and ends:
            overlap = (
                Shift.objects.for_group(staff.dealer_group_id)
                .filter(staff=staff, date=day, starts_at__lt=ends, ends_at__gt=starts)
                .exclude(pk=self.instance.pk)
            )
            if overlap.exists():
                self.add_error(
                    "starts_at", _("This shift overlaps another shift of the same person.")
                )
        return data


@admin.register(Shift, site=admin_site)
class ShiftAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Rosters: who works where and when, so work can be routed to whoever is on duty."""

    manage_perm = Perm.ASSIGN_CUSTOMERS
    form = ShiftForm
    list_display = ["date", "starts_at", "ends_at", "staff", "store"]
    date_hierarchy = "date"
    ordering = ["-date", "starts_at"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "staff":
            kwargs["queryset"] = list_staff(request.user).filter(is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
