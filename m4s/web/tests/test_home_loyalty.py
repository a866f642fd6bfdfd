"""The owner home links points and visits, and a redeemed voucher shows up as a to-do."""

from m4s.loyalty import ledger, rewards

from .test_loyalty_pages import owner_client


def test_home_links_points_and_lists_a_ready_voucher(club):
    w = club
    client = owner_client(w.owner)
    page = client.get("/app/").content.decode()
    assert 'href="/app/loyalty/"' in page and 'href="/app/service/"' in page
    assert "voucher is ready" not in page
    ledger.credit(w.member, 300, reason="x", key="seed", expires_at=None)
    voucher, _ = rewards.redeem_reward(w.member, w.club.rewards["wash"].pk, key="v")
    page = client.get("/app/").content.decode()
    assert (
        "Your Car wash voucher is ready" in page and f"/app/loyalty/vouchers/{voucher.pk}/" in page
    )
    rewards.use_voucher(voucher.code, actor=w.advisor_a)
    assert "voucher is ready" not in client.get("/app/").content.decode()
    # "Recommend a friend" is live now.
    assert "/app/loyalty/refer/" in client.get("/app/g/service/").content.decode()
