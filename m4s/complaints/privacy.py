"""Complaints: the owner's cases, their conversation and photos (m4s/privacy/registry.py).

Erasure keeps every complaint row (its category, severity, clocks, breaches, escalations,
rating and root cause: the store's figures and SLA reports count them) and removes the
owner's own text (description, rating comment, what they wrote in the conversation), the
record of their calls' notes about them, and every photo of their cases."""

from django.db.models import Q

from m4s.core.personal_data import rows

from .models import Complaint, ComplaintEvent, ComplaintPhoto

PERSONAL_FIELDS = {
    "complaints.Complaint": {"description", "rating_comment"},
    "complaints.ComplaintEvent": {"body"},
    "complaints.ComplaintPhoto": {"image"},
}
NOT_PERSONAL = {
    "complaints.ComplaintCategory": {"name": "catalogue", "name_i18n": "catalogue"},
    "complaints.RootCause": {"name": "catalogue", "name_i18n": "catalogue"},
    "complaints.Complaint": {
        "resolution": "the staff's account of the fix, kept for the root-cause figures",
    },
    "complaints.ComplaintEvent": {"text": "system text (a code and parameters), no free text"},
    "complaints.Escalation": {
        "note": "the staff member's note on an escalation",
        "reason": "why it escalated (a choice: breach, manual)",
    },
    "complaints.CorrectiveAction": {"check_note": "the store's preventive-action check"},
}


def _complaints(owner):
    return Complaint.objects.unscoped().filter(Q(customer__owner=owner) | Q(owner=owner))


def export_owner(owner) -> dict:
    complaints = _complaints(owner).select_related("store", "category").order_by("created_at")
    events = (
        ComplaintEvent.objects.unscoped()
        .filter(complaint__in=_complaints(owner), owner_visible=True)
        .select_related("complaint")
        .order_by("complaint_id", "at", "id")
    )
    photos = ComplaintPhoto.objects.unscoped().filter(complaint__in=_complaints(owner))
    out = rows(
        events,
        ["complaint.reference", "kind", "at", "display_text", "body"],
    )
    for row, event in zip(out, events, strict=True):
        row["from"] = "you" if event.author_owner_id else "staff"
    return {
        "rows": {
            "complaints": rows(
                complaints,
                [
                    "reference",
                    "store.name",
                    "category.name",
                    "severity",
                    "status",
                    "channel",
                    "description",
                    "created_at",
                    "resolved_at",
                    "closed_at",
                    "resolution",
                    "rating",
                    "rating_comment",
                ],
            ),
            "complaint_messages": out,
        },
        "files": [p.image.name for p in photos if p.image],
    }


def erase_owner(owner) -> dict:
    ids = list(_complaints(owner).values_list("pk", flat=True))
    if not ids:
        return {}
    complaints = (
        Complaint.objects.unscoped()
        .filter(pk__in=ids)
        .update(description="", rating_comment="", owner=None)
    )
    written = (
        ComplaintEvent.objects.unscoped()
        .filter(complaint_id__in=ids)
        .filter(Q(author_owner=owner) | Q(author_staff__isnull=True))
        .update(body="", author_owner=None)
    )
    photos = ComplaintPhoto.objects.unscoped().filter(complaint_id__in=ids)
    names = [n for n in photos.values_list("image", flat=True) if n]
    deleted, _ = photos.delete()
    storage = ComplaintPhoto._meta.get_field("image").storage
    for name in names:
        storage.delete(name)
    return {
        "complaints anonymised (kept for the figures)": complaints,
        "owner's messages cleared": written,
        "photos deleted": deleted,
    }
