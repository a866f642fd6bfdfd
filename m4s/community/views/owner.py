"""The owner app's story pages at /app/community/: the group's published stories (like with one
tap, htmx), a story with its comments (comment, report, delete one's own), "share your story"
(text and photos from the camera), my stories with their state, and the public share page.

Thin views over m4s.community.selectors and services (the same ones the owner API uses). A
DomainError is shown with its message and its 4xx status, never as a 500; another group's story
is a 404."""

import uuid
from functools import wraps

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from m4s.community import selectors, services
from m4s.community.choices import (
    COMMENT_TEXT_MAX,
    MAX_PHOTOS,
    REASON_MAX,
    STORY_TEXT_MAX,
    ReportReason,
    StoryStatus,
)
from m4s.core.errors import DomainError
from m4s.owners.decorators import owner_required

PILLS = {
    StoryStatus.PENDING: "warn",
    StoryStatus.APPROVED: "ok",
    StoryStatus.REJECTED: "off",
    StoryStatus.HIDDEN: "off",
}


def _error_page(request, exc: DomainError):
    return render(
        request,
        "community/app/error.html",
        {"error": exc.message, "back": reverse("app-community-stories")},
        status=exc.status,
    )


def domain_errors(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            return _error_page(request, exc)

    return wrapper


def _decorate(stories, owner) -> list:
    for s in stories:
        s.author = selectors.author_name(s.customer)
        s.mine = s.customer.owner_id == owner.pk
        s.pill = PILLS.get(s.status, "")
    return stories


@owner_required
@require_GET
@domain_errors
def stories(request):
    """The published stories of the owner's groups, newest first."""
    owner = request.owner
    before = request.GET.get("before") or ""
    before_id = int(before) if before.isascii() and before.isdigit() and len(before) < 19 else None
    feed = selectors.feed(owner, before_id=before_id)
    return render(
        request,
        "community/app/stories.html",
        {
            "stories": _decorate(feed, owner),
            "more": feed[-1].pk if len(feed) >= 20 else None,
            "tab": "feed",
        },
    )


@owner_required
@require_GET
@domain_errors
def mine(request):
    owner = request.owner
    return render(
        request,
        "community/app/mine.html",
        {"stories": _decorate(selectors.my_stories(owner), owner), "tab": "mine"},
    )


@owner_required
@require_http_methods(["GET", "POST"])
def new(request):
    """Share a story: text and up to 9 photos (the phone offers its camera)."""
    owner = request.owner
    context = {
        "text_max": STORY_TEXT_MAX,
        "max_photos": MAX_PHOTOS,
        "idempotency_key": uuid.uuid4().hex,
        "has_store": services.community_customer(owner) is not None
        or owner.home_store_id is not None,
    }
    if request.method == "POST":
        context["text"] = request.POST.get("text", "")
        key = (request.POST.get("idempotency_key") or "")[:100]
        try:
            story = services.create_story(
                owner,
                text=context["text"],
                photos=request.FILES.getlist("photos"),
                idempotency_key=key,
            )
        except DomainError as exc:
            context["error"] = exc.message
            return render(request, "community/app/new.html", context, status=exc.status)
        messages.success(
            request, _("Thank you! Your story is published as soon as the store approves it.")
        )
        return redirect("app-community-story", story_id=story.pk)
    return render(request, "community/app/new.html", context)


@owner_required
@require_GET
@domain_errors
def story(request, story_id: int):
    owner = request.owner
    s = selectors.get_story_for_owner(owner, story_id)
    _decorate([s], owner)
    comments = selectors.comments_of(s) if s.status == StoryStatus.APPROVED else []
    for c in comments:
        c.author = selectors.author_name(c.customer)
        c.mine = c.customer.owner_id == owner.pk
    share = ""
    if s.mine and s.status == StoryStatus.APPROVED:
        share = request.build_absolute_uri(
            reverse("app-community-share", kwargs={"token": s.share_token})
        )
    return render(
        request,
        "community/app/story.html",
        {
            "s": s,
            "comments": comments,
            "share": share,
            "comment_max": COMMENT_TEXT_MAX,
            "reason_max": REASON_MAX,
            "reasons": ReportReason.choices,
        },
    )


@owner_required
@require_POST
@domain_errors
def like(request, story_id: int):
    """Like or (with `undo`) take back a like; htmx gets the button back, others the page."""
    owner = request.owner
    s = selectors.get_story_for_owner(owner, story_id)
    if request.POST.get("undo"):
        services.unlike_story(owner, s)
    else:
        services.like_story(owner, s)
    s = selectors.get_story_for_owner(owner, story_id)
    if request.htmx:
        return render(request, "community/app/_like.html", {"s": s})
    if request.POST.get("next") == "feed":
        return redirect("app-community-stories")
    return redirect("app-community-story", story_id=story_id)


@owner_required
@require_POST
def comment(request, story_id: int):
    owner = request.owner
    try:
        s = selectors.get_story_for_owner(owner, story_id)
        services.add_comment(owner, s, request.POST.get("text", ""))
    except DomainError as exc:
        if exc.status == 404:
            return _error_page(request, exc)
        messages.error(request, exc.message)
    return redirect("app-community-story", story_id=story_id)


@owner_required
@require_POST
def report(request, story_id: int):
    owner = request.owner
    comment_id = request.POST.get("comment") or ""
    try:
        s = selectors.get_story_for_owner(owner, story_id)
        services.report(
            owner,
            s,
            reason=request.POST.get("reason", ""),
            note=request.POST.get("note", ""),
            comment_id=int(comment_id)
            if comment_id.isascii() and comment_id.isdigit() and len(comment_id) < 19
            else None,
        )
    except DomainError as exc:
        if exc.status == 404:
            return _error_page(request, exc)
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Thank you. The store's moderators will look at it."))
    return redirect("app-community-story", story_id=story_id)


@owner_required
@require_POST
@domain_errors
def delete(request, story_id: int):
    owner = request.owner
    s = selectors.get_story_for_owner(owner, story_id)
    services.delete_story(owner, s)
    messages.success(request, _("Your story is deleted."))
    return redirect("app-community-mine")


@require_GET
def shared(request, token: str):
    """The public page of a share link: a published story's text only (no photos, no name), so a
    link forwarded outside the app shows nothing personal. Anyone with the link may read it."""
    try:
        s = selectors.story_by_share_token(token)
    except DomainError as exc:
        return render(
            request, "community/app/shared.html", {"error": exc.message}, status=exc.status
        )
    return render(request, "community/app/shared.html", {"s": s})
