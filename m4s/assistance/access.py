"""Who may download a scratch-repair photo (m4s.core.views.media_file calls this through the
field's `access` path): the owner who took it and the staff of its dealer group."""

from m4s.core.uploads import requesting_owner, requesting_staff

from .models import ScratchPhoto


def can_see_scratch_photo(request, photo: ScratchPhoto) -> bool:
    staff = requesting_staff(request)
    if staff is not None and (
        getattr(staff, "is_platform_admin", False) or staff.dealer_group_id == photo.dealer_group_id
    ):
        return True
    owner = requesting_owner(request)
    return owner is not None and photo.owner_id == owner.pk
