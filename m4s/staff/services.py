from django.db import transaction
from django.utils.translation import gettext as _

from m4s.core.errors import DomainError

from .choices import GROUPLESS_ROLES, Perm, Role
from .models import StaffUser


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
