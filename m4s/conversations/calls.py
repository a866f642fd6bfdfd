"""Calls, never cold. The owner asks for a call back (a time window); staff call by `tel:` from
the console (or click-to-call through the telephony adapter) and log every call: direction,
reached or not, duration, outcome, note. Each call gets its *basis* from the data, not from
what staff claim:

* `inbound` — the owner called;
* `owner_request` — an open callback request of the customer (answered by this call);
* `open_case` — an open conversation, complaint or repair order of the customer;
* `agreed_reminder` — a visit the owner booked within the next days (the reminder they agreed
  to when booking);
* otherwise `none`: an unsolicited call, which needs a reason; the figures count them.
"""

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from m4s.complaints.choices import OPEN_STATUSES as OPEN_COMPLAINT
from m4s.complaints.models import Complaint
from m4s.core.errors import DomainError, NotFound
from m4s.core.i18n import text
from m4s.customers.choices import TimelineKind
from m4s.customers.models import Customer
from m4s.customers.services import record_timeline
from m4s.notify.services import tell_on_duty, tell_staff
from m4s.service.choices import OPEN_RO, AppointmentStatus
from m4s.service.models import Appointment, RepairOrder

from . import routing
from ._common import (
    KIND,
    clean_text,
    clean_topic,
    console_link,
    handler,
    lock,
    minutes_between,
    person_name,
)
from .choices import (
    CALLBACK_HORIZON_DAYS,
    CALLBACK_WINDOW_MAX_HOURS,
    NOTE_MAX,
    QUEUE_ROLES,
    REMINDER_BASIS_DAYS,
    AuthorKind,
    CallbackStatus,
    CallBasis,
    CallDirection,
    CallOutcome,
    CallSource,
    MessageKind,
    Topic,
)
from .models import OPEN, Call, CallbackRequest, Conversation, Message

MAX_CALL_SECONDS = 86_400
# the reason an unsolicited call reported by the telephony system carries (staff gave none)
CTI_NO_REASON = "telephony: no reason given"
CALL_TITLE = gettext_noop("Call (%(direction)s): %(outcome)s")
CALLBACK_TITLE = gettext_noop("Asked to be called back (%(topic)s)")


def _now(now):
    return now or timezone.now()


# --- the owner asks -----------------------------------------------------------------------------
def _clean_window(start, end, now) -> tuple[dt.datetime, dt.datetime]:
    for value in (start, end):
        if not isinstance(value, dt.datetime) or value.tzinfo is None:
            raise DomainError("invalid_window", _("Give the time window with a time zone."))
    if end <= start:
        raise DomainError("invalid_window", _("The window must end after it starts."))
    if end <= now:
        raise DomainError("invalid_window", _("The window is already over."))
    if start > now + dt.timedelta(days=CALLBACK_HORIZON_DAYS):
        raise DomainError(
            "invalid_window",
            _("Choose a window within %(n)d days.") % {"n": CALLBACK_HORIZON_DAYS},
        )
    if end - start > dt.timedelta(hours=CALLBACK_WINDOW_MAX_HOURS):
        raise DomainError(
            "invalid_window",
            _("A window may span at most %(n)d hours.") % {"n": CALLBACK_WINDOW_MAX_HOURS},
        )
    return start, end


def request_callback(
    owner,
    *,
    customer,
    topic: str,
    window_start: dt.datetime,
    window_end: dt.datetime,
    note: str = "",
    now: dt.datetime | None = None,
) -> CallbackRequest:
    """The owner taps "Call me back": the conversation's handler (else the customer's
    consultant, else the on-duty CS queue) is told. One open request per customer and topic."""
    topic = clean_topic(topic)
    note = clean_text(note, field="note", maximum=NOTE_MAX, required=False)
    now = _now(now)
    window_start, window_end = _clean_window(window_start, window_end, now)
    pk = getattr(customer, "pk", customer)
    customer = Customer.objects.for_owner(owner).select_related("store").filter(pk=pk).first()
    if customer is None:
        raise NotFound(_("No such customer."))
    with transaction.atomic():
        existing = (
            CallbackRequest.objects.for_group(customer.dealer_group_id)
            .filter(customer=customer, topic=topic, status=CallbackStatus.OPEN)
            .first()
        )
        if existing is not None:
            raise DomainError(
                "callback_already_requested",
                _("You already asked for a call back; we will call you."),
                status=409,
                callback_request=existing.pk,
            )
        conv = (
            Conversation.objects.for_group(customer.dealer_group_id)
            .select_related("assignee")
            .filter(customer=customer, topic=topic, status=OPEN)
            .first()
        )
        request = CallbackRequest.objects.create(
            dealer_group_id=customer.dealer_group_id,
            store=conv.store if conv else customer.store,
            customer=customer,
            owner=owner,
            conversation=conv,
            topic=topic,
            window_start=window_start,
            window_end=window_end,
            note=note,
            created_at=now,
        )
        record_timeline(
            customer,
            TimelineKind.CALL,
            CALLBACK_TITLE,
            params=text(CALLBACK_TITLE, topic=Topic(topic).label)["p"],
            data={"callback_request": request.pk},
            at=now,
        )
        person = (conv.assignee if conv else None) or routing.consultant_of(customer, topic)

        def compose():
            return (
                text(gettext_noop("%(customer)s asks for a call back"), customer=customer.name),
                text(
                    gettext_noop("Between %(start)s and %(end)s"),
                    start=f"{window_start.astimezone(request.store.tz):%Y-%m-%d %H:%M}",
                    end=f"{window_end.astimezone(request.store.tz):%Y-%m-%d %H:%M}",
                ),
            )

        link = console_link(conv) if conv else ""
        if person is not None:
            tell_staff(
                [person],
                KIND,
                compose,
                group_id=customer.dealer_group_id,
                link=link,
                dedupe=f"callback:{request.pk}",
            )
        else:
            tell_on_duty(
                request.store,
                list(QUEUE_ROLES),
                KIND,
                compose,
                link=link,
                dedupe=f"callback:{request.pk}",
                at=now,
            )
    return request


def cancel_callback(owner, callback_request) -> CallbackRequest:
    pk = getattr(callback_request, "pk", callback_request)
    found = CallbackRequest.objects.for_owner(owner).filter(pk=pk).first()
    if found is None:
        raise NotFound(_("No such callback request."))
    if found.status != CallbackStatus.OPEN:
        raise DomainError("not_open", _("This request is no longer open."), status=409)
    found.status = CallbackStatus.CANCELLED
    found.save(update_fields=["status"])
    return found


# --- staff call ---------------------------------------------------------------------------------
def call_basis(
    customer, direction: str, *, callback_request=None, conversation=None, at=None
) -> tuple[str, CallbackRequest | None]:
    """What makes this call legitimate (see the module text), and the callback request it
    answers, if any."""
    if direction == CallDirection.INBOUND:
        return CallBasis.INBOUND, callback_request
    at = at or timezone.now()
    group = customer.dealer_group_id
    request = callback_request
    if request is None:
        request = (
            CallbackRequest.objects.for_group(group)
            .filter(customer=customer, status=CallbackStatus.OPEN)
            .order_by("window_start", "id")
            .first()
        )
    if request is not None and request.status == CallbackStatus.OPEN:
        return CallBasis.OWNER_REQUEST, request
    if (
        (conversation is not None and conversation.status == OPEN)
        or Conversation.objects.for_group(group).filter(customer=customer, status=OPEN).exists()
        or Complaint.objects.for_group(group)
        .filter(customer=customer, status__in=OPEN_COMPLAINT)
        .exists()
        or RepairOrder.objects.for_group(group)
        .filter(customer=customer, status__in=OPEN_RO)
        .exists()
    ):
        return CallBasis.OPEN_CASE, None
    if (
        Appointment.objects.for_group(group)
        .filter(
            customer=customer,
            status=AppointmentStatus.BOOKED,
            starts_at__gte=at - dt.timedelta(hours=12),
            starts_at__lte=at + dt.timedelta(days=REMINDER_BASIS_DAYS),
        )
        .exists()
    ):
        return CallBasis.AGREED_REMINDER, None
    return CallBasis.NONE, None


def _staff_customer(actor, customer) -> Customer:
    from m4s.customers.selectors import customers_for

    pk = getattr(customer, "pk", customer)
    found = customers_for(actor).select_related("store", "owner").filter(pk=pk).first()
    if found is None:
        raise NotFound(_("No such customer."))
    return found


def log_call(
    actor,
    *,
    customer,
    direction: str,
    reached: bool,
    duration_seconds: int,
    outcome: str,
    note: str = "",
    reason: str = "",
    callback_request=None,
    conversation=None,
    started_at: dt.datetime | None = None,
    source: str = CallSource.MANUAL,
    external_id: str | None = None,
    now: dt.datetime | None = None,
) -> Call:
    """Log a call with a customer the staff member may see. An outbound call without a basis
    needs `reason` (400 `reason_required`, nothing stored). A reached call answers the
    callback request and, on a conversation the owner waits in, counts as the first response."""
    handler(actor)
    if direction not in CallDirection.values:
        raise DomainError("invalid_direction", _("Incoming or outgoing?"))
    if outcome not in CallOutcome.values:
        raise DomainError("invalid_outcome", _("Choose the outcome of the call."))
    if not isinstance(reached, bool):
        raise DomainError("invalid_reached", _("Say whether the call reached the owner."))
    if (
        isinstance(duration_seconds, bool)
        or not isinstance(duration_seconds, int)
        or not 0 <= duration_seconds <= MAX_CALL_SECONDS
    ):
        raise DomainError("invalid_duration", _("The duration is in seconds, at most a day."))
    note = clean_text(note, field="note", maximum=NOTE_MAX, required=False)
    reason = clean_text(reason, field="reason", maximum=NOTE_MAX, required=False)
    now = _now(now)
    started_at = started_at or now - dt.timedelta(seconds=duration_seconds)
    if started_at.tzinfo is None or started_at > now + dt.timedelta(minutes=5):
        raise DomainError("invalid_started_at", _("A call is logged after it started."))
    customer = _staff_customer(actor, customer)
    conv = None
    if conversation is not None:
        from .selectors import conversations_for_staff

        conv = (
            conversations_for_staff(actor)
            .filter(pk=getattr(conversation, "pk", conversation), customer=customer)
            .select_related("store")
            .first()
        )
        if conv is None:
            raise NotFound(_("No such conversation."))
    request = None
    if callback_request is not None:
        request = (
            CallbackRequest.objects.for_group(customer.dealer_group_id)
            .filter(pk=getattr(callback_request, "pk", callback_request), customer=customer)
            .first()
        )
        if request is None:
            raise NotFound(_("No such callback request."))
    basis, request = call_basis(
        customer, direction, callback_request=request, conversation=conv, at=now
    )
    if basis == CallBasis.NONE and not reason:
        if source != CallSource.CTI:
            raise DomainError(
                "reason_required",
                _(
                    "This owner did not ask for a call and has no open case or agreed "
                    "reminder: say why you call them."
                ),
            )
        reason = CTI_NO_REASON  # reported by the switch: counted as unsolicited, staff may explain
    if direction == CallDirection.INBOUND:
        reason = ""
    if conv is None and request is not None and request.conversation_id:
        conv = (
            Conversation.objects.for_group(customer.dealer_group_id)
            .filter(pk=request.conversation_id)
            .first()
        )
    with transaction.atomic():
        try:
            with transaction.atomic():
                call = Call.objects.create(
                    dealer_group_id=customer.dealer_group_id,
                    store=conv.store if conv else (request.store if request else customer.store),
                    customer=customer,
                    conversation=conv,
                    callback_request=request,
                    staff=actor,
                    direction=direction,
                    reached=reached,
                    duration_seconds=duration_seconds,
                    outcome=outcome,
                    note=note,
                    basis=basis,
                    reason=reason,
                    started_at=started_at,
                    source=source,
                    external_id=external_id or None,
                    created_at=now,
                )
        except IntegrityError:
            if external_id:  # the telephony system reported this call already
                return Call.objects.for_group(customer.dealer_group_id).get(external_id=external_id)
            raise
        if request is not None and reached and request.status == CallbackStatus.OPEN:
            CallbackRequest.objects.for_group(customer.dealer_group_id).filter(
                pk=request.pk, status=CallbackStatus.OPEN
            ).update(status=CallbackStatus.DONE, done_at=now, done_by=actor)
        record_timeline(
            customer,
            TimelineKind.CALL,
            CALL_TITLE,
            params=text(
                CALL_TITLE,
                direction=CallDirection(direction).label,
                outcome=CallOutcome(outcome).label,
            )["p"],
            data={
                "call": call.pk,
                "conversation": conv.pk if conv else None,
                "basis": basis,
                "reached": reached,
                "seconds": duration_seconds,
            },
            actor=actor,
            at=now,
        )
        if conv is not None:
            _call_line(conv, call, actor, now)
    return call


def _call_line(conv: Conversation, call: Call, actor, now) -> None:
    """A staff-only line in the conversation; a reached call ends the owner's wait."""
    conv = lock(conv)
    waited = None
    if call.reached and conv.status == OPEN and conv.waiting_since is not None:
        waited = minutes_between(conv.store, conv.waiting_since, now)
        conv.waiting_since = None
        conv.first_response_due_at = None
        if conv.assignee_id is None:
            conv.assignee = actor
        conv.save(update_fields=["waiting_since", "first_response_due_at", "assignee"])
    Message.objects.create(
        dealer_group_id=conv.dealer_group_id,
        conversation=conv,
        author_kind=AuthorKind.SYSTEM,
        author_staff=actor,
        kind=MessageKind.NOTE,
        text=text(
            gettext_noop("%(name)s logged a call (%(direction)s, %(outcome)s, %(minutes)s min)."),
            name=person_name(actor),
            direction=CallDirection(call.direction).label,
            outcome=CallOutcome(call.outcome).label,
            minutes=round(call.duration_seconds / 60),
        ),
        created_at=now,
        response_minutes=waited,
    )
