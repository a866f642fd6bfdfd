"""Keys and references that a client reuses for someone or something else are refused, not
silently answered with the first result; clawbacks and settlements count what really happened."""

import datetime as dt

from django.utils import timezone

from m4s.core.tests.factories import staff_token
from m4s.customers.services import get_or_create_customer_for_owner
from m4s.loyalty import ledger, selectors, services
from m4s.loyalty.choices import EntryKind
from m4s.loyalty.models import LedgerEntry
from m4s.owners.models import Owner

from .test_partner_api import _h


def _second_member(w):
    owner = Owner.objects.create(phone="+8613800009999", name="Wang Wu")
    return services.get_or_create_member(get_or_create_customer_for_owner(owner, w.store_a))


def _post(client, path, body, key, idem):
    return client.post(path, body, content_type="application/json", **_h(key, idem))


def test_a_partner_reference_is_one_purchase(club, client):
    w = club
    key = w.club.api_key
    other = _second_member(w)
    for m in (w.member, other):
        ledger.credit(m, 1000, reason="x", key=f"seed:{m.pk}", expires_at=None)
    first = {"member_code": w.member.code, "points": 300, "reference": "till-1"}
    assert _post(client, "/api/v1/partner/redeem", first, key, "i1").status_code == 201
    # The same receipt for another member, or for other points: refused, nobody charged twice.
    r = _post(client, "/api/v1/partner/redeem", {**first, "member_code": other.code}, key, "i2")
    assert r.status_code == 422 and r.json()["code"] == "idempotency_key_reused"
    r = _post(client, "/api/v1/partner/redeem", {**first, "points": 500}, key, "i3")
    assert r.status_code == 409 and r.json()["code"] == "reference_reused"
    for bad in ({**first, "reference": ""}, {**first, "points": True}):
        assert _post(client, "/api/v1/partner/redeem", bad, key, "i4").status_code == 422
    w.member.refresh_from_db()
    other.refresh_from_db()
    assert (w.member.balance, other.balance) == (700, 1000)

    earn = {"member_code": w.member.code, "amount": "100.00", "reference": "rc-1"}
    assert _post(client, "/api/v1/partner/earn", earn, key, "e1").status_code == 201
    r = _post(client, "/api/v1/partner/earn", {**earn, "member_code": other.code}, key, "e2")
    assert r.status_code == 409 and r.json()["code"] == "reference_reused"
    assert not LedgerEntry.objects.for_group(w.group_a).filter(member=other, partner__isnull=False)


def test_a_clawed_back_partner_earn_is_not_billed_to_the_partner(club, client, api_client):
    w = club
    key = w.club.api_key
    earn = {"member_code": w.member.code, "amount": "200.00", "reference": "rc-9"}
    assert _post(client, "/api/v1/partner/earn", earn, key, "e9").status_code == 201
    month = timezone.localdate()
    before = selectors.partner_settlement(w.club.partner, month)
    assert before["points_issued"] == 100
    r = api_client.post(
        "/api/v1/staff/loyalty/clawback",
        {"source": f"partner:{w.club.partner.pk}:rc-9", "reason": "receipt cancelled"},
        token=staff_token(w.admin_a),
    )
    assert r.status_code == 200 and [e["points"] for e in r.json()] == [-100]
    after = selectors.partner_settlement(w.club.partner, month)
    assert after["points_issued"] == 0 and after["partner_owes"] == 0
    for month in ("9999-12-01", "0001-01-01"):
        r = client.get(f"/api/v1/partner/settlement?month={month}", **_h(key))
        assert (
            r.status_code == 422 and r.json()["code"] == "validation_error"
        )  # SaneDate: 2000-2100


def test_staff_keys_and_event_sources_belong_to_one_member(club, api_client):
    w = club
    other = _second_member(w)
    admin = staff_token(w.admin_a)

    def adjust(member, points, key):
        return api_client.post(
            f"/api/v1/staff/loyalty/members/{member.pk}/adjust",
            {"points": points, "reason": "goodwill"},
            token=admin,
            HTTP_IDEMPOTENCY_KEY=key,
        )

    assert adjust(w.member, 50, "same").status_code == 201
    r = adjust(other, 50, "same")
    assert r.status_code == 422 and r.json()["code"] == "idempotency_key_reused"
    r = adjust(w.member, 80, "same")
    assert r.status_code == 422 and r.json()["code"] == "idempotency_key_reused"
    # One event, two guests: each checks in and earns once.
    for m in (w.member, other):
        r = api_client.post(
            f"/api/v1/staff/loyalty/members/{m.pk}/events",
            {"event": "event_checkin", "source": "event:12"},
            token=admin,
        )
        assert r.status_code == 201 and [e["points"] for e in r.json()] == [30]
    w.member.refresh_from_db()
    other.refresh_from_db()
    assert (w.member.balance, other.balance) == (80, 30)


def test_a_refund_after_the_points_expired_takes_nothing_else(club):
    w = club
    t0 = timezone.now()
    earn, _ = ledger.credit(
        w.member,
        100,
        kind=EntryKind.EARN,
        reason="Paid service",
        key="earn:ro:1",
        source=("service_paid", "ro:1"),
        expires_at=t0 + dt.timedelta(days=10),
        now=t0,
    )
    ledger.expire_lots(t0 + dt.timedelta(days=11))
    ledger.credit(w.member, 100, reason="fresh", key="fresh", expires_at=None)
    assert services.claw_back("ro:1", w.group_a.pk, reason="refund") == []
    w.member.refresh_from_db()
    assert w.member.balance == 100 and ledger.check_member(w.member) == []
    # Half spent, half expired: only the spent half comes back out of other points.
    spent, _ = ledger.credit(
        w.member,
        100,
        kind=EntryKind.EARN,
        reason="Paid service",
        key="earn:ro:2",
        source=("service_paid", "ro:2"),
        expires_at=t0 + dt.timedelta(days=20),
        now=t0,
    )
    ledger.debit(w.member, 150, kind=EntryKind.REDEEM, reason="wash", key="spend", now=t0)
    ledger.expire_lots(t0 + dt.timedelta(days=21))
    w.member.refresh_from_db()
    left = w.member.balance
    (reversal,) = services.claw_back("ro:2", w.group_a.pk, reason="refund")
    w.member.refresh_from_db()
    assert ledger.check_member(w.member) == []
    assert -reversal.points == min(left, 100 - 50) and w.member.balance == left + reversal.points
