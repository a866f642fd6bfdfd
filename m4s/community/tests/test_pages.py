"""Story pages: the owner shares a story with a photo, follows it in "my stories", others like
(htmx) and comment once it is approved; the console queue approves, rejects with a reason,
hides, hides a reported comment. Roles: a technician gets 403, another group's moderator 404."""

import pytest
from django.conf import settings
from django.test import Client, TestCase

from m4s.community import services
from m4s.community.choices import CommentStatus, StoryStatus
from m4s.community.models import Story
from m4s.owners.middleware import SESSION_KEY

from .conftest import png

pytestmark = pytest.mark.django_db


def owner_client(owner) -> Client:
    client = Client()
    session = client.session
    session[SESSION_KEY] = owner.pk
    session.save()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def staff_client(user) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def approved(w, text="A day at the lake"):
    story = services.create_story(w.owner, text=text, photos=[png()])
    with TestCase.captureOnCommitCallbacks(execute=True):
        return services.approve_story(w.moderator_a, story)


def test_owner_shares_a_story_with_a_photo(community):
    w = community
    c = owner_client(w.owner)
    page = c.get("/app/community/new/")
    assert page.status_code == 200 and b'capture="environment"' in page.content
    r = c.post(
        "/app/community/new/",
        {"text": "My first trip", "photos": [png()], "idempotency_key": "k-1"},
    )
    assert r.status_code == 302
    story = Story.objects.unscoped().get()
    assert story.status == StoryStatus.PENDING
    mine = c.get("/app/community/mine/")
    assert b"My first trip" in mine.content and b"Waiting for approval" in mine.content
    # the same submit again (double tap): one story
    c.post(
        "/app/community/new/",
        {"text": "My first trip", "photos": [png()], "idempotency_key": "k-1"},
    )
    assert Story.objects.unscoped().count() == 1


def test_new_refuses_a_file_that_is_not_an_image(community):
    from django.core.files.uploadedfile import SimpleUploadedFile

    c = owner_client(community.owner)
    bad = SimpleUploadedFile("x.png", b"<html>not a picture</html>", content_type="image/png")
    r = c.post("/app/community/new/", {"text": "Look", "photos": [bad]})
    assert r.status_code == 400 and b'data-testid="error"' in r.content
    assert not Story.objects.unscoped().exists()


def test_feed_like_with_htmx_and_comment(community):
    w = community
    story = approved(w)
    fan = owner_client(w.fan)
    feed = fan.get("/app/community/")
    assert feed.status_code == 200 and b"A day at the lake" in feed.content
    with TestCase.captureOnCommitCallbacks(execute=True):
        r = fan.post(f"/app/community/stories/{story.pk}/like/", HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and b'aria-pressed="true"' in r.content
    story.refresh_from_db()
    assert story.likes_count == 1
    r = fan.post(f"/app/community/stories/{story.pk}/like/", {"undo": "1"}, HTTP_HX_REQUEST="true")
    assert b'aria-pressed="false"' in r.content
    fan.post(f"/app/community/stories/{story.pk}/comment/", {"text": "Beautiful!"})
    page = fan.get(f"/app/community/stories/{story.pk}/")
    assert b"Beautiful!" in page.content
    # the other group's owner: 404 on the page and on the actions
    stranger = owner_client(w.owner_b)
    assert stranger.get(f"/app/community/stories/{story.pk}/").status_code == 404
    assert stranger.post(f"/app/community/stories/{story.pk}/like/").status_code == 404
    assert b"A day at the lake" not in stranger.get("/app/community/").content


def test_share_page_shows_the_text_only(community):
    w = community
    story = approved(w)
    page = Client().get(f"/app/community/s/{story.share_token}/")
    assert page.status_code == 200 and b"A day at the lake" in page.content
    assert b"<img" not in page.content
    assert Client().get("/app/community/s/nope/").status_code == 404
    pending = services.create_story(w.owner, text="secret")
    assert Client().get(f"/app/community/s/{pending.share_token}/").status_code == 404


def test_owner_deletes_own_story_but_not_others(community):
    w = community
    story = approved(w)
    assert owner_client(w.fan).post(f"/app/community/stories/{story.pk}/delete/").status_code == 404
    r = owner_client(w.owner).post(f"/app/community/stories/{story.pk}/delete/")
    assert r.status_code == 302
    story.refresh_from_db()
    assert story.status == StoryStatus.DELETED


def test_signed_out_goes_to_sign_in(community):
    assert Client().get("/app/community/").status_code == 302


def test_console_queue_approve_reject_hide(community):
    w = community
    a = services.create_story(w.owner, text="Pending one", photos=[png()])
    b = services.create_story(w.fan, text="Second pending")
    mod = staff_client(w.moderator_a)
    queue = mod.get("/console/community/")
    assert queue.status_code == 200
    assert b"Pending one" in queue.content and b"Second pending" in queue.content
    with TestCase.captureOnCommitCallbacks(execute=True):
        r = mod.post(f"/console/community/{a.pk}/approve/", {"back": "queue"})
    assert r.status_code == 302
    a.refresh_from_db()
    assert a.status == StoryStatus.APPROVED
    mod.post(f"/console/community/{b.pk}/reject/", {"reason": ""})
    b.refresh_from_db()
    assert b.status == StoryStatus.PENDING  # a reason is required
    mod.post(f"/console/community/{b.pk}/reject/", {"reason": "Off topic"})
    b.refresh_from_db()
    assert b.status == StoryStatus.REJECTED and b.reject_reason == "Off topic"
    mod.post(f"/console/community/{a.pk}/hide/")
    a.refresh_from_db()
    assert a.status == StoryStatus.HIDDEN
    assert mod.get(f"/console/community/{a.pk}/").status_code == 200


def test_console_reported_comment_hidden(community):
    w = community
    story = approved(w)
    comment = services.add_comment(w.fan, story, "Rude words")
    services.report(w.owner, story, reason="abuse", comment_id=comment.pk)
    mod = staff_client(w.moderator_a)
    queue = mod.get("/console/community/")
    assert b"Rude words" in queue.content and b'data-testid="reports"' in queue.content
    mod.post(f"/console/community/comments/{comment.pk}/hide/", {"back": "queue"})
    comment.refresh_from_db()
    assert comment.status == CommentStatus.HIDDEN
    assert (
        b"Rude words" not in owner_client(w.fan).get(f"/app/community/stories/{story.pk}/").content
    )


def test_console_roles(community):
    w = community
    story = services.create_story(w.owner, text="Pending")
    assert staff_client(w.tech_a).get("/console/community/").status_code == 403
    other = staff_client(w.admin_b)
    assert other.get("/console/community/").status_code == 200
    assert b"Pending" not in other.get("/console/community/").content
    assert other.get(f"/console/community/{story.pk}/").status_code == 404
    assert other.post(f"/console/community/{story.pk}/approve/").status_code == 404
    story.refresh_from_db()
    assert story.status == StoryStatus.PENDING
    assert staff_client(w.hq).get("/console/community/").status_code in (200, 403)
    assert Client().get("/console/community/").status_code == 302


def test_feed_queries_do_not_grow_with_the_stories(community):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    w = community
    fan = owner_client(w.fan)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert fan.get("/app/community/").status_code == 200
        return len(ctx.captured_queries)

    approved(w, "one")
    approved(w, "two")
    count()  # the shell's cached configuration (branding, programme) is read once, then kept
    few = count()
    for i in range(6):
        approved(w, f"more {i}")
    assert count() == few
