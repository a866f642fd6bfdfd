"""Working a complaint at the desk: acknowledge, reply, note, call, wait for the customer and
resume, change category/severity (audited), assign, escalate."""

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from m4s.core.audit import record_audit, snapshot
from m4s.core.errors import DomainError
from m4s.core.i18n import name_of, text
from m4s.core.models import AuditEntry
from m4s.staff.models import StaffUser

from . import clocks, routing
from ._common import (
    _category,
    _clean_text,
    _first_response,
    _handler,
    _lock,
    _require,
    _role_label,
    _severity,
    _tell_assignee,
    _tell_owner,
    _tell_people,
    event,
)
from .choices import (
    MESSAGE_MAX,
    OPEN_STATUSES,
    RUNNING_STATUSES,
    CallDirection,
    EscalationReason,
    EventKind,
    Level,
    Severity,
    Status,
)
from .models import (
    Complaint,
    ComplaintEvent,
    Escalation,
)


# --- handling -----------------------------------------------------------------------------------
def acknowledge(actor, complaint: Complaint, *, now: dt.datetime | None = None) -> Complaint:
    _handler(actor)
    with transaction.atomic():
        c = _lock(complaint)
        _require(c, Status.NEW, Status.REOPENED)
        now = now or timezone.now()
        c.status = Status.ACKNOWLEDGED
        c.acknowledged_at = now
        if c.assignee_id is None:
            c.assignee = actor
        c.save()
        ev = event(
            c,
            EventKind.ACKNOWLEDGED,
            at=now,
            msg=text(gettext_noop("Your complaint has been read and is being looked into.")),
            owner_visible=True,
            staff=actor,
        )
        _tell_owner(
            c,
            ev,
            text(gettext_noop("Complaint %(ref)s"), ref=c.reference),
            text(gettext_noop("Your complaint has been read and is being looked into.")),
        )
    return c


def reply_to_owner(
    actor, complaint: Complaint, body: str, *, now: dt.datetime | None = None
) -> ComplaintEvent:
    """An owner-visible reply: the first one is the first response."""
    _handler(actor)
    body = _clean_text(body, field="message", maximum=MESSAGE_MAX)
    with transaction.atomic():
        c = _lock(complaint)
        _require(c, *OPEN_STATUSES)
        now = now or timezone.now()
        _first_response(c, now)
        if c.status in (Status.NEW, Status.ACKNOWLEDGED, Status.REOPENED):
            c.status = Status.IN_PROGRESS
        c.save()
        ev = event(c, EventKind.REPLY, at=now, body=body, owner_visible=True, staff=actor)
        _tell_owner(
            c,
            ev,
            text(gettext_noop("Reply on complaint %(ref)s"), ref=c.reference),
            body[:200],
        )
    return ev


def add_note(
    actor, complaint: Complaint, body: str, *, now: dt.datetime | None = None
) -> ComplaintEvent:
    """An internal note: staff only."""
    _handler(actor)
    body = _clean_text(body, field="note", maximum=MESSAGE_MAX)
    with transaction.atomic():
        c = _lock(complaint)
        return event(c, EventKind.NOTE, at=now or timezone.now(), body=body, staff=actor)


def log_call(
    actor,
    complaint: Complaint,
    *,
    summary: str,
    direction: str = CallDirection.OUTBOUND,
    minutes: int | None = None,
    now: dt.datetime | None = None,
) -> ComplaintEvent:
    """A phone call with the owner, summarised: it counts as a first response."""
    _handler(actor)
    summary = _clean_text(summary, field="summary", maximum=MESSAGE_MAX)
    if direction not in CallDirection.values:
        raise DomainError("invalid_direction", _("Incoming or outgoing?"))
    if minutes is not None and not (0 <= minutes <= 600):
        raise DomainError("invalid_minutes", _("A call lasts 0 to 600 minutes."))
    with transaction.atomic():
        c = _lock(complaint)
        _require(c, *OPEN_STATUSES)
        now = now or timezone.now()
        _first_response(c, now)
        if c.status in (Status.NEW, Status.ACKNOWLEDGED, Status.REOPENED):
            c.status = Status.IN_PROGRESS
        c.save()
        return event(
            c,
            EventKind.CALL,
            at=now,
            body=summary,
            staff=actor,
            call_direction=direction,
            call_minutes=minutes,
        )


def set_waiting_for_customer(
    actor, complaint: Complaint, question: str = "", *, now: dt.datetime | None = None
) -> Complaint:
    """Pause the clocks while the owner owes an answer (their time is not counted)."""
    _handler(actor)
    question = _clean_text(question, field="message", maximum=MESSAGE_MAX, required=False)
    with transaction.atomic():
        c = _lock(complaint)
        _require(c, *RUNNING_STATUSES)
        now = now or timezone.now()
        if question:
            _first_response(c, now)
        c.status = Status.WAITING_CUSTOMER
        clocks.pause(c, now)
        c.save()
        ev = event(
            c,
            EventKind.WAITING,
            at=now,
            msg=text(gettext_noop("We are waiting for your answer.")),
            body=question,
            owner_visible=True,
            staff=actor,
        )
        _tell_owner(
            c,
            ev,
            text(gettext_noop("Complaint %(ref)s: we need your answer"), ref=c.reference),
            question[:200] or text(gettext_noop("We are waiting for your answer.")),
        )
    return c


def _resume_locked(c: Complaint, now: dt.datetime, *, staff=None, owner=None) -> int:
    held = clocks.resume_clocks(c, now)
    c.status = Status.IN_PROGRESS
    c.save()
    event(
        c,
        EventKind.RESUMED,
        at=now,
        msg=text(gettext_noop("Handling resumed.")),
        owner_visible=True,
        staff=staff,
        owner=owner,
        data={"held_minutes": held},
    )
    return held


def resume(actor, complaint: Complaint, *, now: dt.datetime | None = None) -> Complaint:
    _handler(actor)
    with transaction.atomic():
        c = _lock(complaint)
        _require(c, Status.WAITING_CUSTOMER)
        _resume_locked(c, now or timezone.now(), staff=actor)
    return c


def change_complaint(
    actor,
    complaint: Complaint,
    *,
    category_id: int | None = None,
    severity: str | None = None,
    now: dt.datetime | None = None,
) -> Complaint:
    """Change category or severity (audited); the targets are recomputed, and a complaint made
    critical goes to the store manager at once."""
    _handler(actor)
    if severity is not None:
        _severity(severity)
    with transaction.atomic():
        c = _lock(complaint)
        _require(c, *OPEN_STATUSES)
        before = snapshot(c)
        changed = {}
        if category_id is not None and category_id != c.category_id:
            c.category = _category(c.dealer_group_id, category_id)
            changed["category"] = c.category.name
        if severity is not None and severity != c.severity:
            c.severity = severity
            changed["severity"] = severity
        if not changed:
            return c
        now = now or timezone.now()
        clocks.restart_clocks(c, now)
        c.save()
        record_audit(
            actor=actor, action=AuditEntry.Action.UPDATE, obj=c, before=before, after=snapshot(c)
        )
        event(
            c,
            EventKind.CHANGED,
            at=now,
            msg=text(gettext_noop("Category or severity changed.")),
            staff=actor,
            data=changed,
        )
        if c.severity == Severity.CRITICAL and c.level < Level.STORE_MANAGER:
            climb(c, Level.STORE_MANAGER, EscalationReason.CRITICAL, now=now, by=actor)
    return c


def assign(
    actor, complaint: Complaint, assignee_id: int, *, now: dt.datetime | None = None
) -> Complaint:
    _handler(actor)
    with transaction.atomic():
        c = _lock(complaint)
        _require(c, *OPEN_STATUSES)
        person = StaffUser.objects.filter(pk=assignee_id, dealer_group_id=c.dealer_group_id).first()
        if not routing.can_handle(person, c.store):
            raise DomainError(
                "invalid_assignee", _("This person cannot handle complaints of this store.")
            )
        if person.pk == c.assignee_id:
            return c
        now = now or timezone.now()
        c.assignee = person
        c.save()
        event(
            c,
            EventKind.ROUTED,
            at=now,
            msg=text(
                gettext_noop("Assigned to %(name)s (%(level)s)."),
                name=person.get_full_name() or person.username,
                level=_role_label(c.level),
            ),
            staff=actor,
            data={"assignee": person.pk, "level": c.level},
        )
        _tell_assignee(c, f"assigned:{now.timestamp():.0f}:{person.pk}")
    return c


def climb(
    c: Complaint,
    to_level: int,
    reason: str,
    *,
    now: dt.datetime,
    by=None,
    note: str = "",
) -> Escalation:
    """Move a locked complaint up to `to_level` (once per level): new assignee, new level clock,
    events, notifications."""
    from_level = c.level
    try:
        with transaction.atomic():
            esc = Escalation.objects.create(
                dealer_group_id=c.dealer_group_id,
                complaint=c,
                from_level=from_level,
                to_level=to_level,
                reason=reason,
                note=note,
                by=by,
                at=now,
            )
    except IntegrityError:
        raise DomainError(
            "already_escalated", _("The complaint was already at this level."), status=409
        ) from None
    c.level = to_level
    c.assignee = routing.route(c.store, c.customer, to_level, now)
    clocks.start_level_clock(c, now)
    c.save()
    esc.to_staff = c.assignee
    esc.save(update_fields=["to_staff"])
    ev = event(
        c,
        EventKind.ESCALATED,
        at=now,
        msg=text(gettext_noop("Passed to the %(role)s."), role=_role_label(to_level)),
        body=note if reason == EscalationReason.REQUEST else "",
        owner_visible=True,
        staff=by,
        data={"from": from_level, "to": to_level, "reason": reason},
    )
    people = [c.assignee]
    if to_level == Level.GROUP_CARE:
        people += routing.group_care(c.dealer_group_id)
    _tell_people(
        people,
        c,
        text(gettext_noop("Complaint %(ref)s escalated to you"), ref=c.reference),
        text(
            gettext_noop("%(reason)s · %(category)s · %(customer)s"),
            reason=EscalationReason(reason).label,
            category=name_of(c.category),
            customer=c.customer.name,
        ),
        f"level:{to_level}",
    )
    _tell_owner(
        c,
        ev,
        text(gettext_noop("Complaint %(ref)s"), ref=c.reference),
        text(gettext_noop("Passed to the %(role)s."), role=_role_label(to_level)),
    )
    return esc


def escalate(
    actor, complaint: Complaint, *, note: str, now: dt.datetime | None = None
) -> Escalation:
    """A staff member asks for the next level, with a reason."""
    _handler(actor)
    note = _clean_text(note, field="reason", maximum=500)
    with transaction.atomic():
        c = _lock(complaint)
        _require(c, *OPEN_STATUSES)
        if c.level >= Level.GROUP_CARE:
            raise DomainError(
                "top_level", _("The complaint is already with group customer care."), status=409
            )
        return climb(
            c, c.level + 1, EscalationReason.REQUEST, now=now or timezone.now(), by=actor, note=note
        )
