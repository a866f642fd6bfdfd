"""The owners' content API: feed, item (a read is counted), search; isolation (another group's
item is 404, as is one that does not reach the owner)."""

import pytest

from m4s.content.choices import ActionKind, Level
from m4s.content.models import ContentView
from m4s.core.tests.factories import owner_token

from .reading_helpers import customer_of, make_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def feed(world):
    w = world
    customer_of(w.owner, w.store_a)
    customer_of(w.owner_b, w.store_b)
    w.hq = make_item(
        title="HQ",
        texts={"en": ("Tyre care", "Check monthly", "<p>Body</p>"), "ko": ("타이어 관리", "", "")},
        index=True,
    )
    w.mine = make_item(
        level=Level.DEALER,
        module="service_news",
        group=w.group_a,
        texts={"en": ("Alpha news", "", "")},
        action_kind=ActionKind.BOOK,
        index=True,
    )
    w.theirs = make_item(
        level=Level.DEALER,
        module="service_news",
        group=w.group_b,
        texts={"en": ("Beta news", "", "")},
        index=True,
    )
    w.areas = make_item(
        level=Level.LOCAL_ORG,
        module="violation_areas",
        local_org=w.group_a.local_org,
        places=[{"name": "Gate", "address": "Chang'an Ave", "lat": 39.9, "lon": 116.4}],
    )
    return w


def test_feed(feed, api_client):
    token = owner_token(feed.owner)
    r = api_client.get("/api/v1/me/feed", token=token)
    assert r.status_code == 200
    assert {i["id"] for i in r.json_body} == {feed.hq.pk, feed.mine.pk, feed.areas.pk}
    r = api_client.get("/api/v1/me/feed", token=token, params={"module": "service_news"})
    assert [i["title"] for i in r.json_body] == ["Alpha news"]
    assert api_client.get("/api/v1/me/feed", token=token, params={"module": "x"}).status_code == 422
    assert api_client.get("/api/v1/me/feed").status_code == 401


def test_item_counts_a_read_and_isolation(feed, api_client):
    token = owner_token(feed.owner)
    r = api_client.get(f"/api/v1/content/{feed.mine.pk}", token=token)
    assert r.status_code == 200
    assert r.json_body["action"] == {"kind": "book", "target": "", "url": "/app/service/book/"}
    api_client.get(f"/api/v1/content/{feed.mine.pk}", token=token)
    assert ContentView.objects.get(item=feed.mine, owner=feed.owner).count == 2
    assert api_client.get(f"/api/v1/content/{feed.theirs.pk}", token=token).status_code == 404
    assert (
        api_client.get(f"/api/v1/content/{feed.mine.pk}", token=owner_token(feed.owner_b))
    ).status_code == 404
    assert not ContentView.objects.filter(item=feed.theirs).exists()


def test_item_places_have_map_links(feed, api_client):
    r = api_client.get(f"/api/v1/content/{feed.areas.pk}", token=owner_token(feed.owner))
    place = r.json_body["places"][0]
    assert place["name"] == "Gate" and place["map_url"].startswith("https://uri.amap.com/marker?")


def test_item_in_the_readers_language(feed, api_client):
    r = api_client.request(
        "GET",
        f"/api/v1/content/{feed.hq.pk}",
        token=owner_token(feed.owner),
        HTTP_ACCEPT_LANGUAGE="ko",
    )
    assert r.json_body["title"] == "타이어 관리" and r.json_body["language"] == "ko"


def test_search(feed, api_client):
    token = owner_token(feed.owner)
    r = api_client.get("/api/v1/content/search", token=token, params={"q": "news"})
    assert [i["id"] for i in r.json_body] == [feed.mine.pk]
    assert (
        api_client.get("/api/v1/content/search", token=token, params={"q": ""}).status_code == 422
    )
    r = api_client.get("/api/v1/content/search", token=token, params={"q": "x" * 101})
    assert r.status_code == 422
