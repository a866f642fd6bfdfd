"""Who may download a request's photos (m4s.core.views.media_file calls this through the
field's `access` path): the owner of the request and the group's staff."""

from m4s.core.uploads import requesting_owner, requesting_staff

from .models import TradeInPhoto


def can_see_photo(request, photo: TradeInPhoto) -> bool:
    staff = requesting_staff(request)
    if staff is not None and (
        getattr(staff, "is_platform_admin", False) or staff.dealer_group_id == photo.dealer_group_id
    ):
        return True
    owner = requesting_owner(request)
    return owner is not None and TradeInPhoto.objects.for_owner(owner).filter(pk=photo.pk).exists()
