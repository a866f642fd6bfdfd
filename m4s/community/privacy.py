"""Community: an owner's stories (text, photos), likes, comments and reports
(m4s/privacy/registry.py).

Erasure deletes all of them: the owner's stories with their photos (files too) and the likes,
comments and reports others left on them; the owner's likes, comments and reports on other
owners' stories (those stories' like and comment counts are recounted). Points the owner earned
stay in the loyalty ledger (the loyalty area decides about those)."""

from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from m4s.core.personal_data import rows

from .choices import CommentStatus
from .models import Report, Story, StoryComment, StoryLike, StoryPhoto, StoryRequest

PERSONAL_FIELDS = {
    "community.Story": {"text", "reject_reason"},
    "community.StoryPhoto": {"image"},
    "community.StoryComment": {"text"},
    "community.Report": {"note", "reason"},
}
NOT_PERSONAL = {}


def _stories(owner):
    return Story.objects.unscoped().filter(customer__owner=owner)


def export_owner(owner) -> dict:
    stories = _stories(owner).order_by("created_at", "id")
    photos = StoryPhoto.objects.unscoped().filter(story__customer__owner=owner).order_by("id")
    return {
        "rows": {
            "stories": rows(
                stories,
                [
                    "id",
                    "text",
                    "status",
                    "reject_reason",
                    "created_at",
                    "approved_at",
                    "deleted_at",
                    "likes_count",
                    "comments_count",
                ],
            ),
            "story_photos": rows(photos, ["story_id", "image.name"]),
            "story_likes": rows(
                StoryLike.objects.unscoped().filter(customer__owner=owner).order_by("id"),
                ["story_id", "created_at"],
            ),
            "story_comments": rows(
                StoryComment.objects.unscoped().filter(customer__owner=owner).order_by("id"),
                ["story_id", "text", "status", "created_at"],
            ),
            "story_reports": rows(
                Report.objects.unscoped().filter(reporter__owner=owner).order_by("id"),
                ["story_id", "comment_id", "reason", "note", "created_at", "outcome"],
            ),
        },
        "files": [p.image.name for p in photos if p.image],
    }


def _recount(story_ids: set[int]) -> None:
    if not story_ids:
        return
    likes = (
        StoryLike.objects.unscoped()
        .filter(story=OuterRef("pk"))
        .values("story")
        .annotate(n=Count("id"))
        .values("n")
    )
    comments = (
        StoryComment.objects.unscoped()
        .filter(story=OuterRef("pk"), status=CommentStatus.VISIBLE)
        .values("story")
        .annotate(n=Count("id"))
        .values("n")
    )
    Story.objects.unscoped().filter(pk__in=story_ids).update(
        likes_count=Coalesce(Subquery(likes, output_field=IntegerField()), 0),
        comments_count=Coalesce(Subquery(comments, output_field=IntegerField()), 0),
    )


def erase_owner(owner) -> dict:
    mine = _stories(owner)
    photos = StoryPhoto.objects.unscoped().filter(story__customer__owner=owner)
    names = [n for n in photos.values_list("image", flat=True) if n]
    others = set(
        StoryLike.objects.unscoped()
        .filter(customer__owner=owner)
        .exclude(story__customer__owner=owner)
        .values_list("story_id", flat=True)
    ) | set(
        StoryComment.objects.unscoped()
        .filter(customer__owner=owner)
        .exclude(story__customer__owner=owner)
        .values_list("story_id", flat=True)
    )
    reports, _ = (
        Report.objects.unscoped()
        .filter(
            Q(reporter__owner=owner)
            | Q(story__customer__owner=owner)
            | Q(comment__customer__owner=owner)
        )
        .delete()
    )
    likes, _ = StoryLike.objects.unscoped().filter(customer__owner=owner).delete()
    comments, _ = StoryComment.objects.unscoped().filter(customer__owner=owner).delete()
    photo_count, _ = photos.delete()
    _total, per_model = mine.delete()
    stories = per_model.get("community.Story", 0)
    StoryRequest.objects.filter(owner=owner).delete()
    storage = StoryPhoto._meta.get_field("image").storage
    for name in names:
        storage.delete(name)
    _recount(others)
    return {
        "stories deleted": stories,
        "story photos deleted": photo_count,
        "likes deleted": likes,
        "comments deleted": comments,
        "reports deleted": reports,
    }
