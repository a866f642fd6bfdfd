"""The content console per role: who sees which pages, the editor's round trip (texts,
targets, pictures, schedule), the review queue, versions, preview and reads; another group's
or organisation's item is 404."""

import io

import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image

from m4s.content import services
from m4s.content.choices import Module, Status, TargetKind
from m4s.content.models import ContentItem, ContentView
from m4s.core.errors import DomainError

from .conftest import texts

pytestmark = pytest.mark.django_db


def _client(user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def _png(name="p.png"):
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(out, "PNG")
    out.seek(0)
    out.name = name
    return out


def _form(**extra):
    data = {
        "module": Module.NEW_CARS,
        "source_language": "en",
        "title_en": "New SUV",
        "summary_en": "Come and see",
        "body_en": "<p>Hi</p><script>alert(1)</script>",
        "title_ko": "",
        "action_kind": "none",
        "tags": "suv, ev",
        "target_brand": "BYD",
        "bound_car": "yes",
    }
    data.update(extra)
    return data


@pytest.mark.parametrize("who", ["hq", "admin_a", "manager_a", "editor_bj"])
def test_publishers_see_the_console_pages(pub, who):
    client = _client(getattr(pub, who))
    for name in ("console-content", "console-content-new"):
        response = client.get(reverse(name))
        assert response.status_code == 200, name
    assert b'data-testid="nav-content"' in client.get(reverse("console-content")).content


@pytest.mark.parametrize("who", ["advisor_a", "tech_a"])
def test_other_staff_are_refused(pub, who):
    client = _client(getattr(pub, who))
    assert client.get(reverse("console-content")).status_code == 403
    assert client.get(reverse("console-content-review")).status_code == 403
    page = client.get(reverse("console-home"))
    assert b'data-testid="nav-content"' not in page.content


def test_anonymous_is_sent_to_sign_in(db):
    response = Client().get(reverse("console-content"))
    assert response.status_code == 302


def test_editor_round_trip_submit_review_approve(pub):
    manager = _client(pub.manager_a)
    response = manager.post(
        reverse("console-content-new"),
        {**_form(module=Module.SERVICE_NEWS), "cover": _png(), "gallery": [_png(), _png("b.png")]},
    )
    assert response.status_code == 302
    item = ContentItem.objects.get()
    assert item.store_id == pub.store_a.pk and item.tags == ["suv", "ev"]
    assert item.cover and item.images.count() == 2
    assert "<script>" not in item.translations.get(language="en").body_html
    assert (TargetKind.BRAND, "byd") in item.targets.values_list("kind", "value")
    assert item.target_bound_car is True
    page = manager.get(reverse("console-content-item", args=[item.pk]))
    assert page.status_code == 200 and b"New SUV" in page.content
    # the pictures are served to the editor
    assert manager.get(item.cover.url).status_code == 200
    # edit: a new version
    manager.post(
        reverse("console-content-item", args=[item.pk]),
        _form(module=Module.SERVICE_NEWS, title_en="Newer"),
    )
    item.refresh_from_db()
    assert item.version == 2
    manager.post(reverse("console-content-action", args=[item.pk, "submit"]))
    item.refresh_from_db()
    assert item.status == Status.REVIEW
    # the store manager cannot approve; the group admin finds it in the review queue
    manager.post(reverse("console-content-action", args=[item.pk, "approve"]))
    item.refresh_from_db()
    assert item.status == Status.REVIEW
    admin = _client(pub.admin_a)
    queue = admin.get(reverse("console-content-review"))
    assert b"Newer" in queue.content
    admin.post(
        reverse("console-content-action", args=[item.pk, "reject"]), {"reason": "Fix the price"}
    )
    item.refresh_from_db()
    assert item.status == Status.REJECTED
    assert b"Fix the price" in manager.get(reverse("console-content-item", args=[item.pk])).content
    manager.post(reverse("console-content-action", args=[item.pk, "submit"]))
    admin.post(reverse("console-content-action", args=[item.pk, "approve"]), {"next": "review"})
    item.refresh_from_db()
    assert item.status == Status.PUBLISHED
    listing = manager.get(reverse("console-content") + "?status=published")
    assert b"Newer" in listing.content
    assert b"Newer" not in manager.get(reverse("console-content") + "?status=draft").content


def test_bad_input_shows_the_form_again(pub):
    client = _client(pub.editor_bj)
    response = client.post(
        reverse("console-content-new"), _form(module=Module.CITY_FOOD, target_city="Shanghai")
    )
    assert response.status_code == 400
    assert b"own city" in response.content
    response = client.post(reverse("console-content-new"), _form(module=Module.NEW_CARS))
    assert response.status_code == 400
    response = client.post(
        reverse("console-content-new"),
        {**_form(module=Module.CITY_FOOD), "cover": io.BytesIO(b"<svg/>")},
    )
    assert response.status_code == 400
    response = client.post(
        reverse("console-content-new"), _form(module=Module.CITY_FOOD, publish_at="yesterday")
    )
    assert response.status_code == 400
    assert not ContentItem.objects.exists()


def test_versions_preview_and_stats_pages(pub):
    item = services.create_item(pub.admin_a, module=Module.NEW_CARS, translations=texts(title="V1"))
    services.update_item(pub.admin_a, item, translations=texts(title="V2"))
    client = _client(pub.admin_a)
    page = client.get(reverse("console-content-versions", args=[item.pk]))
    assert page.status_code == 200 and page.content.count(b'data-testid="version"') == 2
    client.post(reverse("console-content-restore", args=[item.pk, 1]))
    item.refresh_from_db()
    assert item.version == 3 and item.translations.get(language="en").title == "V1"
    preview = client.get(reverse("console-content-preview", args=[item.pk]))
    assert preview.status_code == 200 and b"phone-frame" in preview.content
    frame = client.get(reverse("console-content-preview-frame", args=[item.pk]) + "?lang=en")
    assert frame.status_code == 200 and b"V1" in frame.content
    assert "frame-ancestors 'self'" in frame["Content-Security-Policy"]
    services.submit(pub.admin_a, item)
    services.approve(pub.admin_a, item)
    ContentView.objects.create(item=item, owner=pub.owner, count=3)
    stats = client.get(reverse("console-content-stats", args=[item.pk]))
    assert stats.status_code == 200
    assert b'data-testid="reads-chart"' in stats.content
    assert b'data-testid="views">3<' in stats.content
    assert b'data-testid="readers">1<' in stats.content


def test_other_publishers_items_are_404(pub):
    item = services.create_item(pub.admin_a, module=Module.NEW_CARS, translations=texts())
    local = services.create_item(pub.editor_bj, module=Module.CITY_FOOD, translations=texts())
    for user, target in (
        (pub.admin_b, item),
        (pub.editor_bj, item),
        (pub.editor_sh, local),
        (pub.admin_a, local),
    ):
        client = _client(user)
        for name in (
            "console-content-item",
            "console-content-versions",
            "console-content-preview",
            "console-content-preview-frame",
            "console-content-stats",
        ):
            assert client.get(reverse(name, args=[target.pk])).status_code == 404, (user, name)
        assert (
            client.post(reverse("console-content-action", args=[target.pk, "submit"])).status_code
            == 404
        )
        assert (
            client.post(reverse("console-content-restore", args=[target.pk, 1])).status_code == 404
        )
    item.refresh_from_db()
    assert item.status == Status.DRAFT


def test_list_pages_take_a_fixed_number_of_queries(pub, api_client):
    from m4s.core.tests.factories import staff_token

    for n in range(3):
        services.create_item(
            pub.manager_a, module=Module.SERVICE_NEWS, translations=texts(title=f"T{n}")
        )
    client = _client(pub.admin_a)
    client.get(reverse("console-content"))  # warm the session and caches

    def count(call):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            call()
        return len(ctx.captured_queries)

    few = count(lambda: client.get(reverse("console-content")))
    token = staff_token(pub.admin_a)
    api_few = count(lambda: api_client.get("/api/v1/staff/content/items", token=token))
    for n in range(3, 9):
        item = services.create_item(
            pub.manager_a, module=Module.SERVICE_NEWS, translations=texts(title=f"T{n}")
        )
        services.add_image(pub.manager_a, item, _png())
    assert count(lambda: client.get(reverse("console-content"))) <= few
    assert count(lambda: api_client.get("/api/v1/staff/content/items", token=token)) <= api_few


def _owner_client(owner):
    from m4s.owners.middleware import SESSION_KEY

    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    session = client.session
    session[SESSION_KEY] = owner.pk
    session.save()
    return client


def test_pictures_are_served_to_the_item_staff_and_once_published_to_owners(pub):
    item = services.create_item(pub.admin_a, module=Module.NEW_CARS, translations=texts())
    item = services.set_cover(pub.admin_a, item, _png())
    image = services.add_image(pub.admin_a, item, _png(), "Front")
    urls = [item.cover.url, image.image.url]
    for url in urls:
        assert _client(pub.admin_a).get(url).status_code == 200
        assert _client(pub.admin_b).get(url).status_code == 404  # a draft of another group
        assert _owner_client(pub.owner).get(url).status_code == 404  # not published yet
        assert Client().get(url).status_code == 404
    services.submit(pub.admin_a, item)
    services.approve(pub.admin_a, item)
    for url in urls:
        assert _owner_client(pub.owner).get(url).status_code == 200
        assert Client().get(url).status_code == 404  # nobody signed in
    with pytest.raises(DomainError):
        services.set_cover(pub.admin_a, item, io.BytesIO(b"<svg onload=alert(1)>"))
