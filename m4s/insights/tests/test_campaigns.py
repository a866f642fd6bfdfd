"""Campaigns: launch snapshots the segment's consenting members and draws a reproducible random
control arm; only the treated arm is messaged (through the contact policy, category marketing),
never the control arm, never an owner without consent, never twice; coupons go to the treated;
isolation and capabilities on the API and pages; the list pages' query counts."""

import datetime as dt

import pytest
from django.test import Client, TestCase
from django.utils import timezone

from m4s.core.tests.factories import PASSWORD, ApiClient, staff_token
from m4s.insights import campaigns, segments
from m4s.insights.models import Arm, Campaign, CampaignMember, MemberOutcome
from m4s.insights.tests.test_segments import cw, make_customer  # noqa: F401
from m4s.notify.models import ContactDecision, Message

pytestmark = pytest.mark.django_db
TEXT = {"zh-hans": "好久不见", "en": "We miss you", "ko": "보고 싶어요"}


@pytest.fixture
def crowd(cw):  # noqa: F811
    """cw plus 40 consenting customers at store A (half with the app)."""
    cw.crowd = [make_customer(cw, cw.store_a, app=bool(i % 2)) for i in range(40)]
    cw.segment = segments.create_segment(cw.admin_a, name="Store A", definition={})
    return cw


def draft(w, **kw):
    kw.setdefault("title", TEXT)
    kw.setdefault("body", TEXT)
    return campaigns.create_campaign(w.admin_a, segment_id=w.segment.pk, name="Back", **kw)


def launch(w, c, seed=7):
    with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
        c = campaigns.launch_campaign(w.admin_a, c.pk, seed=seed)
    return c, callbacks


def test_split_is_reproducible_and_near_the_share():
    ids = list(range(1, 5001))
    a = campaigns.split(ids, 123, 10)
    assert a == campaigns.split(list(reversed(ids)), 123, 10)  # order does not matter
    assert len(a) == 500
    assert a != campaigns.split(ids, 124, 10)
    # the random split is random: over store-shaped halves the share stays near 10 %
    low = [i for i in a if i <= 2500]
    assert 200 <= len(low) <= 300
    assert campaigns.split(ids, 1, 0) == set()
    assert len(campaigns.split(ids[:7], 1, 50)) == 4  # round half to even: 3.5 → 4


def test_launch_snapshots_consenting_members_and_a_seeded_control(crowd):
    w = crowd
    c, callbacks = launch(w, draft(w))
    consenting = {w.c.champ.pk, w.c.risk.pk, w.c.old.pk, w.c.app.pk} | {x.pk for x in w.crowd}
    members = dict(CampaignMember.objects.unscoped().values_list("customer_id", "arm"))
    assert set(members) == consenting  # no one without consent, no one of group B
    control = {k for k, v in members.items() if v == Arm.CONTROL}
    assert control == campaigns.split(list(consenting), 7, 10)
    assert len(control) == round(len(consenting) * 0.1) == c.control_count
    assert c.status == "sent" and c.seed == 7 and c.definition["marketing_consent"] is True
    assert len(callbacks) == 1  # the sending is queued only after commit
    # launching again changes nothing
    again = campaigns.launch_campaign(w.admin_a, c.pk, seed=99)
    assert again.seed == 7
    assert CampaignMember.objects.unscoped().count() == len(consenting)


def test_only_the_treated_arm_is_messaged_once(crowd):
    w = crowd
    c, _cb = launch(w, draft(w))
    with TestCase.captureOnCommitCallbacks(execute=True):
        counts = campaigns.send_campaign(c.pk)
    assert counts == {MemberOutcome.SENT: c.treated_count}
    treated = set(
        CampaignMember.objects.unscoped()
        .filter(arm=Arm.TREATED)
        .values_list("customer_id", flat=True)
    )
    control = set(
        CampaignMember.objects.unscoped()
        .filter(arm=Arm.CONTROL)
        .values_list("customer_id", flat=True)
    )
    decided = list(ContactDecision.objects.filter(reason__startswith=f"campaign:{c.pk}:"))
    assert {d.customer_id for d in decided} == treated
    assert not control & {d.customer_id for d in decided}  # the control arm: never
    assert all(d.category == "marketing" for d in decided)
    # the message is in each owner's language (here: the stored text renders per reader)
    msg = Message.objects.filter(pk=decided[0].message_id).get()
    assert msg.kind == campaigns.KIND
    # run twice (a retried task): nothing new
    before = Message.objects.count()
    assert campaigns.send_campaign(c.pk) == {}
    CampaignMember.objects.unscoped().filter(arm=Arm.TREATED).update(outcome=MemberOutcome.PENDING)
    campaigns.send_campaign(c.pk)  # even with every member pending again, the policy dedupes
    assert Message.objects.count() == before
    per_customer = {}
    for d in ContactDecision.objects.filter(reason__startswith=f"campaign:{c.pk}:"):
        per_customer.setdefault((d.customer_id, d.channel), []).append(d)
    assert all(len(v) == 1 for v in per_customer.values())
    assert (
        CampaignMember.objects.unscoped()
        .filter(arm=Arm.CONTROL)
        .exclude(outcome=MemberOutcome.NONE)
        .count()
        == 0
    )


def test_consent_withdrawn_after_launch_gets_nothing(crowd):
    w = crowd
    c, _cb = launch(w, draft(w), seed=3)
    m = (
        CampaignMember.objects.unscoped()
        .filter(arm=Arm.TREATED)
        .select_related("customer__owner")
        .first()
    )
    cust = m.customer
    if cust.owner is not None:
        cust.owner.marketing_consent = False
        cust.owner.save()
    else:
        cust.marketing_consent = False
        cust.save()
    campaigns.send_campaign(c.pk)
    m.refresh_from_db()
    assert m.outcome == MemberOutcome.DROPPED and m.why == "no_marketing_consent"
    assert m.message_id is None
    assert not Message.objects.filter(dedupe_key__startswith=f"campaign:{c.pk}:{cust.pk}:").exists()


def test_coupon_goes_to_the_treated_only(crowd):
    from m4s.loyalty.models import Coupon, CouponCode

    w = crowd
    today = timezone.localdate()
    coupon = Coupon.objects.create(
        dealer_group=w.group_a,
        name="¥50 off",
        kind="amount",
        value=50,
        valid_from=today,
        valid_to=today + dt.timedelta(days=60),
    )
    c, _cb = launch(w, draft(w, coupon_id=coupon.pk))
    campaigns.send_campaign(c.pk)
    holders = set(
        CouponCode.objects.for_group(w.group_a).values_list("member__customer_id", flat=True)
    )
    treated = set(
        CampaignMember.objects.unscoped()
        .filter(arm=Arm.TREATED)
        .values_list("customer_id", flat=True)
    )
    assert holders == treated
    assert (
        CampaignMember.objects.unscoped().filter(arm=Arm.TREATED, coupon_code__isnull=True).count()
        == 0
    )


def test_create_refuses_bad_input(crowd):
    from django.http import Http404

    from m4s.core.errors import DomainError

    w = crowd
    with pytest.raises(DomainError):
        draft(w, control_pct=60)
    with pytest.raises(DomainError):
        draft(w, title={}, body={})
    with pytest.raises(DomainError):
        draft(w, template="nope")
    c = draft(w, template="we_miss_you", title=None, body=None)
    assert c.body == {"t": campaigns.TEMPLATES["we_miss_you"][1]}
    other = segments.create_segment(w.admin_b, name="B", definition={})
    with pytest.raises(Http404):
        campaigns.create_campaign(w.admin_a, segment_id=other.pk, name="x", body=TEXT)
    with pytest.raises(Http404):
        campaigns.launch_campaign(w.admin_b, c.pk)


def test_store_manager_sees_only_their_stores_campaigns(crowd):
    w = crowd
    mine = segments.create_segment(w.manager_a, name="Mine", definition={})
    c1 = campaigns.create_campaign(w.manager_a, segment_id=mine.pk, name="M", body=TEXT)
    c2 = draft(w)  # the group-wide segment: not the manager's
    assert list(campaigns.visible_campaigns(w.manager_a)) == [c1]
    assert set(campaigns.visible_campaigns(w.admin_a)) == {c1, c2}


# --- API ---------------------------------------------------------------------------------------
def test_campaigns_api(crowd):
    w = crowd
    api, token = ApiClient(), staff_token(w.admin_a)
    r = api.post(
        "/api/v1/staff/campaigns",
        {"segment_id": w.segment.pk, "name": "Back", "body": {"en": "Hi", "zh-hans": "你好"}},
        token,
    )
    assert r.status_code == 201, r.json_body
    cid = r.json_body["id"]
    assert r.json_body["status"] == "draft" and r.json_body["control_pct"] == 10
    r = api.post(f"/api/v1/staff/campaigns/{cid}/launch", None, token)
    assert r.status_code == 200
    assert r.json_body["status"] == "sent"
    assert r.json_body["treated"] + r.json_body["control"] == 44
    assert r.json_body["sent"] == 0  # the task (queued after commit) sends
    campaigns.send_campaign(cid)
    detail = api.get(f"/api/v1/staff/campaigns/{cid}", token).json_body
    assert detail["sent"] == detail["treated"] and detail["dropped"] == 0
    retry = api.post(f"/api/v1/staff/campaigns/{cid}/launch", None, token)
    assert retry.json_body["seed"] == r.json_body["seed"]
    assert api.get("/api/v1/staff/campaigns", token).json_body["items"][0]["id"] == cid
    res = api.get(f"/api/v1/staff/campaigns/{cid}/result", token)
    assert res.status_code == 200 and res.json_body["windows"][0]["partial"] is True
    # bad input → 422, another group → 404, no capability → 403
    bad = api.post(
        "/api/v1/staff/campaigns", {"segment_id": w.segment.pk, "control_pct": 80}, token
    )
    assert bad.status_code == 422
    other = staff_token(w.admin_b)
    assert api.get(f"/api/v1/staff/campaigns/{cid}", other).status_code == 404
    assert api.get(f"/api/v1/staff/campaigns/{cid}/result", other).status_code == 404
    assert api.post(f"/api/v1/staff/campaigns/{cid}/launch", None, other).status_code == 404
    r = api.post(
        "/api/v1/staff/campaigns", {"segment_id": w.segment.pk, "body": {"en": "x"}}, other
    )
    assert r.status_code == 404
    assert api.get("/api/v1/staff/campaigns", staff_token(w.advisor_a)).status_code == 403


# --- pages -------------------------------------------------------------------------------------
def test_campaign_pages(crowd):
    w = crowd
    client = Client()
    client.login(username="admin-a", password=PASSWORD)
    r = client.get(f"/console/insights/campaigns/segments/{w.segment.pk}/")
    assert r.status_code == 200
    r = client.post(
        "/console/insights/campaigns/new/",
        {
            "segment_id": w.segment.pk,
            "name": "Back",
            "template": "we_miss_you",
            "control_pct": "20",
        },
    )
    assert r.status_code == 302
    c = Campaign.objects.unscoped().get()
    assert c.control_pct == 20
    assert client.get(r["Location"]).status_code == 200
    # launching needs the confirmation
    client.post(f"/console/insights/campaigns/{c.pk}/launch/")
    c.refresh_from_db()
    assert c.status == "draft"
    with TestCase.captureOnCommitCallbacks(execute=False):
        client.post(f"/console/insights/campaigns/{c.pk}/launch/", {"confirm": "yes"})
    c.refresh_from_db()
    assert c.status == "sent"
    page = client.get(f"/console/insights/campaigns/{c.pk}/")
    assert page.status_code == 200 and b'data-testid="result-table"' in page.content
    client.logout()
    client.login(username="admin-b", password=PASSWORD)
    assert client.get(f"/console/insights/campaigns/{c.pk}/").status_code == 404
    assert (
        client.post(f"/console/insights/campaigns/{c.pk}/launch/", {"confirm": "yes"}).status_code
        == 404
    )
    client.logout()
    client.login(username="advisor-a", password=PASSWORD)
    assert client.get("/console/insights/campaigns/").status_code == 403


def test_list_pages_query_counts(crowd, django_assert_max_num_queries):
    w = crowd
    for i in range(6):
        s = segments.create_segment(w.admin_a, name=f"S{i}", definition={"tiers": ["gold"]})
        campaigns.create_campaign(w.admin_a, segment_id=s.pk, name=f"C{i}", body=TEXT)
    client = Client()
    client.login(username="admin-a", password=PASSWORD)
    client.get("/console/insights/campaigns/")  # warm the session
    with django_assert_max_num_queries(12):
        r = client.get("/console/insights/campaigns/")
    assert r.status_code == 200 and r.content.count(b"/console/insights/campaigns/segments/") >= 7
    api, token = ApiClient(), staff_token(w.admin_a)
    with django_assert_max_num_queries(8):
        assert len(api.get("/api/v1/staff/campaigns", token).json_body["items"]) == 6
    with django_assert_max_num_queries(8):
        assert len(api.get("/api/v1/staff/segments", token).json_body["items"]) == 7


def test_demo_campaign_shows_an_uplift(crowd):
    from m4s.demo.campaigns import build_campaigns_demo
    from m4s.insights import uplift

    w = crowd
    today = timezone.localdate()
    c = build_campaigns_demo(w.group_a, w.admin_a, today)
    assert c.status == "finished" and c.control_count == round(44 * 0.1)
    assert build_campaigns_demo(w.group_a, w.admin_a, today).pk == c.pk  # run twice: the same
    r = uplift.result(c)
    assert [x["partial"] for x in r["windows"]] == [False, False, False]
    w90 = r["windows"][-1]
    assert w90["arms"]["treated"]["visited"] > 0 and w90["arms"]["control"]["visited"] == 0
    assert w90["uplift"]["visited"]["diff"] > 0
    # the control arm was never messaged
    control = CampaignMember.objects.unscoped().filter(campaign=c, arm=Arm.CONTROL)
    assert not ContactDecision.objects.filter(
        customer_id__in=control.values("customer_id"), reason__startswith="campaign:"
    ).exists()
