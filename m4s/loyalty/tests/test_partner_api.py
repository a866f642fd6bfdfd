"""The partner-merchant API: API keys, Idempotency-Key, earn, redeem, vouchers, settlement;
partners see only their own group's members and their own vouchers."""

import json
import re
from decimal import Decimal

import pytest

from m4s.core.tests.parallel import post_in_parallel, skip_on_sqlite
from m4s.loyalty import ledger, rewards
from m4s.loyalty.choices import EntryKind
from m4s.loyalty.models import LedgerEntry, PartnerRequest


def _h(key, idem=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    if idem:
        headers["HTTP_IDEMPOTENCY_KEY"] = idem
    return headers


def test_earn_is_idempotent_and_lands_pending(club, client):
    w = club
    key = w.club.api_key
    body = {"member_code": w.member.code, "amount": "88.00", "reference": "receipt-1"}
    r = client.post("/api/v1/partner/earn", body, content_type="application/json", **_h(key, "k1"))
    assert r.status_code == 201, r.content
    assert (
        r.json()["points"] == 44 and r.json()["pending"] == 44
    )  # 0.5 point per CNY, in the return window
    again = client.post(
        "/api/v1/partner/earn", body, content_type="application/json", **_h(key, "k1")
    )
    assert again.status_code == 201 and again.json() == r.json()
    assert LedgerEntry.objects.for_group(w.group_a).filter(partner=w.club.partner).count() == 1
    other = client.post(
        "/api/v1/partner/earn",
        {**body, "amount": "99.00"},
        content_type="application/json",
        **_h(key, "k1"),
    )
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    missing = client.post("/api/v1/partner/earn", body, content_type="application/json", **_h(key))
    # The header is required by the operation's schema (declared in the OpenAPI document).
    assert missing.status_code == 422 and missing.json()["code"] == "validation_error"
    bad = client.post(
        "/api/v1/partner/earn",
        {**body, "amount": "-5"},
        content_type="application/json",
        **_h(key, "k9"),
    )
    assert bad.status_code == 422
    assert (
        client.post(
            "/api/v1/partner/earn",
            body,
            content_type="application/json",
            **_h("pk_nope.wrong", "k2"),
        ).status_code
        == 401
    )


def test_redeem_points_and_vouchers(club, client):
    w = club
    key = w.club.api_key
    ledger.credit(w.member, 1000, reason="x", key="seed", expires_at=None)
    r = client.post(
        "/api/v1/partner/redeem",
        {"member_code": w.member.code, "points": 300, "reference": "c-1"},
        content_type="application/json",
        **_h(key, "r1"),
    )
    assert r.status_code == 201 and r.json()["balance"] == 700
    r2 = client.post(
        "/api/v1/partner/redeem",
        {"member_code": w.member.code, "points": 300, "reference": "c-1"},
        content_type="application/json",
        **_h(key, "r1"),
    )
    assert r2.json() == r.json()
    w.member.refresh_from_db()
    assert w.member.balance == 700
    r = client.post(
        "/api/v1/partner/redeem",
        {"member_code": w.member.code, "points": 5000, "reference": "c-2"},
        content_type="application/json",
        **_h(key, "r2"),
    )
    assert r.status_code == 409 and r.json()["code"] == "insufficient_points"
    assert not PartnerRequest.objects.for_group(w.group_a).filter(key="r2").exists()
    # The partner honours its own reward's voucher, not the dealer's car wash.
    own, _ = rewards.redeem_reward(w.member, w.club.rewards["partner_wash"].pk, key="v1")
    dealers, _ = rewards.redeem_reward(w.member, w.club.rewards["wash"].pk, key="v2")
    r = client.post(
        "/api/v1/partner/redeem",
        {"voucher_code": dealers.code, "reference": "c-3"},
        content_type="application/json",
        **_h(key, "r3"),
    )
    assert r.status_code == 404
    r = client.post(
        "/api/v1/partner/redeem",
        {"voucher_code": own.code, "reference": "c-4"},
        content_type="application/json",
        **_h(key, "r4"),
    )
    assert r.status_code == 201 and r.json()["status"] == "used"
    s = client.get("/api/v1/partner/settlement", **_h(key)).json()
    assert s["points_burned"] == 300 + 400 and s["vouchers_used"] == 1
    assert Decimal(s["dealer_owes"]) == Decimal("7.00") + Decimal("40.00")


def test_partners_see_only_their_group(club, client):
    w = club
    key_b = w.club_b.api_key
    r = client.get(f"/api/v1/partner/members/{w.member.code}", **_h(key_b))
    assert r.status_code == 404
    r = client.post(
        "/api/v1/partner/earn",
        {"member_code": w.member.code, "amount": "10", "reference": "x"},
        content_type="application/json",
        **_h(key_b, "b1"),
    )
    assert r.status_code == 404
    assert (
        client.get(f"/api/v1/partner/members/M4S:{w.member.code}", **_h(w.club.api_key)).status_code
        == 200
    )
    assert not LedgerEntry.objects.for_group(w.group_a).filter(kind=EntryKind.EARN).exists()


def test_partner_created_in_the_back_office_gets_a_working_key_once(club, client):
    from m4s.loyalty.models import Partner

    w = club
    client.force_login(w.admin_a)
    r = client.post(
        "/admin/loyalty/partner/add/",
        {
            "name": "Beans Coffee",
            "category": "coffee",
            "points_per_yuan": "1.00",
            "is_active": "on",
        },
        follow=True,
    )
    assert r.status_code == 200
    page = r.content.decode()
    key = re.search(r"pk_[0-9a-f]{8}\.[\w-]+", page).group(0)  # shown once, in any language
    partner = Partner.objects.for_group(w.group_a).get(name="Beans Coffee")
    assert key.startswith(partner.key_prefix + ".") and partner.key_hash != key
    assert client.get(f"/api/v1/partner/members/{w.member.code}", **_h(key)).status_code == 200
    assert client.get("/admin/loyalty/partner/").status_code == 200
    client.force_login(w.admin_b)
    assert client.get(f"/admin/loyalty/partner/{partner.pk}/change/").status_code == 404


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["earn", "redeem"])
def test_parallel_retries_with_one_key_get_the_stored_answer(club, path):
    """Eight retries of one partner call race in with the same Idempotency-Key: every one gets
    the first call's answer (never a 500), and the points move once."""
    skip_on_sqlite()
    w = club
    ledger.credit(w.member, 1000, reason="x", key="seed", expires_at=None)
    body = {"member_code": w.member.code, "reference": "receipt-8"} | (
        {"amount": "88.00"} if path == "earn" else {"points": 300}
    )
    results = post_in_parallel(f"/api/v1/partner/{path}", body, **_h(w.club.api_key, "same-8"))
    assert {status for status, _ in results} == {201}, results
    assert len({json.dumps(data, sort_keys=True) for _, data in results}) == 1, results
    entries = LedgerEntry.objects.for_group(w.group_a).filter(partner=w.club.partner)
    assert entries.count() == 1
    assert PartnerRequest.objects.for_group(w.group_a).filter(key="same-8").count() == 1
    w.member.refresh_from_db()
    assert ledger.check_member(w.member) == []
    # The same key with another body is still refused, and changes nothing.
    other = post_in_parallel(
        f"/api/v1/partner/{path}",
        {**body, "reference": "receipt-9"},
        n=2,
        **_h(w.club.api_key, "same-8"),
    )
    assert [s for s, _ in other] == [422, 422]
    assert {d["code"] for _, d in other} == {"idempotency_key_reused"}
    assert entries.count() == 1
