"""Who may download a conversation photo (m4s.core.views.media_file calls this through the
`access` path of the field): the owner of the conversation, and staff of its store who may
see the customer and work conversations."""

from m4s.core.uploads import requesting_owner, requesting_staff


def can_see_message_photo(request, photo) -> bool:
    from .selectors import conversations_for_owner, conversations_for_staff

    staff, owner = requesting_staff(request), requesting_owner(request)
    if staff is not None and (
        conversations_for_staff(staff).filter(pk=photo.conversation_id).exists()
    ):
        return True
    return owner is not None and (
        conversations_for_owner(owner).filter(pk=photo.conversation_id).exists()
    )
