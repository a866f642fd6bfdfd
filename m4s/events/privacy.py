"""Car-pal events: an owner's sign-ups (tickets, check-ins) and the photos they added after an
event (m4s/privacy/registry.py). Erasure deletes both: the event keeps only its counts; the
story the photos became is the community area's (its own privacy module erases it)."""

from m4s.core.personal_data import rows

from .models import EventPhoto, Signup

PERSONAL_FIELDS = {
    "events.Signup": {"token", "checked_in_at", "created_at", "cancelled_at"},
    "events.EventPhoto": {"image"},
}
NOT_PERSONAL = {
    "events.Event": {
        "title": "the group's event (catalogue text written by staff)",
        "title_i18n": "the group's event",
        "description": "the group's event",
        "description_i18n": "the group's event",
        "place_name": "where the event is held (a public place)",
        "address": "where the event is held (a public place)",
        "latitude": "where the event is held (a public place)",
        "longitude": "where the event is held (a public place)",
    },
}


def _signups(owner):
    return Signup.objects.unscoped().filter(customer__owner=owner)


def _photos(owner):
    return EventPhoto.objects.unscoped().filter(customer__owner=owner)


def export_owner(owner) -> dict:
    photos = list(_photos(owner).select_related("event").order_by("created_at"))
    return {
        "rows": {
            "event_signups": rows(
                _signups(owner).select_related("event").order_by("created_at"),
                [
                    "event.title",
                    "event.starts_at",
                    "event.place_name",
                    "status",
                    "position",
                    "created_at",
                    "cancelled_at",
                    "checked_in_at",
                ],
            ),
            "event_photos": rows(photos, ["event.title", "created_at"]),
        },
        "files": [p.image.name for p in photos if p.image],
    }


def erase_owner(owner) -> dict:
    photos = list(_photos(owner))
    for p in photos:
        if p.image:
            p.image.delete(save=False)
    photo_count, _ = _photos(owner).delete()
    signups, _ = _signups(owner).delete()
    return {"event sign-ups deleted": signups, "event photos deleted": photo_count}
