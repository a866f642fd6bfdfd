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
