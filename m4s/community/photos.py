"""Who may download a story photo (m4s.core.views.media_file calls this through the `access`
path of the field): for a published story, the owners and staff of its dealer group; for any
other state, its author and the group's moderators."""

from m4s.core.uploads import requesting_owner, requesting_staff


def can_see_story_photo(request, photo) -> bool:
    from .selectors import stories_for_owner, stories_for_staff

    staff, owner = requesting_staff(request), requesting_owner(request)
    if staff is not None and stories_for_staff(staff).filter(pk=photo.story_id).exists():
        return True
    return owner is not None and stories_for_owner(owner).filter(pk=photo.story_id).exists()
