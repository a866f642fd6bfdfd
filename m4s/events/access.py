"""Who may download an event's pictures (m4s.core.views.media_file calls these through the
`access` path of the fields): the cover, owners of the event's groups and the group's staff; an
owner's photo, that owner and the group's staff."""

from m4s.core.uploads import requesting_owner, requesting_staff

from .choices import EventStatus
from .models import Event, EventPhoto
from .selectors import owner_group_ids


def _staff_sees(request, group_id: int) -> bool:
    staff = requesting_staff(request)
    return staff is not None and (
        getattr(staff, "is_platform_admin", False) or staff.dealer_group_id == group_id
    )


def can_see_cover(request, event: Event) -> bool:
    if _staff_sees(request, event.dealer_group_id):
        return True
    owner = requesting_owner(request)
    if owner is None or event.status == EventStatus.DRAFT:  # a draft is the staff's only
        return False
    return event.dealer_group_id in owner_group_ids(owner)


def can_see_photo(request, photo: EventPhoto) -> bool:
    if _staff_sees(request, photo.dealer_group_id):
        return True
    owner = requesting_owner(request)
    return owner is not None and EventPhoto.objects.for_owner(owner).filter(pk=photo.pk).exists()
