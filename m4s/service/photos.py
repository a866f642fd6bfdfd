"""Who may download a service photo (m4s.core.views.media_file calls these through the `access`
dotted path of the photo fields): the owner concerned and staff who may open the visit."""

from m4s.core.uploads import requesting_owner, requesting_staff

from .selectors import (
    appointments_for,
    appointments_of_owner,
    repair_orders_for,
    repair_orders_of_owner,
)


def can_see_appointment_photo(request, photo) -> bool:
    """An owner's photo of a problem: that owner, and staff who may open the appointment."""
    staff, owner = requesting_staff(request), requesting_owner(request)
    if staff is not None and appointments_for(staff).filter(pk=photo.appointment_id).exists():
        return True
    return owner is not None and (
        appointments_of_owner(owner).filter(pk=photo.appointment_id).exists()
    )


def can_see_repair_photo(request, photo) -> bool:
    """A walk-round or inspection photo: the repair order's owner and staff who may open it."""
    staff, owner = requesting_staff(request), requesting_owner(request)
    if staff is not None and repair_orders_for(staff).filter(pk=photo.repair_order_id).exists():
        return True
    return owner is not None and (
        repair_orders_of_owner(owner).filter(pk=photo.repair_order_id).exists()
    )
