"""Community API: owners' stories. Transport only: every write is a service, every read a
selector. Another group's (or, for writes, another owner's) story is a 404."""

from django.http import HttpRequest
from django.urls import reverse
from ninja import File, Form, Header, Query, Router, Status
from ninja.files import UploadedFile

from m4s.core.api import errors
from m4s.core.auth import owner_auth, staff_auth
from m4s.core.types import NON_BLANK
from m4s.staff.choices import Perm
from m4s.staff.permissions import check_perm

from . import selectors, services
from .choices import MAX_PHOTOS, StoryStatus
from .models import Report, Story, StoryComment
from .schemas import (
    StaffCommentOut,
    StaffStoriesQuery,
    StaffStoryDetailOut,
    StaffStoryOut,
    StoryCommentIn,
    StoryCommentOut,
    StoryDetailOut,
    StoryFeedQuery,
    StoryHideIn,
    StoryIn,
    StoryLikeOut,
    StoryOut,
    StoryRejectIn,
    StoryReportIn,
    StoryReportOut,
)

owner_router = Router(tags=["owner: community"], auth=owner_auth)
staff_router = Router(tags=["staff: community"], auth=staff_auth)
public_router = Router(tags=["community"])


# --- shaping answers ----------------------------------------------------------------------------
def _photos(story: Story) -> list[dict]:
    return [{"id": p.pk, "url": p.image.url} for p in story.photos.all() if p.image]


def share_url(request: HttpRequest | None, story: Story) -> str:
    if story.status != StoryStatus.APPROVED:
        return ""
    path = reverse("app-community-share", kwargs={"token": story.share_token})
    return request.build_absolute_uri(path) if request is not None else path


def story_out(request, story: Story, owner) -> dict:
    mine = story.customer.owner_id == owner.pk
    return {
        "id": story.pk,
        "text": story.text,
        "status": story.status,
        "status_label": str(StoryStatus(story.status).label),
        "reason": story.reject_reason if mine else "",
        "author": selectors.author_name(story.customer),
        "mine": mine,
        "liked": bool(getattr(story, "liked", False)),
        "likes_count": story.likes_count,
        "comments_count": story.comments_count,
        "photos": _photos(story),
        "created_at": story.created_at,
        "approved_at": story.approved_at,
        "share_url": share_url(request, story) if mine else "",
        "event_id": story.event_id,
    }


def comment_out(comment: StoryComment, owner) -> dict:
    return {
        "id": comment.pk,
        "text": comment.text,
        "author": selectors.author_name(comment.customer),
        "mine": comment.customer.owner_id == owner.pk,
        "created_at": comment.created_at,
    }


def report_out(r: Report) -> dict:
    return {
        "id": r.pk,
        "story_id": r.story_id,
        "comment_id": r.comment_id,
        "reason": r.reason,
        "created_at": r.created_at,
    }


def staff_story_out(story: Story) -> dict:
    return {
        "id": story.pk,
        "text": story.text,
        "status": story.status,
        "status_label": str(StoryStatus(story.status).label),
        "reason": story.reject_reason,
        "author": story.customer.name,
        "customer_id": story.customer_id,
        "likes_count": story.likes_count,
        "comments_count": story.comments_count,
        "open_reports": getattr(story, "open_reports", 0) or 0,
        "photos": _photos(story),
        "created_at": story.created_at,
        "approved_at": story.approved_at,
        "moderated_at": story.moderated_at,
    }


def staff_comment_out(c: StoryComment, open_reports: int = 0) -> dict:
    return {
        "id": c.pk,
        "story_id": c.story_id,
        "text": c.text,
        "author": c.customer.name,
        "customer_id": c.customer_id,
        "status": c.status,
        "created_at": c.created_at,
        "open_reports": open_reports,
    }


def _staff_detail(actor, story_id: int) -> dict:
    story = selectors.get_story_for_staff(actor, story_id)
    reports = [r for r in selectors.open_reports(actor, limit=1000) if r.story_id == story.pk]
    per_comment: dict[int, int] = {}
    for r in reports:
        if r.comment_id:
            per_comment[r.comment_id] = per_comment.get(r.comment_id, 0) + 1
    body = staff_story_out(story)
    body["open_reports"] = sum(1 for r in reports if not r.comment_id)
    body["comments"] = [
        staff_comment_out(c, per_comment.get(c.pk, 0))
        for c in selectors.comments_of(story, include_hidden=True)
    ]
    body["reports"] = [report_out(r) for r in reports]
    return body


def _moderator(request) -> None:
    check_perm(request.user, Perm.MODERATE_COMMUNITY)


# --- owner: my stories ----------------------------------------------------------------------------
@owner_router.get("/stories", response=list[StoryOut])
def my_stories(request):
    """The owner's own stories in every state (waiting, published, not approved with the
    reason, hidden), newest first."""
    owner = request.owner
    return [story_out(request, s, owner) for s in selectors.my_stories(owner)]


@owner_router.post(
    "/stories",
    response={201: StoryOut},
    openapi_extra={
        **errors(400, 409, 413, 415, 422),
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "text": {
                                "type": "string",
                                "minLength": 1,
                                "maxLength": 2000,
                                "pattern": NON_BLANK,
                            },
                            "photos": {
                                "type": "array",
                                "maxItems": MAX_PHOTOS,
                                "items": {"type": "string", "format": "binary", "minLength": 1},
                            },
                        },
                    }
                }
            },
            "required": True,
        },
    },
)
def post_story(
    request,
    payload: Form[StoryIn],
    photos: File[list[UploadedFile]] = None,  # type: ignore[assignment]
    idempotency_key: str = Header("", alias="Idempotency-Key", max_length=100),
):
    """Share a story (multipart: `text` up to 2,000 characters, up to 9 `photos` in JPEG, PNG or
    WebP). It waits for the group's moderators; you earn points when it is published. Send an
    `Idempotency-Key` header: a retry with the same key and body gets the first answer."""
    owner = request.owner
    story = services.create_story(
        owner, text=payload.text, photos=photos or [], idempotency_key=idempotency_key
    )
    return Status(201, story_out(request, selectors.get_story_for_owner(owner, story.pk), owner))


@owner_router.delete("/stories/{int:story_id}", response={204: None}, openapi_extra=errors(404))
def delete_my_story(request, story_id: int):
    """Delete one of your stories (its text and photos are gone at once)."""
    owner = request.owner
    story = selectors.get_story_for_owner(owner, story_id)
    services.delete_story(owner, story)
    return Status(204, None)


# --- owners: the group's feed ---------------------------------------------------------------------
@public_router.get("/stories", response=list[StoryOut], auth=owner_auth)
def stories_feed(request, query: Query[StoryFeedQuery]):
    """The published stories of your dealer groups, newest first; page with `before_id` (the
    last id you have)."""
    owner = request.owner
    return [
        story_out(request, s, owner)
        for s in selectors.feed(owner, before_id=query.before_id, limit=query.limit)
    ]


@public_router.get(
    "/stories/{int:story_id}",
    response=StoryDetailOut,
    auth=owner_auth,
    openapi_extra=errors(404),
)
def story_detail(request, story_id: int):
    owner = request.owner
    story = selectors.get_story_for_owner(owner, story_id)
    body = story_out(request, story, owner)
    body["comments"] = [comment_out(c, owner) for c in selectors.comments_of(story)]
    return body


@public_router.post(
    "/stories/{int:story_id}/like",
    response=StoryLikeOut,
    auth=owner_auth,
    openapi_extra=errors(404, 422),
)
def like(request, story_id: int):
    """Like a published story (liking twice is one like). The author earns points for it."""
    owner = request.owner
    story = selectors.get_story_for_owner(owner, story_id)
    services.like_story(owner, story)
    story = selectors.get_story_for_owner(owner, story_id)
    return {"liked": True, "likes_count": story.likes_count}


@public_router.delete(
    "/stories/{int:story_id}/like",
    response=StoryLikeOut,
    auth=owner_auth,
    openapi_extra=errors(404),
)
def unlike(request, story_id: int):
    owner = request.owner
    story = selectors.get_story_for_owner(owner, story_id)
    services.unlike_story(owner, story)
    story = selectors.get_story_for_owner(owner, story_id)
    return {"liked": False, "likes_count": story.likes_count}


@public_router.post(
    "/stories/{int:story_id}/comments",
    response={201: StoryCommentOut},
    auth=owner_auth,
    openapi_extra=errors(400, 404),
)
def comment(request, story_id: int, payload: StoryCommentIn):
    """Comment on a published story (up to 500 characters)."""
    owner = request.owner
    story = selectors.get_story_for_owner(owner, story_id)
    made = services.add_comment(owner, story, payload.text)
    return Status(201, comment_out(made, owner))


@public_router.post(
    "/stories/{int:story_id}/report",
    response={201: StoryReportOut},
    auth=owner_auth,
    openapi_extra=errors(400, 404, 422),
)
def report(request, story_id: int, payload: StoryReportIn):
    """Report a story or (`comment_id`) a comment to the moderators. Reporting again returns
    your first report."""
    owner = request.owner
    story = selectors.get_story_for_owner(owner, story_id)
    made = services.report(
        owner, story, reason=payload.reason, note=payload.note, comment_id=payload.comment_id
    )
    return Status(201, report_out(made))


# --- staff: moderation ----------------------------------------------------------------------------
@staff_router.get("/stories", response=list[StaffStoryOut], openapi_extra=errors(403))
def staff_stories(request, query: Query[StaffStoriesQuery]):
    """The moderation queue of your group (MODERATE_COMMUNITY): pending stories first, oldest
    first; `status` keeps one state."""
    _moderator(request)
    return [
        staff_story_out(s) for s in selectors.moderation_queue(request.user, status=query.status)
    ]


@staff_router.get(
    "/stories/{int:story_id}", response=StaffStoryDetailOut, openapi_extra=errors(403, 404)
)
def staff_story(request, story_id: int):
    _moderator(request)
    return _staff_detail(request.user, story_id)


@staff_router.post(
    "/stories/{int:story_id}/approve",
    response=StaffStoryDetailOut,
    openapi_extra=errors(403, 404, 409),
)
def approve(request, story_id: int):
    """Publish a pending (or hidden) story; its author earns the points for it once."""
    _moderator(request)
    story = selectors.get_story_for_staff(request.user, story_id)
    services.approve_story(request.user, story)
    return _staff_detail(request.user, story_id)


@staff_router.post(
    "/stories/{int:story_id}/reject",
    response=StaffStoryDetailOut,
    openapi_extra=errors(400, 403, 404, 409),
)
def reject(request, story_id: int, payload: StoryRejectIn):
    """Refuse a pending story with a reason the author reads."""
    _moderator(request)
    story = selectors.get_story_for_staff(request.user, story_id)
    services.reject_story(request.user, story, reason=payload.reason)
    return _staff_detail(request.user, story_id)


@staff_router.post(
    "/stories/{int:story_id}/hide",
    response=StaffStoryDetailOut,
    openapi_extra=errors(400, 403, 404, 409),
)
def hide(request, story_id: int, payload: StoryHideIn):
    """Take a published story out of the feed (its open reports are resolved)."""
    _moderator(request)
    story = selectors.get_story_for_staff(request.user, story_id)
    services.hide_story(request.user, story, reason=payload.reason)
    return _staff_detail(request.user, story_id)


@staff_router.post(
    "/stories/{int:story_id}/dismiss-reports",
    response=StaffStoryDetailOut,
    openapi_extra=errors(403, 404),
)
def dismiss(request, story_id: int):
    """The reports about the story were wrong: close them; the story stays."""
    _moderator(request)
    story = selectors.get_story_for_staff(request.user, story_id)
    services.dismiss_reports(request.user, story)
    return _staff_detail(request.user, story_id)


@staff_router.post(
    "/story-comments/{int:comment_id}/hide",
    response=StaffCommentOut,
    openapi_extra=errors(403, 404),
)
def hide_comment(request, comment_id: int):
    """Hide a comment (usually a reported one); its open reports are resolved."""
    _moderator(request)
    c = services.hide_comment(
        request.user, selectors.get_comment_for_staff(request.user, comment_id)
    )
    return staff_comment_out(c)


@staff_router.post(
    "/story-comments/{int:comment_id}/restore",
    response=StaffCommentOut,
    openapi_extra=errors(403, 404),
)
def restore_comment(request, comment_id: int):
    """Show a hidden comment again; its open reports are dismissed."""
    _moderator(request)
    c = services.restore_comment(
        request.user, selectors.get_comment_for_staff(request.user, comment_id)
    )
    return staff_comment_out(c)


@staff_router.get("/story-reports", response=list[StoryReportOut], openapi_extra=errors(403))
def staff_reports(request):
    """Open reports of your group, oldest first."""
    _moderator(request)
    return [report_out(r) for r in selectors.open_reports(request.user)]
