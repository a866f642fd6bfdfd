"""Earning from real events (settled repair orders, kept appointments, surveys, bindings, partner
purchases) under rules, caps and budgets; tiers; missions; referrals; vouchers; coupons."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from m4s.core.errors import DomainError
from m4s.customers.models import Customer
from m4s.demo import synthetic
from m4s.demo.starters import loyalty as starter
from m4s.loyalty import earning, ledger, rewards, selectors, services
from m4s.loyalty.choices import EntryKind, Event
from m4s.loyalty.models import (
    Campaign,
    Coupon,
    CouponCode,
    EarningRule,
    LedgerEntry,
    Member,
    MemberEvent,
    Referral,
)
from m4s.service.tests.helpers import ready_order
from m4s.vehicles.models import Vehicle

NOW = dt.datetime(2026, 6, 1, 10, tzinfo=dt.UTC)


def _entries(member, **kw):
    return list(
        LedgerEntry.objects.for_group(member.dealer_group_id)
        .filter(member=member, **kw)
        .order_by("id")
    )


def test_a_settled_repair_order_earns_pending_points_once(
    workshop, django_capture_on_commit_callbacks
):
    from m4s.service import billing as billing_services

    w = workshop
    club = starter.install_programme(w.group_a)
    with django_capture_on_commit_callbacks(execute=True):
        ro = _settled_order(w, billing_services)  # customer pays 860 net
    member = Member.objects.for_group(w.group_a).get(customer=w.customer)
    earned = _entries(member, kind=EntryKind.EARN)
    assert [(e.reason, e.points, e.is_pending) for e in earned] == [("Paid service", 860, True)]
    assert (member.balance, member.pending) == (0, 860)
    # A second delivery of the same hand-off changes nothing.
    from m4s.service.billing import Settlement

    services.on_service_settled(
        Settlement(
            ro.pk,
            w.group_a.pk,
            w.store_a.pk,
            w.customer.pk,
            w.owner.pk,
            0,
            Decimal("860"),
            timezone.now(),
        )
    )
    assert len(_entries(member, kind=EntryKind.EARN)) == 1
    # The return window closes: the points become spendable. Then the order is refunded.
    ledger.release_pending(
        timezone.now() + dt.timedelta(days=club.programme.pending_days, minutes=1)
    )
    member.refresh_from_db()
    assert (member.balance, member.pending) == (860, 0)
    with django_capture_on_commit_callbacks(execute=True):
        note = billing_services.refund(
            w.manager_a, ro, reason="Battery was under warranty after all"
        )
    member.refresh_from_db()
    assert member.balance == 0 and ledger.check_member(member) == []
    (reversal,) = _entries(member, kind=EntryKind.REVERSE)
    assert reversal.reverses_id == earned[0].pk and reversal.points == -860
    assert note.customer_amount == ro.invoice.customer_pay_total
    # The hook delivered twice (a retried job) takes nothing more.
    services.on_service_refunded(
        billing_services.Refund(
            ro.pk, w.group_a.pk, w.store_a.pk, w.customer.pk, note.pk, "again", timezone.now()
        )
    )
    assert len(_entries(member, kind=EntryKind.REVERSE)) == 1


def test_a_refund_takes_back_only_what_is_left(workshop, django_capture_on_commit_callbacks):
    """Points already spent are not taken twice: the member never goes below zero."""
    from m4s.service import billing as billing_services

    w = workshop
    club = starter.install_programme(w.group_a)
    with django_capture_on_commit_callbacks(execute=True):
        ro = _settled_order(w, billing_services)
    ledger.release_pending(
        timezone.now() + dt.timedelta(days=club.programme.pending_days, minutes=1)
    )
    member = Member.objects.for_group(w.group_a).get(customer=w.customer)
    wash = club.rewards["wash"]
    rewards.redeem_reward(member, wash.pk, key="spend-first")
    member.refresh_from_db()
    left = member.balance
    assert 0 < left < 860
    with django_capture_on_commit_callbacks(execute=True):
        billing_services.refund(w.manager_a, ro, reason="Customer complaint")
    member.refresh_from_db()
    assert member.balance == 0 and ledger.check_member(member) == []
    assert -sum(e.points for e in _entries(member, kind=EntryKind.REVERSE)) == left


def _settled_order(w, service):
    """80 labour + 780 battery: the customer pays 860 net."""
    return ready_order(w, [("BATT", "28800-YZZJ4")], symptoms="battery weak", settle=True)[0]


def test_daily_and_total_caps_and_tier_multiplier(club):
    w = club
    like = w.club.rules["like"]  # 2 points, at most 20 a day
    for i in range(15):
        services.record_event(w.customer, Event.LIKE_RECEIVED, source=f"like:{i}", now=NOW)
    assert sum(e.points for e in _entries(w.member, rule=like)) == 20
    services.record_event(
        w.customer, Event.LIKE_RECEIVED, source="like:next-day", now=NOW + dt.timedelta(days=1)
    )
    assert sum(e.points for e in _entries(w.member, rule=like)) == 22
    # Gold multiplies: 1.25 × 50 kept-appointment points, rounded down.
    ledger.credit(
        w.member, 5000, reason="big", key="big", expires_at=None, qualifying=True, now=NOW
    )
    services.upgrade_tier_now(w.member, NOW)
    w.member.refresh_from_db()
    assert w.member.tier.name == "Gold"
    services.record_event(w.customer, Event.APPOINTMENT_KEPT, source="appointment:1", now=NOW)
    assert _entries(w.member, rule=w.club.rules["kept"])[0].points == 62


def test_campaign_budget_is_never_overspent(club, rng):
    w = club
    campaign = w.club.campaign
    Campaign.objects.for_group(w.group_a).filter(pk=campaign.pk).update(budget=500)
    for i in range(4):
        c = Customer.objects.create(
            dealer_group=w.group_a, store=w.store_a, name=f"B{i}", phone=f"+8613555{i:06d}"
        )
        services.record_event(c, Event.CAR_BOUND, source=f"bind:{i}", now=NOW)
    campaign.refresh_from_db()
    assert campaign.spent == 400  # two more 200-point awards would exceed 500
    assert LedgerEntry.objects.for_group(w.group_a).filter(campaign=campaign).count() == 2


@pytest.mark.django_db(transaction=True)
def test_budget_holds_under_parallel_earning(club):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the race is meaningful on PostgreSQL")
    w = club
    Campaign.objects.for_group(w.group_a).filter(pk=w.club.campaign.pk).update(budget=1000)
    people = [
        Customer.objects.create(
            dealer_group=w.group_a, store=w.store_a, name=f"P{i}", phone=f"+8613444{i:06d}"
        )
        for i in range(8)
    ]
    barrier = threading.Barrier(8)

    def earn(c):
        barrier.wait()
        try:
            services.record_event(c, Event.CAR_BOUND, source=f"bind:{c.pk}")
        finally:
            connection.close()

    threads = [threading.Thread(target=earn, args=(c,)) for c in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    campaign = Campaign.objects.for_group(w.group_a).get(pk=w.club.campaign.pk)
    awarded = LedgerEntry.objects.for_group(w.group_a).filter(campaign=campaign).count()
    assert campaign.spent == 1000 and awarded == 5


def test_distinct_count_mission_window_edges(club):
    w = club
    explorer = w.club.missions["explorer"]  # 5 different partners within 60 days
    start = NOW
    for i, day in enumerate([0, 10, 20, 30]):
        services.record_event(
            w.customer,
            Event.PARTNER_PURCHASE,
            source=f"p:{i}",
            key=f"partner:{i}",
            now=start + dt.timedelta(days=day),
        )
    # The same partner again does not count twice.
    services.record_event(
        w.customer,
        Event.PARTNER_PURCHASE,
        source="p:dup",
        key="partner:3",
        now=start + dt.timedelta(days=31),
    )
    assert services.mission_progress(w.member, explorer, start + dt.timedelta(days=31)) == 4
    # Exactly 60 days after the first purchase it has left the window: still 4 distinct.
    at_edge = start + dt.timedelta(days=60)
    services.record_event(
        w.customer, Event.PARTNER_PURCHASE, source="p:5", key="partner:5", now=at_edge
    )
    assert services.mission_progress(w.member, explorer, at_edge) == 4
    earning.follow_up_pending()  # mission progress follows the earns in a batch
    assert not w.member.completions.exists()
    # One second earlier it would still have counted: a fifth partner inside the window completes it.
    services.record_event(
        w.customer,
        Event.PARTNER_PURCHASE,
        source="p:6",
        key="partner:6",
        now=at_edge + dt.timedelta(seconds=1),
    )
    assert services.mission_progress(w.member, explorer, at_edge + dt.timedelta(seconds=1)) == 5
    earning.follow_up_pending()
    assert w.member.completions.get().mission == explorer
    assert w.member.badges.get().badge.name == "Explorer"
    assert _entries(w.member, source_type="mission")[0].points == 500
    # Completing again later grants nothing more.
    services.record_event(
        w.customer,
        Event.PARTNER_PURCHASE,
        source="p:7",
        key="partner:7",
        now=at_edge + dt.timedelta(days=1),
    )
    earning.follow_up_pending()
    assert len(_entries(w.member, source_type="mission")) == 1


def test_referrals_two_levels_with_guards(club, rng):
    w = club
    alice = w.member
    bob_c = Customer.objects.create(
        dealer_group=w.group_a, store=w.store_a, name="Bob", phone="+8613700000001"
    )
    carol_c = Customer.objects.create(
        dealer_group=w.group_a, store=w.store_a, name="Carol", phone="+8613700000002"
    )
    with pytest.raises(DomainError) as e:
        services.attribute_referral(w.customer, alice.referral_code)
    assert e.value.code == "self_referral"
    services.attribute_referral(bob_c, alice.referral_code)
    with pytest.raises(DomainError) as e:
        services.attribute_referral(bob_c, alice.referral_code)
    assert e.value.code == "already_referred"
    bob = services.get_or_create_member(bob_c)
    services.attribute_referral(carol_c, bob.referral_code)
    with pytest.raises(DomainError) as e:
        services.attribute_referral(w.customer_b, alice.referral_code)  # another group's code
    assert e.value.code == "invalid_referral"
    car = Vehicle.objects.create(
        dealer_group=w.group_a, vin=synthetic.make_vin(rng), plate=synthetic.make_plate(rng)
    )
    carol_c.owner = None
    services.on_car_bound(
        type(
            "B",
            (),
            {
                "dealer_group_id": w.group_a.pk,
                "customer_id": carol_c.pk,
                "vehicle_id": car.pk,
                "vin": car.vin,
            },
        )()
    )
    # Bob (level 1) gets 500, Alice (level 2) 100; Carol gets the binding points.
    assert [e.points for e in _entries(bob, kind=EntryKind.EARN)] == [500]
    assert [e.points for e in _entries(alice, kind=EntryKind.EARN)] == [100]
    carol = Member.objects.for_group(w.group_a).get(customer=carol_c)
    assert [e.reason for e in _entries(carol, kind=EntryKind.EARN)] == ["Bound a car"]
    assert Referral.objects.for_group(w.group_a).get(referee=carol).vin == car.vin


def test_redeem_and_use_a_voucher_in_the_same_minute(club, api_client):
    from m4s.core.tests.factories import owner_token, staff_token

    w = club
    ledger.credit(w.member, 350, reason="x", key="seed", expires_at=None)
    me = owner_token(w.owner)
    wash = w.club.rewards["wash"]
    r = api_client.post(
        f"/api/v1/me/rewards/{wash.pk}/redeem", token=me, HTTP_IDEMPOTENCY_KEY="tap-1"
    )
    assert r.status_code == 201, r.content
    voucher = r.json()["voucher"]
    assert r.json()["balance"] == 50
    again = api_client.post(
        f"/api/v1/me/rewards/{wash.pk}/redeem", token=me, HTTP_IDEMPOTENCY_KEY="tap-1"
    )
    assert again.status_code == 200 and again.json()["voucher"]["code"] == voucher["code"]
    r = api_client.post(
        f"/api/v1/me/rewards/{wash.pk}/redeem", token=me, HTTP_IDEMPOTENCY_KEY="tap-2"
    )
    assert r.status_code == 409 and r.json()["code"] == "insufficient_points"
    assert (
        api_client.post(
            f"/api/v1/staff/vouchers/{voucher['code']}/use", token=staff_token(w.advisor_b)
        ).status_code
        == 404
    )  # other group
    r = api_client.post(
        f"/api/v1/staff/vouchers/{voucher['code'].lower()}/use", token=staff_token(w.advisor_a)
    )
    assert r.status_code == 200 and r.json()["reward"] == "Car wash"
    r = api_client.post(
        f"/api/v1/staff/vouchers/{voucher['code']}/use", token=staff_token(w.advisor_a)
    )
    assert r.status_code == 409 and r.json()["code"] == "already_used"
    assert api_client.get("/api/v1/me/vouchers", token=me).json()[0]["status"] == "used"
    # Tier-only rewards are refused below the tier.
    r = api_client.post(
        f"/api/v1/me/rewards/{w.club.rewards['detail'].pk}/redeem",
        token=me,
        HTTP_IDEMPOTENCY_KEY="tap-3",
    )
    assert r.status_code == 403 and r.json()["code"] == "tier_too_low"


def test_owner_api_summary_ledger_missions(club, api_client):
    from m4s.core.tests.factories import owner_token

    w = club
    services.record_event(w.customer, Event.SERVICE_PAID, source="ro:x", amount=Decimal("123.45"))
    services.record_event(w.customer, Event.APPOINTMENT_KEPT, source="appointment:x")
    me = owner_token(w.owner)
    s = api_client.get("/api/v1/me/loyalty", token=me).json()
    assert (s["balance"], s["pending"], s["tier"]["name"], s["next_tier"]["name"]) == (
        50,
        123,
        "Silver",
        "Gold",
    )
    assert s["qualifying"] == 173 and s["to_next"] == 5000 - 173
    ledger_rows = api_client.get("/api/v1/me/loyalty/ledger", token=me).json()
    assert [(e["reason"], e["points"], e["is_pending"]) for e in ledger_rows] == [
        ("Kept appointment", 50, False),
        ("Paid service", 123, True),
    ]
    missions = {m["name"]: m for m in api_client.get("/api/v1/me/missions", token=me).json()}
    assert missions["3 services on time in a year"]["progress"] == 1
    rewards = {r["name"]: r for r in api_client.get("/api/v1/me/rewards", token=me).json()}
    assert (
        rewards["Car wash"]["available"] is False
        and rewards["Car wash"]["unavailable_because"] == "points"
    )
    # An owner of another group sees only their own programme.
    other = api_client.get("/api/v1/me/loyalty", token=owner_token(w.owner_b)).json()
    assert other["member_code"] == w.member_b.code and other["balance"] == 0


def test_coupons_at_settlement(club):
    w = club
    today = timezone.localdate()
    coupon = Coupon.objects.create(
        dealer_group=w.group_a,
        name="¥50 off",
        kind="amount",
        value=Decimal("50"),
        min_spend=Decimal("300"),
        valid_from=today,
        valid_to=today,
    )
    CouponCode.objects.create(dealer_group=w.group_a, coupon=coupon, code="SAVE50")
    with pytest.raises(DomainError) as e:
        rewards.redeem_coupon(
            "SAVE50", w.group_a.pk, Decimal("299"), member=w.member, used_on="ro:1"
        )
    assert e.value.code == "coupon_min_spend"
    with pytest.raises(DomainError) as e:
        rewards.redeem_coupon(
            "SAVE50", w.group_b.pk, Decimal("500"), member=w.member_b, used_on="ro:1"
        )
    assert e.value.code == "invalid_coupon"  # other group
    assert (
        rewards.redeem_coupon(
            "save50", w.group_a.pk, Decimal("500"), member=w.member, used_on="ro:1"
        )
        == 50
    )
    with pytest.raises(DomainError) as e:
        rewards.redeem_coupon(
            "SAVE50", w.group_a.pk, Decimal("500"), member=w.member, used_on="ro:2"
        )
    assert e.value.code == "coupon_used"


def test_expiry_warns_first_then_expires(club):
    w = club
    ledger.credit(
        w.member, 100, reason="old", key="old", expires_at=NOW + dt.timedelta(days=20), now=NOW
    )
    result = services.expire_and_warn(now=NOW)
    assert result["warned"] == 1 and result["expired"] == 0
    assert services.expire_and_warn(now=NOW + dt.timedelta(hours=1))["warned"] == 0  # once
    assert services.expire_and_warn(now=NOW + dt.timedelta(days=21))["expired"] == 100
    w.member.refresh_from_db()
    assert w.member.balance == 0 and ledger.check_member(w.member) == []


def test_tiers_upgrade_at_once_and_downgrade_only_at_review(club):
    w = club
    ledger.credit(
        w.member,
        16000,
        reason="x",
        key="q",
        expires_at=None,
        qualifying=True,
        now=NOW - dt.timedelta(days=300),
    )
    services.upgrade_tier_now(w.member, NOW)
    w.member.refresh_from_db()
    assert w.member.tier.name == "Platinum"
    later = NOW + dt.timedelta(days=100)  # the qualifying points are older than 12 months now
    assert services.qualifying_points(w.member, later) == 0
    w.club.programme.tier_review_day = timezone.localtime(later).timetuple().tm_yday
    w.club.programme.save()
    assert services.review_tiers(later - dt.timedelta(days=1)) == 0
    assert services.review_tiers(later) >= 1
    w.member.refresh_from_db()
    assert w.member.tier.name == "Silver"


def test_staff_adjustment_needs_capability_reason_and_is_audited(club, api_client):
    from m4s.core.models import AuditEntry
    from m4s.core.tests.factories import staff_token

    w = club
    path = f"/api/v1/staff/loyalty/members/{w.member.pk}/adjust"
    r = api_client.post(
        path,
        {"points": 100, "reason": "goodwill"},
        token=staff_token(w.advisor_a),
        HTTP_IDEMPOTENCY_KEY="a1",
    )
    assert r.status_code == 403
    admin = staff_token(w.admin_a)
    r = api_client.post(
        path, {"points": 100, "reason": " "}, token=admin, HTTP_IDEMPOTENCY_KEY="a1"
    )
    assert (
        r.status_code == 422 and r.json()["code"] == "validation_error"
    )  # a blank reason: the schema refuses it
    r = api_client.post(
        path, {"points": 100, "reason": "goodwill"}, token=admin, HTTP_IDEMPOTENCY_KEY="a1"
    )
    assert r.status_code == 201
    r = api_client.post(
        path, {"points": 100, "reason": "goodwill"}, token=admin, HTTP_IDEMPOTENCY_KEY="a1"
    )
    w.member.refresh_from_db()
    assert w.member.balance == 100
    assert AuditEntry.objects.for_group(w.group_a).filter(object_id=str(w.member.pk)).count() == 1
    r = api_client.post(
        f"/api/v1/staff/loyalty/members/{w.member_b.pk}/adjust",
        {"points": 1, "reason": "x"},
        token=admin,
        HTTP_IDEMPOTENCY_KEY="a2",
    )
    assert r.status_code == 404
    report = api_client.get("/api/v1/staff/loyalty/report", token=admin).json()
    assert report["adjusted"] == 100 and report["outstanding"] == 100


def test_events_are_recorded_once_per_source(club):
    w = club
    services.record_event(w.customer, Event.EVENT_CHECKIN, source="event:9")
    services.record_event(w.customer, Event.EVENT_CHECKIN, source="event:9")
    assert MemberEvent.objects.for_group(w.group_a).filter(member=w.member).count() == 1
    assert len(_entries(w.member, rule=w.club.rules["checkin"])) == 1
    assert not EarningRule.objects.for_group(w.group_b).filter(entries__member=w.member).exists()


def test_new_members_start_in_the_entry_tier_and_old_vouchers_expire(club):
    from m4s.loyalty.models import Voucher

    w = club
    assert w.member.tier.name == "Silver"
    ledger.credit(w.member, 300, reason="x", key="seed", expires_at=None)
    voucher, _ = rewards.redeem_reward(w.member, w.club.rewards["wash"].pk, key="v")
    services.expire_and_warn(now=voucher.expires_at + dt.timedelta(seconds=1))
    assert Voucher.objects.for_group(w.group_a).get(pk=voucher.pk).status == "expired"


def test_summary_selector_progress(club):
    w = club
    ledger.credit(w.member, 2500, reason="x", key="q", expires_at=None, qualifying=True)
    s = selectors.summary(w.member)
    assert s.progress_pct == 50 and s.to_next == 2500


def test_a_coupon_comes_off_the_customers_share_at_settlement(
    workshop, api_client, django_capture_on_commit_callbacks
):
    from m4s.core.tests.factories import staff_token
    from m4s.service.models import Invoice

    w = workshop
    starter.install_programme(w.group_a)
    today = timezone.localdate()
    coupon = Coupon.objects.create(
        dealer_group=w.group_a,
        name="10 % off",
        kind="percent",
        value=Decimal("10"),
        min_spend=Decimal("100"),
        valid_from=today,
        valid_to=today,
    )
    CouponCode.objects.create(dealer_group=w.group_a, coupon=coupon, code="TENOFF")
    ro, _lines = ready_order(w, [("BATT", "28800-YZZJ4")], symptoms="battery weak")
    advisor = staff_token(w.advisor_a)
    r = api_client.post(
        f"/api/v1/staff/repair-orders/{ro.pk}/settle", {"coupon_code": "NOPE"}, token=advisor
    )
    assert r.status_code == 400 and r.json()["code"] == "invalid_coupon"
    assert not Invoice.objects.for_group(w.group_a).exists()
    with django_capture_on_commit_callbacks(execute=True):
        r = api_client.post(
            f"/api/v1/staff/repair-orders/{ro.pk}/settle", {"coupon_code": "tenoff"}, token=advisor
        )
    assert r.status_code == 201, r.content
    assert Decimal(r.json()["coupon_discount"]) == Decimal("86.00")
    assert Decimal(r.json()["customer_pay_net"]) == Decimal("774.00")
    member = Member.objects.for_group(w.group_a).get(customer=w.customer)
    assert member.pending == 774  # points are earned on what the customer really paid
    assert (
        CouponCode.objects.for_group(w.group_a).get(code="TENOFF").used_on
        == f"repair_order:{ro.pk}"
    )


def test_staff_record_an_event_check_in_once(club, api_client):
    from m4s.core.tests.factories import make_staff, staff_token
    from m4s.staff.choices import Role

    w = club
    path = f"/api/v1/staff/loyalty/members/{w.member.pk}/events"
    manager = make_staff("manager-a", Role.STORE_MANAGER, w.group_a, [w.store_a])
    token = staff_token(manager)
    r = api_client.post(path, {"event": "event_checkin", "source": "event:7"}, token=token)
    assert r.status_code == 201 and [e["points"] for e in r.json()] == [30]
    again = api_client.post(path, {"event": "event_checkin", "source": "event:7"}, token=token)
    assert again.status_code == 201 and again.json() == []
    bad = api_client.post(path, {"event": "service_paid", "source": "x"}, token=token)
    assert bad.status_code == 422 and bad.json()["code"] == "validation_error"  # not in the enum
    other = api_client.post(
        f"/api/v1/staff/loyalty/members/{w.member_b.pk}/events",
        {"event": "event_checkin", "source": "event:7"},
        token=token,
    )
    assert other.status_code == 404
    w.member.refresh_from_db()
    assert w.member.balance == 30


def test_a_gold_member_gets_the_tier_labour_discount_at_settlement(
    workshop, django_capture_on_commit_callbacks
):
    """Gold is 5 % off customer-paid labour: applied and logged at settlement, never on a
    warranty line, and a bigger discount given by staff (with a reason) stands."""
    from m4s.service import billing as billing_services
    from m4s.service.choices import Payer
    from m4s.service.models import PriceOverride, RepairLine

    w = workshop
    club = starter.install_programme(w.group_a)
    member = services.get_or_create_member(w.customer)
    Member.objects.for_group(w.group_a).filter(pk=member.pk).update(tier=club.tiers[1])  # Gold
    ro, lines = ready_order(w, [("BATT", None), ("DIAG", None), ("OIL", None)])
    batt, diag, oil = lines
    with django_capture_on_commit_callbacks(execute=True):
        invoice = billing_services.settle(
            w.advisor_a,
            ro,
            prices={oil.pk: {"labour": "0", "reason": "Goodwill: free oil change labour"}},
            payers={diag.pk: Payer.WARRANTY},
        )
    got = {
        ln.pk: (ln.labour_list_price, ln.labour_price)
        for ln in RepairLine.objects.for_group(w.group_a).filter(repair_order=ro)
    }
    list_batt, paid_batt = got[batt.pk]
    assert paid_batt == (list_batt * Decimal("0.95")).quantize(Decimal("0.01")) < list_batt
    assert got[diag.pk][0] == got[diag.pk][1]  # the warranty pays the list price
    assert got[oil.pk][1] == 0  # staff gave more than the tier's 5 %
    reasons = {
        o.line_id: o.reason
        for o in PriceOverride.objects.for_group(w.group_a).filter(repair_order=ro)
    }
    assert reasons == {
        batt.pk: "Gold member: 5% off labour",
        oil.pk: "Goodwill: free oil change labour",
    }
    assert invoice.discount_total == (list_batt - paid_batt) + got[oil.pk][0]
    # Points are earned on what the customer really paid.
    earned = _entries(member, kind=EntryKind.EARN)
    assert sum(e.points for e in earned) == int(invoice.customer_pay_net * Decimal("1.25"))
