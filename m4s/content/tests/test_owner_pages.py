"""The owner app's content pages render for an owner (every module, item, knowledge base with
categories and search, magazines, search, prices), count reads, and answer 404 for an item that
does not reach the owner, an unknown module or another group's store — never a 500."""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from m4s.content.choices import ActionKind, Level, Module
from m4s.content.models import ContentView, KnowledgeCategory, MagazineIssue
from m4s.content.views.owner import module_url_name
from m4s.demo.starters import service as service_starter
from m4s.owners.middleware import SESSION_KEY

from .reading_helpers import customer_of, make_item

pytestmark = pytest.mark.django_db


def owner_client(owner) -> Client:
    client = Client()
    session = client.session
    session[SESSION_KEY] = owner.pk
    session.save()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def site(world):
    w = world
    w.group_b.local_org.city = "Shanghai"
    w.group_b.local_org.save()
    customer_of(w.owner, w.store_a)
    customer_of(w.owner_b, w.store_b)
    w.category = KnowledgeCategory.objects.create(name="Tyres", name_i18n={"zh-hans": "轮胎"})
    w.issue = MagazineIssue.objects.create(title="Spring", number=7)
    w.tip = make_item(
        texts={"en": ("Tyre pressure", "Check monthly", "<p>Cold <b>air</b></p>")},
        category=w.category,
        pinned=True,
        index=True,
    )
    w.article = make_item(module="magazines", issue=w.issue, texts={"en": ("Road trip", "", "")})
    w.areas = make_item(
        level=Level.LOCAL_ORG,
        module="violation_areas",
        local_org=w.group_a.local_org,
        texts={"en": ("Camera spots", "", "")},
        places=[{"name": "East gate", "address": "Ring road 3", "lat": 39.9, "lon": 116.4}],
        action_kind=ActionKind.BOOK,
    )
    w.theirs = make_item(
        level=Level.DEALER, module="service_news", group=w.group_b, texts={"en": ("Beta", "", "")}
    )
    return w


def test_every_module_page_renders(site):
    client = owner_client(site.owner)
    for module in Module.values:
        r = client.get(reverse(module_url_name(module)))
        assert r.status_code == 200, module
    r = client.get(reverse("app-content-module", args=["violation_areas"]))
    assert b"Camera spots" in r.content
    assert client.get(reverse("app-content-module", args=["nope"])).status_code == 404
    assert client.get(reverse("app-content-new-cars") + "?page=x²").status_code == 200


def test_item_page_counts_a_read_and_shows_places_and_action(site):
    client = owner_client(site.owner)
    r = client.get(reverse("app-content-item", args=[site.areas.pk]))
    assert r.status_code == 200
    html = r.content.decode()
    assert "East gate" in html and "uri.amap.com/marker" in html
    assert 'data-testid="item-action"' in html and reverse("app-service-book") in html
    assert ContentView.objects.filter(item=site.areas, owner=site.owner).exists()


def test_item_of_another_group_is_404(site):
    r = owner_client(site.owner).get(reverse("app-content-item", args=[site.theirs.pk]))
    assert r.status_code == 404
    assert not ContentView.objects.filter(item=site.theirs).exists()
    r = owner_client(site.owner_b).get(reverse("app-content-item", args=[site.areas.pk]))
    assert r.status_code == 404


def test_knowledge_base_categories_and_search(site):
    client = owner_client(site.owner)
    r = client.get(reverse("app-content-knowledge"))
    assert r.status_code == 200 and b"Tyres" in r.content and b"Tyre pressure" in r.content
    r = client.get(reverse("app-content-knowledge"), {"category": site.category.pk})
    assert b"Tyre pressure" in r.content
    r = client.get(reverse("app-content-knowledge"), {"q": "pressure"})
    assert b"Tyre pressure" in r.content
    r = client.get(reverse("app-content-knowledge"), {"q": "nothing-like-it"})
    assert b"Tyre pressure" not in r.content
    assert client.get(reverse("app-content-knowledge"), {"category": 999999}).status_code == 404


def test_magazines(site):
    client = owner_client(site.owner)
    r = client.get(reverse("app-content-magazines"))
    assert r.status_code == 200 and b"Spring" in r.content and b"Road trip" in r.content
    r = client.get(reverse("app-content-magazine-issue", args=[site.issue.pk]))
    assert r.status_code == 200 and b"Road trip" in r.content
    assert client.get(reverse("app-content-magazine-issue", args=[999999])).status_code == 404


def test_search_page(site):
    client = owner_client(site.owner)
    assert client.get(reverse("app-content-search")).status_code == 200
    r = client.get(reverse("app-content-search"), {"q": "tyre"})
    assert b"Tyre pressure" in r.content
    r = client.get(reverse("app-content-search"), {"q": "beta"})
    assert b"content-card" not in r.content


def test_prices_page(site):
    service_starter.install_catalogue(site.group_a)
    service_starter.install_catalogue(site.group_b)
    client = owner_client(site.owner)
    r = client.get(reverse("app-content-prices"))
    assert r.status_code == 200 and b'data-testid="packages"' in r.content
    assert client.get(reverse("app-content-prices"), {"store": site.store_b.pk}).status_code == 404
    r = owner_client(site.owner).get(reverse("app-content-prices"), {"store": "abc"})
    assert r.status_code == 200


def test_signed_out_visitors_go_to_sign_in(site):
    r = Client().get(reverse("app-content-knowledge"))
    assert r.status_code == 302 and reverse("app-login") in r["Location"]
