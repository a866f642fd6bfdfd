"""The feed: order (pinned, then publish time), schedule and expiry, statuses, languages with
fallback, paging; read tracking (views and unique readers, per target) and `item_stats`."""

import datetime as dt

import pytest
from django.utils import timezone

from m4s.content import reading, selectors
from m4s.content.choices import Status, TargetKind
from m4s.content.models import ContentView
from m4s.core.tests.factories import OwnerFactory

from .reading_helpers import customer_of, give_car, make_item

pytestmark = pytest.mark.django_db


def titles(owner, **kw):
    return [i.t_title for i in selectors.feed_for_owner(owner, language="en", **kw)]


def test_pinned_first_then_newest(world):
    now = timezone.now()
    make_item(title="old", publish_at=now - dt.timedelta(days=3))
    make_item(title="new", publish_at=now - dt.timedelta(hours=2))
    make_item(title="pinned old", pinned=True, publish_at=now - dt.timedelta(days=9))
    make_item(title="mid", publish_at=now - dt.timedelta(days=1))
    assert titles(world.owner) == ["pinned old", "new", "mid", "old"]
    assert titles(world.owner, limit=2, offset=1) == ["new", "mid"]


def test_schedule_expiry_and_status(world):
    now = timezone.now()
    make_item(title="live")
    make_item(title="scheduled", publish_at=now + dt.timedelta(hours=1))
    make_item(title="expired by time", expire_at=now - dt.timedelta(minutes=1))
    make_item(title="expires later", expire_at=now + dt.timedelta(days=1))
    make_item(title="expired", status=Status.EXPIRED)
    make_item(title="draft", status=Status.DRAFT)
    make_item(title="review", status=Status.REVIEW)
    make_item(title="rejected", status=Status.REJECTED)
    assert sorted(titles(world.owner)) == ["expires later", "live"]


def test_module_filter(world):
    make_item(title="k", module="knowledge")
    make_item(title="g", module="guide")
    assert titles(world.owner, module="guide") == ["g"]


def test_language_and_fallback(world):
    make_item(
        title="x",
        source_language="zh-hans",
        texts={"zh-hans": ("北京烤鸭", "好吃", ""), "ko": ("베이징 오리", "맛있다", "")},
    )
    assert [i.t_title for i in selectors.feed_for_owner(world.owner, language="ko")] == [
        "베이징 오리"
    ]
    assert [i.t_title for i in selectors.feed_for_owner(world.owner, language="en")] == ["北京烤鸭"]


def test_record_view_counts_views_and_unique_readers(world):
    item = make_item()
    reading.record_view(world.owner, item)
    reading.record_view(world.owner, item)
    reading.record_view(world.owner_b, item)
    stats = selectors.item_stats(item)
    assert (stats["views"], stats["readers"]) == (3, 2)
    assert ContentView.objects.get(item=item, owner=world.owner).count == 2


def test_item_stats_per_target(world):
    customer = customer_of(world.owner, world.store_a)
    give_car(customer, "Toyota", "Camry")
    customer_of(world.owner_b, world.store_b)
    item = make_item(targets={TargetKind.BRAND: ["toyota", "honda"]})
    reading.record_view(world.owner, item)
    reading.record_view(world.owner, item)
    reading.record_view(OwnerFactory(), item)
    stats = selectors.item_stats(item)
    rows = {(r["kind"], r["value"]): (r["readers"], r["views"]) for r in stats["per_target"]}
    assert rows == {("brand", "honda"): (0, 0), ("brand", "toyota"): (1, 2)}
    assert (stats["views"], stats["readers"]) == (3, 2)
    assert stats["per_target"][1]["label"] == "Car brands: toyota"
