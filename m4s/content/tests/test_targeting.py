"""Targeting: each criterion alone and combined (every set one must match), and the level scope
(headquarters to everyone, a local organisation to its city, a dealer to its owners / store)."""

import pytest

from m4s.content import selectors
from m4s.content.choices import Level, TargetKind
from m4s.core.errors import NotFound
from m4s.core.tests.factories import OwnerFactory, StoreFactory
from m4s.demo.starters import loyalty as loyalty_starter
from m4s.loyalty import services as loyalty
from m4s.loyalty.models import Tier

from .reading_helpers import customer_of, give_car, make_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def town(world):
    """Owner in group A (Beijing) with a Camry and Gold tier; owner_b in group B (Shanghai)
    without a car; a carless owner of group A."""
    w = world
    w.group_b.local_org.city = "Shanghai"
    w.group_b.local_org.save()
    w.store_a2 = StoreFactory(dealer_group=w.group_a, name="Alpha East")
    w.customer = customer_of(w.owner, w.store_a)
    give_car(w.customer, "Toyota", "Camry")
    loyalty_starter.install_programme(w.group_a)
    member = loyalty.get_or_create_member(w.customer)
    member.tier = Tier.objects.for_group(w.group_a.pk).get(name="Gold")
    member.save()
    w.customer_b = customer_of(w.owner_b, w.store_b)
    w.walker = OwnerFactory(home_store=w.store_a)
    customer_of(w.walker, w.store_a)
    return w


def sees(owner, item) -> bool:
    return item.pk in {i.pk for i in selectors.feed_for_owner(owner, limit=100)}


def test_profile(town):
    p = selectors.owner_profile(town.owner)
    assert p.cities == {"Beijing"}
    assert p.group_ids == {town.group_a.pk}
    assert town.store_a.pk in p.store_ids
    assert p.brands == {"toyota"} and p.models == {"camry"} and p.tiers == {"gold"}
    assert p.has_car
    assert not selectors.owner_profile(town.walker).has_car


def test_headquarters_items_reach_everyone(town):
    item = make_item()
    assert sees(town.owner, item) and sees(town.owner_b, item) and sees(town.walker, item)


def test_local_org_items_reach_owners_of_its_city_only(town):
    item = make_item(level=Level.LOCAL_ORG, module="city_food", local_org=town.group_a.local_org)
    assert sees(town.owner, item)
    assert not sees(town.owner_b, item)
    with pytest.raises(NotFound):
        selectors.item_for_owner(town.owner_b, item.pk)


def test_dealer_items_reach_the_groups_owners_and_a_stores_item_that_store(town):
    group_item = make_item(level=Level.DEALER, module="service_news", group=town.group_a)
    other_store = make_item(
        level=Level.DEALER, module="service_news", group=town.group_a, store=town.store_a2
    )
    own_store = make_item(
        level=Level.DEALER, module="service_news", group=town.group_a, store=town.store_a
    )
    assert sees(town.owner, group_item) and sees(town.owner, own_store)
    assert not sees(town.owner, other_store)
    assert not sees(town.owner_b, group_item)
    with pytest.raises(NotFound):
        selectors.item_for_owner(town.owner_b, group_item.pk)


@pytest.mark.parametrize(
    ("kind", "value", "owner_sees", "owner_b_sees"),
    [
        (TargetKind.CITY, "Beijing", True, False),
        (TargetKind.CITY, "Shanghai", False, True),
        (TargetKind.GROUP, "group_b", False, True),
        (TargetKind.STORE, "store_a", True, False),
        (TargetKind.BRAND, "toyota", True, False),
        (TargetKind.BRAND, "honda", False, False),
        (TargetKind.MODEL, "camry", True, False),
        (TargetKind.TIER, "gold", True, False),
        (TargetKind.TIER, "silver", False, False),
    ],
)
def test_each_criterion_alone(town, kind, value, owner_sees, owner_b_sees):
    if value in ("group_b", "store_a"):
        value = getattr(town, value).pk
    item = make_item(targets={kind: [value]})
    assert sees(town.owner, item) is owner_sees
    assert sees(town.owner_b, item) is owner_b_sees


def test_values_of_one_criterion_are_alternatives(town):
    item = make_item(targets={TargetKind.CITY: ["Shanghai", "Beijing"]})
    assert sees(town.owner, item) and sees(town.owner_b, item)


def test_bound_car_criterion(town):
    with_car = make_item(bound_car=True)
    without = make_item(bound_car=False)
    assert sees(town.owner, with_car) and not sees(town.owner, without)
    assert sees(town.walker, without) and not sees(town.walker, with_car)


def test_every_set_criterion_must_match(town):
    both = make_item(targets={TargetKind.BRAND: ["toyota"], TargetKind.TIER: ["gold"]})
    wrong_tier = make_item(targets={TargetKind.BRAND: ["toyota"], TargetKind.TIER: ["platinum"]})
    city_and_car = make_item(targets={TargetKind.CITY: ["Beijing"]}, bound_car=True)
    assert sees(town.owner, both)
    assert not sees(town.owner, wrong_tier)
    assert sees(town.owner, city_and_car)
    assert not sees(town.walker, city_and_car)  # Beijing, but no car
    assert not sees(town.owner_b, both)


def test_an_owner_of_no_group_sees_headquarters_items_only(town):
    stranger = OwnerFactory()
    hq = make_item()
    local = make_item(level=Level.LOCAL_ORG, module="nightlife", local_org=town.group_a.local_org)
    targeted = make_item(targets={TargetKind.CITY: ["Beijing"]})
    assert sees(stranger, hq)
    assert not sees(stranger, local) and not sees(stranger, targeted)


def test_the_feed_is_one_query(town, django_assert_num_queries):
    for n in range(5):
        make_item(title=f"n{n}", targets={TargetKind.BRAND: ["toyota"]})
    profile = selectors.owner_profile(town.owner)
    with django_assert_num_queries(1):
        items = selectors.feed_for_owner(town.owner, profile=profile, language="en")
    assert len(items) == 5 and items[0].t_title
