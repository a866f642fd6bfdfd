"""Who may see a catalogue picture: anybody once the model is published (marketing material),
the group's staff (and platform admins) always."""

from m4s.core.uploads import requesting_staff


def can_see_model_picture(request, obj) -> bool:
    model = getattr(obj, "car_model", obj)
    if model.published:
        return True
    staff = requesting_staff(request)
    if staff is None:
        return False
    return bool(
        getattr(staff, "is_platform_admin", False)
        or getattr(staff, "dealer_group_id", None) == obj.dealer_group_id
    )
