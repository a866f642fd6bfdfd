"""Every write of the community area: owners post stories (pre-moderated), like, comment and
report; moderators approve, reject with a reason, hide stories and comments and resolve reports.

Points are automatic: an approved story earns its author `story_approved` and every like earns
the author `like_received`, through the group's loyalty earning rules and their caps
(m4s.loyalty.services.record_event), after commit in a task. Each award has a stable source
("story:<id>", "like:<story>:<liker>"), so a retried task, a second approval after a hide, or
an unlike followed by a like again never earns twice."""

import datetime as dt
import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from m4s.core.errors import DomainError, NotFound
from m4s.core.i18n import text as system_text
from m4s.core.idempotency import call_once
from m4s.core.uploads import CleanImage, clean_images
from m4s.customers.choices import TimelineKind
from m4s.customers.models import Customer
from m4s.customers.services import get_or_create_customer_for_owner, record_timeline
from m4s.notify.choices import Channel
from m4s.notify.services import send_message
from m4s.staff.choices import Perm
from m4s.staff.permissions import check_perm

from .choices import (
    COMMENT_TEXT_MAX,
    MAX_PHOTOS,
    REASON_MAX,
    REPORTS_TO_HIDE_COMMENT,
    STORY_TEXT_MAX,
    CommentStatus,
    ModerationAction,
    ReportOutcome,
    ReportReason,
    StoryStatus,
)
from .models import Report, Story, StoryComment, StoryLike, StoryPhoto, StoryRequest


# --- helpers ------------------------------------------------------------------------------------
def _clean_text(value: Any, *, field: str, maximum: int, required: bool = True) -> str:
    value = (value if isinstance(value, str) else "").replace("\x00", "").strip()
    if required and not value:
        raise DomainError(f"{field}_required", _("Write something first."))
    if len(value) > maximum:
        raise DomainError(
            f"{field}_too_long",
            _("At most %(n)d characters.") % {"n": maximum},
        )
    return value


def _new_token() -> str:
    return secrets.token_urlsafe(16)[:22]


def community_customer(owner, *, create: bool = False) -> Customer | None:
    """The customer record an owner posts, likes and comments as: the one at their home store's
    group (made on first use when `create`), else their oldest customer record."""
    home = owner.home_store
    if home is not None:
        found = Customer.objects.for_group(home.dealer_group_id).filter(owner=owner).first()
        if found is not None:
            return found
        if create:
            return get_or_create_customer_for_owner(owner, home)
    return Customer.objects.for_owner(owner).order_by("id").first()


def _acting_customer(owner, story: Story) -> Customer:
    """The owner's customer record in the story's group (they can only see stories there)."""
    found = Customer.objects.for_group(story.dealer_group_id).filter(owner=owner).first()
    if found is None:
        home = owner.home_store
        if home is not None and home.dealer_group_id == story.dealer_group_id:
            return get_or_create_customer_for_owner(owner, home)
        raise NotFound()
    return found


def _owns(owner, story: Story) -> bool:
    return Customer.objects.for_owner(owner).filter(pk=story.customer_id).exists()


def _check_moderator(actor, story: Story) -> None:
    check_perm(actor, Perm.MODERATE_COMMUNITY)
    if not getattr(actor, "is_platform_admin", False) and (
        actor.dealer_group_id != story.dealer_group_id
    ):
        raise NotFound()  # another group's story: it does not exist for this moderator


def _locked(story: Story) -> Story:
    return Story.objects.for_group(story.dealer_group_id).select_for_update().get(pk=story.pk)


def _tell_author(story: Story, kind: str, subject: dict, body: dict) -> None:
    owner = story.customer.owner
    if owner is None:
        return
    send_message(
        channel=Channel.INAPP,
        owner=owner,
        group=story.dealer_group_id,
        kind=kind,
        subject=subject,
        body=body,
        link=f"/app/community/stories/{story.pk}/",
        dedupe_key=f"{kind}:{story.pk}",
    )


# --- posting ------------------------------------------------------------------------------------
def create_story(
    owner_or_customer,
    *,
    text: str,
    photos: Any = (),
    event_id: int | None = None,
    idempotency_key: str = "",
    now: dt.datetime | None = None,
) -> Story:
    """An owner shares a story (text up to 2,000 characters, up to 9 photos) with the owners of
    their dealer group. It waits for a moderator (PENDING). Called with an Owner (the app; the
    story goes to their home store's group) or a Customer (the story goes to that group: car-pal
    event photos). With an `idempotency_key` (owner only) a retried post returns the first story
    and the same key with other input is refused (422)."""
    text = _clean_text(text, field="text", maximum=STORY_TEXT_MAX)
    images: list[CleanImage] = clean_images(list(photos or []), limit=MAX_PHOTOS)
    if event_id is not None and (not isinstance(event_id, int) or event_id < 1):
        raise DomainError("invalid_event", _("Unknown event."))
    if len(idempotency_key or "") > 100:
        raise DomainError(
            "invalid_idempotency_key", _("The Idempotency-Key may have at most 100 characters.")
        )
    now = now or timezone.now()
    is_customer = isinstance(owner_or_customer, Customer)
    owner = owner_or_customer.owner if is_customer else owner_or_customer

    def run() -> tuple[int, dict]:
        customer = owner_or_customer if is_customer else community_customer(owner, create=True)
        if customer is None:
            raise DomainError(
                "no_store",
                _("Choose your store first (bind your car or open a store's invitation)."),
                status=409,
            )
        story = Story.objects.create(
            dealer_group_id=customer.dealer_group_id,
            customer=customer,
            text=text,
            created_at=now,
            share_token=_new_token(),
            event_id=event_id,
        )
        for position, image in enumerate(images):
            photo = StoryPhoto(
                dealer_group_id=customer.dealer_group_id, story=story, position=position
            )
            photo.image.save(image.name or "photo", image, save=False)
            photo.save()
        record_timeline(
            customer,
            TimelineKind.COMMUNITY,
            gettext_noop("Shared a story (waiting for approval)"),
            data={"story": story.pk},
            at=now,
        )
        return 201, {"story": story.pk}

    with transaction.atomic():
        if not idempotency_key or owner is None:
            _status, answer = run()
        else:
            body = {"text": text, "event_id": event_id, "photos": [len(i) for i in images]}
            _status, answer = call_once(
                StoryRequest.objects.all(),
                key={"owner": owner, "key": idempotency_key},
                body=body,
                create={},
                run=run,
            )
        return Story.objects.unscoped().select_related("customer").get(pk=answer["story"])


def delete_story(owner, story: Story, *, now: dt.datetime | None = None) -> Story:
    """An owner deletes their own story (any state): its text and photos are gone at once; the
    row stays as DELETED so likes and points already given keep their reference."""
    if not _owns(owner, story) or story.status == StoryStatus.DELETED:
        raise NotFound()
    with transaction.atomic():
        story = _locked(story)
        story.status = StoryStatus.DELETED
        story.text = ""
        story.deleted_at = now or timezone.now()
        story.save(update_fields=["status", "text", "deleted_at"])
        _delete_photos(StoryPhoto.objects.for_group(story.dealer_group_id).filter(story=story))
    return story


def _delete_photos(photos) -> int:
    names = [p.image for p in photos]
    count = 0
    for photo in photos:
        photo.delete()
        count += 1
    for file in names:
        storage, name = file.storage, file.name
        transaction.on_commit(lambda s=storage, n=name: s.delete(n) if n else None)
    return count


# --- moderation ---------------------------------------------------------------------------------
def moderate(actor, story: Story, action: str, *, reason: str = "", now=None) -> Story:
    """Approve, reject (a reason is required: the author reads it) or hide a story."""
    if action == ModerationAction.APPROVE:
        return approve_story(actor, story, now=now)
    if action == ModerationAction.REJECT:
        return reject_story(actor, story, reason=reason, now=now)
    if action == ModerationAction.HIDE:
        return hide_story(actor, story, reason=reason, now=now)
    raise DomainError("invalid_action", _("Unknown action."))


def _wrong_state(story: Story) -> DomainError:
    return DomainError(
        "invalid_state",
        _("This story is %(status)s: it cannot be changed that way.")
        % {"status": StoryStatus(story.status).label},
        status=409,
    )


def approve_story(actor, story: Story, *, now: dt.datetime | None = None) -> Story:
    """Publish a pending story (or one hidden before): every owner of the group sees it, and
    its author earns the `story_approved` points once (after commit)."""
    _check_moderator(actor, story)
    now = now or timezone.now()
    with transaction.atomic():
        story = _locked(story)
        if story.status not in (StoryStatus.PENDING, StoryStatus.HIDDEN):
            raise _wrong_state(story)
        first = story.approved_at is None
        story.status = StoryStatus.APPROVED
        story.reject_reason = ""
        story.moderated_by, story.moderated_at = actor, now
        story.approved_at = story.approved_at or now
        story.save(
            update_fields=[
                "status",
                "reject_reason",
                "moderated_by",
                "moderated_at",
                "approved_at",
            ]
        )
        resolve_reports(actor, story, outcome=ReportOutcome.DISMISSED, now=now)
        if first:
            customer = story.customer
            record_timeline(
                customer,
                TimelineKind.COMMUNITY,
                gettext_noop("Story approved and published"),
                data={"story": story.pk},
                actor=actor,
                at=now,
            )
            _tell_author(
                story,
                "community.story_approved",
                system_text(gettext_noop("Your story is published")),
                system_text(
                    gettext_noop("Thank you for sharing: the other owners can read it now.")
                ),
            )
            story_id = story.pk
            transaction.on_commit(lambda: _enqueue_story_points(story_id))
    return story


def _enqueue_story_points(story_id: int) -> None:
    from .tasks import award_story_points_task

    award_story_points_task.enqueue(story_id)


def reject_story(actor, story: Story, *, reason: str, now: dt.datetime | None = None) -> Story:
    """Refuse a pending story; the author reads the reason."""
    _check_moderator(actor, story)
    reason = _clean_text(reason, field="reason", maximum=REASON_MAX)
    now = now or timezone.now()
    with transaction.atomic():
        story = _locked(story)
        if story.status != StoryStatus.PENDING:
            raise _wrong_state(story)
        story.status = StoryStatus.REJECTED
        story.reject_reason = reason
        story.moderated_by, story.moderated_at = actor, now
        story.save(update_fields=["status", "reject_reason", "moderated_by", "moderated_at"])
        record_timeline(
            story.customer,
            TimelineKind.COMMUNITY,
            gettext_noop("Story not approved"),
            data={"story": story.pk, "reason": reason},
            actor=actor,
            at=now,
        )
        _tell_author(
            story,
            "community.story_rejected",
            system_text(gettext_noop("Your story was not published")),
            system_text(gettext_noop("The reason: %(reason)s"), reason=reason),
        )
    return story


def hide_story(actor, story: Story, *, reason: str = "", now: dt.datetime | None = None) -> Story:
    """Take a published (or pending) story out of the feed; the open reports on it are resolved
    as hidden. Points already earned stay."""
    _check_moderator(actor, story)
    reason = _clean_text(reason, field="reason", maximum=REASON_MAX, required=False)
    now = now or timezone.now()
    with transaction.atomic():
        story = _locked(story)
        if story.status not in (StoryStatus.APPROVED, StoryStatus.PENDING):
            raise _wrong_state(story)
        story.status = StoryStatus.HIDDEN
        story.reject_reason = reason
        story.moderated_by, story.moderated_at = actor, now
        story.save(update_fields=["status", "reject_reason", "moderated_by", "moderated_at"])
        resolve_reports(actor, story, outcome=ReportOutcome.HIDDEN, now=now)
    return story


def resolve_reports(actor, story: Story, *, outcome: str, comment=None, now=None) -> int:
    """Close the open reports on a story (without `comment`: only those about the story itself)
    or on one comment."""
    now = now or timezone.now()
    reports = Report.objects.for_group(story.dealer_group_id).filter(
        story=story, resolved_at__isnull=True
    )
    reports = (
        reports.filter(comment=comment)
        if comment is not None
        else reports.filter(comment__isnull=True)
    )
    return reports.update(outcome=outcome, resolved_at=now, resolved_by=actor)


def hide_comment(actor, comment: StoryComment, *, now: dt.datetime | None = None) -> StoryComment:
    """A moderator hides a comment (usually a reported one): nobody but staff reads it any more."""
    _check_moderator(actor, comment.story)
    now = now or timezone.now()
    with transaction.atomic():
        story = _locked(comment.story)
        comment = (
            StoryComment.objects.for_group(story.dealer_group_id)
            .select_for_update()
            .get(pk=comment.pk)
        )
        if comment.status == CommentStatus.VISIBLE:
            _set_comment_hidden(comment, story, actor, now)
        comment.hidden_by = actor
        comment.save(update_fields=["hidden_by"])
        resolve_reports(actor, story, outcome=ReportOutcome.HIDDEN, comment=comment, now=now)
    return comment


def _set_comment_hidden(comment: StoryComment, story: Story, actor, now) -> None:
    comment.status = CommentStatus.HIDDEN
    comment.hidden_at, comment.hidden_by = now, actor
    comment.save(update_fields=["status", "hidden_at", "hidden_by"])
    Story.objects.for_group(story.dealer_group_id).filter(pk=story.pk, comments_count__gt=0).update(
        comments_count=F("comments_count") - 1
    )


def restore_comment(actor, comment: StoryComment, *, now=None) -> StoryComment:
    """The reports were wrong: the comment is shown again and its open reports dismissed."""
    _check_moderator(actor, comment.story)
    now = now or timezone.now()
    with transaction.atomic():
        story = _locked(comment.story)
        comment = (
            StoryComment.objects.for_group(story.dealer_group_id)
            .select_for_update()
            .get(pk=comment.pk)
        )
        if comment.status == CommentStatus.HIDDEN:
            comment.status = CommentStatus.VISIBLE
            comment.hidden_at, comment.hidden_by = None, None
            comment.save(update_fields=["status", "hidden_at", "hidden_by"])
            Story.objects.for_group(story.dealer_group_id).filter(pk=story.pk).update(
                comments_count=F("comments_count") + 1
            )
        resolve_reports(actor, story, outcome=ReportOutcome.DISMISSED, comment=comment, now=now)
    return comment


def dismiss_reports(actor, story: Story, *, now=None) -> int:
    """The reports on a story were wrong: close them, the story stays."""
    _check_moderator(actor, story)
    return resolve_reports(actor, story, outcome=ReportOutcome.DISMISSED, now=now)


# --- likes, comments, reports ----------------------------------------------------------------
def _published(story: Story) -> None:
    if story.status != StoryStatus.APPROVED:
        raise NotFound()


def like_story(owner, story: Story, *, now: dt.datetime | None = None) -> bool:
    """Like a published story (once: liking again changes nothing). The author earns the
    `like_received` points for this liker once, within the rule's caps. Owners cannot like
    their own stories. Returns True when a like was added now."""
    _published(story)
    customer = _acting_customer(owner, story)
    if customer.pk == story.customer_id or _owns(owner, story):
        raise DomainError("own_story", _("You cannot like your own story."), status=422)
    now = now or timezone.now()
    with transaction.atomic():
        story = _locked(story)
        _published(story)
        try:
            with transaction.atomic():
                StoryLike.objects.create(
                    dealer_group_id=story.dealer_group_id,
                    story=story,
                    customer=customer,
                    created_at=now,
                )
        except IntegrityError:
            return False
        Story.objects.for_group(story.dealer_group_id).filter(pk=story.pk).update(
            likes_count=F("likes_count") + 1
        )
        story_id, liker_id = story.pk, customer.pk
        transaction.on_commit(lambda: _enqueue_like_points(story_id, liker_id))
    return True


def _enqueue_like_points(story_id: int, liker_id: int) -> None:
    from .tasks import award_like_points_task

    award_like_points_task.enqueue(story_id, liker_id)


def unlike_story(owner, story: Story) -> bool:
    """Take a like back (nothing happens when there was none). The points the author earned
    for it stay, and liking again does not earn them a second time."""
    _published(story)
    customer = _acting_customer(owner, story)
    with transaction.atomic():
        story = _locked(story)
        deleted, _ignored = (
            StoryLike.objects.for_group(story.dealer_group_id)
            .filter(story=story, customer=customer)
            .delete()
        )
        if deleted:
            Story.objects.for_group(story.dealer_group_id).filter(
                pk=story.pk, likes_count__gt=0
            ).update(likes_count=F("likes_count") - 1)
    return bool(deleted)


def add_comment(owner, story: Story, text: str, *, now: dt.datetime | None = None) -> StoryComment:
    """Comment on a published story (up to 500 characters). Comments are moderated on report."""
    _published(story)
    text = _clean_text(text, field="text", maximum=COMMENT_TEXT_MAX)
    customer = _acting_customer(owner, story)
    now = now or timezone.now()
    with transaction.atomic():
        story = _locked(story)
        _published(story)
        comment = StoryComment.objects.create(
            dealer_group_id=story.dealer_group_id,
            story=story,
            customer=customer,
            text=text,
            created_at=now,
        )
        Story.objects.for_group(story.dealer_group_id).filter(pk=story.pk).update(
            comments_count=F("comments_count") + 1
        )
    return comment


def report(
    owner,
    story: Story,
    *,
    reason: str,
    note: str = "",
    comment_id: int | None = None,
    now: dt.datetime | None = None,
) -> Report:
    """Report a published story or one of its visible comments to the group's moderators. One
    report per owner and item (reporting again returns the first). A comment reported by
    several owners is hidden until a moderator decides."""
    _published(story)
    if reason not in ReportReason.values:
        raise DomainError("invalid_reason", _("Choose a reason."))
    note = _clean_text(note, field="note", maximum=REASON_MAX, required=False)
    customer = _acting_customer(owner, story)
    now = now or timezone.now()
    with transaction.atomic():
        story = _locked(story)
        comment = None
        if comment_id is not None:
            comment = (
                StoryComment.objects.for_group(story.dealer_group_id)
                .filter(story=story, pk=comment_id, status=CommentStatus.VISIBLE)
                .select_for_update()
                .first()
            )
            if comment is None:
                raise NotFound()
            if comment.customer_id == customer.pk:
                raise DomainError(
                    "own_comment", _("You cannot report your own comment."), status=422
                )
        elif story.customer_id == customer.pk:
            raise DomainError("own_story", _("You cannot report your own story."), status=422)
        existing = (
            Report.objects.for_group(story.dealer_group_id)
            .filter(story=story, comment=comment, reporter=customer)
            .first()
        )
        if existing is not None:
            return existing
        try:
            with transaction.atomic():
                row = Report.objects.create(
                    dealer_group_id=story.dealer_group_id,
                    story=story,
                    comment=comment,
                    reporter=customer,
                    reason=reason,
                    note=note,
                    created_at=now,
                )
        except IntegrityError:  # a parallel report of the same owner
            return (
                Report.objects.for_group(story.dealer_group_id)
                .filter(story=story, comment=comment, reporter=customer)
                .get()
            )
        if comment is not None:
            open_reports = (
                Report.objects.for_group(story.dealer_group_id)
                .filter(comment=comment, resolved_at__isnull=True)
                .count()
            )
            if open_reports >= REPORTS_TO_HIDE_COMMENT:
                _set_comment_hidden(comment, story, None, now)
    return row


# --- points (run by the tasks, after commit) -----------------------------------------------------
def award_story_points(story_id: int) -> int:
    """The author of an approved story earns `story_approved` (rules and caps of the group's
    programme). Idempotent per story: returns the points given now (0 on a repeat)."""
    from m4s.loyalty.services import record_event

    story = Story.objects.unscoped().select_related("customer").filter(pk=story_id).first()
    if story is None or story.approved_at is None:
        return 0
    earned = record_event(
        story.customer,
        "story_approved",
        source=f"story:{story.pk}",
        key=f"story:{story.pk}",
        store_id=story.customer.store_id,
    )
    return sum(e.points for e in earned.entries) if earned.created else 0


def award_like_points(story_id: int, liker_customer_id: int) -> int:
    """The author earns `like_received` for one liker's like (rules and daily cap apply).
    Idempotent per story and liker: unliking and liking again earns nothing more."""
    from m4s.loyalty.services import record_event

    story = Story.objects.unscoped().select_related("customer").filter(pk=story_id).first()
    if story is None or story.customer_id == liker_customer_id:
        return 0
    liked = (
        StoryLike.objects.for_group(story.dealer_group_id)
        .filter(story_id=story_id, customer_id=liker_customer_id)
        .exists()
    )
    if not liked:
        return 0  # taken back before the task ran
    earned = record_event(
        story.customer,
        "like_received",
        source=f"like:{story.pk}:{liker_customer_id}",
        key=f"like:{story.pk}:{liker_customer_id}",
        store_id=story.customer.store_id,
    )
    return sum(e.points for e in earned.entries) if earned.created else 0
