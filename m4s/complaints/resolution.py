"""Ending a complaint: resolve with root cause and corrective action, the manager's preventive
check, and the owner's side (message, photos, confirm, reopen, rate)."""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from m4s.core.errors import DomainError, NotFound
from m4s.core.i18n import text
from m4s.staff.choices import Perm
from m4s.staff.models import StaffUser
from m4s.staff.permissions import check_perm

from . import clocks
from ._common import (
    _clean_photos,
    _clean_text,
    _first_response,
    _handler,
    _lock,
    _require,
    _tell_owner,
    _tell_people,
    ensure_defaults,
    event,
)
from .choices import (
    DESCRIPTION_MAX,
    MAX_PHOTOS,
    MESSAGE_MAX,
    OPEN_STATUSES,
    REOPEN_WINDOW_DAYS,
    EventKind,
    Status,
)
from .handling import _resume_locked, climb  # noqa: F401
from .models import (
    Complaint,
    ComplaintEvent,
    ComplaintPhoto,
    CorrectiveAction,
    RootCause,
)


def resolve(
    actor,
    complaint: Complaint,
    *,
    root_cause_id: int,
    resolution: str,
    action: str,
    responsible_id: int,
    due_date: dt.date,
    now: dt.datetime | None = None,
) -> Complaint:
    """Resolve with the root cause and the corrective action (what changes, who owns it, by
    when); the owner is asked to confirm."""
    _handler(actor)
    resolution = _clean_text(resolution, field="resolution", maximum=DESCRIPTION_MAX)
    action = _clean_text(action, field="action", maximum=2000)
    with transaction.atomic():
        c = _lock(complaint)
        _require(c, *OPEN_STATUSES)
        ensure_defaults(c.dealer_group_id)
        cause = (
            RootCause.objects.for_group(c.dealer_group_id)
            .filter(pk=root_cause_id, is_active=True)
            .first()
        )
        if cause is None:
            raise NotFound(_("No such root cause."))
        responsible = StaffUser.objects.filter(
            pk=responsible_id, dealer_group_id=c.dealer_group_id, is_active=True
        ).first()
        if responsible is None:
            raise NotFound(_("The action's owner must be active staff of the group."))
        now = now or timezone.now()
        today = now.astimezone(c.store.tz).date()
        if not isinstance(due_date, dt.date) or not (
            today <= due_date <= today + dt.timedelta(days=366)
        ):
            raise DomainError("invalid_due_date", _("The due date must be within the next year."))
        if c.status == Status.WAITING_CUSTOMER:
            clocks.resume_clocks(c, now)
        _first_response(c, now)
        c.status = Status.RESOLVED
        c.resolved_at = now
        c.root_cause = cause
        c.resolution = resolution
        c.handling_minutes = max(
            0, clocks.minutes_between(c.store, c.created_at, now) - c.held_minutes
        )
        c.save()
        CorrectiveAction.objects.create(
            dealer_group_id=c.dealer_group_id,
            complaint=c,
            root_cause=cause,
            store=c.store,
            action=action,
            responsible=responsible,
            due_date=due_date,
            created_by=actor,
            created_at=now,
        )
        ev = event(
            c,
            EventKind.RESOLVED,
            at=now,
            msg=text(gettext_noop("Resolved: please confirm, or reopen if it is not.")),
            body=resolution,
            owner_visible=True,
            staff=actor,
            data={"root_cause": cause.code},
        )
        _tell_owner(
            c,
            ev,
            text(gettext_noop("Complaint %(ref)s resolved: please confirm"), ref=c.reference),
            resolution[:200],
        )
        if responsible.pk != actor.pk:
            _tell_people(
                [responsible],
                c,
                text(gettext_noop("Corrective action for %(ref)s"), ref=c.reference),
                action[:200],
                f"action:{now.timestamp():.0f}",
            )
    return c


def _action_for(actor, action_id: int) -> CorrectiveAction:
    from .selectors import complaints_for_staff

    found = (
        CorrectiveAction.objects.for_actor(actor)
        .filter(pk=action_id, complaint__in=complaints_for_staff(actor).values("pk"))
        .select_related("complaint")
        .first()
    )
    if found is None:
        raise NotFound(_("No such corrective action."))
    return found


def mark_action_done(actor, action_id: int, *, now: dt.datetime | None = None) -> CorrectiveAction:
    _handler(actor)
    ca = _action_for(actor, action_id)
    with transaction.atomic():
        ca = (
            CorrectiveAction.objects.for_group(ca.dealer_group_id).select_for_update().get(pk=ca.pk)
        )
        if ca.done_at is None:
            ca.done_at = now or timezone.now()
            ca.save(update_fields=["done_at"])
    return ca


def check_preventive_action(
    actor, action_id: int, note: str = "", *, now: dt.datetime | None = None
) -> CorrectiveAction:
    """A manager checks that the preventive action was carried out."""
    check_perm(actor, Perm.VIEW_COMPLAINT_FIGURES)
    note = _clean_text(note, field="note", maximum=500, required=False)
    ca = _action_for(actor, action_id)
    with transaction.atomic():
        ca = (
            CorrectiveAction.objects.for_group(ca.dealer_group_id).select_for_update().get(pk=ca.pk)
        )
        if ca.checked_at is not None:
            raise DomainError("already_checked", _("Already checked."), status=409)
        now = now or timezone.now()
        ca.done_at = ca.done_at or now
        ca.checked_at, ca.checked_by, ca.check_note = now, actor, note
        ca.save()
        c = (
            Complaint.objects.for_group(ca.dealer_group_id)
            .select_related("customer")
            .get(pk=ca.complaint_id)
        )
        event(
            c,
            EventKind.PREVENTIVE_CHECKED,
            at=now,
            msg=text(gettext_noop("Preventive action checked.")),
            body=note,
            staff=actor,
            data={"action": ca.pk},
        )
    return ca


# --- the owner's side ---------------------------------------------------------------------------
def owner_reply(
    owner, complaint: Complaint, body: str = "", photos=(), *, now: dt.datetime | None = None
) -> ComplaintEvent:
    """The owner writes (and may add photos); an answer while we wait for them restarts the
    clocks."""
    body = _clean_text(body, field="message", maximum=MESSAGE_MAX, required=not photos)
    images = _clean_photos(photos)
    with transaction.atomic():
        c = _lock(complaint)
        if c.customer.owner_id != owner.pk:
            raise NotFound(_("No such complaint."))
        _require(c, *OPEN_STATUSES, Status.RESOLVED)
        _check_photo_room(c, len(images))
        now = now or timezone.now()
        if c.status == Status.WAITING_CUSTOMER:
            _resume_locked(c, now, owner=owner)
        ev = event(
            c,
            EventKind.OWNER_MESSAGE,
            at=now,
            body=body,
            owner_visible=True,
            owner=owner,
        )
        _save_photos(c, ev, images, now)
        _tell_people(
            [c.assignee],
            c,
            text(gettext_noop("The owner wrote on %(ref)s"), ref=c.reference),
            body[:200] or text(gettext_noop("New photos.")),
            f"owner:{ev.pk}",
        )
    return ev


def _check_photo_room(c: Complaint, adding: int) -> None:
    if adding and c.photos.count() + adding > MAX_PHOTOS:
        raise DomainError(
            "too_many_photos",
            _("At most %(n)d photos per complaint.") % {"n": MAX_PHOTOS},
            status=409,
        )


def _save_photos(c, ev, images, now) -> list[ComplaintPhoto]:
    return [
        ComplaintPhoto.objects.create(
            dealer_group_id=c.dealer_group_id,
            complaint=c,
            event=ev,
            image=image,
            by_owner=True,
            created_at=now,
        )
        for image in images
    ]


def add_owner_photos(
    owner, complaint: Complaint, photos, *, now: dt.datetime | None = None
) -> list[ComplaintPhoto]:
    images = _clean_photos(photos)
    if not images:
        raise DomainError("photo_required", _("Add at least one photo."))
    with transaction.atomic():
        c = _lock(complaint)
        if c.customer.owner_id != owner.pk:
            raise NotFound(_("No such complaint."))
        _require(c, *OPEN_STATUSES, Status.RESOLVED)
        _check_photo_room(c, len(images))
        now = now or timezone.now()
        ev = event(
            c,
            EventKind.PHOTO,
            at=now,
            msg=text(gettext_noop("Photos added.")),
            owner_visible=True,
            owner=owner,
        )
        return _save_photos(c, ev, images, now)


def confirm(owner, complaint: Complaint, *, now: dt.datetime | None = None) -> Complaint:
    """The owner confirms the resolution: the complaint closes."""
    with transaction.atomic():
        c = _lock(complaint)
        if c.customer.owner_id != owner.pk:
            raise NotFound(_("No such complaint."))
        _require(c, Status.RESOLVED)
        now = now or timezone.now()
        c.status, c.closed_at = Status.CLOSED, now
        c.save()
        event(
            c,
            EventKind.CONFIRMED,
            at=now,
            msg=text(gettext_noop("You confirmed the resolution. Thank you.")),
            owner_visible=True,
            owner=owner,
        )
        _tell_people(
            [c.assignee],
            c,
            text(gettext_noop("Complaint %(ref)s closed by the owner"), ref=c.reference),
            text(gettext_noop("The owner confirmed the resolution.")),
            "closed",
        )
    return c


def close_for_customer(
    actor, complaint: Complaint, *, note: str, now: dt.datetime | None = None
) -> Complaint:
    """Staff close a resolved complaint the customer confirmed outside the app (by phone, at the
    desk): the customer without the app is not left "resolved" for ever."""
    check_perm(actor, Perm.HANDLE_COMPLAINTS)
    note = _clean_text(note, field="note", maximum=500)
    with transaction.atomic():
        c = _lock(complaint)
        _require(c, Status.RESOLVED)
        now = now or timezone.now()
        c.status, c.closed_at = Status.CLOSED, now
        c.save()
        event(
            c,
            EventKind.CLOSED,
            at=now,
            msg=text(gettext_noop("Closed: you confirmed the resolution to us.")),
            body=note,
            owner_visible=True,
            staff=actor,
        )
    return c


def reopen(
    owner, complaint: Complaint, reason: str, *, now: dt.datetime | None = None
) -> Complaint:
    """Within 14 days of resolution (or closing) the owner may reopen: the case is handled
    again at its level, with fresh resolution and level clocks."""
    reason = _clean_text(reason, field="reason", maximum=MESSAGE_MAX)
    with transaction.atomic():
        c = _lock(complaint)
        if c.customer.owner_id != owner.pk:
            raise NotFound(_("No such complaint."))
        _require(c, Status.RESOLVED, Status.CLOSED)
        now = now or timezone.now()
        since = c.closed_at or c.resolved_at or now
        if now - since > dt.timedelta(days=REOPEN_WINDOW_DAYS):
            raise DomainError(
                "reopen_window_passed",
                _("A complaint can be reopened within %(n)d days.") % {"n": REOPEN_WINDOW_DAYS},
                status=409,
            )
        t = clocks.targets_for(c.dealer_group_id, c.severity, c.category)
        c.status = Status.REOPENED
        c.reopen_count += 1
        c.reopened_at = now
        c.closed_at = None
        c.resolution_due_at = clocks.add_minutes(c.store, now, t.resolution)
        clocks.start_level_clock(c, now, t)
        c.save()
        event(
            c,
            EventKind.REOPENED,
            at=now,
            msg=text(gettext_noop("Reopened.")),
            body=reason,
            owner_visible=True,
            owner=owner,
        )
        _tell_people(
            [c.assignee],
            c,
            text(gettext_noop("Complaint %(ref)s reopened"), ref=c.reference),
            reason[:200],
            f"reopened:{c.reopen_count}",
        )
    return c


def rate(
    owner, complaint: Complaint, rating: int, comment: str = "", *, now: dt.datetime | None = None
) -> Complaint:
    """1-5 stars for the handling, once, after closing."""
    comment = _clean_text(comment, field="comment", maximum=500, required=False)
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise DomainError("invalid_rating", _("Give 1 to 5 stars."))
    with transaction.atomic():
        c = _lock(complaint)
        if c.customer.owner_id != owner.pk:
            raise NotFound(_("No such complaint."))
        _require(c, Status.CLOSED)
        if c.rating is not None:
            raise DomainError("already_rated", _("You already rated this complaint."), status=409)
        now = now or timezone.now()
        c.rating, c.rating_comment, c.rated_at = rating, comment, now
        c.save()
        event(
            c,
            EventKind.RATED,
            at=now,
            msg=text(gettext_noop("Rated %(stars)s of 5."), stars=rating),
            body=comment,
            owner_visible=True,
            owner=owner,
        )
    return c
