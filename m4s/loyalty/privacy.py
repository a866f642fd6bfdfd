"""Points membership: ledger amounts stay (accounting), identity goes (m4s/privacy/registry.py)."""

from m4s.core.personal_data import erased_phone, rows

from .models import LedgerEntry, Member, MemberBadge, Referral, Voucher

PERSONAL_FIELDS = {
    "loyalty.Member": {"leaderboard_name"},
    "loyalty.Referral": {"phone", "vin"},
}
NOT_PERSONAL = {
    "loyalty.Programme": {"name": "programme"},
    "loyalty.Tier": {"name": "programme", "name_i18n": "programme"},
    "loyalty.Partner": {"name": "a merchant"},
    "loyalty.Campaign": {"name": "programme"},
    "loyalty.EarningRule": {"name": "programme", "name_i18n": "programme"},
    "loyalty.Reward": {
        "name": "catalogue",
        "name_i18n": "catalogue",
        "description": "catalogue",
        "description_i18n": "catalogue",
    },
    "loyalty.Coupon": {"name": "catalogue", "name_i18n": "catalogue"},
    "loyalty.Badge": {
        "name": "catalogue",
        "name_i18n": "catalogue",
        "description": "catalogue",
        "description_i18n": "catalogue",
    },
    "loyalty.Mission": {
        "name": "catalogue",
        "name_i18n": "catalogue",
        "description": "catalogue",
        "description_i18n": "catalogue",
    },
    "loyalty.LedgerEntry": {
        "reason": "why points moved (a rule, a staff reason): kept with the amounts",
        "reason_text": "why points moved, translated: kept with the amounts",
    },
}


def export_owner(owner) -> dict:
    members = Member.objects.unscoped().filter(customer__owner=owner)
    return {
        "rows": {
            "loyalty_memberships": rows(
                members.select_related("dealer_group", "tier").order_by("pk"),
                ["dealer_group.name", "code", "tier.name", "balance", "pending", "joined_at"],
            ),
            "points_history": rows(
                LedgerEntry.objects.unscoped()
                .filter(member__customer__owner=owner)
                .select_related("member")
                .order_by("created_at", "id"),
                ["member.code", "kind", "points", "display_reason", "created_at", "expires_at"],
            ),
            "vouchers": rows(
                Voucher.objects.unscoped()
                .filter(member__customer__owner=owner)
                .select_related("reward")
                .order_by("issued_at"),
                ["code", "reward.name", "status", "issued_at", "expires_at", "used_at"],
            ),
            "badges": rows(
                MemberBadge.objects.unscoped()
                .filter(member__customer__owner=owner)
                .select_related("badge"),
                ["badge.name", "awarded_at"],
            ),
        },
        "files": [],
    }


def erase_owner(owner) -> dict:
    """The member row and its ledger stay (balances, campaign budgets and partner settlements
    are accounting); the member becomes anonymous with its customer record."""
    members = list(
        Member.objects.unscoped().filter(customer__owner=owner).values_list("pk", flat=True)
    )
    named = Member.objects.unscoped().filter(pk__in=members).update(leaderboard_name="")
    referrals = 0
    for pk in (
        Referral.objects.unscoped().filter(referee_id__in=members).values_list("pk", flat=True)
    ):
        referrals += (
            Referral.objects.unscoped().filter(pk=pk).update(phone=erased_phone(pk), vin="")
        )
    return {"members anonymised": named, "referrals anonymised": referrals}
