"""Every Idempotency-Key path of the loyalty API under eight concurrent retries with one key
(PostgreSQL): each retry gets the first call's answer, never a 500, and the points move once."""

import pytest

from m4s.core.models import AuditEntry
from m4s.core.tests.factories import owner_token, staff_token
from m4s.core.tests.parallel import post_in_parallel, skip_on_sqlite
from m4s.loyalty import ledger
from m4s.loyalty.choices import EntryKind
from m4s.loyalty.models import LedgerEntry, Reward, Voucher


@pytest.mark.django_db(transaction=True)
def test_parallel_owner_redemptions_with_one_key_issue_one_voucher(club):
    skip_on_sqlite()
    w = club
    ledger.credit(w.member, 2000, reason="x", key="seed", expires_at=None)
    mug = w.club.rewards["mug"]  # 800 points, limited stock
    results = post_in_parallel(
        f"/api/v1/me/rewards/{mug.pk}/redeem",
        None,
        HTTP_AUTHORIZATION=f"Bearer {owner_token(w.owner)}",
        HTTP_IDEMPOTENCY_KEY="tap-8",
    )
    assert sorted(s for s, _ in results) == [200] * 7 + [201], results
    assert len({d["voucher"]["code"] for _, d in results}) == 1
    assert {d["balance"] for _, d in results} == {1200}
    assert Voucher.objects.for_group(w.group_a).count() == 1
    assert Reward.objects.for_group(w.group_a).get(pk=mug.pk).stock == mug.stock - 1
    w.member.refresh_from_db()
    assert w.member.balance == 1200 and ledger.check_member(w.member) == []


@pytest.mark.django_db(transaction=True)
def test_parallel_staff_adjustments_with_one_key_adjust_once(club):
    skip_on_sqlite()
    w = club
    results = post_in_parallel(
        f"/api/v1/staff/loyalty/members/{w.member.pk}/adjust",
        {"points": 150, "reason": "goodwill"},
        HTTP_AUTHORIZATION=f"Bearer {staff_token(w.admin_a)}",
        HTTP_IDEMPOTENCY_KEY="adj-8",
    )
    assert {s for s, _ in results} == {201}, results
    assert len({d["id"] for _, d in results}) == 1
    assert LedgerEntry.objects.for_group(w.group_a).filter(kind=EntryKind.ADJUST).count() == 1
    assert (
        AuditEntry.objects.for_group(w.group_a)
        .filter(object_type="loyalty.member", object_id=str(w.member.pk))
        .count()
        == 1
    )
    w.member.refresh_from_db()
    assert w.member.balance == 150
