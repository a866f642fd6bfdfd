"""Isolation on every conversations endpoint: another owner of the same group and owners of
another group get 404 for a conversation; another group's staff get 404; a staff member without
the capability gets 403; a third owner who is nobody's customer sees nothing; notes never reach
an owner by any read."""

import pytest

from m4s.conversations import selectors, services
from m4s.conversations.models import Conversation, Message
from m4s.core.tests.factories import owner_token, staff_token

from .conftest import T0

ME = "/api/v1/me/conversations"
STAFF = "/api/v1/staff/conversations"

OWNER_CALLS = [
    ("GET", "{me}/{id}/messages", None),
    ("POST", "{me}/{id}/messages", {"body": "hi"}),
    ("POST", "{me}/{id}/read", None),
    ("POST", "{me}/{id}/rating", {"score": 3}),
]
STAFF_CALLS = [
    ("GET", "{staff}/{id}/messages", None),
    ("POST", "{staff}/{id}/messages", {"body": "hi"}),
    ("POST", "{staff}/{id}/notes", {"body": "hi"}),
    ("POST", "{staff}/{id}/assign", {}),
    ("POST", "{staff}/{id}/close", None),
]


@pytest.fixture
def scene(talk):
    w = talk
    w.conv = services.start_conversation(
        w.owner, customer=w.customer, topic="service", body="Mine", now=T0
    )
    services.add_note(w.advisor_a, w.conv, body="Secret note")
    w.conv_b = services.start_conversation(
        w.owner_b, customer=w.customer_b, topic="service", body="Group B", now=T0
    )
    return w


def _call(api, method, path, body, token):
    return api.request(method, path, body, token)


@pytest.mark.parametrize(("method", "path", "body"), OWNER_CALLS)
def test_owner_endpoints_answer_404_for_others_conversations(api_client, scene, method, path, body):
    w = scene
    before = Message.objects.unscoped().count()
    for owner in (w.owner_c, w.owner_b, w.stranger):
        r = _call(api_client, method, path.format(me=ME, id=w.conv.pk), body, owner_token(owner))
        assert r.status_code == 404, (owner, r.json_body)
    assert Message.objects.unscoped().count() == before
    # staff tokens are not owner tokens
    r = _call(api_client, method, path.format(me=ME, id=w.conv.pk), body, staff_token(w.advisor_a))
    assert r.status_code == 401


@pytest.mark.parametrize(("method", "path", "body"), STAFF_CALLS)
def test_staff_endpoints_answer_404_to_another_group_and_403_without_capability(
    api_client, scene, method, path, body
):
    w = scene
    before = Message.objects.unscoped().count()
    for person in (w.advisor_b, w.admin_b, w.cs_b):
        r = _call(
            api_client, method, path.format(staff=STAFF, id=w.conv.pk), body, staff_token(person)
        )
        assert r.status_code == 404, (person, r.json_body)
    r = _call(
        api_client, method, path.format(staff=STAFF, id=w.conv.pk), body, staff_token(w.tech_a)
    )
    assert r.status_code == 403
    r = _call(
        api_client, method, path.format(staff=STAFF, id=w.conv.pk), body, owner_token(w.owner)
    )
    assert r.status_code == 401
    assert Message.objects.unscoped().count() == before


def test_lists_show_only_ones_own(api_client, scene):
    w = scene
    assert [c["id"] for c in api_client.get(ME, owner_token(w.owner)).json_body] == [w.conv.pk]
    assert api_client.get(ME, owner_token(w.owner_c)).json_body == []
    assert api_client.get(ME, owner_token(w.stranger)).json_body == []
    assert [c["id"] for c in api_client.get(ME, owner_token(w.owner_b)).json_body] == [w.conv_b.pk]
    for box in ("mine", "team", "unassigned", "waiting", "closed"):
        for person in (w.advisor_b, w.admin_b):
            rows = api_client.get(STAFF, staff_token(person), params={"box": box}).json_body
            assert w.conv.pk not in [c["id"] for c in rows]
        rows = api_client.get(STAFF, staff_token(w.advisor_a), params={"box": box}).json_body
        assert w.conv_b.pk not in [c["id"] for c in rows]
    assert api_client.get(STAFF, staff_token(w.tech_a)).status_code == 403
    assert selectors.owner_unread_count(w.stranger) == 0
    assert selectors.staff_unread_count(w.tech_a) == 0


def test_cards_calls_and_dial_respect_the_group(api_client, scene):
    w = scene
    t = staff_token(w.advisor_b)
    r = api_client.post(
        "/api/v1/staff/calls",
        {
            "customer_id": w.customer.pk,
            "direction": "inbound",
            "reached": True,
            "duration_seconds": 5,
            "outcome": "informed",
        },
        t,
    )
    assert r.status_code == 404
    r = api_client.post("/api/v1/staff/calls/dial", {"customer_id": w.customer.pk}, t)
    assert r.status_code == 404
    r = api_client.post(
        "/api/v1/staff/calls/dial",
        {"customer_id": w.customer_c.pk, "conversation_id": w.conv.pk},
        staff_token(w.advisor_a),
    )
    assert r.status_code == 404  # the conversation of another customer
    r = api_client.post(
        "/api/v1/me/callback-requests",
        {
            "customer_id": w.customer_c.pk,
            "window_start": "2030-01-01T10:00:00+08:00",
            "window_end": "2030-01-01T11:00:00+08:00",
        },
        owner_token(w.owner),
    )
    assert r.status_code == 404


def test_notes_never_reach_owners_by_any_read(api_client, scene):
    w = scene
    body = api_client.get(f"{ME}/{w.conv.pk}/messages", owner_token(w.owner)).content.decode()
    assert "Secret note" not in body
    assert "Secret note" not in api_client.get(ME, owner_token(w.owner)).content.decode()
    assert all(m.kind == "message" for m in selectors.owner_messages(w.owner, w.conv))
    staff = api_client.get(f"{STAFF}/{w.conv.pk}/messages", staff_token(w.advisor_a)).json_body
    assert any(m["kind"] == "note" and m["text"] == "Secret note" for m in staff)
    conv = Conversation.objects.unscoped().get(pk=w.conv.pk)
    assert "Secret" not in conv.last_message_preview
