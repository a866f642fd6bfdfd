"""Structural tenant isolation.

Every tenant-owned model inherits `TenantModel`: it carries its dealer group, and its default
manager returns querysets that refuse to run until they are scoped with `.for_group(group)`,
`.for_actor(user)` or the explicit escape hatch `.unscoped()`. Forgetting the scope is an
exception in tests and development, never a silent leak of another group's rows.

Related managers (`store.holidays.all()`) count as scoped: their parent row was reached through
a scoped read, and they filter on it. `exists()` is left unchecked because Django's own
uniqueness validation calls it on the default manager; it returns a boolean, never a row.
"""

from collections.abc import Iterator
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class TenantScopeError(RuntimeError):
    """A tenant-owned table was read without saying whose rows to read."""


class TenantQuerySet(models.QuerySet[Any]):
    _tenant_scoped = False

    def _clone(self) -> "TenantQuerySet":
        clone: TenantQuerySet = super()._clone()  # type: ignore[misc]  # private QuerySet API, not in the stubs
        clone._tenant_scoped = self._tenant_scoped
        return clone

    def _scoped(self) -> "TenantQuerySet":
        clone: TenantQuerySet = self._chain()  # type: ignore[attr-defined]  # private QuerySet API
        clone._tenant_scoped = True
        return clone

    def for_group(self, group: Any) -> "TenantQuerySet":
        """Rows of one dealer group (a DealerGroup or its id)."""
        group_id = getattr(group, "pk", group)
        if group_id is None:
            return self.none()._scoped()
        return self.filter(dealer_group_id=group_id)._scoped()

    def for_actor(self, user: Any) -> "TenantQuerySet":
        """Rows the acting staff member may see: platform admins see all, others their group."""
        if user is None or not getattr(user, "is_authenticated", False):
            return self.none()._scoped()
        if getattr(user, "is_platform_admin", False):
            return self._scoped()
        return self.for_group(user.dealer_group_id)

    def for_owner(self, owner: Any) -> "TenantQuerySet":
        """Rows an app owner may see as their own, in every group they are a customer of: the
        model names the path to the Owner in `owner_lookup` (e.g. "customer__owner"). A model
        without one has no owner rows and raises; no owner (or an unsaved one) sees nothing."""
        lookup = getattr(self.model, "owner_lookup", None)
        if not lookup:
            raise TenantScopeError(
                f"{self.model.__name__} has no owner_lookup: it cannot be read for an owner"
            )
        owner_id = getattr(owner, "pk", owner)
        if owner_id is None:
            return self.none()._scoped()
        return self.filter(**{lookup: owner_id})._scoped()

    def unscoped(self) -> "TenantQuerySet":
        """Every group's rows: for platform jobs (scheduled scans, migrations, the platform console)."""
        return self._scoped()

    def _check_scope(self) -> None:
        if not self._tenant_scoped:
            raise TenantScopeError(
                f"{self.model.__name__} read without a tenant scope: "
                "use .for_group(), .for_actor() or .unscoped()"
            )

    def _fetch_all(self) -> None:
        if self._result_cache is None:
            self._check_scope()
        super()._fetch_all()

    def iterator(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        self._check_scope()
        return super().iterator(*args, **kwargs)

    def count(self) -> int:
        self._check_scope()
        return super().count()

    def aggregate(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self._check_scope()
        return super().aggregate(*args, **kwargs)

    def update(self, **kwargs: Any) -> int:
        self._check_scope()
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        self._check_scope()
        return super().delete()


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):  # type: ignore[misc]
    def get_queryset(self) -> TenantQuerySet:
        qs: TenantQuerySet = super().get_queryset()
        if getattr(self, "instance", None) is not None:
            # A related manager (parent.children): already narrowed to one parent row.
            qs._tenant_scoped = True
        return qs


class TenantModel(models.Model):
    dealer_group = models.ForeignKey(
        "org.DealerGroup",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=True,
        verbose_name=_("dealer group"),
    )

    objects = TenantManager()

    class Meta:
        abstract = True
