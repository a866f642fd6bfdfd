"""The back office at /admin/: Django admin scoped to the signed-in staff member's dealer group."""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserCreationForm
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from m4s.core.audit import record_audit, snapshot
from m4s.core.models import AuditEntry
from m4s.core.tenancy import TenantModel
from m4s.customers.models import Shift
from m4s.notify.models import Message
from m4s.org.models import (
    BusinessHours,
    DealerGroup,
    EmergencyNumber,
    Holiday,
    LocalOrganisation,
    SplashPicture,
    Store,
)
from m4s.owners.models import Owner
from m4s.staff.choices import GROUPLESS_ROLES, Perm, Role
from m4s.staff.models import StaffUser
from m4s.staff.selectors import list_staff
from m4s.web.forms import StaffAdminSignInForm


class M4SAdminSite(admin.AdminSite):
    site_header = _("M4S back office")
    site_title = _("M4S back office")
    index_title = _("Settings of your dealer group")
    login_form = StaffAdminSignInForm

    def has_permission(self, request):
        user = request.user
        return user.is_active and user.is_authenticated and user.has_perm_m4s(Perm.USE_BACK_OFFICE)


admin_site = M4SAdminSite(name="admin")


class ScopedAdminMixin:
    """Every read goes through the tenant scope; every write is stamped with the group and audited."""

    manage_perm = Perm.MANAGE_GROUP_SETTINGS
    view_perm = Perm.USE_BACK_OFFICE
    platform_only = False

    # --- permissions: our capabilities, not Django's per-model permission rows
    def _allowed(self, request, perm):
        user = request.user
        if not (user.is_active and user.is_authenticated):
            return False  # the login page lists the apps too, for nobody
        if self.platform_only and not user.is_platform_admin:
            return False
        return user.has_perm_m4s(perm)

    def has_module_permission(self, request):
        return self._allowed(request, self.view_perm)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request, self.view_perm)

    def has_add_permission(self, request, *args):
        return self._allowed(request, self.manage_perm)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request, self.manage_perm)

    def has_delete_permission(self, request, obj=None):
        return self._allowed(request, self.manage_perm)

    # --- reads
    def get_queryset(self, request):
        qs = self.scoped_queryset(request)
        ordering = self.get_ordering(request)
        return qs.order_by(*ordering) if ordering else qs

    def scoped_queryset(self, request):
        model = self.model
        if issubclass(model, TenantModel):
            return model.objects.for_actor(request.user)
        return model._default_manager.all()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        kwargs = scope_related(request, db_field.remote_field.model, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs = scope_related(request, db_field.remote_field.model, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        # Headquarters editing one group's row choose among that group's rows only.
        request.m4s_admin_group_id = getattr(obj, "dealer_group_id", None)
        form = super().get_form(request, obj, change=change, **kwargs)
        if not issubclass(self.model, TenantModel):
            return form
        user = request.user

        class OneGroupForm(form):
            def __init__(self, *args, **kw):
                super().__init__(*args, **kw)
                if not user.is_platform_admin:
                    # Set before validation so the (dealer_group, …) unique constraints are
                    # checked on the form (a clear error) instead of failing in the database.
                    self.instance.dealer_group_id = user.dealer_group_id

            def _get_validation_exclusions(self):
                exclusions = super()._get_validation_exclusions()
                if self.instance.dealer_group_id:
                    exclusions.discard("dealer_group")
                return exclusions

            def clean(self):
                data = super().clean()
                group = data.get("dealer_group")
                group_id = getattr(group, "pk", None) or self.instance.dealer_group_id
                refuse_other_groups(self, group_id)
                return data

        return OneGroupForm

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or [])
        if issubclass(self.model, TenantModel) and not request.user.is_platform_admin:
            exclude.append("dealer_group")
        return exclude

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(_("No such object in your dealer group."))
        return obj

    # --- writes
    def save_model(self, request, obj, form, change):
        if isinstance(obj, TenantModel) and not request.user.is_platform_admin:
            obj.dealer_group_id = request.user.dealer_group_id
        before = snapshot(type(obj)._base_manager.get(pk=obj.pk)) if change and obj.pk else None
        super().save_model(request, obj, form, change)
        record_audit(
            actor=request.user,
            action="update" if change else "create",
            obj=obj,
            before=before,
            after=snapshot(obj),
        )

    def delete_model(self, request, obj):
        record_audit(actor=request.user, action="delete", obj=obj, before=snapshot(obj), after=None)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            record_audit(
                actor=request.user, action="delete", obj=obj, before=snapshot(obj), after=None
            )
            obj.delete()
        for obj in instances:
            if isinstance(obj, TenantModel):
                obj.dealer_group_id = form.instance.dealer_group_id
            is_new = obj.pk is None
            before = None if is_new else snapshot(type(obj)._base_manager.get(pk=obj.pk))
            obj.save()
            record_audit(
                actor=request.user,
                action="create" if is_new else "update",
                obj=obj,
                before=before,
                after=snapshot(obj),
            )
        formset.save_m2m()


def scope_related(request, remote_model, kwargs):
    """Choices of a foreign key or many-to-many field: rows of the acting user's group (for
    headquarters, of the group of the row being edited, when there is one)."""
    user = request.user
    group_id = getattr(request, "m4s_admin_group_id", None)
    if issubclass(remote_model, TenantModel):
        rows = remote_model.objects
        kwargs["queryset"] = (
            rows.for_group(group_id)
            if user.is_platform_admin and group_id
            else rows.for_actor(user)
        )
    elif remote_model is DealerGroup and not user.is_platform_admin:
        kwargs["queryset"] = DealerGroup.objects.filter(pk=user.dealer_group_id)
    return kwargs


def refuse_other_groups(form, group_id):
    """Headquarters see every group's rows in the choices: a row of one group may only point
    at rows of the same group."""
    if not group_id:
        return
    for name, value in list(form.cleaned_data.items()):
        values = value if isinstance(value, QuerySet | list | tuple) else [value]
        for item in values:
            if isinstance(item, TenantModel) and item.dealer_group_id != group_id:
                form.add_error(
                    name, _("%(item)s belongs to another dealer group.") % {"item": item}
                )
                break


class ScopedInline(admin.TabularInline):
    extra = 0

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm_m4s(Perm.USE_BACK_OFFICE)

    def has_add_permission(self, request, obj=None):
        return request.user.has_perm_m4s(Perm.MANAGE_GROUP_SETTINGS)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        kwargs = scope_related(request, db_field.remote_field.model, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    has_change_permission = has_delete_permission = has_add_permission

    def get_queryset(self, request):
        return self.model.objects.for_actor(request.user)

    def get_exclude(self, request, obj=None):
        return ["dealer_group"]

    def get_formset(self, request, obj=None, **kwargs):
        request.m4s_admin_group_id = getattr(obj, "dealer_group_id", None)
        formset = super().get_formset(request, obj, **kwargs)
        scoped = self.model.objects.for_actor(request.user)
        user = request.user

        class ScopedFormSet(formset):
            def add_fields(self, form, index):
                # Django looks rows up by id through the unscoped default manager; scope it.
                super().add_fields(form, index)
                field = form.fields.get(self._pk_field.name)
                if field is not None and hasattr(field, "queryset"):
                    field.queryset = scoped

            def clean(self):
                super().clean()
                group_id = self.instance.dealer_group_id or user.dealer_group_id
                for form in self.forms:
                    if hasattr(form, "cleaned_data") and form not in self.deleted_forms:
                        refuse_other_groups(form, group_id)

        return ScopedFormSet


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
        (_("Location"), {"fields": ["timezone", "address", "latitude", "longitude"]}),
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


@admin.register(AuditEntry, site=admin_site)
class AuditEntryAdmin(ScopedAdminMixin, admin.ModelAdmin):
    view_perm = Perm.VIEW_AUDIT_LOG
    list_display = ["at", "actor_name", "action", "object_type", "object_repr"]
    search_fields = ["object_repr", "actor_name", "object_id"]
    readonly_fields = [
        "at",
        "actor_name",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "changes",
    ]
    exclude = ["actor"]

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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


class PlatformOnlyAdmin(ScopedAdminMixin, admin.ModelAdmin):
    platform_only = True
    manage_perm = Perm.MANAGE_PLATFORM
    view_perm = Perm.MANAGE_PLATFORM


@admin.register(DealerGroup, site=admin_site)
class DealerGroupAdmin(PlatformOnlyAdmin):
    list_display = ["name", "slug", "local_org", "is_active"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(LocalOrganisation, site=admin_site)
class LocalOrganisationAdmin(PlatformOnlyAdmin):
    list_display = ["name", "city"]


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


@admin.register(Message, site=admin_site)
class MessageAdmin(PlatformOnlyAdmin):
    list_display = ["created_at", "channel", "kind", "to_address", "status", "attempts"]
    list_filter = ["channel", "status"]
    readonly_fields = [f.name for f in Message._meta.fields]

    def has_add_permission(self, request, *args):
        return False
