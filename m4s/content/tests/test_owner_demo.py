"""The content demo: every module has live content in three languages with a cover, the
Beijing city-food page reaches the Beijing owners, targeted items reach only their owners, one
item is scheduled and one expired, and the owners' pages render on the demo data."""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from m4s.content import search, selectors
from m4s.content.choices import Module, Status
from m4s.content.models import ContentItem, ContentView, KnowledgeCategory, MagazineIssue
from m4s.content.views.owner import module_url_name
from m4s.demo.builder import OWNER_PHONES, build_demo
from m4s.owners.middleware import SESSION_KEY
from m4s.owners.models import Owner


@pytest.mark.django_db
def test_content_demo_is_alive():
    assert build_demo(insights=False) is True
    items = ContentItem.objects.all()
    assert set(items.values_list("module", flat=True)) == set(Module.values)
    assert all(i.cover for i in items)
    assert all(i.translations.count() == 3 for i in items)
    assert set(items.values_list("level", flat=True)) == {"hq", "local", "dealer"}
    assert items.filter(status=Status.EXPIRED).exists()
    assert KnowledgeCategory.objects.count() >= 3 and MagazineIssue.objects.exists()
    assert ContentView.objects.exists()

    owner = Owner.objects.get(phone=OWNER_PHONES[0])
    feed = selectors.feed_for_owner(owner, language="en", limit=100)
    modules = {i.module for i in feed}
    assert modules == set(Module.values)  # every module has something for a Beijing owner
    titles = {i.t_title for i in feed}
    assert "A bite of Beijing: the roast duck map" in titles
    assert "Shanghai owners: new outer-ring limits" not in titles
    assert "Spring Festival opening hours" not in titles  # scheduled
    assert "National Day car fair (over)" not in titles  # expired
    assert "Not bound your car yet?" not in titles  # the owner has a bound car
    assert [i.t_title for i in search.search(owner, "烤鸭", "zh-hans")] == [
        "舌尖上的北京：烤鸭地图"
    ]

    client = Client()
    session = client.session
    session[SESSION_KEY] = owner.pk
    session.save()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    for module in Module.values:
        assert client.get(reverse(module_url_name(module))).status_code == 200
    for item in feed:
        assert client.get(reverse("app-content-item", args=[item.pk])).status_code == 200
    assert client.get(reverse("app-content-prices")).status_code == 200
