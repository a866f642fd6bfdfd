from django.db.models import Q

from .models import StaffUser


def list_staff(actor):
    qs = (
        StaffUser.objects.select_related("dealer_group")
        .prefetch_related("stores")
        .order_by("username")
    )
    if actor.is_platform_admin:
        return qs
    if actor.dealer_group_id is None:
        return qs.none()
    return qs.filter(dealer_group_id=actor.dealer_group_id)


def can_see_staff_photo(request, person) -> bool:
    """A staff photo: colleagues of the same group, and owners whose consultant this person is."""
    from m4s.core.uploads import requesting_owner, requesting_staff
    from m4s.customers.models import Customer

    staff, owner = requesting_staff(request), requesting_owner(request)
    if staff is not None and list_staff(staff).filter(pk=person.pk).exists():
        return True
    if owner is None or person.dealer_group_id is None:
        return False
    return (
        Customer.objects.for_group(person.dealer_group_id)
        .filter(owner_id=owner.pk)
        .filter(Q(sales_consultant=person) | Q(service_advisor=person) | Q(cs_agent=person))
        .exists()
    )
