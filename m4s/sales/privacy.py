"""Sales leads: a lead names a customer (or a prospect by name and phone), with notes staff
wrote (m4s/privacy/registry.py). Export lists the owner's leads; erasure keeps the lead for
the group's figures (stage, value, dates) but removes who it was: customer, name, phone, notes."""

from django.db.models import Q

from m4s.core.personal_data import rows

from .models import Lead, LeadActivity

PERSONAL_FIELDS = {
    "sales.Lead": {"name", "phone", "lost_note", "created_at"},
    "sales.LeadActivity": {"note"},
}
NOT_PERSONAL = {
    "sales.Lead": {
        "lost_reason": "a choice from a fixed list (price, bought elsewhere, ...)",
    },
}


def _leads(owner):
    match = Q(customer__owner=owner)
    if getattr(owner, "phone", ""):
        match |= Q(phone=owner.phone)
    return Lead.objects.unscoped().filter(match)


def export_owner(owner) -> dict:
    return {
        "rows": {
            "sales_leads": rows(
                _leads(owner).order_by("created_at"),
                ["source", "stage", "value", "created_at", "won_at", "lost_at"],
            ),
        },
        "files": [],
    }


def erase_owner(owner) -> dict:
    ids = list(_leads(owner).values_list("pk", flat=True))
    notes = LeadActivity.objects.unscoped().filter(lead_id__in=ids).update(note="")
    leads = (
        Lead.objects.unscoped()
        .filter(pk__in=ids)
        .update(customer=None, name="", phone="", lost_note="")
    )
    return {"sales leads anonymised": leads, "sales notes cleared": notes}
