"""Store services: an owner's rental bookings, course sign-ups, violations they asked the store
to clear and the photos of their scratch repairs (m4s/privacy/registry.py). The requests
themselves are the requests area's (its privacy module erases them, and with them these rows);
erasure here deletes the photos' files and any photo uploaded but never sent."""

from m4s.core.personal_data import rows

from .models import CourseSignup, RentalBooking, ScratchPhoto, ViolationClearing

PERSONAL_FIELDS = {
    "assistance.RentalBooking": {"starts_on", "ends_on", "created_at"},
    "assistance.ScratchPhoto": {"image", "created_at"},
    "assistance.CourseSignup": {"created_at"},
}
NOT_PERSONAL = {
    "assistance.AgencyFee": {
        "name": "the group's price list of agency services",
        "name_i18n": "the group's price list of agency services",
        "kind": "a fixed list of services",
    },
    "assistance.RentalCar": {
        "name": "a dealer's rental car",
        "model": "a dealer's rental car",
        "plate": "a dealer's rental car (the dealer's own plate)",
    },
    "assistance.Course": {
        "title": "the group's course catalogue",
        "title_i18n": "the group's course catalogue",
        "description": "the group's course catalogue",
        "description_i18n": "the group's course catalogue",
    },
    "assistance.CourseSession": {"instructor": "the store's instructor, published to owners"},
}


def _photos(owner):
    return ScratchPhoto.objects.unscoped().filter(owner=owner)


def export_owner(owner) -> dict:
    photos = list(_photos(owner).order_by("created_at"))
    return {
        "rows": {
            "rental_bookings": rows(
                RentalBooking.objects.unscoped()
                .filter(request__owner=owner)
                .select_related("car")
                .order_by("starts_on"),
                [
                    "car.name",
                    "car.plate",
                    "starts_on",
                    "ends_on",
                    "price_total",
                    "deposit",
                    "status",
                ],
            ),
            "course_signups": rows(
                CourseSignup.objects.unscoped()
                .filter(request__owner=owner)
                .select_related("session__course")
                .order_by("created_at"),
                ["session.course.title", "session.starts_at", "status", "position", "created_at"],
            ),
            "violations_to_clear": rows(
                ViolationClearing.objects.unscoped()
                .filter(request__owner=owner)
                .select_related("violation")
                .order_by("id"),
                ["violation.description", "violation.occurred_at", "fee"],
            ),
            "scratch_photos": rows(photos, ["request_id", "created_at"]),
        },
        "files": [p.image.name for p in photos if p.image],
    }


def erase_owner(owner) -> dict:
    photos = list(_photos(owner))
    for p in photos:
        if p.image:
            p.image.delete(save=False)
    count, _ = _photos(owner).delete()
    return {"scratch photos deleted": count}
