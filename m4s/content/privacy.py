"""Content: what an owner read (m4s/privacy/registry.py). Items, their texts, pictures and
places are published by staff for many owners and hold no owner's data.

Erasure deletes the owner's reads; the item's totals then count one reader less."""

from m4s.core.personal_data import rows

from .models import ContentView

PERSONAL_FIELDS = {
    "content.ContentView": {"first_seen", "last_seen", "count"},
}
NOT_PERSONAL = {
    "content.ContentTranslation": {
        "title": "published content written by staff",
        "body_html": "published content written by staff",
    },
    "content.ContentItem": {
        "tags": "published content's tags",
        "places": "public places of a violation-prone-area warning",
        "reject_reason": "an approver's note on staff content",
    },
    "content.ContentImage": {"image": "a published picture (no person's data)"},
    "content.KnowledgeCategory": {"name": "catalogue", "name_i18n": "catalogue"},
    "content.MagazineIssue": {"title": "catalogue", "title_i18n": "catalogue"},
}


def export_owner(owner) -> dict:
    reads = ContentView.objects.filter(owner=owner).select_related("item").order_by("first_seen")
    return {
        "rows": {"content_read": rows(reads, ["item_id", "first_seen", "last_seen", "count"])},
        "files": [],
    }


def erase_owner(owner) -> dict:
    deleted, _ = ContentView.objects.filter(owner=owner).delete()
    return {"content reads deleted": deleted}
