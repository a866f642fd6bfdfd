"""Filing a complaint: by the owner in the app, by staff on the owner's behalf, or by an unhappy
revisit survey (hook receiver). Routing and the clocks start here."""

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from m4s.core.errors import DomainError, NotFound
from m4s.core.i18n import name_of, text
from m4s.core.idempotency import call_once
from m4s.customers.models import Customer
from m4s.customers.selectors import vehicles_of_owner
from m4s.customers.services import get_or_create_customer_for_owner
from m4s.org.models import Store
from m4s.service.models import Appointment, RepairOrder, Survey
from m4s.staff.models import StaffUser
from m4s.vehicles.models import Vehicle

from . import clocks, routing
from ._common import (
    _category,
    _clean_photos,
    _clean_text,
    _handler,
    _new_reference,
    _role_label,
    _severity,
    _tell_assignee,
    _tell_owner,
    _tell_people,
    ensure_defaults,
    event,
)
from .choices import (
    DESCRIPTION_MAX,
    STAFF_CHANNELS,
    UNHAPPY_AT_OR_BELOW,
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
    ComplaintPhoto,
    Escalation,
    OwnerRequest,
)


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
    idempotency_key: str = "",
    now: dt.datetime | None = None,
) -> Complaint:
    """An owner complains in the app. With an `idempotency_key` (API header, hidden form field),
    a retried call with the same key and input returns the first complaint, and the same key
    with other input is refused (422)."""
    description = _clean_text(description, field="description", maximum=DESCRIPTION_MAX)
    severity = _severity(severity)
    images = _clean_photos(photos)
    if len(idempotency_key or "") > 100:
        raise DomainError(
            "invalid_idempotency_key", _("The Idempotency-Key may have at most 100 characters.")
        )

    def run() -> tuple[int, dict]:
        store, customer, vehicle, appointment, ro = _owner_context(
            owner,
            store_id=store_id,
            vehicle_id=vehicle_id,
            appointment_id=appointment_id,
            repair_order_id=repair_order_id,
        )
        category = _category(store.dealer_group_id, category_id)
        c = _create(
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
        return 201, {"complaint": c.pk}

    with transaction.atomic():
        if not idempotency_key:
            _status, answer = run()
        else:
            body = {
                "description": description,
                "category_id": category_id,
                "severity": severity,
                "store_id": store_id,
                "vehicle_id": vehicle_id,
                "appointment_id": appointment_id,
                "repair_order_id": repair_order_id,
                "photos": [len(i) for i in images],
            }
            _status, answer = call_once(
                OwnerRequest.objects.all(),
                key={"owner": owner, "key": idempotency_key},
                body=body,
                create={},
                run=run,
            )
        return Complaint.objects.for_owner(owner).get(pk=answer["complaint"])


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
