"""The stories API: post (multipart, Idempotency-Key), mine, feed, like/unlike, comment, report,
delete; staff moderation. Another group's story is a 404 everywhere."""

import pytest
from django.test import Client, TestCase

from m4s.community.models import Story, StoryComment
from m4s.core.tests.factories import owner_token, staff_token

from .conftest import png

pytestmark = pytest.mark.django_db


def multipart(token, data, key=""):
    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}", "HTTP_ACCEPT_LANGUAGE": "en"}
    if key:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post("/api/v1/me/stories", data, **headers)


def test_post_story_with_photos_and_idempotency(community, api_client):
    w = community
    token = owner_token(w.owner)
    r = multipart(token, {"text": "Spring drive", "photos": [png(), png()]}, key="abc")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["status"] == "pending" and len(body["photos"]) == 2 and body["mine"]
    again = multipart(token, {"text": "Spring drive", "photos": [png(), png()]}, key="abc")
    assert again.status_code == 201 and again.json()["id"] == body["id"]
    assert Story.objects.unscoped().count() == 1
    # the author downloads the photo; another owner does not (pending)
    owner = Client()
    assert owner.get(body["photos"][0]["url"]).status_code == 404
    mine = api_client.get("/api/v1/me/stories", token=token)
    assert [s["id"] for s in mine.json()] == [body["id"]]


def test_post_refuses_a_file_that_is_not_an_image(community):
    from django.core.files.uploadedfile import SimpleUploadedFile

    w = community
    fake = SimpleUploadedFile("x.jpg", b"GIF89a<script>", content_type="image/jpeg")
    r = multipart(owner_token(w.owner), {"text": "Look", "photos": [fake]})
    assert r.status_code == 400 and r.json()["code"] == "invalid_image"
    assert not Story.objects.unscoped().exists()


def test_post_refuses_blank_text(community):
    r = multipart(owner_token(community.owner), {"text": "   "})
    assert r.status_code == 422
    assert not Story.objects.unscoped().exists()


def test_workflow_over_the_api(community, api_client):
    w = community
    author, fan, other = owner_token(w.owner), owner_token(w.fan), owner_token(w.owner_b)
    mod, mod_b = staff_token(w.moderator_a), staff_token(w.admin_b)
    sid = multipart(author, {"text": "Road trip", "photos": [png()]}).json()["id"]

    # pending: not in the feed, 404 for others, in the queue of group A only
    assert api_client.get("/api/v1/stories", token=fan).json() == []
    assert api_client.get(f"/api/v1/stories/{sid}", token=fan).status_code == 404
    queue = api_client.get("/api/v1/staff/stories?status=pending", token=mod).json()
    assert [s["id"] for s in queue] == [sid]
    assert api_client.get("/api/v1/staff/stories", token=mod_b).json() == []
    assert api_client.post(f"/api/v1/staff/stories/{sid}/approve", token=mod_b).status_code == 404
    assert api_client.get(f"/api/v1/staff/stories/{sid}", token=mod_b).status_code == 404
    tech = staff_token(w.tech_a)
    assert api_client.post(f"/api/v1/staff/stories/{sid}/approve", token=tech).status_code == 403

    r = api_client.post(f"/api/v1/staff/stories/{sid}/approve", token=mod)
    assert r.status_code == 200 and r.json()["status"] == "approved"
    assert api_client.post(f"/api/v1/staff/stories/{sid}/approve", token=mod).status_code == 409

    feed = api_client.get("/api/v1/stories", token=fan).json()
    assert [s["id"] for s in feed] == [sid] and feed[0]["share_url"] == ""
    assert api_client.get("/api/v1/stories", token=other).json() == []
    assert api_client.get(f"/api/v1/stories/{sid}", token=other).status_code == 404
    assert api_client.post(f"/api/v1/stories/{sid}/like", token=other).status_code == 404

    # photo: the fan (same group) downloads it, the other group's owner does not
    photo_url = feed[0]["photos"][0]["url"]

    def download(token):
        return Client().get(photo_url, HTTP_AUTHORIZATION=f"Bearer {token}").status_code

    assert download(fan) == 200 and download(other) == 404
    assert download(staff_token(w.advisor_a)) == 200 and download(mod_b) == 404

    liked = api_client.post(f"/api/v1/stories/{sid}/like", token=fan)
    assert liked.status_code == 200 and liked.json() == {"liked": True, "likes_count": 1}
    assert api_client.post(f"/api/v1/stories/{sid}/like", token=author).status_code == 422
    assert api_client.delete(f"/api/v1/stories/{sid}/like", token=fan).json()["likes_count"] == 0

    c = api_client.post(f"/api/v1/stories/{sid}/comments", {"text": "Nice!"}, token=fan)
    assert c.status_code == 201
    cid = c.json()["id"]
    rep = api_client.post(
        f"/api/v1/stories/{sid}/report", {"reason": "abuse", "comment_id": cid}, token=author
    )
    assert rep.status_code == 201
    assert [x["id"] for x in api_client.get("/api/v1/staff/story-reports", token=mod).json()] == [
        rep.json()["id"]
    ]
    assert (
        api_client.post(f"/api/v1/staff/story-comments/{cid}/hide", token=mod_b).status_code == 404
    )
    hidden = api_client.post(f"/api/v1/staff/story-comments/{cid}/hide", token=mod)
    assert hidden.status_code == 200 and hidden.json()["status"] == "hidden"
    detail = api_client.get(f"/api/v1/stories/{sid}", token=fan).json()
    assert detail["comments"] == [] and detail["comments_count"] == 0

    # share link for the author
    mine = api_client.get(f"/api/v1/stories/{sid}", token=author).json()
    assert "/app/community/s/" in mine["share_url"]

    # another owner cannot delete it; the author can
    assert api_client.delete(f"/api/v1/me/stories/{sid}", token=fan).status_code == 404
    assert api_client.delete(f"/api/v1/me/stories/{sid}", token=other).status_code == 404
    assert api_client.delete(f"/api/v1/me/stories/{sid}", token=author).status_code == 204
    assert api_client.get("/api/v1/stories", token=fan).json() == []
    assert api_client.get("/api/v1/me/stories", token=author).json() == []


def test_reject_needs_a_reason(community, api_client):
    w = community
    sid = multipart(owner_token(w.owner), {"text": "Hello"}).json()["id"]
    mod = staff_token(w.moderator_a)
    assert api_client.post(f"/api/v1/staff/stories/{sid}/reject", {}, token=mod).status_code == 422
    r = api_client.post(
        f"/api/v1/staff/stories/{sid}/reject", {"reason": "Plate visible"}, token=mod
    )
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    mine = api_client.get("/api/v1/me/stories", token=owner_token(w.owner)).json()
    assert mine[0]["status"] == "rejected" and mine[0]["reason"] == "Plate visible"


def test_points_through_the_api(community, api_client):
    from m4s.loyalty.models import LedgerEntry

    w = community
    sid = multipart(owner_token(w.owner), {"text": "Hello"}).json()["id"]
    api_client.post(f"/api/v1/staff/stories/{sid}/approve", token=staff_token(w.moderator_a))
    api_client.post(f"/api/v1/stories/{sid}/like", token=owner_token(w.fan))
    api_client.post(f"/api/v1/stories/{sid}/like", token=owner_token(w.third))
    points = sorted(
        LedgerEntry.objects.for_group(w.group_a)
        .filter(member=w.member)
        .values_list("points", flat=True)
    )
    assert points == [2, 2, 50]
    assert StoryComment.objects.for_group(w.group_a).count() == 0


def test_feed_api_queries_do_not_grow(community, api_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    w = community
    token, mod = owner_token(w.fan), w.moderator_a

    def add(n):
        from m4s.community import services

        for i in range(n):
            s = services.create_story(w.owner, text=f"s{i}", photos=[png()])
            services.approve_story(mod, s)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert api_client.get("/api/v1/stories", token=token).status_code == 200
        return len(ctx.captured_queries)

    add(2)
    count()  # the first call of a token records its use
    few = count()
    add(5)
    assert count() == few
