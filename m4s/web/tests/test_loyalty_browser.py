"""In headless Chromium: an owner redeems a car-wash reward on the phone, staff mark the voucher
used by its code at the console desk, and the owner's voucher page shows it used."""

import pytest

from .test_browser import DESKTOP, PHONE, console_sign_in, expect, owner_sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def live_club(_allow_sync_playwright, transactional_db, club, live_server):
    return club


def test_redeem_a_car_wash_and_use_it_at_the_desk(live_club, live_server, new_context):
    from m4s.loyalty import ledger
    from m4s.loyalty.models import Member, Voucher

    w = live_club
    base = live_server.url
    ledger.credit(w.member, 450, reason="Paid service", key="seed", expires_at=None)
    # Both read English (signing in sets their own language; reward names are translated).
    w.owner.language = "en"
    w.owner.save(update_fields=["language"])
    w.advisor_a.language = "en"
    w.advisor_a.save(update_fields=["language"])
    phone = new_context(**{**PHONE, "locale": "en-GB"}).new_page()
    desk = new_context(**{**DESKTOP, "locale": "en-GB"}).new_page()

    owner_sign_in(phone, base, w.owner.phone)
    phone.goto(f"{base}/app/loyalty/rewards/")
    wash = phone.locator("[data-testid=reward]", has_text="Car wash").first
    wash.locator("[data-testid=redeem]").click()
    wash.locator("[data-testid=confirm-redeem]").click()
    phone.wait_for_url(f"{base}/app/loyalty/vouchers/*/")
    code = phone.locator("[data-testid=voucher-code]").inner_text().strip().replace(" ", "")
    expect(phone.locator("[data-testid=voucher-status]")).to_have_attribute("data-status", "issued")
    voucher = Voucher.objects.for_group(w.group_a).get(member=w.member)
    assert voucher.code == code
    assert Member.objects.for_group(w.group_a).get(pk=w.member.pk).balance == 150

    console_sign_in(desk, base, w.advisor_a.username)
    desk.goto(f"{base}/console/loyalty/")
    desk.locator("[data-testid=voucher-code-input]").fill(code)
    desk.locator("[data-testid=use-voucher]").click()
    expect(desk.locator("[data-testid=desk-used]")).to_contain_text("Car wash")

    # The owner's page notices by itself (it re-checks while the voucher is open).
    expect(phone.locator("[data-testid=voucher-status]")).to_have_attribute(
        "data-status", "used", timeout=15_000
    )
    voucher.refresh_from_db()
    assert voucher.status == "used" and voucher.used_by == w.advisor_a
