"""The moderation console at /console/community/ (MODERATE_COMMUNITY): the queue of the group's
stories (pending first, oldest first), the open reports of stories and comments, and one story
with its photos, comments (hidden ones too) and the actions: approve, reject with a reason,
hide, dismiss reports, hide or restore a comment.

Thin views over m4s.community.selectors and services (the same ones the staff API uses). Another
group's story or comment is a 404."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from m4s.community import selectors, services
from m4s.community.choices import REASON_MAX, StoryStatus
from m4s.core.errors import DomainError, NotFound
from m4s.staff.choices import Perm
from m4s.staff.permissions import staff_page

STATUS_TABS = [
    ("", gettext_lazy("All")),
    *[(s.value, s.label) for s in StoryStatus if s != "deleted"],
]
DONE = {
    "approve": gettext_lazy("Published: the author earns the points."),
    "reject": gettext_lazy("Not approved: the author reads your reason."),
    "hide": gettext_lazy("Hidden from the feed."),
    "dismiss": gettext_lazy("Reports dismissed."),
}


def _ctx(**kw) -> dict:
    return {"nav": "community", **kw}


@staff_page(Perm.MODERATE_COMMUNITY)
@require_GET
def stories(request):
    status = request.GET.get("status", "")
    if status not in StoryStatus.values or status == StoryStatus.DELETED:
        status = ""
    queue = selectors.moderation_queue(request.user, status=status)
    reports = selectors.open_reports(request.user)
    for s in queue:
        s.author = s.customer.name
    return render(
        request,
        "community/console/stories.html",
        _ctx(
            stories=queue,
            status=status,
            tabs=[(v, str(label)) for v, label in STATUS_TABS],
            reports=reports,
            reason_max=REASON_MAX,
        ),
    )


@staff_page(Perm.MODERATE_COMMUNITY)
@require_GET
def story(request, story_id: int):
    try:
        s = selectors.get_story_for_staff(request.user, story_id)
    except DomainError as exc:
        return render(
            request, "community/console/error.html", _ctx(error=exc.message), status=exc.status
        )
    reports = [r for r in selectors.open_reports(request.user, limit=1000) if r.story_id == s.pk]
    comments = selectors.comments_of(s, include_hidden=True)
    counts: dict[int, int] = {}
    for r in reports:
        if r.comment_id:
            counts[r.comment_id] = counts.get(r.comment_id, 0) + 1
    for c in comments:
        c.open_reports = counts.get(c.pk, 0)
    return render(
        request,
        "community/console/story.html",
        _ctx(
            s=s,
            comments=comments,
            story_reports=[r for r in reports if not r.comment_id],
            reason_max=REASON_MAX,
        ),
    )


@staff_page(Perm.MODERATE_COMMUNITY)
@require_POST
def moderate(request, story_id: int, action: str):
    try:
        s = selectors.get_story_for_staff(request.user, story_id)
        reason = request.POST.get("reason", "")
        if action == "dismiss":
            services.dismiss_reports(request.user, s)
        else:
            services.moderate(request.user, s, action, reason=reason)
    except DomainError as exc:
        if exc.status == 404:
            return render(
                request, "community/console/error.html", _ctx(error=exc.message), status=404
            )
        messages.error(request, exc.message)
    else:
        messages.success(request, DONE.get(action, _("Done.")))
    back = request.POST.get("back") or ""
    if back == "queue":
        return redirect("console-community-stories")
    return redirect("console-community-story", story_id=story_id)


@staff_page(Perm.MODERATE_COMMUNITY)
@require_POST
def comment(request, comment_id: int, action: str):
    try:
        c = selectors.get_comment_for_staff(request.user, comment_id)
        if action == "hide":
            services.hide_comment(request.user, c)
            messages.success(request, _("The comment is hidden."))
        elif action != "restore":
            raise NotFound()
        else:
            services.restore_comment(request.user, c)
            messages.success(request, _("The comment is shown again."))
    except DomainError as exc:
        return render(
            request, "community/console/error.html", _ctx(error=exc.message), status=exc.status
        )
    if request.POST.get("back") == "queue":
        return redirect("console-community-stories")
    return redirect("console-community-story", story_id=c.story_id)
