import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from m4s.core.errors import DomainError
from m4s.org.models import Store

from .choices import GROUPLESS_ROLES, Perm, Role
from .models import Shift, StaffUser
from .permissions import check_perm


@transaction.atomic
def create_staff(
    *,
    username: str,
    password: str,
    role: Role,
    group=None,
    stores=(),
    local_org=None,
    display_name: str = "",
    phone: str = "",
) -> StaffUser:
    if role not in Role.values:
        raise DomainError("invalid_role", _("Unknown role %(role)r.") % {"role": role})
    if group is None and role not in GROUPLESS_ROLES:
        raise DomainError("group_required", _("This role belongs to a dealer group."))
    for store in stores:
        if store.dealer_group_id != getattr(group, "pk", None):
            raise DomainError(
                "store_outside_group",
                _("A staff member can only work at stores of their own group."),
            )
    user = StaffUser(
        username=username,
        role=role,
        dealer_group=group,
        local_org=local_org,
        display_name=display_name,
        phone=phone,
        is_staff=role in {Role.PLATFORM_ADMIN, Role.GROUP_ADMIN, Role.STORE_MANAGER},
        is_superuser=role == Role.PLATFORM_ADMIN,
    )
    user.set_password(password)
    user.save()
    if stores:
        user.stores.set(stores)
    return user


def can_use_back_office(user) -> bool:
    return user.is_active and user.has_perm_m4s(Perm.USE_BACK_OFFICE)


# --- rosters -----------------------------------------------------------------------------------
def add_shift(
    actor, *, staff: StaffUser, store: Store, date: dt.date, starts_at: dt.time, ends_at: dt.time
) -> Shift:
    check_perm(actor, Perm.ASSIGN_CUSTOMERS)
    if staff.dealer_group_id != store.dealer_group_id or store.pk not in staff.store_ids():
        raise DomainError("invalid_staff", _("This staff member does not work at that store."))
    if ends_at <= starts_at:
        raise DomainError("invalid_hours", _("A shift must end after it starts."))
    overlap = (
        Shift.objects.for_group(store.dealer_group_id)
        .filter(staff=staff, date=date, starts_at__lt=ends_at, ends_at__gt=starts_at)
        .exists()
    )
    if overlap:
        raise DomainError(
            "overlapping_shift", _("This shift overlaps another shift of the same person.")
        )
    return Shift.objects.create(
        dealer_group_id=store.dealer_group_id,
        staff=staff,
        store=store,
        date=date,
        starts_at=starts_at,
        ends_at=ends_at,
    )
