"""The console's live channel (m4s/notify/live.py): what a staff member's stream carries (their
own group, their stores, notices addressed to them), the stream endpoint (SSE framing,
Last-Event-ID replay, refusals), every staff notification published on it, Redis waking the
streams when configured, and two groups connected at once to a real server."""

import http.client
import json
import threading
import urllib.parse

import pytest
from django.conf import settings
from django.test import Client, TestCase

from m4s.core.tests.factories import make_staff, owner_token, staff_token
from m4s.notify import live, services
from m4s.notify.models import LiveEvent
from m4s.org.models import Store
from m4s.staff.choices import Role

URL = "/api/v1/staff/stream"


def frames(raw: str) -> list[dict]:
    """The events of an SSE body: [{'id': .., 'event': .., 'data': {...}}] (comments skipped)."""
    out = []
    for block in raw.split("\n\n"):
        fields: dict = {}
        for line in block.splitlines():
            if not line or line.startswith(":"):
                continue
            name, _, value = line.partition(": ")
            fields[name] = value
        if "data" in fields:
            fields["data"] = json.loads(fields["data"])
            fields["id"] = int(fields["id"])
            out.append(fields)
    return out


def read(response) -> list[dict]:
    return frames(b"".join(response.streaming_content).decode())


@pytest.fixture
def two_stores(world):
    world.store_a2 = Store.objects.create(
        dealer_group=world.group_a, name="Alpha East", timezone="Asia/Shanghai"
    )
    return world


@pytest.mark.django_db
def test_a_staff_member_gets_their_groups_events_of_their_stores_and_their_own_notices(two_stores):
    w = two_stores
    here = live.publish(w.group_a.pk, "rescue.opened", {"case": 1}, store_id=w.store_a.pk)
    elsewhere = live.publish(w.group_a.pk, "rescue.opened", {"case": 2}, store_id=w.store_a2.pk)
    everyone = live.publish(w.group_a.pk, "alarm.geofence", {"car": 3})
    mine = live.publish(w.group_a.pk, "notice", {"id": 4}, staff_id=w.advisor_a.pk)
    theirs = live.publish(w.group_a.pk, "notice", {"id": 5}, staff_id=w.admin_a.pk)
    other_group = live.publish(w.group_b.pk, "rescue.opened", {"case": 6}, store_id=w.store_b.pk)

    def seen(user, after=0):
        return [e.pk for e in live.Audience(user).events_after(after)]

    # an advisor of store A: store A's and the group's events, and notices to them only
    assert seen(w.advisor_a) == [here.pk, everyone.pk, mine.pk]
    # a group admin sees every store of the group, and their own notices
    assert seen(w.admin_a) == [here.pk, elsewhere.pk, everyone.pk, theirs.pk]
    assert seen(w.advisor_b) == [other_group.pk]  # the third user sees nothing of group A
    assert seen(w.advisor_a, after=everyone.pk) == [mine.pk]
    assert seen(w.hq) == []  # no dealer group, no stream


@pytest.mark.django_db
def test_the_stream_sends_what_came_after_the_last_event_id_in_order(world):
    w = world
    first = live.publish(w.group_a.pk, "rescue.opened", {"case": 1}, store_id=w.store_a.pk)
    second = live.publish(w.group_a.pk, "rescue.joined", {"case": 1}, store_id=w.store_a.pk)
    live.publish(w.group_b.pk, "rescue.opened", {"case": 9}, store_id=w.store_b.pk)
    third = live.publish(w.group_a.pk, "notice", {"id": 7}, staff_id=w.advisor_a.pk)
    response = Client().get(
        URL,
        HTTP_AUTHORIZATION=f"Bearer {staff_token(w.advisor_a)}",
        HTTP_LAST_EVENT_ID=str(first.pk),
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    assert response["Cache-Control"] == "no-cache"
    got = read(response)
    assert [(f["id"], f["event"]) for f in got] == [
        (second.pk, "rescue"),
        (third.pk, "notice"),
    ]
    assert got[0]["data"] == {"kind": "rescue.joined", "store": w.store_a.pk, "case": 1}


@pytest.mark.django_db
def test_a_new_connection_starts_from_now_and_the_console_session_is_enough(world):
    w = world
    live.publish(w.group_a.pk, "rescue.opened", {"case": 1}, store_id=w.store_a.pk)
    client = Client()
    client.force_login(w.advisor_a)
    response = client.get(URL)  # connected: what came before is not sent again
    fresh = live.publish(w.group_a.pk, "rescue.opened", {"case": 2}, store_id=w.store_a.pk)
    assert [f["id"] for f in read(response)] == [fresh.pk]


@pytest.mark.django_db
def test_refusals(world, settings):
    w = world
    assert Client().get(URL).status_code == 401
    owner = Client().get(URL, HTTP_AUTHORIZATION=f"Bearer {owner_token(w.owner)}")
    assert owner.status_code == 401  # owners have no console stream
    hq = Client().get(URL, HTTP_AUTHORIZATION=f"Bearer {staff_token(w.hq)}")
    assert hq.status_code == 403 and hq.json()["code"] == "forbidden"
    bad = Client().get(
        URL, HTTP_AUTHORIZATION=f"Bearer {staff_token(w.advisor_a)}", HTTP_LAST_EVENT_ID="x"
    )
    assert bad.status_code == 422
    settings.LIVE_MAX_STREAMS = 0
    busy = Client().get(URL, HTTP_AUTHORIZATION=f"Bearer {staff_token(w.advisor_a)}")
    assert busy.status_code == 503 and busy.json()["code"] == "stream_busy"


@pytest.mark.django_db
def test_a_server_gives_back_its_stream_slots(world, settings):
    settings.LIVE_MAX_STREAMS = 1
    token = staff_token(world.advisor_a)
    first = Client().get(URL, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert first.status_code == 200
    second = Client().get(URL, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert second.status_code == 503  # the one slot is held by the open stream
    read(first)  # it ended: the server closed the response
    third = Client().get(URL, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert third.status_code == 200
    read(third)


@pytest.mark.django_db
def test_every_staff_notification_is_published_to_that_person(world):
    w = world
    manager = make_staff("mgr-a", Role.STORE_MANAGER, w.group_a, [w.store_a])
    with TestCase.captureOnCommitCallbacks(execute=True):
        sent = services.tell_staff(
            [w.advisor_a, manager],
            "complaint.new",
            lambda: ("New complaint", ""),
            group_id=w.group_a.pk,
            link="/console/complaints/1/",
            dedupe="c:1",
        )
        services.tell_staff(  # a retry: no second message, no second event
            [w.advisor_a],
            "complaint.new",
            lambda: ("New complaint", ""),
            group_id=w.group_a.pk,
            dedupe="c:1",
        )
    events = list(LiveEvent.objects.order_by("id"))
    assert [(e.staff_id, e.kind) for e in events] == [
        (w.advisor_a.pk, "notice"),
        (manager.pk, "notice"),
    ]
    assert events[0].data == {
        "id": sent[0].pk,
        "about": "complaint.new",
        "link": "/console/complaints/1/",
    }
    assert all(e.dealer_group_id == w.group_a.pk for e in events)


@pytest.mark.django_db
def test_a_rolled_back_change_publishes_nothing(world):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        live.publish(world.group_a.pk, "rescue.opened", {"case": 1})
        raise RuntimeError
    assert not LiveEvent.objects.exists()


@pytest.mark.skipif(not settings.REDIS_URL, reason="REDIS_URL not set")
@pytest.mark.django_db
def test_redis_wakes_the_groups_streams_after_commit(world):
    pubsub = live._redis().pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(live.channel_name(world.group_a.pk))
    try:
        with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
            event = live.publish(world.group_a.pk, "rescue.opened", {"case": 1})
        assert pubsub.get_message(timeout=0.2) is None  # nothing before the commit
        for callback in callbacks:
            callback()
        message = pubsub.get_message(timeout=5)
        assert message is not None and int(message["data"]) == event.pk
    finally:
        pubsub.close()


def test_prune_keeps_a_day(db, world):
    from django.utils import timezone

    old = live.publish(world.group_a.pk, "notice", {})
    LiveEvent.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timezone.timedelta(days=2)
    )
    kept = live.publish(world.group_a.pk, "notice", {})
    assert live.prune() == 1
    assert list(LiveEvent.objects.values_list("id", flat=True)) == [kept.pk]


# --- two groups connected at once to a real server -------------------------------------------
def _listen(base: str, token: str, out: list) -> None:
    url = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=20)
    conn.request("GET", URL, headers={"Authorization": f"Bearer {token}"})
    response = conn.getresponse()
    out.append(response.status)
    out.extend(frames(response.read().decode()))
    conn.close()


def test_two_groups_connected_at_once_each_hear_only_their_own(
    transactional_db, world, live_server, settings
):
    from django.db import transaction

    settings.LIVE_STREAM_SECONDS = 3
    w = world
    heard_a: list = []
    heard_b: list = []
    listeners = [
        threading.Thread(target=_listen, args=(live_server.url, staff_token(w.advisor_a), heard_a)),
        threading.Thread(target=_listen, args=(live_server.url, staff_token(w.advisor_b), heard_b)),
    ]
    for t in listeners:
        t.start()
    import time

    time.sleep(1)  # both connected
    with transaction.atomic():
        a = live.publish(w.group_a.pk, "rescue.opened", {"case": 1}, store_id=w.store_a.pk)
    with transaction.atomic():
        b = live.publish(w.group_b.pk, "rescue.opened", {"case": 2}, store_id=w.store_b.pk)
    with transaction.atomic():
        a_notice = live.publish(w.group_a.pk, "notice", {"id": 3}, staff_id=w.advisor_a.pk)
    for t in listeners:
        t.join(timeout=20)
    assert heard_a[0] == 200 and heard_b[0] == 200
    assert [f["id"] for f in heard_a[1:]] == [a.pk, a_notice.pk]
    assert [f["id"] for f in heard_b[1:]] == [b.pk]


@pytest.mark.django_db
def test_the_console_toast_shows_the_newest_unread_notice_to_its_reader_only(world):
    w = world
    with TestCase.captureOnCommitCallbacks(execute=True):  # delivered to the inbox
        services.tell_staff(
            [w.advisor_a],
            "complaint.new",
            lambda: ("New complaint from Zhang San", "Noise after the repair"),
            group_id=w.group_a.pk,
            link="/console/complaints/1/",
        )
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(w.advisor_a)
    toast = client.get("/console/inbox/latest/").content.decode()
    assert "New complaint from Zhang San" in toast and 'href="/console/complaints/1/"' in toast
    client.force_login(w.advisor_b)  # the third user sees nothing
    assert "data-testid" not in client.get("/console/inbox/latest/").content.decode()
    client.logout()
    assert client.get("/console/inbox/latest/").status_code in (302, 403)
