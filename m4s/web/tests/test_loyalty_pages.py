"""The loyalty pages: the owner app's points, history, rewards (idempotent redemption), vouchers,
missions with the leaderboard opt-in, invitations and the public referral landing page; the
console's voucher desk, member lookup and page with the manual adjustment, and the report.
Another group's owner and staff see none of it (404 / not found)."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client, TestCase
from django.utils import timezone

from m4s.core.tests.factories import PASSWORD, OwnerFactory
from m4s.customers.models import Customer
from m4s.customers.services import get_or_create_customer_for_owner
from m4s.loyalty import ledger, rewards, services
from m4s.loyalty.choices import EntryKind, VoucherStatus
from m4s.loyalty.models import LedgerEntry, Member, Referral, Reward, Voucher
from m4s.owners.middleware import SESSION_KEY

pytestmark = pytest.mark.django_db

OWNER_PAGES = [
    "/app/loyalty/",
    "/app/loyalty/history/",
    "/app/loyalty/rewards/",
    "/app/loyalty/vouchers/",
    "/app/loyalty/missions/",
    "/app/loyalty/refer/",
    "/app/loyalty/refer/qr.svg",
]


def owner_client(owner) -> Client:
    """Signed in to the owner app, reading English (the assertions quote English messages)."""
    client = Client()
    session = client.session
    session[SESSION_KEY] = owner.pk
    session.save()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def staff_client(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert client.login(username=user.username, password=PASSWORD)
    return client


def text(response) -> str:
    return response.content.decode()


def give(member, points, key="gift"):
    ledger.credit(member, points, reason="Welcome gift", key=key, expires_at=None)


def balance(member) -> int:
    return Member.objects.for_group(member.dealer_group_id).get(pk=member.pk).balance


def key_of(page: str, reward_id: int) -> str:
    match = re.search(
        rf'action="/app/loyalty/rewards/{reward_id}/redeem/".*?name="key" value="([^"]+)"',
        page,
        re.S,
    )
    assert match, "no redeem form for this reward"
    return match.group(1)


def redeem(client, reward, key="k-0123456789"):
    return client.post(f"/app/loyalty/rewards/{reward.pk}/redeem/", {"key": key})


def vouchers(member):
    return Voucher.objects.for_group(member.dealer_group_id).filter(member=member)


# --- owner app -------------------------------------------------------------------------------------
def test_every_owner_page_renders_for_the_member_and_redirects_when_signed_out(club):
    give(club.member, 1000)
    voucher, _ = rewards.redeem_reward(club.member, club.club.rewards["wash"].pk, key="t1")
    client = owner_client(club.owner)
    pages = [*OWNER_PAGES, f"/app/loyalty/vouchers/{voucher.pk}/"]
    pages.append(f"/app/loyalty/vouchers/{voucher.pk}/qr.svg")
    for url in pages:
        assert client.get(url).status_code == 200, url
        response = Client().get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(f"/app/login/?next={url}")
    assert client.get(f"/app/loyalty/vouchers/{voucher.pk}/qr.svg")["Content-Type"] == (
        "image/svg+xml"
    )


def test_home_shows_balance_value_pending_tier_and_history(club):
    give(club.member, 1250)
    services.record_event(club.customer, "service_paid", source="ro:77", amount=Decimal(400))
    page = text(owner_client(club.owner).get("/app/loyalty/"))
    assert 'data-testid="balance">1,250<' in page
    assert "Worth ¥12.50" in page
    assert "+400 pending" in page  # Silver earns 1 point per yuan, pending for the return window
    assert 'data-testid="tier-name">Silver<' in page
    assert "more qualifying points to Gold" in page
    assert "Welcome gift" in page and "+1,250" in page
    assert 'data-testid="pending-marker"' in page
    assert "/app/loyalty/history/" in page
    for url in ("/app/loyalty/rewards/", "/app/loyalty/vouchers/", "/app/loyalty/missions/"):
        assert url in page
    assert "/app/loyalty/refer/" in page


def test_an_owner_who_is_not_a_member_is_asked_to_bind_a_car(club):
    stranger = OwnerFactory(home_store=club.store_a)
    for url in ("/app/loyalty/", "/app/loyalty/rewards/"):
        response = owner_client(stranger).get(url)
        assert response.status_code == 200
        assert 'data-testid="not-member"' in text(response)
        assert 'href="/app/cars/"' in text(response)
    assert not Customer.objects.for_group(club.group_a).filter(owner=stranger).exists()


def test_history_pages_through_older_entries(club):
    for i in range(35):
        give(club.member, 10, key=f"g{i}")
    client = owner_client(club.owner)
    first = text(client.get("/app/loyalty/history/"))
    assert first.count('data-testid="entry"') == 30
    older = re.search(r"\?before=(\d+)", first).group(1)
    second = text(client.get(f"/app/loyalty/history/?before={older}"))
    assert second.count('data-testid="entry"') == 5
    assert 'data-testid="older"' not in second


def test_redeeming_on_the_page_creates_one_voucher_even_when_posted_twice(club):
    give(club.member, 1000)
    wash = club.club.rewards["wash"]
    client = owner_client(club.owner)
    page = text(client.get("/app/loyalty/rewards/"))
    key = key_of(page, wash.pk)
    first = redeem(client, wash, key)
    assert first.status_code == 302
    voucher = vouchers(club.member).get()
    assert first["Location"] == f"/app/loyalty/vouchers/{voucher.pk}/"
    again = redeem(client, wash, key)  # a double tap or a retried request
    assert again["Location"] == first["Location"]
    assert vouchers(club.member).count() == 1
    assert balance(club.member) == 700
    shown = text(client.get(first["Location"]))
    assert voucher.code in shown
    assert "Redeemed: Car wash" in shown
    assert 'data-status="issued"' in shown and "Ready to use" in shown
    assert f"/app/loyalty/vouchers/{voucher.pk}/qr.svg" in shown
    assert voucher.code in text(client.get("/app/loyalty/vouchers/"))


def test_not_enough_points_shows_the_message_and_changes_nothing(club):
    give(club.member, 100)
    mug = club.club.rewards["mug"]
    client = owner_client(club.owner)
    page = text(client.get("/app/loyalty/rewards/"))
    assert "You need 200 more points" in page  # the car wash: 300 points
    assert "For Gold members and above" in page  # interior detailing
    response = redeem(client, mug)
    assert response.status_code == 409
    assert "Not enough points: 100 available, 800 needed." in text(response)
    assert not vouchers(club.member).exists()
    assert balance(club.member) == 100
    assert Reward.objects.for_group(club.group_a).get(pk=mug.pk).stock == 50


def test_a_redeem_without_a_key_or_of_another_groups_reward_is_refused(club):
    give(club.member, 1000)
    client = owner_client(club.owner)
    assert redeem(client, club.club.rewards["wash"], key="").status_code == 400
    response = redeem(client, club.club_b.rewards["wash"])
    assert response.status_code == 404
    assert "No such reward." in text(response)
    assert not vouchers(club.member).exists()
    assert balance(club.member) == 1000


def test_staff_uses_the_voucher_on_the_desk_and_the_owner_then_sees_it_used(club):
    give(club.member, 1000)
    voucher, _ = rewards.redeem_reward(club.member, club.club.rewards["wash"].pk, key="t2")
    desk = staff_client(club.advisor_a)
    assert desk.get("/console/loyalty/").status_code == 200
    used = desk.post("/console/loyalty/", {"code": f" {voucher.code.lower()} "})
    assert used.status_code == 200
    page = text(used)
    assert 'data-testid="desk-used"' in page
    assert "Car wash: used" in page and club.member.code in page
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.USED and voucher.used_by == club.advisor_a

    owner_page = text(owner_client(club.owner).get(f"/app/loyalty/vouchers/{voucher.pk}/"))
    assert 'data-status="used"' in owner_page and "Used" in owner_page

    again = desk.post("/console/loyalty/", {"code": voucher.code})
    assert again.status_code == 409
    assert "This voucher was already used at" in text(again)


def test_desk_refuses_unknown_and_expired_codes(club):
    give(club.member, 1000)
    voucher, _ = rewards.redeem_reward(
        club.member,
        club.club.rewards["wash"].pk,
        key="t3",
        now=timezone.now() - dt.timedelta(days=40),
    )
    desk = staff_client(club.advisor_a)
    expired = desk.post("/console/loyalty/", {"code": voucher.code})
    assert expired.status_code == 410
    assert "This voucher has expired." in text(expired)
    unknown = desk.post("/console/loyalty/", {"code": "NOPE2345"})
    assert unknown.status_code == 404 and "No such voucher." in text(unknown)
    assert desk.post("/console/loyalty/", {"code": ""}).status_code == 400
    owner_page = text(owner_client(club.owner).get(f"/app/loyalty/vouchers/{voucher.pk}/"))
    assert 'data-status="expired"' in owner_page


def test_missions_page_shows_progress_badges_and_the_leaderboard_opt_in(club):
    # mission progress follows an earn on commit (in a batch): run what each earn leaves behind
    with TestCase.captureOnCommitCallbacks(execute=True):
        for i in range(3):
            services.record_event(club.customer, "appointment_kept", source=f"appt:{i}")
    client = owner_client(club.owner)
    page = text(client.get("/app/loyalty/missions/"))
    assert 'data-testid="mission-done"' in page and "Punctual" in page  # 3 on time: the badge
    assert "0 / 5" in page  # five partners in 60 days: not started
    assert 'data-testid="board-empty"' in page

    assert client.post("/app/loyalty/missions/name/", {"name": "  Camry   Dad ", "opt_in": "1"})[
        "Location"
    ].startswith("/app/loyalty/missions/")
    assert Member.objects.for_group(club.group_a).get(pk=club.member.pk).leaderboard_name == (
        "Camry Dad"
    )
    page = text(client.get("/app/loyalty/missions/"))
    assert 'data-testid="board-row"' in page and "Camry Dad" in page

    too_long = client.post("/app/loyalty/missions/name/", {"name": "x" * 31, "opt_in": "1"})
    assert too_long.status_code == 400
    assert "at most 30 characters" in text(too_long)
    client.post("/app/loyalty/missions/name/", {"name": "ignored", "opt_out": "1"})
    assert Member.objects.for_group(club.group_a).get(pk=club.member.pk).leaderboard_name == ""


def test_refer_page_shows_the_code_link_and_qr(club):
    page = text(owner_client(club.owner).get("/app/loyalty/refer/"))
    code = club.member.referral_code
    assert code in page
    assert f"http://testserver/app/loyalty/r/{code}/" in page
    assert "/app/loyalty/refer/qr.svg" in page
    assert "You get 500 points when a friend you invite binds a car." in page


def test_referral_landing_asks_to_sign_in_then_attributes_the_referral(club):
    code = club.member.referral_code
    friend = OwnerFactory(home_store=club.store_a)
    friend_customer = get_or_create_customer_for_owner(friend, club.store_a)

    visitor = Client()
    visitor.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    landing = visitor.get(f"/app/loyalty/r/{code.lower()}/")
    assert landing.status_code == 200
    assert f"/app/login/?store={club.store_a.pk}&amp;next=/app/loyalty/r/{code}/" in text(landing)
    assert visitor.session["m4s_referral"] == code
    assert not Referral.objects.for_group(club.group_a).exists()

    client = owner_client(friend)
    done = client.get(f"/app/loyalty/r/{code}/")
    assert done.status_code == 200
    assert 'data-testid="referred"' in text(done)
    referral = Referral.objects.for_group(club.group_a).get()
    assert referral.referrer == club.member
    assert referral.referee.customer == friend_customer
    assert client.get(f"/app/loyalty/r/{code}/").status_code == 200  # coming back is fine
    assert Referral.objects.for_group(club.group_a).count() == 1


def test_a_new_owner_joins_through_the_landing_page_and_the_referrer_earns_on_binding(club):
    code = club.member.referral_code
    friend = OwnerFactory(home_store=club.store_a)
    client = owner_client(friend)
    page = client.get(f"/app/loyalty/r/{code}/")
    assert 'data-testid="accept"' in text(page)
    assert not Customer.objects.for_group(club.group_a).filter(owner=friend).exists()
    joined = client.post(f"/app/loyalty/r/{code}/")
    assert 'data-testid="referred"' in text(joined)
    referral = Referral.objects.for_group(club.group_a).get()
    assert referral.referee.customer.owner == friend


def test_own_or_unknown_referral_codes_are_refused_clearly(club):
    client = owner_client(club.owner)
    own = client.get(f"/app/loyalty/r/{club.member.referral_code}/")
    assert own.status_code == 409
    assert "This is your own invitation link" in text(own)
    unknown = client.get("/app/loyalty/r/ZZZZZZ/")
    assert unknown.status_code == 404
    assert "This referral code is not valid." in text(unknown)
    assert not Referral.objects.unscoped().exists()


def test_another_groups_owner_gets_404_on_the_voucher(club):
    give(club.member, 1000)
    voucher, _ = rewards.redeem_reward(club.member, club.club.rewards["wash"].pk, key="t4")
    other = owner_client(club.owner_b)
    for url in (
        f"/app/loyalty/vouchers/{voucher.pk}/",
        f"/app/loyalty/vouchers/{voucher.pk}/qr.svg",
    ):
        response = other.get(url)
        assert response.status_code == 404, url
        assert voucher.code not in text(response)
    assert voucher.code not in text(other.get("/app/loyalty/vouchers/"))


# --- console ---------------------------------------------------------------------------------------
def test_console_pages_need_sign_in_and_the_capability(club):
    for url in (
        "/console/loyalty/",
        f"/console/loyalty/members/{club.member.pk}/",
        "/console/loyalty/report/",
    ):
        response = Client().get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url
    advisor = staff_client(club.advisor_a)
    assert advisor.get("/console/loyalty/report/").status_code == 403
    assert 'href="/console/loyalty/"' in text(advisor.get("/console/loyalty/"))  # the nav link


def test_another_groups_staff_cannot_use_or_find_group_a_vouchers_and_members(club):
    give(club.member, 1000)
    voucher, _ = rewards.redeem_reward(club.member, club.club.rewards["wash"].pk, key="t5")
    desk = staff_client(club.advisor_b)
    response = desk.post("/console/loyalty/", {"code": voucher.code})
    assert response.status_code == 404
    assert "No such voucher." in text(response)
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.ISSUED
    found = text(desk.get("/console/loyalty/", {"q": club.member.code}))
    assert 'data-testid="no-members"' in found and 'data-testid="member-row"' not in found
    assert desk.get(f"/console/loyalty/members/{club.member.pk}/").status_code == 404
    admin_b = staff_client(club.admin_b)
    adjust = admin_b.post(
        f"/console/loyalty/members/{club.member.pk}/adjust/",
        {"points": "500", "reason": "x", "key": "k-0123456789"},
    )
    assert adjust.status_code == 404
    assert balance(club.member) == 700


def test_lookup_shows_balance_pending_tier_and_vouchers(club):
    give(club.member, 1000)
    services.record_event(club.customer, "appointment_kept", source="appt:1")  # +50, Silver
    rewards.redeem_reward(club.member, club.club.rewards["wash"].pk, key="t6")
    desk = staff_client(club.advisor_a)
    found = text(desk.get("/console/loyalty/", {"q": club.member.code}))
    assert found.count('data-testid="member-row"') == 1
    assert club.customer.name in found and ">750<" in found and "Silver" in found
    page = text(desk.get(f"/console/loyalty/members/{club.member.pk}/"))
    assert "Car wash" in page and 'data-status="issued"' in page
    assert "You may not adjust points." in page  # an advisor has no ADJUST_POINTS


def test_adjustment_needs_the_capability_and_a_reason(club):
    url = f"/console/loyalty/members/{club.member.pk}/adjust/"
    denied = staff_client(club.advisor_a).post(
        url, {"points": "500", "reason": "goodwill", "key": "k-0123456789"}
    )
    assert denied.status_code == 403
    assert balance(club.member) == 0

    admin = staff_client(club.admin_a)
    no_reason = admin.post(url, {"points": "500", "reason": " ", "key": "k-0123456789"})
    assert no_reason.status_code == 400
    assert "Say why the points are adjusted." in text(no_reason)
    bad = admin.post(url, {"points": "lots", "reason": "goodwill", "key": "k-0123456789"})
    assert bad.status_code == 400
    assert balance(club.member) == 0

    page = text(admin.get(f"/console/loyalty/members/{club.member.pk}/"))
    key = re.search(r'name="key" value="([^"]+)"', page).group(1)
    ok = admin.post(url, {"points": "+500", "reason": "Delayed repair", "key": key})
    assert ok.status_code == 302
    admin.post(url, {"points": "+500", "reason": "Delayed repair", "key": key})  # resubmitted
    assert balance(club.member) == 500
    entry = LedgerEntry.objects.for_group(club.group_a).get(member=club.member)
    assert (entry.kind, entry.reason, entry.actor) == (
        EntryKind.ADJUST,
        "Delayed repair",
        club.admin_a,
    )
    shown = text(admin.get(ok["Location"]))
    assert "Adjusted by +500 points: Delayed repair" in shown

    too_much = admin.post(url, {"points": "-900", "reason": "typo", "key": "k-9876543210"})
    assert too_much.status_code == 409
    assert "Not enough points" in text(too_much)
    assert balance(club.member) == 500


def test_report_shows_the_programmes_numbers(club):
    give(club.member, 1000)
    rewards.redeem_reward(club.member, club.club.rewards["wash"].pk, key="t7")
    services.adjust(club.admin_a, club.member, 50, reason="goodwill", key="a1")
    response = staff_client(club.admin_a).get("/console/loyalty/report/")
    assert response.status_code == 200
    page = text(response)
    assert 'data-testid="issued">1,000<' in page
    assert 'data-testid="redeemed">300<' in page
    assert 'data-testid="expired">0<' in page
    assert 'data-testid="liability">¥7.50<' in page  # 750 points × ¥0.01
    assert 'data-testid="members">1<' in page  # group B's member is not counted
    assert "Car wash" in page and "1 redeemed · 0 used" in page
    assert (
        "<svg" in page and 'class="m4s-bar issued"' in page and 'class="m4s-bar redeemed"' in page
    )


def test_list_pages_use_a_fixed_number_of_queries(club, django_assert_max_num_queries):
    give(club.member, 5000)
    services.adjust(club.admin_a, club.member, 10, reason="goodwill", key="q-adjust")
    for i in range(8):
        rewards.redeem_reward(club.member, club.club.rewards["wash"].pk, key=f"q{i}")
    owner = owner_client(club.owner)
    for url, most in (("/app/loyalty/vouchers/", 12), ("/app/loyalty/history/", 12)):
        with django_assert_max_num_queries(most):
            assert owner.get(url).status_code == 200
    staff = staff_client(club.admin_a)
    with django_assert_max_num_queries(8):
        assert staff.get("/console/loyalty/", {"q": club.member.code}).status_code == 200
    with django_assert_max_num_queries(18):
        assert staff.get(f"/console/loyalty/members/{club.member.pk}/").status_code == 200
