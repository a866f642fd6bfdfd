"""The content console's API: drafts, review and publishing under /api/v1/staff/content/items;
another group's or organisation's item is 404."""

import datetime as dt

import pytest
from django.utils import timezone

from m4s.content.models import ContentItem, ContentView
from m4s.core.tests.factories import staff_token

pytestmark = pytest.mark.django_db
BASE = "/api/v1/staff/content/items"


def _new(**extra):
    body = {
        "module": "new_cars",
        "translations": {
            "en": {
                "title": "SUV",
                "summary": "s",
                "body_html": "<p>x</p><img src=x onerror=alert(1)>",
            }
        },
        "tags": ["suv"],
        "targets": {"brand": ["BYD"]},
        "bound_car": True,
    }
    body.update(extra)
    return body


def test_draft_review_publish_through_the_api(pub, api_client):
    token = staff_token(pub.admin_a)
    created = api_client.post(BASE, _new(), token=token)
    assert created.status_code == 201, created.json_body
    item = created.json_body
    assert item["status"] == "draft" and item["level"] == "dealer"
    assert "onerror" not in item["translations"]["en"]["body_html"]
    assert item["targets"]["brand"] == ["byd"] and item["bound_car"] is True
    item_id = item["id"]
    later = (timezone.now() + dt.timedelta(days=1)).isoformat()
    patched = api_client.patch(
        f"{BASE}/{item_id}", {"pinned": True, "publish_at": later}, token=token
    )
    assert patched.status_code == 200 and patched.json_body["pinned"] is True
    assert patched.json_body["version"] == 2
    assert api_client.post(f"{BASE}/{item_id}/approve", token=token).status_code == 409
    assert api_client.post(f"{BASE}/{item_id}/submit", token=token).json_body["status"] == "review"
    rejected = api_client.post(f"{BASE}/{item_id}/reject", {"reason": ""}, token=token)
    assert rejected.status_code == 422
    published = api_client.post(f"{BASE}/{item_id}/approve", token=token)
    assert published.json_body["status"] == "published"
    assert (
        api_client.get(BASE, token=token, params={"status": "published"}).json_body[0]["id"]
        == item_id
    )
    ContentView.objects.create(item_id=item_id, owner=pub.owner, count=2)
    stats = api_client.get(f"{BASE}/{item_id}/stats", token=token).json_body
    assert stats["views"] == 2 and stats["readers"] == 1 and len(stats["days"]) == 30
    versions = api_client.get(f"{BASE}/{item_id}/versions", token=token).json_body
    assert [v["number"] for v in versions] == [2, 1]
    restored = api_client.post(f"{BASE}/{item_id}/versions/1/restore", token=token).json_body
    assert restored["status"] == "draft" and restored["pinned"] is False
    assert api_client.post(f"{BASE}/{item_id}/expire", token=token).status_code == 409


def test_rights_and_bad_input(pub, api_client):
    editor = staff_token(pub.editor_bj)
    refused = api_client.post(BASE, _new(), token=editor)
    assert refused.status_code == 403 and refused.json_body["code"] == "module_not_allowed"
    other_city = api_client.post(
        BASE, _new(module="city_food", targets={"city": ["Shanghai"]}), token=editor
    )
    assert other_city.status_code == 403 and other_city.json_body["code"] == "target_outside_city"
    assert api_client.post(BASE, _new(module="city_food"), token=editor).status_code == 201
    advisor = staff_token(pub.advisor_a)
    assert api_client.post(BASE, _new(), token=advisor).status_code == 403
    assert api_client.get(BASE, token=advisor).json_body == []
    admin = staff_token(pub.admin_a)
    assert api_client.post(BASE, _new(translations={}), token=admin).status_code == 422
    assert api_client.post(BASE, _new(tags=["x" * 31]), token=admin).status_code == 422
    for action in (
        {"kind": "link", "target": "javascript:alert(1)"},
        {"kind": "link", "target": "http://["},
        {"kind": "event", "target": "abc"},
    ):
        assert api_client.post(BASE, _new(action=action), token=admin).status_code == 422
    linked = api_client.post(
        BASE, _new(action={"kind": "link", "target": "https://m4s.example/a"}), token=admin
    )
    assert linked.status_code == 201 and linked.json_body["action_kind"] == "link"
    assert ContentItem.objects.count() == 2


def test_other_groups_items_are_404(pub, api_client):
    mine = api_client.post(BASE, _new(), token=staff_token(pub.admin_a)).json_body["id"]
    for outsider in (pub.admin_b, pub.editor_bj, pub.hq, pub.advisor_a):
        token = staff_token(outsider)
        assert api_client.get(f"{BASE}/{mine}", token=token).status_code == 404
        assert api_client.patch(f"{BASE}/{mine}", {"pinned": True}, token=token).status_code == 404
        assert api_client.post(f"{BASE}/{mine}/submit", token=token).status_code == 404
        assert api_client.get(f"{BASE}/{mine}/stats", token=token).status_code == 404
        assert api_client.get(f"{BASE}/{mine}/versions", token=token).status_code == 404
        assert mine not in [i["id"] for i in api_client.get(BASE, token=token).json_body]
    assert ContentItem.objects.get(pk=mine).status == "draft"
