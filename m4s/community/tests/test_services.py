"""Moderation workflow, points (with caps, never twice), likes, comments, reports, deletion."""

import pytest
from django.test import TestCase

from m4s.community import selectors, services
from m4s.community.choices import CommentStatus, ReportOutcome, StoryStatus
from m4s.community.models import Report, Story, StoryComment, StoryLike, StoryPhoto
from m4s.core.errors import DomainError, NotFound
from m4s.customers.choices import TimelineKind
from m4s.customers.models import TimelineEvent
from m4s.loyalty.models import LedgerEntry

from .conftest import png

pytestmark = pytest.mark.django_db


def balance(member) -> int:
    return sum(
        LedgerEntry.objects.for_group(member.dealer_group_id)
        .filter(member=member)
        .values_list("points", flat=True)
    )


def post(w, text="Our road trip to the Great Wall", **kw):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return services.create_story(w.owner, text=text, **kw)


def approve(w, story, actor=None):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return services.approve_story(actor or w.moderator_a, story)


def like(owner, story):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return services.like_story(owner, story)


def test_post_is_pending_with_photos_and_a_timeline_line(community):
    w = community
    story = post(w, photos=[png(), png((0, 90, 200))])
    assert story.status == StoryStatus.PENDING
    assert story.dealer_group_id == w.group_a.pk and story.customer == w.customer
    assert StoryPhoto.objects.for_group(w.group_a).filter(story=story).count() == 2
    assert (
        TimelineEvent.objects.for_group(w.group_a)
        .filter(customer=w.customer, kind=TimelineKind.COMMUNITY)
        .exists()
    )
    # nobody else sees it yet; the author does
    assert selectors.feed(w.fan) == []
    with pytest.raises(NotFound):
        selectors.get_story_for_owner(w.fan, story.pk)
    assert selectors.get_story_for_owner(w.owner, story.pk).pk == story.pk


def test_idempotent_post(community):
    w = community
    a = services.create_story(w.owner, text="Once", idempotency_key="k1")
    b = services.create_story(w.owner, text="Once", idempotency_key="k1")
    assert a.pk == b.pk
    with pytest.raises(DomainError) as exc:
        services.create_story(w.owner, text="Other", idempotency_key="k1")
    assert exc.value.code == "idempotency_key_reused"


@pytest.mark.parametrize("text", ["", "   ", "x" * 2001])
def test_bad_text_refused(community, text):
    with pytest.raises(DomainError):
        services.create_story(community.owner, text=text)
    assert not Story.objects.unscoped().exists()


def test_not_an_image_refused_and_nothing_stored(community):
    from django.core.files.uploadedfile import SimpleUploadedFile

    svg = SimpleUploadedFile("x.png", b"<svg onload=alert(1)></svg>", content_type="image/png")
    with pytest.raises(DomainError) as exc:
        services.create_story(community.owner, text="Look", photos=[png(), svg])
    assert exc.value.code == "invalid_image"
    assert not Story.objects.unscoped().exists()


def test_too_many_photos_refused(community):
    with pytest.raises(DomainError) as exc:
        services.create_story(community.owner, text="Look", photos=[png() for _ in range(10)])
    assert exc.value.code == "too_many_photos"


def test_create_story_for_a_customer_with_an_event(community):
    w = community
    story = services.create_story(w.fan_customer, text="Car-pal day", event_id=7)
    assert story.customer == w.fan_customer and story.event_id == 7
    assert story.status == StoryStatus.PENDING


def test_approve_earns_points_once(community):
    w = community
    story = post(w)
    before = balance(w.member)
    story = approve(w, story)
    story.refresh_from_db()
    assert story.status == StoryStatus.APPROVED and story.approved_at
    assert balance(w.member) == before + 50
    # the task run again, a hide and a second approval: no second award
    assert services.award_story_points(story.pk) == 0
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.hide_story(w.moderator_a, story, reason="Off topic")
    story = approve(w, story)
    assert balance(w.member) == before + 50
    assert [s.pk for s in selectors.feed(w.fan)] == [story.pk]


def test_story_points_daily_cap(community):
    w = community
    before = balance(w.member)
    for i in range(3):
        approve(w, post(w, text=f"Story {i}"))
    assert balance(w.member) == before + 100  # 50 each, 100 a day


def test_reject_needs_a_reason_and_the_author_reads_it(community):
    w = community
    story = post(w)
    with pytest.raises(DomainError):
        services.reject_story(w.moderator_a, story, reason="  ")
    services.reject_story(w.moderator_a, story, reason="Please remove the plate number")
    story.refresh_from_db()
    assert story.status == StoryStatus.REJECTED
    mine = selectors.my_stories(w.owner)
    assert mine[0].reject_reason == "Please remove the plate number"
    with pytest.raises(DomainError) as exc:
        services.approve_story(w.moderator_a, story)
    assert exc.value.status == 409
    assert balance(w.member) == 0


def test_other_group_cannot_moderate(community):
    w = community
    story = post(w)
    with pytest.raises(NotFound):
        services.approve_story(w.admin_b, story)
    with pytest.raises(NotFound):
        selectors.get_story_for_staff(w.admin_b, story.pk)
    with pytest.raises(DomainError) as exc:  # a technician of the group may not moderate
        services.approve_story(w.tech_a, story)
    assert exc.value.status == 403
    story.refresh_from_db()
    assert story.status == StoryStatus.PENDING


def test_likes_earn_the_author_points_once_with_the_daily_cap(community):
    w = community
    story = post(w)
    story = approve(w, story)
    before = balance(w.member)
    assert like(w.fan, story) is True
    assert like(w.fan, story) is False  # twice is one like
    story.refresh_from_db()
    assert story.likes_count == 1
    assert balance(w.member) == before + 2
    # unlike and like again: no second award
    services.unlike_story(w.fan, story)
    story.refresh_from_db()
    assert story.likes_count == 0
    like(w.fan, story)
    story.refresh_from_db()
    assert story.likes_count == 1
    assert balance(w.member) == before + 2
    # the author cannot like their own story
    with pytest.raises(DomainError) as exc:
        services.like_story(w.owner, story)
    assert exc.value.code == "own_story"
    assert balance(w.member) == before + 2


def test_like_points_daily_cap(community):
    from m4s.core.tests.factories import OwnerFactory
    from m4s.customers.services import get_or_create_customer_for_owner

    w = community
    story = post(w)
    story = approve(w, story)
    before = balance(w.member)
    for _ in range(12):  # 2 points each, 20 a day
        fan = OwnerFactory(home_store=w.store_a)
        get_or_create_customer_for_owner(fan, w.store_a)
        like(fan, story)
    story.refresh_from_db()
    assert story.likes_count == 12
    assert balance(w.member) == before + 20


def test_cannot_like_or_comment_a_pending_story(community):
    w = community
    story = post(w)
    with pytest.raises(NotFound):
        services.like_story(w.fan, story)
    with pytest.raises(NotFound):
        services.add_comment(w.fan, story, "Nice")
    assert not StoryLike.objects.unscoped().exists()


def test_owner_of_another_group_cannot_see_or_like(community):
    w = community
    story = post(w)
    story = approve(w, story)
    assert selectors.feed(w.owner_b) == []
    with pytest.raises(NotFound):
        selectors.get_story_for_owner(w.owner_b, story.pk)
    with pytest.raises(NotFound):
        services.like_story(w.owner_b, story)


def test_comments_and_report_then_hidden_by_moderation(community):
    w = community
    story = post(w)
    story = approve(w, story)
    c = services.add_comment(w.fan, story, "Great photos!")
    story.refresh_from_db()
    assert story.comments_count == 1
    r = services.report(w.owner, story, reason="abuse", comment_id=c.pk)
    assert services.report(w.owner, story, reason="spam", comment_id=c.pk).pk == r.pk
    assert [x.pk for x in selectors.open_reports(w.moderator_a)] == [r.pk]
    assert selectors.open_reports(w.admin_b) == []
    services.hide_comment(w.moderator_a, c)
    c.refresh_from_db()
    story.refresh_from_db()
    assert c.status == CommentStatus.HIDDEN and story.comments_count == 0
    assert selectors.comments_of(story) == []
    r.refresh_from_db()
    assert r.outcome == ReportOutcome.HIDDEN and r.resolved_at
    assert selectors.open_reports(w.moderator_a) == []
    # restored: shown again
    services.restore_comment(w.moderator_a, c)
    assert [x.pk for x in selectors.comments_of(story)] == [c.pk]


def test_comment_reported_by_three_owners_is_hidden_until_reviewed(community):
    from m4s.core.tests.factories import OwnerFactory
    from m4s.customers.services import get_or_create_customer_for_owner

    w = community
    story = post(w)
    story = approve(w, story)
    c = services.add_comment(w.fan, story, "Buy cheap parts at example.com")
    for _ in range(3):
        o = OwnerFactory(home_store=w.store_a)
        get_or_create_customer_for_owner(o, w.store_a)
        services.report(o, story, reason="spam", comment_id=c.pk)
    c.refresh_from_db()
    assert c.status == CommentStatus.HIDDEN
    assert len(selectors.open_reports(w.moderator_a)) == 3


def test_report_story_then_hide(community):
    w = community
    story = post(w)
    story = approve(w, story)
    services.report(w.fan, story, reason="privacy", note="my plate is visible")
    with pytest.raises(DomainError):
        services.report(w.owner, story, reason="spam")  # not one's own
    services.hide_story(w.moderator_a, story)
    assert selectors.feed(w.fan) == []
    assert not Report.objects.for_group(w.group_a).filter(resolved_at__isnull=True).exists()


def test_delete_own_story(community):
    w = community
    story = post(w, photos=[png()])
    with pytest.raises(NotFound):
        services.delete_story(w.fan, story)
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.delete_story(w.owner, story)
    story.refresh_from_db()
    assert story.status == StoryStatus.DELETED and story.text == ""
    assert not StoryPhoto.objects.unscoped().exists()
    assert selectors.my_stories(w.owner) == []
    assert selectors.moderation_queue(w.moderator_a) == []


def test_share_token_only_for_published(community):
    w = community
    story = post(w)
    with pytest.raises(NotFound):
        selectors.story_by_share_token(story.share_token)
    story = approve(w, story)
    assert selectors.story_by_share_token(story.share_token).pk == story.pk
    with pytest.raises(NotFound):
        selectors.story_by_share_token("nope")


def test_moderation_queue_pending_first(community):
    w = community
    a = post(w, text="first")
    a = approve(w, a)
    b = post(w, text="second")
    c = post(w, text="third")
    assert [s.pk for s in selectors.moderation_queue(w.moderator_a)] == [b.pk, c.pk, a.pk]
    assert selectors.moderation_queue(w.admin_b) == []
    assert [s.pk for s in selectors.moderation_queue(w.hq)] == [b.pk, c.pk, a.pk]


def test_comment_author_hidden_comment_keeps_count(community):
    w = community
    story = post(w)
    story = approve(w, story)
    services.add_comment(w.fan, story, "one")
    services.add_comment(w.third, story, "two")
    story.refresh_from_db()
    assert story.comments_count == 2
    assert StoryComment.objects.for_group(w.group_a).count() == 2


def test_erasure_deletes_stories_likes_comments_reports(community):
    from m4s.community import privacy

    w = community
    mine = post(w, photos=[png()])
    mine = approve(w, mine)
    theirs = services.create_story(w.fan, text="Fan's story")
    theirs = approve(w, theirs)
    like(w.owner, theirs)
    services.add_comment(w.owner, theirs, "Lovely")
    services.report(w.owner, theirs, reason="other")
    services.add_comment(w.fan, mine, "Thanks")
    exported = privacy.export_owner(w.owner)
    assert len(exported["rows"]["stories"]) == 1 and len(exported["files"]) == 1
    privacy.erase_owner(w.owner)
    assert not Story.objects.unscoped().filter(customer__owner=w.owner).exists()
    assert not StoryLike.objects.unscoped().filter(customer__owner=w.owner).exists()
    assert not StoryComment.objects.unscoped().filter(customer__owner=w.owner).exists()
    assert not Report.objects.unscoped().exists()
    assert not StoryPhoto.objects.unscoped().exists()
    theirs.refresh_from_db()
    assert theirs.likes_count == 0 and theirs.comments_count == 0
