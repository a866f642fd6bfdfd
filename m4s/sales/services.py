"""Writes of the sales area. Other areas make or update leads through `open_or_update_lead`
(e.g. the requests area for a test drive, a finance application, a trade-in), and move them on
with `advance_lead`; staff work leads through the rest.

De-duplication and round-robin run under a lock on the group's `SalesSettings` row (SELECT ...
FOR UPDATE): two requests of the same phone at once make one lead, and parallel new leads go to
different consultants, least recently given a lead first."""

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from m4s.core.errors import DomainError, NotFound
from m4s.core.i18n import text
from m4s.customers.choices import TimelineKind
from m4s.customers.models import Customer
from m4s.customers.services import record_timeline
from m4s.notify.services import on_duty_staff, tell_staff
from m4s.org.models import Store
from m4s.owners.phones import normalize_mobile
from m4s.staff.choices import Perm, Role
from m4s.staff.models import StaffUser
from m4s.staff.permissions import check_perm

from .choices import (
    CENT,
    CLOSED_STAGES,
    KIND_ASSIGNED,
    KIND_LEAD_UPDATED,
    KIND_NEW_LEAD,
    MAX_VALUE,
    OPEN_STAGES,
    STAGE_ORDER,
    ActivityKind,
    LeadSource,
    LostReason,
    Stage,
)
from .models import ConsultantTurn, Lead, LeadActivity, SalesSettings

NOTE_MAX = 2000
EXPECTED_CLOSE_DAYS = 30  # a new lead's expected close, until the consultant sets it
STAFF_KINDS = (ActivityKind.CALL, ActivityKind.VISIT, ActivityKind.NOTE)


def stored_label(label) -> object:
    """A choice's label as a timeline parameter (its English source, translated when shown)."""
    return text("%(v)s", v=label)["p"]["v"]  # type: ignore[index]


def lead_link(lead_id: int) -> str:
    try:
        return reverse("console-sales-lead", args=[lead_id])
    except NoReverseMatch:
        return ""


def _now():
    return timezone.now()


def _lock_group(group_id: int) -> SalesSettings:
    SalesSettings.objects.for_group(group_id).get_or_create(dealer_group_id=group_id)
    return SalesSettings.objects.for_group(group_id).select_for_update().get()


def _clean_value(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise DomainError("invalid_value", _("Enter an amount."), status=422) from None
    if not amount.is_finite() or amount < 0 or amount > MAX_VALUE:
        raise DomainError("invalid_value", _("Enter an amount."), status=422)
    return amount.quantize(CENT)


def _clean_note(note: str, *, required: bool = False) -> str:
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise DomainError("invalid_note", _("The note is too long."), status=422)
    if required and not note:
        raise DomainError("note_required", _("Write a note."), status=422)
    return note


def _catalogue(group_id: int, car_model_id, trim_id):
    from m4s.catalogue.models import CarModel, Trim

    car_model = trim = None
    if trim_id:
        trim = (
            Trim.objects.for_group(group_id).select_related("car_model").filter(pk=trim_id).first()
        )
        if trim is None:
            raise DomainError("invalid_trim", _("No such trim."), status=404)
        car_model = trim.car_model
    if car_model_id and (car_model is None or car_model.pk != car_model_id):
        if car_model is not None:
            raise DomainError("invalid_trim", _("This trim is not of that model."), status=409)
        car_model = CarModel.objects.for_group(group_id).filter(pk=car_model_id).first()
        if car_model is None:
            raise DomainError("invalid_model", _("No such model."), status=404)
    return car_model, trim


def log_activity(
    lead: Lead, kind: str, summary: dict | None = None, *, actor=None, note: str = "", at=None
) -> LeadActivity:
    """One line in a lead's history (`summary` is `m4s.core.i18n.text(...)`)."""
    return LeadActivity.objects.create(
        dealer_group_id=lead.dealer_group_id,
        lead=lead,
        kind=kind,
        at=at or _now(),
        actor=actor if getattr(actor, "pk", None) else None,
        summary=summary or {},
        note=note,
    )


def _sales_staff_ok(person, group_id: int) -> bool:
    return bool(
        person is not None
        and person.is_active
        and person.dealer_group_id == group_id
        and person.has_perm_m4s(Perm.WORK_LEADS)
    )


def _round_robin(store: Store):
    """The on-duty consultant of the store given a lead least recently (never first)."""
    candidates = on_duty_staff(store, [Role.SALES_CONSULTANT])
    candidates = [p for p in candidates if _sales_staff_ok(p, store.dealer_group_id)]
    if not candidates:
        return None
    turns = {
        t.staff_id: t.last_assigned_at
        for t in ConsultantTurn.objects.for_group(store.dealer_group_id).filter(
            store=store, staff__in=[p.pk for p in candidates]
        )
    }
    floor = dt.datetime.min.replace(tzinfo=dt.UTC)
    return min(candidates, key=lambda p: (turns.get(p.pk) or floor, p.pk))


def _took_turn(store_id: int, group_id: int, person, at) -> None:
    ConsultantTurn.objects.for_group(group_id).update_or_create(
        dealer_group_id=group_id,
        store_id=store_id,
        staff=person,
        defaults={"last_assigned_at": at},
    )


def _tell_assigned(lead: Lead, kind: str, title_msgid: str, dedupe: str) -> None:
    person = lead.assigned_to
    if person is None:
        return
    who = lead.display_name
    title = text(title_msgid, name=who)

    def compose():
        return title, text(gettext_noop("Source: %(source)s"), source=LeadSource(lead.source).label)

    group_id = lead.dealer_group_id
    link = lead_link(lead.pk)
    transaction.on_commit(
        lambda: tell_staff([person], kind, compose, group_id=group_id, link=link, dedupe=dedupe)
    )


def open_or_update_lead(
    *,
    group_id: int,
    store,
    customer=None,
    phone: str = "",
    name: str = "",
    source: str,
    campaign: str = "",
    car_model_id: int | None = None,
    trim_id: int | None = None,
    value=None,
    origin_kind: str = "",
    origin_id: int | None = None,
    actor=None,
) -> Lead:
    """Make a lead, or update the customer's / phone's open lead in the group (an activity is
    added, model and value filled where empty). A new lead goes to the customer's sales
    consultant, else round-robin to the store's on-duty consultants, else nobody; its consultant
    is told, and the customer's timeline gets a line."""
    if source not in LeadSource.values:
        raise DomainError("invalid_source", _("Unknown lead source."), status=422)
    store_id = getattr(store, "pk", store)
    store = Store.objects.for_group(group_id).filter(pk=store_id).first()
    if store is None:
        raise DomainError("invalid_store", _("No such store."), status=404)
    if customer is not None:
        customer_id = getattr(customer, "pk", customer)
        customer = (
            Customer.objects.for_group(group_id)
            .select_related("sales_consultant")
            .filter(pk=customer_id)
            .first()
        )
        if customer is None:
            raise DomainError("invalid_customer", _("No such customer."), status=404)
    phone = (phone or "").strip()
    if phone:
        phone = normalize_mobile(phone)
    elif customer is not None:
        phone = customer.phone
    name = (name or "").strip()[:80]
    if customer is None and not phone:
        raise DomainError("phone_required", _("Enter a mobile phone number."), status=422)
    campaign = (campaign or "").strip()[:80]
    origin_kind = (origin_kind or "")[:30]
    amount = _clean_value(value)
    car_model, trim = _catalogue(group_id, car_model_id, trim_id)
    if amount is None and trim is not None:
        amount = trim.dealer_price
    now = _now()
    with transaction.atomic():
        _lock_group(group_id)
        match = Q(phone=phone) if phone else Q(pk__in=[])
        if customer is not None:
            match |= Q(customer=customer)
        existing = (
            Lead.objects.for_group(group_id)
            .select_for_update()
            .filter(match, stage__in=OPEN_STAGES)
            .order_by("created_at", "id")
            .first()
        )
        if existing is not None:
            return _update_existing(
                existing,
                customer=customer,
                name=name,
                source=source,
                campaign=campaign,
                car_model=car_model,
                trim=trim,
                amount=amount,
                origin_kind=origin_kind,
                origin_id=origin_id,
                actor=actor,
                now=now,
            )
        assignee = None
        if customer is not None and _sales_staff_ok(customer.sales_consultant, group_id):
            assignee = customer.sales_consultant
        if assignee is None:
            assignee = _round_robin(store)
        lead = Lead.objects.create(
            dealer_group_id=group_id,
            store=store,
            customer=customer,
            name=name if customer is None else (name or customer.name),
            phone=phone,
            source=source,
            campaign=campaign,
            car_model=car_model,
            trim=trim,
            value=amount or Decimal("0.00"),
            stage=Stage.NEW,
            assigned_to=assignee,
            assigned_at=now if assignee else None,
            origin_kind=origin_kind,
            origin_id=origin_id,
            stage_changed_at=now,
            next_follow_up=timezone.localdate(),
            # the forecast counts an open lead in its expected month: a month out until a
            # consultant says otherwise
            expected_close=timezone.localdate() + dt.timedelta(days=EXPECTED_CLOSE_DAYS),
        )
        if assignee is not None:
            _took_turn(store.pk, group_id, assignee, now)
        log_activity(
            lead,
            ActivityKind.REQUEST,
            text(gettext_noop("New lead: %(source)s"), source=LeadSource(source).label),
            actor=actor,
            at=now,
        )
        if customer is not None:
            record_timeline(
                customer,
                TimelineKind.LEAD,
                gettext_noop("Sales lead opened (%(source)s)"),
                params={"source": stored_label(LeadSource(source).label)},
                data={"lead_id": lead.pk},
                actor=actor if getattr(actor, "pk", None) else None,
            )
        _tell_assigned(lead, KIND_NEW_LEAD, gettext_noop("New lead: %(name)s"), f"lead:{lead.pk}")
    return lead


def _update_existing(
    lead: Lead,
    *,
    customer,
    name,
    source,
    campaign,
    car_model,
    trim,
    amount,
    origin_kind,
    origin_id,
    actor,
    now,
) -> Lead:
    fields = ["updated_at"]
    if customer is not None and lead.customer_id is None:
        lead.customer = customer
        fields.append("customer")
    if name and not lead.name:
        lead.name = name
        fields.append("name")
    if campaign and not lead.campaign:
        lead.campaign = campaign
        fields.append("campaign")
    if car_model is not None and lead.car_model_id is None:
        lead.car_model = car_model
        fields.append("car_model")
    if trim is not None and lead.trim_id is None and lead.car_model_id == trim.car_model_id:
        lead.trim = trim
        fields.append("trim")
    if amount is not None and not lead.value:
        lead.value = amount
        fields.append("value")
    if origin_kind and not lead.origin_kind:
        lead.origin_kind, lead.origin_id = origin_kind, origin_id
        fields += ["origin_kind", "origin_id"]
    lead.save(update_fields=fields)
    activity = log_activity(
        lead,
        ActivityKind.REQUEST,
        text(gettext_noop("Asked again: %(source)s"), source=LeadSource(source).label),
        actor=actor,
        at=now,
    )
    _tell_assigned(
        lead,
        KIND_LEAD_UPDATED,
        gettext_noop("Lead asked again: %(name)s"),
        f"lead-again:{activity.pk}",
    )
    return lead


def create_walk_in(
    actor,
    *,
    store_id: int | None = None,
    customer_id: int | None = None,
    phone: str = "",
    name: str = "",
    source: str = LeadSource.WALK_IN,
    campaign: str = "",
    car_model_id: int | None = None,
    trim_id: int | None = None,
    value=None,
    expected_close: dt.date | None = None,
    note: str = "",
) -> Lead:
    """A lead a staff member enters (walk-in, phone, event, referral): for a customer they may
    see, or a prospect by phone; an open lead of the same phone/customer is updated instead.
    Made by a consultant, it is theirs."""
    check_perm(actor, Perm.WORK_LEADS)
    from .selectors import store_ids_for

    group_id = actor.dealer_group_id
    if not group_id:
        raise DomainError("no_group", _("You are not in a dealer group."), status=422)
    allowed = store_ids_for(actor)
    if store_id is None:
        mine = sorted(actor.store_ids()) if allowed is None else allowed
        store_id = mine[0] if mine else None
    if store_id is None or (allowed is not None and store_id not in allowed):
        raise DomainError("invalid_store", _("Choose one of your stores."), status=404)
    customer = None
    if customer_id is not None:
        from m4s.customers.selectors import customers_for

        customer = customers_for(actor).filter(pk=customer_id).first()
        if customer is None:
            raise DomainError("invalid_customer", _("No such customer."), status=404)
    note = _clean_note(note)
    with transaction.atomic():
        lead = open_or_update_lead(
            group_id=group_id,
            store=store_id,
            customer=customer,
            phone=phone,
            name=name,
            source=source,
            campaign=campaign,
            car_model_id=car_model_id,
            trim_id=trim_id,
            value=value,
            origin_kind="staff",
            origin_id=actor.pk,
            actor=actor,
        )
        fields = []
        if lead.assigned_to_id is None and actor.role == Role.SALES_CONSULTANT:
            lead.assigned_to, lead.assigned_at = actor, _now()
            fields += ["assigned_to", "assigned_at"]
        if expected_close and lead.expected_close != expected_close:
            lead.expected_close = expected_close
            fields.append("expected_close")
        if fields:
            lead.save(update_fields=[*fields, "updated_at"])
        if note:
            log_activity(lead, ActivityKind.NOTE, actor=actor, note=note)
    return lead


def _locked(actor, lead) -> Lead:
    from .selectors import leads_for

    found = (
        leads_for(actor)
        .select_for_update(of=("self",))
        .filter(pk=getattr(lead, "pk", lead))
        .first()
    )
    if found is None:
        raise NotFound(_("No such lead."))
    return found


def _stage_change(lead: Lead, stage: str, actor, now, *, note: str = "") -> None:
    old = lead.stage
    lead.stage = stage
    lead.stage_changed_at = now
    if stage == Stage.WON:
        lead.won_at, lead.lost_at, lead.lost_reason, lead.lost_note = now, None, "", ""
        if not lead.expected_close:
            lead.expected_close = timezone.localdate()
    elif stage == Stage.LOST:
        lead.lost_at, lead.won_at = now, None
    else:
        lead.won_at = lead.lost_at = None
        lead.lost_reason = lead.lost_note = ""
    lead.save()
    log_activity(
        lead,
        ActivityKind.STAGE,
        text(
            gettext_noop("Stage: %(old)s → %(new)s"),
            old=Stage(old).label,
            new=Stage(stage).label,
        ),
        actor=actor,
        note=note,
        at=now,
    )
    if lead.customer is not None and stage in CLOSED_STAGES:
        record_timeline(
            lead.customer,
            TimelineKind.LEAD,
            gettext_noop("Sales lead won")
            if stage == Stage.WON
            else gettext_noop("Sales lead lost (%(reason)s)"),
            params={}
            if stage == Stage.WON
            else {"reason": stored_label(LostReason(lead.lost_reason).label)},
            data={"lead_id": lead.pk},
            actor=actor if getattr(actor, "pk", None) else None,
        )


def move_stage(actor, lead, stage: str, *, lost_reason: str | None = None, note: str = "") -> Lead:
    """Any stage; lost needs a reason (422 `lost_reason_required`), won sets `won_at`."""
    check_perm(actor, Perm.WORK_LEADS)
    if stage not in Stage.values:
        raise DomainError("invalid_stage", _("Unknown stage."), status=422)
    note = _clean_note(note)
    with transaction.atomic():
        lead = _locked(actor, lead)
        if stage == Stage.LOST:
            if lost_reason not in LostReason.values:
                raise DomainError(
                    "lost_reason_required", _("Say why the lead was lost."), status=409
                )
            if lost_reason == LostReason.OTHER and not note:
                raise DomainError("lost_note_required", _("Say why the lead was lost."), status=409)
            lead.lost_reason, lead.lost_note = lost_reason, note[:500]
        elif lost_reason:
            raise DomainError(
                "invalid_lost_reason", _("Only a lost lead has a lost reason."), status=409
            )
        if stage == lead.stage and stage != Stage.LOST:
            return lead
        _stage_change(lead, stage, actor, _now(), note=note)
    return lead


def advance_lead(lead, stage: str, actor=None) -> Lead:
    """Move an open lead forward to `stage` (never back, never to lost; a closed lead stays),
    e.g. to test drive when the requests area records a test drive done."""
    if stage not in STAGE_ORDER:
        raise DomainError("invalid_stage", _("Unknown stage."), status=422)
    with transaction.atomic():
        lead = (
            Lead.objects.for_group(lead.dealer_group_id)
            .select_for_update(of=("self",))
            .select_related("customer")
            .get(pk=lead.pk)
        )
        if (
            lead.stage in CLOSED_STAGES
            or STAGE_ORDER[Stage(stage)] <= STAGE_ORDER[Stage(lead.stage)]
        ):
            return lead
        _stage_change(lead, stage, actor, _now())
    return lead


def assign_lead(actor, lead, staff_id: int | None) -> Lead:
    """Give a lead to a staff member of the group who works leads at its store (or nobody).
    Taking a lead is for anyone who works leads; giving it to someone else needs the figures
    permission (managers)."""
    check_perm(actor, Perm.WORK_LEADS)
    with transaction.atomic():
        lead = _locked(actor, lead)
        person = None
        if staff_id is not None:
            if staff_id != actor.pk:
                check_perm(actor, Perm.VIEW_SALES_FIGURES)
            person = StaffUser.objects.filter(pk=staff_id).prefetch_related("stores").first()
            if (
                person is None
                or not _sales_staff_ok(person, lead.dealer_group_id)
                or not (
                    person.has_perm_m4s(Perm.VIEW_ALL_STORES) or lead.store_id in person.store_ids()
                )
            ):
                raise DomainError(
                    "invalid_assignee", _("This person does not work leads here."), status=400
                )
        elif lead.assigned_to_id not in (None, actor.pk):
            check_perm(actor, Perm.VIEW_SALES_FIGURES)
        if lead.assigned_to_id == staff_id:
            return lead
        now = _now()
        lead.assigned_to = person
        lead.assigned_at = now if person else None
        lead.save(update_fields=["assigned_to", "assigned_at", "updated_at"])
        log_activity(
            lead,
            ActivityKind.ASSIGNMENT,
            text(gettext_noop("Assigned to %(name)s"), name=str(person))
            if person
            else text(gettext_noop("Unassigned")),
            actor=actor,
            at=now,
        )
        if person is not None and person.pk != actor.pk:
            _took_turn(lead.store_id, lead.dealer_group_id, person, now)
            _tell_assigned(
                lead,
                KIND_ASSIGNED,
                gettext_noop("Lead given to you: %(name)s"),
                f"lead-to:{lead.pk}:{now.timestamp()}",
            )
    return lead


def set_follow_up(actor, lead, *, next_follow_up=..., expected_close=..., value=...) -> Lead:
    """Change the next follow-up date, the expected close date or the value (only what is
    passed; None clears a date)."""
    check_perm(actor, Perm.WORK_LEADS)
    with transaction.atomic():
        lead = _locked(actor, lead)
        fields = []
        if next_follow_up is not ...:
            lead.next_follow_up = next_follow_up
            fields.append("next_follow_up")
        if expected_close is not ...:
            lead.expected_close = expected_close
            fields.append("expected_close")
        if value is not ...:
            lead.value = _clean_value(value) or Decimal("0.00")
            fields.append("value")
        if fields:
            lead.save(update_fields=[*fields, "updated_at"])
    return lead


def record_activity(actor, lead, kind: str, note: str = "") -> LeadActivity:
    """A staff member logs a call, a visit or a note on a lead (a note needs text). A logged
    call or visit of a new lead moves it to contacted."""
    check_perm(actor, Perm.WORK_LEADS)
    if kind not in [k.value for k in STAFF_KINDS]:
        raise DomainError("invalid_kind", _("Call, visit or note?"), status=422)
    note = _clean_note(note, required=kind == ActivityKind.NOTE)
    with transaction.atomic():
        lead = _locked(actor, lead)
        now = _now()
        labels: dict[str, str] = {
            ActivityKind.CALL: gettext_noop("Called"),
            ActivityKind.VISIT: gettext_noop("Visit"),
            ActivityKind.NOTE: gettext_noop("Note"),
        }
        activity = log_activity(lead, kind, text(labels[kind]), actor=actor, note=note, at=now)
        if kind != ActivityKind.NOTE and lead.stage == Stage.NEW:
            _stage_change(lead, Stage.CONTACTED, actor, now)
    return activity


def save_probabilities(actor, **percent: int) -> SalesSettings:
    """The group's probabilities of the open stages (0–100 %)."""
    check_perm(actor, Perm.VIEW_SALES_FIGURES)
    if not actor.dealer_group_id:
        raise DomainError("no_group", _("You are not in a dealer group."), status=422)
    with transaction.atomic():
        row = _lock_group(actor.dealer_group_id)
        for key in ("p_new", "p_contacted", "p_test_drive", "p_negotiation"):
            if key in percent:
                v = percent[key]
                if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 100:
                    raise DomainError(
                        "invalid_probability", _("A percentage from 0 to 100."), status=422
                    )
                setattr(row, key, v)
        row.save()
    return row
