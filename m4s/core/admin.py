"""The back office at /admin/: one Django admin site scoped to the signed-in staff member's dealer
group, and the building blocks every app's admin.py uses (`ScopedAdminMixin`, `ScopedInline`,
`PlatformOnlyAdmin`). Each app registers its own models in its own admin.py against
`admin_site`; Django's admin autodiscovery imports them all at start-up."""

from typing import TYPE_CHECKING, Any, TypeAlias

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from m4s.core.audit import record_audit, snapshot
from m4s.core.models import AuditEntry
from m4s.core.tenancy import TenantModel
from m4s.identity.forms import StaffAdminSignInForm
from m4s.org.models import DealerGroup
from m4s.staff.choices import Perm

# The back office serves only a signed-in StaffUser (see has_permission), and get_form /
# get_formset stamp `m4s_admin_group_id` on the request: HttpRequest types neither.
AdminRequest: TypeAlias = Any


class M4SAdminSite(admin.AdminSite):
    site_header = _("M4S back office")
    site_title = _("M4S back office")
    index_title = _("Settings of your dealer group")
    login_form = StaffAdminSignInForm  # the same limits as every staff sign-in

    def has_permission(self, request: AdminRequest) -> bool:
        user: StaffUser | AnonymousUser = request.user
        return user.is_active and user.is_authenticated and user.has_perm_m4s(Perm.USE_BACK_OFFICE)


admin_site = M4SAdminSite(name="admin")


if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from m4s.staff.models import StaffUser

if TYPE_CHECKING:  # the mixin is only ever used in front of ModelAdmin: type it as one
    _AdminBase = admin.ModelAdmin[Any]
else:
    _AdminBase = object


class ScopedAdminMixin(_AdminBase):
    """Every read goes through the tenant scope; every write is stamped with the group and audited."""

    manage_perm = Perm.MANAGE_GROUP_SETTINGS
    view_perm = Perm.USE_BACK_OFFICE
    platform_only = False

    # --- permissions: our capabilities, not Django's per-model permission rows
    def _allowed(self, request: AdminRequest, perm: str) -> bool:
        user: StaffUser | AnonymousUser = request.user
        if not (user.is_active and user.is_authenticated):
            return False  # the login page lists the apps too, for nobody
        if self.platform_only and not user.is_platform_admin:
            return False
        return user.has_perm_m4s(perm)

    def has_module_permission(self, request: AdminRequest) -> bool:
        return self._allowed(request, self.view_perm)

    def has_view_permission(self, request: AdminRequest, obj: Any = None) -> bool:
        return self._allowed(request, self.view_perm)

    def has_add_permission(self, request: AdminRequest, *args: Any) -> bool:
        return self._allowed(request, self.manage_perm)

    def has_change_permission(self, request: AdminRequest, obj: Any = None) -> bool:
        return self._allowed(request, self.manage_perm)

    def has_delete_permission(self, request: AdminRequest, obj: Any = None) -> bool:
        return self._allowed(request, self.manage_perm)

    # --- reads
    def get_queryset(self, request: AdminRequest) -> QuerySet[Any]:
        qs = self.scoped_queryset(request)
        ordering = self.get_ordering(request)
        return qs.order_by(*ordering) if ordering else qs

    def scoped_queryset(self, request: AdminRequest) -> QuerySet[Any]:
        model = self.model
        rows: QuerySet[Any]
        if issubclass(model, TenantModel):
            rows = model.objects.for_actor(request.user)
        else:
            rows = model._default_manager.all()
        return rows

    def formfield_for_foreignkey(self, db_field: Any, request: AdminRequest, **kwargs: Any) -> Any:
        kwargs = scope_related(request, db_field.remote_field.model, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field: Any, request: AdminRequest, **kwargs: Any) -> Any:
        kwargs = scope_related(request, db_field.remote_field.model, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_form(
        self, request: AdminRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        # Headquarters editing one group's row choose among that group's rows only.
        request.m4s_admin_group_id = getattr(obj, "dealer_group_id", None)
        form: Any = super().get_form(request, obj, change=change, **kwargs)
        if not issubclass(self.model, TenantModel):
            return form
        user = request.user

        class OneGroupForm(form):
            def __init__(self, *args: Any, **kw: Any) -> None:
                super().__init__(*args, **kw)
                if not user.is_platform_admin:
                    # Set before validation so the (dealer_group, …) unique constraints are
                    # checked on the form (a clear error) instead of failing in the database.
                    self.instance.dealer_group_id = user.dealer_group_id

            def _get_validation_exclusions(self) -> Any:
                exclusions = super()._get_validation_exclusions()
                if self.instance.dealer_group_id:
                    exclusions.discard("dealer_group")
                return exclusions

            def clean(self) -> Any:
                data = super().clean()
                group = data.get("dealer_group")
                group_id = getattr(group, "pk", None) or self.instance.dealer_group_id
                refuse_other_groups(self, group_id)
                return data

        return OneGroupForm

    def get_exclude(self, request: AdminRequest, obj: Any = None) -> list[str]:
        exclude = list(super().get_exclude(request, obj) or [])
        if issubclass(self.model, TenantModel) and not request.user.is_platform_admin:
            exclude.append("dealer_group")
        return exclude

    def get_object(
        self, request: AdminRequest, object_id: str, from_field: str | None = None
    ) -> Any:
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(_("No such object in your dealer group."))
        return obj

    # --- writes
    def save_model(self, request: AdminRequest, obj: Any, form: Any, change: bool) -> None:
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

    def delete_model(self, request: AdminRequest, obj: Any) -> None:
        record_audit(actor=request.user, action="delete", obj=obj, before=snapshot(obj), after=None)
        super().delete_model(request, obj)

    def delete_queryset(self, request: AdminRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            self.delete_model(request, obj)

    def save_formset(self, request: AdminRequest, form: Any, formset: Any, change: bool) -> None:
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


def scope_related(
    request: AdminRequest, remote_model: Any, kwargs: dict[str, Any]
) -> dict[str, Any]:
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


def refuse_other_groups(form: forms.BaseForm, group_id: int | None) -> None:
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


class ScopedInline(admin.TabularInline):  # type: ignore[type-arg]  # generic only in the stubs
    extra = 0

    # Inlines are reached only through an admin that let a signed-in StaffUser in.
    def has_view_permission(self, request: AdminRequest, obj: Any = None) -> bool:
        user: StaffUser = request.user
        return user.has_perm_m4s(Perm.USE_BACK_OFFICE)

    def has_add_permission(self, request: AdminRequest, obj: Any = None) -> bool:
        user: StaffUser = request.user
        return user.has_perm_m4s(Perm.MANAGE_GROUP_SETTINGS)

    def formfield_for_foreignkey(self, db_field: Any, request: AdminRequest, **kwargs: Any) -> Any:
        kwargs = scope_related(request, db_field.remote_field.model, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    has_change_permission = has_delete_permission = has_add_permission

    def get_queryset(self, request: AdminRequest) -> QuerySet[Any]:
        rows: QuerySet[Any] = self.model.objects.for_actor(request.user)
        return rows

    def get_exclude(self, request: AdminRequest, obj: Any = None) -> list[str]:
        return ["dealer_group"]

    def get_formset(self, request: AdminRequest, obj: Any = None, **kwargs: Any) -> Any:
        request.m4s_admin_group_id = getattr(obj, "dealer_group_id", None)
        formset: Any = super().get_formset(request, obj, **kwargs)
        scoped = self.model.objects.for_actor(request.user)
        user = request.user

        class ScopedFormSet(formset):
            def add_fields(self, form: Any, index: int | None) -> None:
                # Django looks rows up by id through the unscoped default manager; scope it.
                super().add_fields(form, index)
                field = form.fields.get(self._pk_field.name)
                if field is not None and hasattr(field, "queryset"):
                    field.queryset = scoped

            def clean(self) -> None:
                super().clean()
                group_id = self.instance.dealer_group_id or user.dealer_group_id
                for form in self.forms:
                    if hasattr(form, "cleaned_data") and form not in self.deleted_forms:
                        refuse_other_groups(form, group_id)

        return ScopedFormSet


class PlatformOnlyAdmin(ScopedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]  # generic only in the stubs
    platform_only = True
    manage_perm = Perm.MANAGE_PLATFORM
    view_perm = Perm.MANAGE_PLATFORM


@admin.register(AuditEntry, site=admin_site)
class AuditEntryAdmin(ScopedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]  # generic only in the stubs
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

    def has_add_permission(self, request: AdminRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: AdminRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: AdminRequest, obj: Any = None) -> bool:
        return False
