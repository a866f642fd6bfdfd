"""Who may download a complaint photo (m4s.core.views.media_file calls this through the
`access` path of the field): the complaining owner, and staff who may open the complaint."""

from m4s.core.uploads import requesting_owner, requesting_staff


def can_see_complaint_photo(request, photo) -> bool:
    from .selectors import complaints_for_owner, complaints_for_staff

    staff, owner = requesting_staff(request), requesting_owner(request)
    if staff is not None and complaints_for_staff(staff).filter(pk=photo.complaint_id).exists():
        return True
    return owner is not None and (
        complaints_for_owner(owner).filter(pk=photo.complaint_id).exists()
    )
