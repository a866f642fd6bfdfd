"""Reads of the community area, always scoped: an owner sees the published stories of the dealer
groups they belong to and their own stories in every state; staff see their group's published
stories, and moderators (MODERATE_COMMUNITY) every state of their group's stories. Anything
else is a 404."""

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from m4s.core.errors import NotFound
from m4s.customers.models import Customer

from .choices import FEED_PAGE, CommentStatus, StoryStatus
from .models import Report, Story, StoryComment, StoryLike, StoryPhoto


def owner_group_ids(owner) -> list[int]:
    """The dealer groups whose community the owner belongs to: their customer records' groups
    and their home store's group."""
    if owner is None or getattr(owner, "pk", None) is None:
        return []
    ids = set(Customer.objects.for_owner(owner).values_list("dealer_group_id", flat=True))
    home = owner.home_store
    if home is not None:
        ids.add(home.dealer_group_id)
    return sorted(ids)


def _with_photos(qs: QuerySet) -> QuerySet:
    return qs.select_related("customer").prefetch_related(
        Prefetch("photos", queryset=StoryPhoto.objects.unscoped().order_by("position", "id"))
    )


def stories_for_owner(owner) -> QuerySet:
    """Every story the owner may open: published ones of their groups and their own."""
    groups = owner_group_ids(owner)
    return Story.objects.unscoped().filter(
        Q(status=StoryStatus.APPROVED, dealer_group_id__in=groups)
        | (Q(customer__owner=owner) & ~Q(status=StoryStatus.DELETED))
    )


def _liked_by(owner):
    return Exists(StoryLike.objects.unscoped().filter(story=OuterRef("pk"), customer__owner=owner))


def feed(owner, *, before_id: int | None = None, limit: int = FEED_PAGE) -> list[Story]:
    """The published stories of the owner's groups, newest first, `limit` at a time (older than
    the story `before_id`)."""
    groups = owner_group_ids(owner)
    qs = Story.objects.unscoped().filter(status=StoryStatus.APPROVED, dealer_group_id__in=groups)
    if before_id is not None:
        anchor = qs.filter(pk=before_id).values_list("approved_at", flat=True).first()
        if anchor is not None:
            qs = qs.filter(Q(approved_at__lt=anchor) | Q(approved_at=anchor, pk__lt=before_id))
    qs = _with_photos(qs.annotate(liked=_liked_by(owner))).order_by("-approved_at", "-id")
    return list(qs[:limit])


def my_stories(owner) -> list[Story]:
    """The owner's own stories in every state but deleted, newest first."""
    qs = Story.objects.for_owner(owner).exclude(status=StoryStatus.DELETED)
    return list(_with_photos(qs.annotate(liked=_liked_by(owner))).order_by("-created_at", "-id"))


def get_story_for_owner(owner, story_id: int) -> Story:
    story = (
        _with_photos(stories_for_owner(owner).annotate(liked=_liked_by(owner)))
        .filter(pk=story_id)
        .first()
    )
    if story is None:
        raise NotFound()
    story.mine = story.customer.owner_id == owner.pk
    return story


def comments_of(story: Story, *, include_hidden: bool = False) -> list[StoryComment]:
    qs = StoryComment.objects.for_group(story.dealer_group_id).filter(story=story)
    if not include_hidden:
        qs = qs.filter(status=CommentStatus.VISIBLE)
    return list(qs.select_related("customer").order_by("created_at", "id"))


# --- staff ---------------------------------------------------------------------------------------
def _moderates(actor) -> bool:
    return bool(
        actor is not None
        and getattr(actor, "is_authenticated", False)
        and actor.has_perm_m4s("moderate_community")
    )


def stories_for_staff(actor) -> QuerySet:
    """A staff member's group's stories: moderators every state but deleted, others only
    published ones. Groupless staff other than platform admins see nothing."""
    qs = Story.objects.for_actor(actor).exclude(status=StoryStatus.DELETED)
    if not _moderates(actor):
        qs = qs.filter(status=StoryStatus.APPROVED)
    return qs


def moderation_queue(actor, *, status: str = "", limit: int = 100) -> list[Story]:
    """Pending stories first (oldest first: who waited longest), then the rest newest first;
    `status` keeps one state. Each story carries its number of open reports."""
    qs = stories_for_staff(actor)
    if status:
        qs = qs.filter(status=status)
    qs = _with_photos(
        qs.select_related("dealer_group").annotate(
            open_reports=Count("reports", filter=Q(reports__resolved_at__isnull=True))
        )
    )
    pending = list(qs.filter(status=StoryStatus.PENDING).order_by("created_at", "id")[:limit])
    rest = list(qs.exclude(status=StoryStatus.PENDING).order_by("-created_at", "-id")[:limit])
    return pending + rest


def get_story_for_staff(actor, story_id: int) -> Story:
    story = _with_photos(stories_for_staff(actor)).filter(pk=story_id).first()
    if story is None:
        raise NotFound()
    return story


def get_comment_for_staff(actor, comment_id: int) -> StoryComment:
    comment = (
        StoryComment.objects.for_actor(actor)
        .select_related("story", "customer")
        .filter(pk=comment_id, story__status__in=[StoryStatus.APPROVED, StoryStatus.HIDDEN])
        .first()
    )
    if comment is None or not _moderates(actor):
        raise NotFound()
    return comment


def open_reports(actor, *, limit: int = 100) -> list[Report]:
    """Unresolved reports of the moderator's group, oldest first."""
    if not _moderates(actor):
        return []
    return list(
        Report.objects.for_actor(actor)
        .filter(resolved_at__isnull=True)
        .exclude(story__status=StoryStatus.DELETED)
        .select_related("story", "comment", "comment__customer", "reporter")
        .order_by("created_at", "id")[:limit]
    )


def story_by_share_token(token: str) -> Story:
    """A published story behind a share link (any group: the link is the key), else 404."""
    if not token or len(token) > 32:
        raise NotFound()
    story = (
        Story.objects.unscoped()
        .select_related("customer", "dealer_group")
        .filter(share_token=token, status=StoryStatus.APPROVED)
        .first()
    )
    if story is None:
        raise NotFound()
    return story


def author_name(customer) -> str:
    """How an author is shown to other owners: a short form of their name, never the phone
    ("Zhang S.", "王*")."""
    name = (getattr(customer, "name", "") or "").strip()
    if not name or name.startswith("+"):
        return "—"
    parts = name.split()
    if len(parts) > 1:
        return f"{parts[0]} {parts[-1][0]}."
    if name.isascii():
        return name[:12]
    return name[0] + "*" * min(len(name) - 1, 2)
