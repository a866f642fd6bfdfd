"""One complaint in the console at /console/complaints/<id>/: the customer (link to the customer
360), the car, visit and repair order it concerns, the clock with business time left, the full
timeline, and every action: acknowledge, reply to the owner, internal note, log a call, change
category or severity, assign, escalate with a reason, wait for the customer / resume, resolve
with root cause and corrective action; and the manager's "preventive action done" check.

Thin: reads through m4s.complaints.selectors (another group's or another store's complaint is a
404), writes through m4s.complaints.services; a refused action shows the service's message with
its 4xx status and changes nothing."""

import datetime as dt

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from m4s.complaints import selectors, services
from m4s.complaints.choices import (
    MESSAGE_MAX,
    OPEN_STATUSES,
    TOP_LEVEL,
    CallDirection,
    Severity,
    Status,
)
from m4s.complaints.models import CorrectiveAction
from m4s.core.errors import DomainError
from m4s.core.types import in_calendar
from m4s.service import selectors as service_selectors
from m4s.staff.choices import Perm

from .common import clock, complaints_page, ctx, duration, or_404, status_label, whole

SERVICE_READERS = (
    Perm.WORK_REPAIR_ORDERS,
    Perm.BOOK_SERVICE,
    Perm.SETTLE_REPAIR_ORDERS,
    Perm.VIEW_SERVICE_FIGURES,
)
READERS = (Perm.HANDLE_COMPLAINTS, Perm.VIEW_COMPLAINT_FIGURES)


def _text(request, name: str, limit: int = MESSAGE_MAX) -> str:
    return (request.POST.get(name) or "").strip()[: limit + 1]  # over-long: the service refuses


def _date(raw) -> dt.date | None:
    try:
        day = dt.date.fromisoformat((raw or "").strip()[:10])
    except ValueError:
        return None
    return day if in_calendar(day) else None


def _reads_service(user) -> bool:
    return any(user.has_perm_m4s(p) for p in SERVICE_READERS)


def _links(user, c) -> dict:
    """Links to the visit and the repair order, only where this user may open them."""
    ro_ok = (
        c.repair_order_id is not None
        and _reads_service(user)
        and service_selectors.repair_orders_for(user).filter(pk=c.repair_order_id).exists()
    )
    appointment_ok = (
        c.appointment_id is not None
        and _reads_service(user)
        and service_selectors.appointments_for(user).filter(pk=c.appointment_id).exists()
    )
    return {"ro_link": ro_ok, "appointment_link": appointment_ok}


def _case_page(request, c, *, error: str = "", form: str = "", status: int = 200):
    user = request.user
    minutes = selectors.minutes_left(c)
    events = selectors.staff_events(c)
    actions = list(
        c.corrective_actions.select_related("root_cause", "responsible", "checked_by").all()
    )
    store_today = dt.datetime.now(c.store.tz).date()
    return render(
        request,
        "complaints/console/case.html",
        ctx(
            request,
            c=c,
            events=events,
            escalations=list(c.escalations.select_related("by", "to_staff").all()),
            actions=actions,
            clock=clock(minutes, paused=c.is_paused),
            status_label=status_label(c),
            handling=duration(c.handling_minutes) if c.handling_minutes is not None else "",
            held=duration(c.held_minutes) if c.held_minutes else "",
            is_open=c.status in OPEN_STATUSES,
            can_handle=user.has_perm_m4s(Perm.HANDLE_COMPLAINTS),
            can_check=user.has_perm_m4s(Perm.VIEW_COMPLAINT_FIGURES),
            can_escalate=c.status in OPEN_STATUSES and c.level < TOP_LEVEL,
            categories=selectors.list_categories(c.dealer_group_id),
            root_causes=selectors.list_root_causes(c.dealer_group_id),
            severities=Severity.choices,
            directions=CallDirection.choices,
            assignable=selectors.assignable_staff(user, c),
            responsible=selectors.responsible_choices(user, c),
            can_close=c.status == Status.RESOLVED,
            default_due=store_today + dt.timedelta(days=14),
            today=store_today,
            error=error,
            error_form=form,
            message_max=MESSAGE_MAX,
            **_links(user, c),
        ),
        status=status,
    )


@complaints_page(*READERS)
@require_GET
def case(request, complaint_id: int):
    c = or_404(selectors.get_for_staff, request.user, complaint_id)
    return _case_page(request, c)


# --- actions -------------------------------------------------------------------------------------
def _acknowledge(request, user, c):
    services.acknowledge(user, c)
    return _("Acknowledged.")


def _reply(request, user, c):
    services.reply_to_owner(user, c, _text(request, "body"))
    return _("Reply sent to the owner.")


def _note(request, user, c):
    services.add_note(user, c, _text(request, "body"))
    return _("Internal note added.")


def _call(request, user, c):
    direction = request.POST.get("direction", CallDirection.OUTBOUND)
    services.log_call(
        user,
        c,
        summary=_text(request, "summary"),
        direction=direction if direction in CallDirection.values else CallDirection.OUTBOUND,
        minutes=whole(request.POST.get("minutes")),
    )
    return _("Call logged.")


def _change(request, user, c):
    severity = request.POST.get("severity") or None
    services.change_complaint(
        user,
        c,
        category_id=whole(request.POST.get("category")),
        severity=severity if severity in Severity.values else None,
    )
    return _("Complaint changed.")


def _assign(request, user, c):
    services.assign(user, c, whole(request.POST.get("assignee")))
    return _("Complaint assigned.")


def _escalate(request, user, c):
    services.escalate(user, c, note=_text(request, "note", 500))
    return _("Escalated to the next level.")


def _wait(request, user, c):
    services.set_waiting_for_customer(user, c, question=_text(request, "question"))
    return _("Waiting for the customer: the clock is paused.")


def _resume(request, user, c):
    services.resume(user, c)
    return _("Handling resumed: the clock runs again.")


def _resolve(request, user, c):
    due = _date(request.POST.get("due_date"))
    if due is None:
        raise DomainError("invalid_date", _("Choose a due date for the corrective action."))
    services.resolve(
        user,
        c,
        root_cause_id=whole(request.POST.get("root_cause")),
        resolution=_text(request, "resolution"),
        action=_text(request, "action", 2000),
        responsible_id=whole(request.POST.get("responsible")),
        due_date=due,
    )
    return _("Resolved. The owner is asked to confirm.")


def _close(request, user, c):
    services.close_for_customer(user, c, note=_text(request, "note", 500))
    return _("Closed: the customer confirmed the resolution.")


ACTIONS = {
    "close": _close,
    "acknowledge": _acknowledge,
    "reply": _reply,
    "note": _note,
    "call": _call,
    "change": _change,
    "assign": _assign,
    "escalate": _escalate,
    "wait": _wait,
    "resume": _resume,
    "resolve": _resolve,
}


@complaints_page(Perm.HANDLE_COMPLAINTS)
@require_POST
def act(request, complaint_id: int, action: str):
    do = ACTIONS.get(action)
    if do is None:
        raise Http404
    user = request.user
    c = or_404(selectors.get_for_staff, user, complaint_id)
    try:
        done = do(request, user, c)
    except DomainError as exc:
        if exc.status == 404:
            raise Http404(exc.message) from None
        c = or_404(selectors.get_for_staff, user, complaint_id)
        return _case_page(request, c, error=exc.message, form=action, status=exc.status)
    messages.success(request, done)
    return redirect(f"{reverse('console-complaint', args=[c.pk])}#{action}")


@complaints_page(Perm.VIEW_COMPLAINT_FIGURES)
@require_POST
def check_action(request, action_id: int):
    user = request.user
    back = request.POST.get("back", "")
    try:
        done = services.check_preventive_action(user, action_id, _text(request, "note", 500))
    except DomainError as exc:
        if exc.status == 404:
            raise Http404(exc.message) from None
        messages.error(request, exc.message)
        found = CorrectiveAction.objects.for_actor(user).filter(pk=action_id).first()
        if found is None:
            raise Http404 from None
        return redirect("console-complaint", complaint_id=found.complaint_id)
    messages.success(request, _("Preventive action checked as done."))
    if back == "figures":
        return redirect(f"{reverse('console-complaints-figures')}#root-causes")
    return redirect("console-complaint", complaint_id=done.complaint_id)
