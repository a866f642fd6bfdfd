import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from m4s.core.tests.factories import owner_token, staff_token
from m4s.notify import services
from m4s.notify.choices import Channel
from m4s.notify.models import Message


def inapp(owner=None, staff=None, body="hi", **kw):
    msg = services.send_message(
        channel=Channel.INAPP, owner=owner, staff=staff, kind="test", body=body, **kw
    )
    services.deliver_message(msg.pk)
    return msg


@pytest.mark.django_db
def test_owner_inbox_lists_own_delivered_messages_with_unread_count(api_client, world):
    mine = [inapp(owner=world.owner, body=f"m{i}") for i in range(3)]
    inapp(owner=world.owner_b, body="someone else's")
    services.send_message(
        channel=Channel.INAPP, owner=world.owner, kind="t", body="not delivered yet"
    )
    token = owner_token(world.owner)
    r = api_client.get("/api/v1/me/inbox", token=token)
    assert r.status_code == 200
    assert [m["id"] for m in r.json_body["items"]] == [m.pk for m in reversed(mine)]
    assert r.json_body["unread"] == 3


@pytest.mark.django_db
def test_inbox_pages_with_a_cursor(api_client, world):
    ids = [inapp(owner=world.owner, body=f"m{i}").pk for i in range(5)]
    token = owner_token(world.owner)
    page1 = api_client.get("/api/v1/me/inbox", token=token, params={"limit": 2}).json_body
    assert [m["id"] for m in page1["items"]] == ids[:-3:-1]
    page2 = api_client.get(
        "/api/v1/me/inbox", token=token, params={"limit": 2, "before_id": page1["next_before_id"]}
    ).json_body
    assert [m["id"] for m in page2["items"]] == [ids[2], ids[1]]
    page3 = api_client.get(
        "/api/v1/me/inbox", token=token, params={"limit": 2, "before_id": page2["next_before_id"]}
    ).json_body
    assert [m["id"] for m in page3["items"]] == [ids[0]] and page3["next_before_id"] is None
    bad = api_client.get("/api/v1/me/inbox", token=token, params={"limit": 1000})
    assert bad.status_code == 422 and bad.json_body["code"] == "validation_error"


@pytest.mark.django_db
def test_mark_read_updates_unread_count(api_client, world):
    msg = inapp(owner=world.owner)
    token = owner_token(world.owner)
    r = api_client.post(f"/api/v1/me/inbox/{msg.pk}/read", token=token)
    assert r.status_code == 200 and r.json_body["read_at"] is not None
    assert api_client.get("/api/v1/me/inbox", token=token).json_body["unread"] == 0
    again = api_client.post(f"/api/v1/me/inbox/{msg.pk}/read", token=token)
    assert again.json_body["read_at"] == r.json_body["read_at"]  # idempotent


@pytest.mark.django_db
def test_another_owners_message_is_404_and_unchanged(api_client, world):
    theirs = inapp(owner=world.owner_b)
    r = api_client.post(f"/api/v1/me/inbox/{theirs.pk}/read", token=owner_token(world.owner))
    assert r.status_code == 404 and r.json_body["code"] == "not_found"
    assert Message.objects.get(pk=theirs.pk).read_at is None
    assert (
        api_client.post("/api/v1/me/inbox/999999/read", token=owner_token(world.owner)).status_code
        == 404
    )


@pytest.mark.django_db
def test_staff_inbox_is_per_person(api_client, world):
    note = inapp(staff=world.advisor_a, body="a job for advisor a")
    r = api_client.get("/api/v1/staff/inbox", token=staff_token(world.advisor_a))
    assert [m["id"] for m in r.json_body["items"]] == [note.pk]
    other = api_client.get("/api/v1/staff/inbox", token=staff_token(world.advisor_b))
    assert other.json_body == {"items": [], "unread": 0, "next_before_id": None}
    assert (
        api_client.post(
            f"/api/v1/staff/inbox/{note.pk}/read", token=staff_token(world.advisor_b)
        ).status_code
        == 404
    )


@pytest.mark.django_db
def test_inbox_query_count_does_not_grow_with_messages(api_client, world):
    token = owner_token(world.owner)
    inapp(owner=world.owner)
    api_client.get("/api/v1/me/inbox", token=token)  # first use stamps the token's last_used_at
    with CaptureQueriesContext(connection) as few:
        api_client.get("/api/v1/me/inbox", token=token)
    for i in range(20):
        inapp(owner=world.owner, body=str(i))
    with CaptureQueriesContext(connection) as many:
        api_client.get("/api/v1/me/inbox", token=token)
    assert len(many) == len(few)
