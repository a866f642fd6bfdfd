from .models import Shift, StaffUser


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


def on_duty(store, role: str, at) -> list:
    """Staff of a role working at a store at a moment (from the roster), for routing."""
    local = at.astimezone(store.tz)
    staff_ids = (
        Shift.objects.for_group(store.dealer_group_id)
        .filter(
            store=store, date=local.date(), starts_at__lte=local.time(), ends_at__gt=local.time()
        )
        .values("staff")
    )
    return list(
        StaffUser.objects.filter(pk__in=staff_ids, role=role, is_active=True).order_by("username")
    )
