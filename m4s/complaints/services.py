"""Writes of the complaints area: filing (owner, staff on behalf, survey), handling (acknowledge,
reply, note, call, wait/resume, change, assign, escalate, resolve, preventive check) and the
owner's side (message, photos, confirm, reopen, rate).

Every write runs in one transaction on the locked complaint row, appends a `ComplaintEvent`,
adds a line to the customer 360 timeline, and notifies through the outbox (which delivers after
commit). Bad input raises a DomainError before anything is written.
"""

import datetime as dt
import uuid
from collections.abc import Sequence

from django.db import IntegrityError, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from m4s.core.audit import record_audit, snapshot
from m4s.core.errors import DomainError, NotFound
from m4s.core.i18n import name_of, text
from m4s.core.models import AuditEntry
from m4s.core.uploads import clean_image
from m4s.customers.choices import TimelineKind
from m4s.customers.models import Customer
from m4s.customers.selectors import vehicles_of_owner
from m4s.customers.services import get_or_create_customer_for_owner, record_timeline
from m4s.notify.services import tell_customer, tell_staff
from m4s.org.models import Store
from m4s.service.models import Appointment, RepairOrder, Survey
from m4s.staff.choices import Perm
from m4s.staff.models import StaffUser
from m4s.staff.permissions import check_perm
from m4s.vehicles.models import Vehicle

from . import clocks, routing
from .choices import (
    DEFAULT_CATEGORIES,
    DEFAULT_ROOT_CAUSES,
    DESCRIPTION_MAX,
    MAX_PHOTOS,
    MESSAGE_MAX,
    OPEN_STATUSES,
    PHOTO_MAX_BYTES,
    REOPEN_WINDOW_DAYS,
    RUNNING_STATUSES,
    STAFF_CHANNELS,
    UNHAPPY_AT_OR_BELOW,
    CallDirection,
    Channel,
    EscalationReason,
    EventKind,
    Level,
    Severity,
    Status,
)
from .models import (
    Complaint,
    ComplaintCategory,
    ComplaintEvent,
    ComplaintPhoto,
    CorrectiveAction,
    Escalation,
    RootCause,
)

KIND = "complaint"  # notification kind
TIMELINE_TITLE = gettext_noop("Complaint %(ref)s: %(what)s")


# --- defaults -----------------------------------------------------------------------------------
def ensure_defaults(group_id: int) -> None:
    """Give a group the default category tree and root causes the first time it needs them."""
    if not ComplaintCategory.objects.for_group(group_id).exists():
        by_code: dict[str, ComplaintCategory] = {}
        for position, (code, name, parent) in enumerate(DEFAULT_CATEGORIES):
            with translation.override("zh-hans"):
                zh = _(name)
            with translation.override("ko"):
                ko = _(name)
            try:
                with transaction.atomic():
                    by_code[code] = ComplaintCategory.objects.create(
                        dealer_group_id=group_id,
                        code=code,
                        name=name,
                        name_i18n={"en": name, "zh-hans": zh, "ko": ko},
                        parent=by_code.get(parent),
                        position=position,
                    )
            except IntegrityError:  # a parallel first use
                by_code[code] = ComplaintCategory.objects.for_group(group_id).get(code=code)
    if not RootCause.objects.for_group(group_id).exists():
        for position, (code, name) in enumerate(DEFAULT_ROOT_CAUSES):
            with translation.override("zh-hans"):
                zh = _(name)
            with translation.override("ko"):
                ko = _(name)
            try:
                with transaction.atomic():
                    RootCause.objects.create(
                        dealer_group_id=group_id,
                        code=code,
                        name=name,
                        name_i18n={"en": name, "zh-hans": zh, "ko": ko},
                        position=position,
                    )
            except IntegrityError:
                pass


def categories_for(group_id: int) -> list[ComplaintCategory]:
    """The group's active categories in tree order (defaults created on first use)."""
    from .selectors import list_categories

    ensure_defaults(group_id)
    return list_categories(group_id)


def root_causes_for(group_id: int) -> list[RootCause]:
    from .selectors import list_root_causes

    ensure_defaults(group_id)
    return list_root_causes(group_id)


# --- small helpers ------------------------------------------------------------------------------
def _clean_text(value, *, field: str, maximum: int, required: bool = True) -> str:
    value = (value or "").strip() if isinstance(value, str) else ""
    if "\x00" in value:
        raise DomainError("invalid_input", _("Text may not contain NUL characters."))
    if required and not value:
        raise DomainError(
            f"{field}_required", _("Please write a few words (%(field)s).") % {"field": field}
        )
    if len(value) > maximum:
        raise DomainError(
            f"{field}_too_long",
            _("At most %(n)d characters (%(field)s).") % {"n": maximum, "field": field},
        )
    return value


def _clean_photos(files) -> list:
    files = [f for f in (files or []) if f]
    if len(files) > MAX_PHOTOS:
        raise DomainError("too_many_photos", _("At most %(n)d photos.") % {"n": MAX_PHOTOS})
    return [clean_image(f, max_bytes=PHOTO_MAX_BYTES) for f in files]


def _severity(value) -> str:
    if value not in Severity.values:
        raise DomainError("invalid_severity", _("Unknown severity."))
    return value


def _category(group_id: int, category_id) -> ComplaintCategory:
    ensure_defaults(group_id)
    qs = ComplaintCategory.objects.for_group(group_id).filter(is_active=True)
    found = qs.filter(pk=category_id).first() if category_id else qs.filter(code="other").first()
    if found is None:
        found = None if category_id else qs.first()
    if found is None:
        raise NotFound(_("No such complaint category."))
    return found


def _new_reference() -> str:
    return f"C-{uuid.uuid4().hex[:10].upper()}"


def _link(name: str, pk: int) -> str:
    try:
        return reverse(name, kwargs={"complaint_id": pk})
    except NoReverseMatch:
        return ""


def owner_link(c: Complaint) -> str:
    return _link("app-complaint", c.pk)


def console_link(c: Complaint) -> str:
    return _link("console-complaint", c.pk)


def _lock(complaint: Complaint) -> Complaint:
    return (
        Complaint.objects.for_group(complaint.dealer_group_id)
        .select_for_update(of=("self",))
        .select_related("store", "customer__owner", "category__parent", "assignee")
        .get(pk=complaint.pk)
    )


def _require(c: Complaint, *statuses) -> None:
    if c.status not in statuses:
        raise DomainError(
            "wrong_status",
            _("Not possible while the complaint is “%(status)s”.")
            % {"status": c.get_status_display()},
            status=409,
            status_now=c.status,
        )


def _handler(actor) -> None:
    check_perm(actor, Perm.HANDLE_COMPLAINTS)


def event(
    c: Complaint,
    kind: str,
    *,
    at: dt.datetime,
    msg: dict | None = None,
    body: str = "",
    owner_visible: bool = False,
    staff=None,
    owner=None,
    data: dict | None = None,
    call_direction: str = "",
    call_minutes: int | None = None,
) -> ComplaintEvent:
    """Append one event to the complaint and a line to the customer 360 timeline."""
    ev = ComplaintEvent.objects.create(
        dealer_group_id=c.dealer_group_id,
        complaint=c,
        kind=kind,
        at=at,
        author_staff=staff,
        author_owner=owner,
        text=msg or {},
        body=body,
        owner_visible=owner_visible,
        call_direction=call_direction,
        call_minutes=call_minutes,
        data=data or {},
    )
    record_timeline(
        c.customer,
        TimelineKind.COMPLAINT,
        TIMELINE_TITLE,
        params=text(TIMELINE_TITLE, ref=c.reference, what=EventKind(kind).label)["p"],
        data={"complaint": c.pk, "event": kind},
        actor=staff,
        at=at,
    )
    return ev


def _tell_owner(c: Complaint, ev: ComplaintEvent, title: dict, body: dict) -> None:
    tell_customer(
        c.customer,
        KIND,
        lambda: (title, body),
        dedupe=f"complaint:{c.pk}:event:{ev.pk}",
        link=owner_link(c),
    )


def _tell_people(people: Sequence, c: Complaint, title: dict, body: dict, key: str) -> None:
    tell_staff(
        [p for p in people if p is not None],
        KIND,
        lambda: (title, body),
        group_id=c.dealer_group_id,
        link=console_link(c),
        dedupe=f"complaint:{c.pk}:{key}",
    )


def _tell_assignee(c: Complaint, key: str) -> None:
    _tell_people(
        [c.assignee],
        c,
        text(gettext_noop("Complaint %(ref)s is yours"), ref=c.reference),
        text(
            gettext_noop("%(severity)s · %(category)s · %(customer)s"),
            severity=Severity(c.severity).label,
            category=name_of(c.category),
            customer=c.customer.name,
        ),
        key,
    )


def _role_label(level: int):
    return Level(level).label


def _first_response(c: Complaint, now: dt.datetime) -> None:
    if c.first_responded_at is None:
        c.first_responded_at = now


# --- filing -------------------------------------------------------------------------------------
def _owner_context(owner, *, store_id, vehicle_id, appointment_id, repair_order_id):
    """(store, customer, vehicle, appointment, repair order) of an owner's complaint; each given
    object must be the owner's own, and all of one dealer group."""
    ro = appointment = vehicle = store = customer = None
    if repair_order_id:
        ro = (
            RepairOrder.objects.unscoped()
            .select_related("store", "customer", "vehicle")
            .filter(pk=repair_order_id, customer__owner=owner)
            .first()
        )
        if ro is None:
            raise NotFound(_("No such repair order."))
        store, customer, vehicle = ro.store, ro.customer, ro.vehicle
    if appointment_id:
        appointment = (
            Appointment.objects.unscoped()
            .select_related("store", "customer", "vehicle")
            .filter(pk=appointment_id, customer__owner=owner)
            .first()
        )
        if appointment is None:
            raise NotFound(_("No such appointment."))
        if customer is not None and appointment.customer_id != customer.pk:
            raise DomainError(
                "mismatch", _("The visit and the repair order do not match."), status=409
            )
        store = store or appointment.store
        customer = customer or appointment.customer
        vehicle = vehicle or appointment.vehicle
    if vehicle_id:
        found = vehicles_of_owner(owner).filter(pk=vehicle_id).first()
        if found is None:
            raise NotFound(_("No such car."))
        if vehicle is not None and vehicle.pk != found.pk:
            raise DomainError("mismatch", _("The car and the visit do not match."), status=409)
        vehicle = found
        if customer is None:
            customer = found.current_owner
            if customer is None or customer.owner_id != owner.pk:
                customer = (
                    Customer.objects.for_owner(owner)
                    .filter(dealer_group_id=found.dealer_group_id)
                    .select_related("store")
                    .first()
                )
            if customer is None:
                raise NotFound(_("No such car."))
    if store_id:
        chosen = Store.objects.unscoped().filter(pk=store_id, is_active=True).first()
        if chosen is None:
            raise NotFound(_("No such store."))
        if store is not None and store.pk != chosen.pk and ro is not None:
            raise DomainError(
                "mismatch", _("The store and the repair order do not match."), status=409
            )
        if customer is not None and chosen.dealer_group_id != customer.dealer_group_id:
            raise NotFound(_("No such store."))
        store = chosen
    if store is None:
        store = customer.store if customer is not None else owner.home_store
    if store is None:
        raise NotFound(_("Choose the store your complaint is about."))
    if customer is None:
        customer = (
            Customer.objects.for_owner(owner).filter(dealer_group_id=store.dealer_group_id).first()
        )
        if customer is None:
            if owner.home_store_id != store.pk:
                raise NotFound(_("No such store."))
            customer = get_or_create_customer_for_owner(owner, store)
    return store, customer, vehicle, appointment, ro


def file_complaint(
    owner,
    *,
    description: str,
    category_id: int | None = None,
    severity: str = Severity.NORMAL,
    store_id: int | None = None,
    vehicle_id: int | None = None,
    appointment_id: int | None = None,
    repair_order_id: int | None = None,
    photos=(),
    now: dt.datetime | None = None,
) -> Complaint:
    """An owner complains in the app."""
    description = _clean_text(description, field="description", maximum=DESCRIPTION_MAX)
    severity = _severity(severity)
    images = _clean_photos(photos)
    with transaction.atomic():
        store, customer, vehicle, appointment, ro = _owner_context(
            owner,
            store_id=store_id,
            vehicle_id=vehicle_id,
            appointment_id=appointment_id,
            repair_order_id=repair_order_id,
        )
        category = _category(store.dealer_group_id, category_id)
        return _create(
            store=store,
            customer=customer,
            channel=Channel.APP,
            category=category,
            severity=severity,
            description=description,
            owner=owner,
            vehicle=vehicle,
            appointment=appointment,
            repair_order=ro,
            photos=images,
            now=now,
        )


def record_complaint(
    actor,
    *,
    customer_id: int,
    channel: str,
    description: str,
    category_id: int | None = None,
    severity: str = Severity.NORMAL,
    store_id: int | None = None,
    vehicle_id: int | None = None,
    appointment_id: int | None = None,
    repair_order_id: int | None = None,
    concerned_staff_id: int | None = None,
    now: dt.datetime | None = None,
) -> Complaint:
    """A staff member records a phone, walk-in, e-mail or social-media complaint on the
    customer's behalf."""
    from .selectors import staff_store_ids

    _handler(actor)
    if channel not in STAFF_CHANNELS:
        raise DomainError("invalid_channel", _("Choose how the complaint reached you."))
    description = _clean_text(description, field="description", maximum=DESCRIPTION_MAX)
    severity = _severity(severity)
    group_id = actor.dealer_group_id
    if group_id is None:
        raise NotFound(_("No such customer."))
    customer = (
        Customer.objects.for_group(group_id).select_related("store").filter(pk=customer_id).first()
    )
    if customer is None:
        raise NotFound(_("No such customer."))
    allowed = staff_store_ids(actor)
    store = customer.store
    if store_id:
        store = Store.objects.for_group(group_id).filter(pk=store_id, is_active=True).first()
        if store is None:
            raise NotFound(_("No such store."))
    if allowed is not None and store.pk not in allowed:
        raise NotFound(_("No such store."))
    vehicle = appointment = ro = concerned = None
    if repair_order_id:
        ro = (
            RepairOrder.objects.for_group(group_id)
            .filter(pk=repair_order_id, customer=customer)
            .select_related("vehicle")
            .first()
        )
        if ro is None:
            raise NotFound(_("No such repair order."))
        vehicle = ro.vehicle
    if appointment_id:
        appointment = (
            Appointment.objects.for_group(group_id)
            .filter(pk=appointment_id, customer=customer)
            .first()
        )
        if appointment is None:
            raise NotFound(_("No such appointment."))
        vehicle = vehicle or appointment.vehicle
    if vehicle_id:
        found = Vehicle.objects.for_group(group_id).filter(pk=vehicle_id).first()
        if found is None or (
            found.current_owner_id != customer.pk
            and not customer.bindings.filter(vehicle=found).exists()
        ):
            raise NotFound(_("No such car."))
        if vehicle is not None and vehicle.pk != found.pk:
            raise DomainError("mismatch", _("The car and the visit do not match."), status=409)
        vehicle = found
    if concerned_staff_id:
        concerned = StaffUser.objects.filter(
            pk=concerned_staff_id, dealer_group_id=group_id
        ).first()
        if concerned is None:
            raise NotFound(_("No such staff member."))
    with transaction.atomic():
        category = _category(group_id, category_id)
        return _create(
            store=store,
            customer=customer,
            channel=channel,
            category=category,
            severity=severity,
            description=description,
            recorded_by=actor,
            vehicle=vehicle,
            appointment=appointment,
            repair_order=ro,
            concerned_staff=concerned,
            now=now,
        )


def _create(
    *,
    store,
    customer,
    channel,
    category,
    severity,
    description,
    owner=None,
    recorded_by=None,
    vehicle=None,
    appointment=None,
    repair_order=None,
    concerned_staff=None,
    survey=None,
    photos=(),
    now: dt.datetime | None = None,
) -> Complaint:
    now = now or timezone.now()
    critical = severity == Severity.CRITICAL
    c = Complaint(
        dealer_group_id=store.dealer_group_id,
        reference=_new_reference(),
        store=store,
        customer=customer,
        owner=owner,
        vehicle=vehicle,
        appointment=appointment,
        repair_order=repair_order,
        concerned_staff=concerned_staff,
        survey=survey,
        channel=channel,
        category=category,
        severity=severity,
        description=description,
        status=Status.NEW,
        level=Level.STORE_MANAGER if critical else Level.STORE_CS,
        recorded_by=recorded_by,
        created_at=now,
    )
    clocks.start_clocks(c, now)
    c.assignee = routing.route(store, customer, c.level, now)
    c.save()
    filed = event(
        c,
        EventKind.FILED,
        at=now,
        msg=text(gettext_noop("Complaint received (%(channel)s)."), channel=Channel(channel).label),
        owner_visible=True,
        owner=owner,
        staff=recorded_by,
    )
    for image in photos:
        ComplaintPhoto.objects.create(
            dealer_group_id=c.dealer_group_id,
            complaint=c,
            event=filed,
            image=image,
            by_owner=owner is not None,
            uploaded_by=recorded_by,
            created_at=now,
        )
    if critical:
        Escalation.objects.create(
            dealer_group_id=c.dealer_group_id,
            complaint=c,
            from_level=Level.STORE_CS,
            to_level=Level.STORE_MANAGER,
            reason=EscalationReason.CRITICAL,
            to_staff=c.assignee,
            at=now,
        )
    if c.assignee is not None:
        event(
            c,
            EventKind.ROUTED,
            at=now,
            msg=text(
                gettext_noop("Assigned to %(name)s (%(level)s)."),
                name=c.assignee.get_full_name() or c.assignee.username,
                level=_role_label(c.level),
            ),
            data={"assignee": c.assignee.pk, "level": c.level},
        )
        _tell_assignee(c, f"assigned:{c.level}:{c.assignee.pk}")
    if critical:  # visible to group customer care at once
        _tell_people(
            routing.group_care(c.dealer_group_id),
            c,
            text(
                gettext_noop("Critical complaint %(ref)s at %(store)s"),
                ref=c.reference,
                store=store.name,
            ),
            text(
                gettext_noop("%(category)s · %(customer)s"),
                category=name_of(category),
                customer=customer.name,
            ),
            "critical",
        )
    _tell_owner(
        c,
        filed,
        text(gettext_noop("Complaint %(ref)s received"), ref=c.reference),
        text(
            gettext_noop("We have your complaint; the %(role)s is taking care of it."),
            role=_role_label(c.level),
        ),
    )
    return c


def on_survey_answered(payload) -> None:
    """Hook receiver (settings.HOOKS["service.survey_answered"]): an unhappy revisit survey
    opens a complaint, once."""
    source = getattr(payload, "source", "") or ""
    if not source.startswith("survey:"):
        return
    try:
        survey_id = int(source.split(":", 1)[1])
    except ValueError:
        return
    survey = (
        Survey.objects.for_group(payload.dealer_group_id)
        .select_related("store", "customer", "repair_order__vehicle", "owner")
        .filter(pk=survey_id)
        .first()
    )
    if survey is not None:
        open_from_survey(survey)


SURVEY_FACTORS = ("initiation", "advisor_score", "facility", "pickup", "quality")


def is_unhappy(survey: Survey) -> bool:
    scores = [getattr(survey, f) for f in SURVEY_FACTORS] + [survey.nps]
    return any(s is not None and s <= UNHAPPY_AT_OR_BELOW for s in scores)


def open_from_survey(survey: Survey, *, now: dt.datetime | None = None) -> Complaint | None:
    """A complaint linked to the survey when any factor or the NPS is 6 or less; a survey opens
    at most one (safe to call again)."""
    if survey.answered_at is None or not is_unhappy(survey):
        return None
    existing = Complaint.objects.for_group(survey.dealer_group_id).filter(survey=survey).first()
    if existing is not None:
        return existing
    low = ", ".join(
        f"{f.replace('_score', '')} {getattr(survey, f)}"
        for f in (*SURVEY_FACTORS, "nps")
        if getattr(survey, f) is not None and getattr(survey, f) <= UNHAPPY_AT_OR_BELOW
    )
    owner = survey.owner
    with translation.override(getattr(owner, "language", None) or "zh-hans"):
        description = (survey.comment or "").strip() or _("Unhappy revisit survey: %(scores)s.") % {
            "scores": low
        }
    ro = survey.repair_order
    try:
        with transaction.atomic():
            return _create(
                store=survey.store,
                customer=survey.customer,
                channel=Channel.SURVEY,
                category=_category_by_code(survey.dealer_group_id, "service_quality"),
                severity=Severity.NORMAL,
                description=description[:DESCRIPTION_MAX],
                vehicle=ro.vehicle if ro else None,
                repair_order=ro,
                survey=survey,
                now=now,
            )
    except IntegrityError:  # a parallel run opened it
        return Complaint.objects.for_group(survey.dealer_group_id).get(survey=survey)


def _category_by_code(group_id: int, code: str) -> ComplaintCategory:
    ensure_defaults(group_id)
    qs = ComplaintCategory.objects.for_group(group_id)
    return qs.filter(code=code).first() or _category(group_id, None)


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
