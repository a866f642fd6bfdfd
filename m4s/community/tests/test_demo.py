"""The stories demo: a story in every moderation state with photos, likes, comments, an open
report; the authors earned their points; the pages show it to a demo owner and a moderator."""

import pytest
from django.conf import settings
from django.test import Client, TestCase

from m4s.community.choices import CommentStatus, StoryStatus
from m4s.community.models import Report, Story, StoryComment, StoryPhoto
from m4s.demo.builder import OWNER_PHONES, build_demo
from m4s.loyalty.models import LedgerEntry
from m4s.owners.middleware import SESSION_KEY
from m4s.owners.models import Owner
from m4s.staff.models import StaffUser


@pytest.mark.django_db
def test_community_demo():
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert build_demo(insights=False) is True
    stories = Story.objects.unscoped().filter(event_id__isnull=True)
    states = set(stories.values_list("status", flat=True))
    assert {
        StoryStatus.APPROVED,
        StoryStatus.PENDING,
        StoryStatus.REJECTED,
        StoryStatus.HIDDEN,
    } <= states
    assert StoryPhoto.objects.unscoped().count() >= 5
    first = stories.filter(status=StoryStatus.APPROVED).order_by("created_at").first()
    assert first.likes_count == 4 and first.comments_count == 3  # one reported, not hidden yet
    assert StoryComment.objects.unscoped().filter(status=CommentStatus.VISIBLE).count() >= 5
    assert Report.objects.unscoped().filter(resolved_at__isnull=True).count() == 1
    assert LedgerEntry.objects.unscoped().filter(source_type="story_approved").exists()
    assert LedgerEntry.objects.unscoped().filter(source_type="like_received").exists()

    client = Client()
    session = client.session
    session[SESSION_KEY] = Owner.objects.get(phone=OWNER_PHONES[1]).pk
    session.save()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get("/app/community/")
    assert page.status_code == 200 and "雁栖湖" in page.content.decode()
    photo = StoryPhoto.objects.unscoped().filter(story=first).first()
    assert client.get(photo.image.url).status_code == 200

    console = Client()
    console.force_login(StaffUser.objects.get(username="cs"))
    queue = console.get("/console/community/").content.decode()
    assert "加我微信" in queue  # the reported comment
