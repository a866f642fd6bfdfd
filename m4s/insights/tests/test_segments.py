"""Segments: every filter of the definition, the live count (one query), store managers limited
to their stores, another group's store or segment a 404; the segments API."""

import datetime as dt
import itertools
from types import SimpleNamespace

import pytest
from django.test import Client
from django.utils import timezone

from m4s.core.tests.factories import (
    PASSWORD,
    ApiClient,
    OwnerFactory,
    StoreFactory,
    build_world,
    make_staff,
    staff_token,
)
from m4s.customers.models import Customer
from m4s.insights import segments
from m4s.insights.models import CustomerInsight, Segment
from m4s.staff.choices import Role
from m4s.vehicles.models import Vehicle

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 6, 1)
_n = itertools.count(1)


def make_customer(
    w,
    store,
    *,
    consent=True,
    app=False,
    segment="loyal",
    band="low",
    tier="",
    car_model="Golf",
    age_months=24,
    km=20000,
    last_paid=dt.date(2026, 3, 1),
    address="",
):
    """A customer of the store's group with one car and an insight row (one of each)."""
    i = next(_n)
    owner = None
    if app:
        owner = OwnerFactory(home_store=store, marketing_consent=consent)
    customer = Customer.objects.create(
        dealer_group_id=store.dealer_group_id,
        store=store,
        owner=owner,
        name=f"C{i}",
        phone=f"+8613{i:09d}",
        address=address,
        marketing_consent=consent and not app,
    )
    Vehicle.objects.create(
        dealer_group_id=store.dealer_group_id,
        vin=f"LSVTEST{i:010d}",
        model=car_model,
        odometer_km=km,
        current_owner=customer,
    )
    CustomerInsight.objects.create(
        dealer_group_id=store.dealer_group_id,
        customer=customer,
        store=store,
        as_of=TODAY,
        last_paid_visit=last_paid,
        segment=segment,
        risk_band=band,
        tier=tier,
        car_age_months=age_months,
    )
    return customer


@pytest.fixture
def cw():
    w = build_world()
    w.store_a2 = StoreFactory(dealer_group=w.group_a, name="Alpha East", address="上海市浦东")
    w.manager_a = make_staff("manager-a", Role.STORE_MANAGER, w.group_a, [w.store_a])
    w.c = SimpleNamespace(
        champ=make_customer(w, w.store_a, segment="champions", tier="gold", address="北京市朝阳"),
        risk=make_customer(w, w.store_a, segment="at_risk", band="high", car_model="Polo"),
        old=make_customer(w, w.store_a2, age_months=120, km=150000, last_paid=dt.date(2024, 1, 5)),
        app=make_customer(w, w.store_a2, app=True, tier="silver", last_paid=None, segment="never"),
        nocons=make_customer(w, w.store_a, consent=False),
        appnocons=make_customer(w, w.store_a, app=True, consent=False),
    )
    w.c_b = make_customer(w, w.store_b)
    return w


def ids(w, **definition):
    d = segments.parse(definition)
    return {
        ci.customer_id for ci in segments.customers(w.group_a.pk, d, today=TODAY).only("customer")
    }


def test_each_filter_selects_its_customers(cw):
    w, c = cw, cw.c
    everyone = {c.champ.pk, c.risk.pk, c.old.pk, c.app.pk, c.nocons.pk, c.appnocons.pk}
    assert ids(w) == everyone  # group B's customer never
    assert ids(w, rfm_segments=["champions", "at_risk"]) == {c.champ.pk, c.risk.pk}
    assert ids(w, risk_bands=["high"]) == {c.risk.pk}
    assert ids(w, tiers=["gold", "silver"]) == {c.champ.pk, c.app.pk}
    assert ids(w, car_models=["Polo"]) == {c.risk.pk}
    assert ids(w, car_age_min_years=5) == {c.old.pk}
    assert ids(w, car_age_max_years=2) == everyone - {c.old.pk}  # 24 months is "2 years"
    assert ids(w, mileage_min_km=100000) == {c.old.pk}
    assert ids(w, mileage_max_km=50000) == everyone - {c.old.pk}
    assert ids(w, last_paid_visit_before="2025-01-01") == {c.old.pk}
    assert ids(w, last_paid_visit_after="2025-01-01") == everyone - {c.old.pk, c.app.pk}
    # not visited in 12 months: the old one and the one who never paid
    assert ids(w, not_visited_months=12) == {c.old.pk, c.app.pk}
    assert ids(w, city="北京") == {c.champ.pk}  # the customer's address
    assert ids(w, city="上海") == {c.old.pk, c.app.pk}  # the home store's address
    assert ids(w, store_ids=[w.store_a2.pk]) == {c.old.pk, c.app.pk}
    # consent: the app account's own consent when there is one, else the store's record
    assert ids(w, marketing_consent=True) == {c.champ.pk, c.risk.pk, c.old.pk, c.app.pk}
    # filters combine
    assert ids(w, store_ids=[w.store_a.pk], marketing_consent=True, car_models=["Golf"]) == {
        c.champ.pk
    }


def test_telematics_odometer_wins_over_the_recorded_one(cw):
    from m4s.telematics.models import VehicleState

    car = Vehicle.objects.unscoped().get(current_owner=cw.c.champ)
    VehicleState.objects.create(
        dealer_group=cw.group_a, vehicle=car, ts=timezone.now(), odometer_km=180000.0
    )
    assert cw.c.champ.pk in ids(cw, mileage_min_km=170000)


def test_count_is_one_query(cw, django_assert_num_queries):
    d = segments.parse({"rfm_segments": ["loyal"], "car_models": ["Golf"], "mileage_max_km": 9e4})
    with django_assert_num_queries(1):
        assert segments.count(cw.group_a.pk, d, today=TODAY) == 2  # nocons, appnocons


def test_bad_definitions_are_refused():
    from m4s.core.errors import DomainError

    for bad in (
        {"rfm_segments": ["nope"]},
        {"car_age_min_years": -1},
        {"control": 3},
        {"city": "x" * 81},
    ):
        with pytest.raises(DomainError) as exc:
            segments.parse(bad)
        assert exc.value.status == 422


def test_store_manager_is_limited_to_their_stores(cw):
    from django.http import Http404

    seg = segments.create_segment(cw.manager_a, name="Mine", definition={})
    assert seg.definition["store_ids"] == [cw.store_a.pk]
    with pytest.raises(Http404):
        segments.create_segment(cw.manager_a, name="x", definition={"store_ids": [cw.store_a2.pk]})
    with pytest.raises(Http404):
        segments.create_segment(cw.admin_a, name="x", definition={"store_ids": [cw.store_b.pk]})
    group_wide = segments.create_segment(cw.admin_a, name="All", definition={})
    assert group_wide.definition == {}
    assert list(segments.visible_segments(cw.manager_a)) == [seg]
    assert set(segments.visible_segments(cw.admin_a)) == {seg, group_wide}


# --- API ---------------------------------------------------------------------------------------
def test_segments_api(cw):
    api, token = ApiClient(), staff_token(cw.admin_a)
    r = api.post("/api/v1/staff/segments/count", {"definition": {"risk_bands": ["high"]}}, token)
    assert r.status_code == 200 and r.json_body["count"] == 1
    r = api.post(
        "/api/v1/staff/segments",
        {"name": "Drifting", "definition": {"risk_bands": ["high"], "marketing_consent": True}},
        token,
    )
    assert r.status_code == 201, r.json_body
    sid = r.json_body["id"]
    assert r.json_body["count"] == 1
    r = api.get("/api/v1/staff/segments", token)
    assert [s["id"] for s in r.json_body["items"]] == [sid]
    assert api.get(f"/api/v1/staff/segments/{sid}", token).json_body["name"] == "Drifting"
    # bad input: 422 with a code
    r = api.post("/api/v1/staff/segments/count", {"definition": {"risk_bands": ["x"]}}, token)
    assert r.status_code == 422
    # another group: 404; a store of another group: 404
    other = staff_token(cw.admin_b)
    assert api.get(f"/api/v1/staff/segments/{sid}", other).status_code == 404
    assert api.get("/api/v1/staff/segments", other).json_body["items"] == []
    r = api.post(
        "/api/v1/staff/segments/count", {"definition": {"store_ids": [cw.store_a.pk]}}, other
    )
    assert r.status_code == 404
    # a role without the capability: 403
    assert api.get("/api/v1/staff/segments", staff_token(cw.advisor_a)).status_code == 403
    assert Segment.objects.unscoped().count() == 1


def test_segment_page_and_live_count(cw):
    client = Client()
    client.login(username="admin-a", password=PASSWORD)
    r = client.get("/console/insights/campaigns/segments/new/")
    assert r.status_code == 200
    r = client.post(
        "/console/insights/campaigns/segments/count/",
        {"risk_bands": ["high"]},
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 200 and b">1<" in r.content
    r = client.post(
        "/console/insights/campaigns/segments/new/",
        {"name": "High risk", "risk_bands": ["high"], "marketing_consent": "on"},
    )
    assert r.status_code == 302
    seg = Segment.objects.unscoped().get()
    assert seg.definition == {"risk_bands": ["high"], "marketing_consent": True}
    client.logout()
    client.login(username="advisor-a", password=PASSWORD)
    assert client.get("/console/insights/campaigns/segments/new/").status_code == 403
    client.logout()
    client.login(username="admin-b", password=PASSWORD)
    assert client.get(f"/console/insights/campaigns/segments/{seg.pk}/").status_code == 404
