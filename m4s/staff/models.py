from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from m4s.core.tenancy import TenantModel
from m4s.core.uploads import ProtectedImageField

from .choices import ROLE_PERMS, Role


class StaffUser(AbstractUser):
    """A staff account: bound to one dealer group (except platform and city roles) and its stores.

    Staff accounts keep Django's user manager (authentication needs it); reads of staff lists
    go through `m4s.staff.selectors`, which scope them to the acting user's group.
    """

    role = models.CharField(_("role"), max_length=24, choices=Role.choices)
    dealer_group = models.ForeignKey(
        "org.DealerGroup",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name=_("dealer group"),
    )
    local_org = models.ForeignKey(
        "org.LocalOrganisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="editors",
        verbose_name=_("local organisation"),
    )
    stores = models.ManyToManyField(
        "org.Store", blank=True, related_name="staff", verbose_name=_("stores")
    )
    display_name = models.CharField(_("display name"), max_length=80, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    photo = ProtectedImageField(
        _("photo"),
        area="staff-photos",
        access="m4s.customers.selectors.can_see_staff_photo",
        blank=True,
    )
    language = models.CharField(_("language"), max_length=8, default="zh-hans")

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        constraints = [
            models.CheckConstraint(
                condition=Q(dealer_group__isnull=False)
                | Q(
                    role__in=[Role.PLATFORM_ADMIN.value, Role.LOCAL_ORG_EDITOR.value]
                ),  # GROUPLESS_ROLES, in a stable order
                name="staff_in_group_unless_platform_or_city",
            ),
        ]

    def __str__(self):
        return self.display_name or self.get_full_name() or self.username

    @property
    def is_platform_admin(self) -> bool:
        return self.role == Role.PLATFORM_ADMIN and self.is_active

    def has_perm_m4s(self, perm: str) -> bool:
        return self.is_active and perm in ROLE_PERMS.get(self.role, frozenset())

    def store_ids(self) -> set[int]:
        if not hasattr(self, "_store_ids"):
            prefetched = getattr(self, "_prefetched_objects_cache", {}).get("stores")
            if prefetched is not None:  # a list of colleagues read with prefetch_related
                self._store_ids = {s.pk for s in prefetched}
            else:
                self._store_ids = set(self.stores.values_list("id", flat=True))
        return self._store_ids


class Shift(TenantModel):
    """A staff member's working hours at a store on one day (rosters)."""

    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shifts"
    )
    store = models.ForeignKey("org.Store", on_delete=models.CASCADE, related_name="shifts")
    date = models.DateField()
    starts_at = models.TimeField()
    ends_at = models.TimeField()

    class Meta:
        db_table = "customers_shift"  # rosters began in the customers area
        ordering = ["date", "starts_at"]
        indexes = [models.Index(fields=["store", "date"], name="shift_store_day")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="shift_ends_after_start"
            )
        ]

    def __str__(self):
        return f"{self.staff_id} {self.date} {self.starts_at:%H:%M}-{self.ends_at:%H:%M}"
