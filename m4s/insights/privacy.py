"""What the insight area knows about an owner (m4s/privacy/registry.py): for each dealer group
they are a customer of, their profile (the features the nightly job computed, their RFM segment
and their churn risk with its reasons). Owners may see how they were profiled, so the export
holds it; erasure deletes it (the next nightly run does not recreate it: an erased owner's
customers are gone)."""

from m4s.core.personal_data import rows

from .models import CustomerInsight

PERSONAL_FIELDS = {
    "insights.CustomerInsight": {"reasons"},
}
NOT_PERSONAL: dict[str, dict[str, str]] = {}


def export_owner(owner) -> dict:
    profile = rows(
        CustomerInsight.objects.for_owner(owner).order_by("customer_id"),
        [
            "customer_id",
            "as_of",
            "last_paid_visit",
            "visits_24m",
            "spend_24m",
            "segment",
            "churn_risk",
            "risk_band",
            "reasons",
            "scored_at",
        ],
    )
    return {"rows": {"customer_profile": profile}, "files": []}


def erase_owner(owner) -> dict:
    deleted, _ = CustomerInsight.objects.for_owner(owner).delete()
    return {"customer profiles deleted": deleted}


# --- part C: segments and campaigns ------------------------------------------------------------
# A campaign member row says which campaign an owner's customer record was in, in which arm
# (treated/control) and what the contact policy decided: exported, deleted on erasure.
NOT_PERSONAL.update(
    {
        "insights.Segment": {"name": "a segment's name, chosen by staff"},
        "insights.Campaign": {
            "name": "a campaign's name, chosen by staff",
            "title": "the campaign message's title, written by staff for a whole segment",
            "body": "the campaign message's text, written by staff for a whole segment",
        },
    }
)

_export_before_campaigns = export_owner
_erase_before_campaigns = erase_owner


def export_owner(owner) -> dict:  # type: ignore[no-redef]
    from .models import CampaignMember

    out = _export_before_campaigns(owner)
    out["rows"]["campaign_memberships"] = rows(
        CampaignMember.objects.for_owner(owner).order_by("campaign_id", "customer_id"),
        ["campaign_id", "customer_id", "arm", "outcome", "why", "decided_at"],
    )
    return out


def erase_owner(owner) -> dict:  # type: ignore[no-redef]
    from .models import CampaignMember

    out = _erase_before_campaigns(owner)
    deleted, _ = CampaignMember.objects.for_owner(owner).delete()
    out["campaign memberships deleted"] = deleted
    return out
