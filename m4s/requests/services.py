"""Writes of the online-service requests area: an owner submits a request of a registered kind
(validated by the kind's schema, prepared by the kind against the world, routed to a person of
the kind's role with an SLA in business minutes), staff move it (accept, schedule, done,
decline with a reason, claim, transfer, the kind's own actions), offer quotes the owner accepts,
and the owner cancels. Every move is a `RequestEvent` (both sides' history), the owner is told
through the outbox after commit, and sales-type kinds make or update a lead.

Routing: the customer's own consultant of the kind's role (sales consultant, service advisor,
customer-service agent) when they are among the store's on-duty staff of that role; else the
least loaded of the store's on-duty staff of the role (`on_duty_staff`); else nobody: the
request waits in the store's queue, unassigned."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from pydantic import ValidationError

from m4s.core.errors import DomainError, NotFound
from m4s.core.i18n import text
from m4s.core.idempotency import call_once
from m4s.customers.choices import TimelineKind
from m4s.customers.models import Customer
from m4s.customers.selectors import vehicles_of_owner
from m4s.customers.services import get_or_create_customer_for_owner, record_timeline
from m4s.notify.services import on_duty_staff, tell_customer, tell_staff
from m4s.org.business_time import add_business_minutes
from m4s.org.models import Store
from m4s.staff.choices import Perm, Role
from m4s.staff.models import StaffUser
from m4s.staff.permissions import check_perm

from .choices import (
    CLOSED_STATUSES,
    KIND_NEW,
    KIND_UPDATE,
    OPEN_STATUSES,
    OWNER_CANCELLABLE,
    TRANSITIONS,
    QuoteStatus,
    RequestStatus,
)
from .kinds import KindContext, RequestKind, get_kind
from .models import RequestEvent, RequestKey, RequestQuote, ServiceRequest
from .selectors import kind_setting

CONSULTANT_FIELD: dict[str, str] = {
    Role.SALES_CONSULTANT: "sales_consultant_id",
    Role.SERVICE_ADVISOR: "service_advisor_id",
    Role.CUSTOMER_SERVICE: "cs_agent_id",
}

STATUS_EVENT = {
    RequestStatus.ACCEPTED: gettext_noop("Accepted"),
    RequestStatus.SCHEDULED: gettext_noop("Scheduled for %(when)s"),
    RequestStatus.DONE: gettext_noop("Done"),
    RequestStatus.DECLINED: gettext_noop("Declined: %(reason)s"),
    RequestStatus.CANCELLED: gettext_noop("Cancelled"),
}


def request_link(request_id: int) -> str:
    return reverse("app-request", args=[request_id])


def console_link(request_id: int) -> str:
    return reverse("console-request", args=[request_id])


def json_safe(value: Any) -> Any:
    """Dates, decimals and the like as JSON text (what a JSONField stores)."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def local_text(store, when: dt.datetime | None) -> str:
    if when is None:
        return ""
    return timezone.localtime(when, store.tz).strftime("%Y-%m-%d %H:%M")


# --- settings of a kind --------------------------------------------------------------------------
def kind_role_and_sla(group_id: int, kind: RequestKind) -> tuple[str, int]:
    setting = kind_setting(group_id, kind.key)
    role = (setting.role if setting and setting.role else "") or kind.role
    sla = (setting.sla_minutes if setting and setting.sla_minutes else 0) or kind.sla_minutes
    return role, sla


def set_kind_setting(actor, kind_key: str, *, sla_minutes: int | None, role: str = ""):
    """A group's own SLA (business minutes) and role for a kind."""
    from .models import RequestKindSetting

    check_perm(actor, Perm.MANAGE_GROUP_SETTINGS)
    get_kind(kind_key)
    if role and role not in Role.values:
        raise DomainError("invalid_role", _("Unknown role."), status=422)
    row, _created = RequestKindSetting.objects.for_group(actor.dealer_group_id).update_or_create(
        dealer_group_id=actor.dealer_group_id,
        kind=kind_key,
        defaults={"sla_minutes": sla_minutes, "role": role},
    )
    return row


# --- routing -------------------------------------------------------------------------------------
def _open_loads(staff_ids: list[int]) -> dict[int, int]:
    return dict(
        ServiceRequest.objects.unscoped()
        .filter(assigned_to__in=staff_ids, status__in=OPEN_STATUSES)
        .values_list("assigned_to")
        .annotate(n=Count("id"))
    )


def route(store: Store, customer: Customer, role: str, at: dt.datetime) -> StaffUser | None:
    """Who gets a new request of this role at this store (see the module's doc)."""
    people = [p for p in on_duty_staff(store, [role], at=at) if p.role == role]
    own = getattr(customer, CONSULTANT_FIELD.get(role, ""), None) if customer else None
    for person in people:
        if person.pk == own:
            return person
    if not people:
        return None
    loads = _open_loads([p.pk for p in people])
    return min(people, key=lambda p: (loads.get(p.pk, 0), p.username))


def due_at_for(store: Store, start: dt.datetime, minutes: int) -> dt.datetime | None:
    try:
        return add_business_minutes(store, start, minutes)
    except DomainError:  # a store without opening hours: no clock
        return None


# --- events --------------------------------------------------------------------------------------
def add_event(
    request: ServiceRequest,
    code: str,
    params: dict | None = None,
    *,
    actor=None,
    visible_to_owner: bool = True,
    at: dt.datetime | None = None,
    tell: bool = False,
) -> RequestEvent:
    """One line of the request's history (`code` a gettext_noop msgid, `params` its values).
    `tell`: the owner gets it as a message after commit."""
    event = RequestEvent.objects.create(
        dealer_group_id=request.dealer_group_id,
        request=request,
        at=at or timezone.now(),
        actor=actor if getattr(actor, "pk", None) and isinstance(actor, StaffUser) else None,
        code=code,
        params=json_safe(params or {}),
        visible_to_owner=visible_to_owner,
    )
    if tell and visible_to_owner:
        pk, event_pk = request.pk, event.pk
        transaction.on_commit(lambda: tell_owner(pk, event_pk))
    return event


def tell_owner(request_id: int, event_id: int) -> None:
    """The owner's message for one history line (deduplicated per line: safe twice)."""
    r = ServiceRequest.objects.unscoped().filter(pk=request_id).select_related("customer").first()
    e = RequestEvent.objects.unscoped().filter(pk=event_id).first()
    if r is None or e is None:
        return
    kind = get_kind_or_none(r.kind)
    label = str(kind.label) if kind else r.kind
    title = text(gettext_noop("Your request: %(kind)s"), kind=label)
    body = text(e.code, **(e.params or {}))
    tell_customer(
        r.customer,
        KIND_UPDATE,
        lambda: (title, body),
        dedupe=f"request:{r.pk}:event:{e.pk}",
        link=request_link(r.pk),
    )


def get_kind_or_none(key: str) -> RequestKind | None:
    try:
        return get_kind(key)
    except NotFound:
        return None


def _tell_staff_new(request_id: int) -> None:
    r = ServiceRequest.objects.unscoped().filter(pk=request_id).select_related("store").first()
    if r is None:
        return
    people = [r.assigned_to] if r.assigned_to_id else on_duty_staff(r.store, [r.role])
    kind = get_kind_or_none(r.kind)
    label = str(kind.label) if kind else r.kind
    title = text(gettext_noop("New request: %(kind)s"), kind=label)
    body = text(
        gettext_noop("Request #%(id)s at %(store)s: answer by %(due)s."),
        id=r.pk,
        store=r.store.name,
        due=local_text(r.store, r.due_at) or "-",
    )
    tell_staff(
        people,
        KIND_NEW,
        lambda: (title, body),
        group_id=r.dealer_group_id,
        link=console_link(r.pk),
        dedupe=f"request:{r.pk}:new",
    )


def tell_handler(request: ServiceRequest, code: str, params: dict | None = None) -> None:
    """After commit: the assignee (else the on-duty staff of the request's role) is told."""
    pk = request.pk
    params = json_safe(params or {})

    def send() -> None:
        r = ServiceRequest.objects.unscoped().filter(pk=pk).select_related("store").first()
        if r is None:
            return
        people = [r.assigned_to] if r.assigned_to_id else on_duty_staff(r.store, [r.role])
        title = text(gettext_noop("Request #%(id)s"), id=r.pk)
        body = text(code, **params)
        tell_staff(
            people,
            KIND_UPDATE,
            lambda: (title, body),
            group_id=r.dealer_group_id,
            link=console_link(r.pk),
            dedupe=f"request:{r.pk}:{code}:{json.dumps(params, sort_keys=True)}",
        )

    transaction.on_commit(send)


# --- owners: submit, cancel, accept a quote ------------------------------------------------------
def _customer_for(owner, store: Store) -> Customer:
    customer = Customer.objects.for_group(store.dealer_group_id).filter(owner=owner).first()
    if customer is not None:
        return customer
    home = getattr(owner, "home_store", None)
    if home is not None and home.dealer_group_id == store.dealer_group_id:
        return get_or_create_customer_for_owner(owner, store)
    raise NotFound(_("No such store."))


def validate_fields(kind: RequestKind, data: dict | None) -> dict:
    """The owner's fields through the kind's schema: a dict of Python values, or 422."""
    try:
        parsed = kind.schema.model_validate(data or {})  # type: ignore[attr-defined]
    except ValidationError as exc:
        problems = [
            {"field": ".".join(str(x) for x in e.get("loc", ())), "message": str(e.get("msg"))}
            for e in exc.errors()
        ]
        first = problems[0] if problems else {"field": "", "message": ""}
        raise DomainError(
            "invalid_fields",
            _("Check the field %(field)s: %(message)s") % first,
            status=422,
            errors=problems,
        ) from None
    return parsed.model_dump()


def submit_request(
    owner,
    *,
    kind: str,
    store_id: int,
    vehicle_id: int | None = None,
    data: dict | None = None,
    idempotency_key: str = "",
    files=None,
    now: dt.datetime | None = None,
) -> ServiceRequest:
    """An owner's request of a registered kind at a store of a group they are a customer of
    (else 404); `vehicle_id` must be one of the owner's bound cars (else 404). Retries with the
    same Idempotency-Key make one request."""
    k = get_kind(kind)
    fields = validate_fields(k, data)
    store = Store.objects.unscoped().filter(pk=store_id).first()
    if store is None:
        raise NotFound(_("No such store."))
    vehicle = None
    if vehicle_id is not None:
        vehicle = vehicles_of_owner(owner).filter(pk=vehicle_id).first()
        if vehicle is None:
            raise NotFound(_("No such car."))
    elif k.needs_vehicle:
        raise DomainError("vehicle_required", _("Choose one of your cars."), status=422)
    customer = _customer_for(owner, store)

    def run() -> tuple[int, dict]:
        r = _create(
            k, owner, customer, store, vehicle, fields, now or timezone.now(), tuple(files or ())
        )
        return 201, {"request": r.pk}

    with transaction.atomic():
        if not idempotency_key:
            _status, answer = run()
        else:
            body = {
                "kind": kind,
                "store_id": store_id,
                "vehicle_id": vehicle_id,
                "data": json_safe(data or {}),
                "files": [getattr(f, "size", 0) for f in files or ()],
            }
            _status, answer = call_once(
                RequestKey.objects.all(),
                key={"owner": owner, "key": idempotency_key},
                body=body,
                create={},
                run=run,
            )
        return ServiceRequest.objects.for_owner(owner).get(pk=answer["request"])


def _create(
    k: RequestKind, owner, customer, store, vehicle, fields: dict, now, files=()
) -> ServiceRequest:
    ctx = KindContext(
        owner=owner,
        customer=customer,
        store=store,
        vehicle=vehicle,
        group_id=store.dealer_group_id,
        now=now,
        files=files,
    )
    details = json_safe(k.prepare(ctx, fields) or {})
    role, sla = kind_role_and_sla(store.dealer_group_id, k)
    assignee = route(store, customer, role, now)
    r = ServiceRequest.objects.create(
        dealer_group_id=store.dealer_group_id,
        store=store,
        customer=customer,
        owner=owner,
        vehicle=vehicle,
        kind=k.key,
        details=details,
        role=role,
        assigned_to=assignee,
        due_at=due_at_for(store, now, sla),
        scheduled_for=_when(details.get("scheduled_for")),
    )
    if k.after_submit is not None:
        k.after_submit(r, fields)
    add_event(r, gettext_noop("Request submitted"), at=now)
    if assignee is not None:
        add_event(
            r,
            gettext_noop("Assigned to %(name)s"),
            {"name": assignee.get_full_name() or assignee.username},
            visible_to_owner=False,
            at=now,
        )
    record_timeline(
        customer,
        TimelineKind.REQUEST,
        gettext_noop("Online request: %(kind)s"),
        params={"kind": k.key},
        data={"request": r.pk, "kind": k.key},
    )
    if k.sales:
        update_lead(r, "submitted")
    pk = r.pk
    title = text(gettext_noop("We got your request: %(kind)s"), kind=str(k.label))
    body = text(
        gettext_noop("%(store)s answers by %(due)s."),
        store=store.name,
        due=local_text(store, r.due_at) or "-",
    )
    transaction.on_commit(lambda: _tell_staff_new(pk))
    transaction.on_commit(
        lambda: tell_customer(
            customer,
            KIND_UPDATE,
            lambda: (title, body),
            dedupe=f"request:{pk}:submitted",
            link=request_link(pk),
        )
    )
    return r


def _when(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and value:
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if timezone.is_aware(parsed) else None
    return None


def update_lead(request: ServiceRequest, what: str, *, stage: str = "", actor=None) -> None:
    """Sales-type kinds: on submission make or update the customer's lead through the sales
    area (source = the kind's lead source; model / trim from the details); later moves may
    advance it (`stage`, e.g. "test_drive" when a drive is done). The lead's id is kept."""
    from m4s.sales.models import Lead
    from m4s.sales.services import advance_lead, open_or_update_lead

    kind = get_kind_or_none(request.kind)
    if what == "submitted":
        details = request.details or {}
        value = None
        if not details.get("trim_id") and details.get("car_model_id"):
            from django.db.models import Min

            from m4s.catalogue.models import Trim

            value = (
                Trim.objects.for_group(request.dealer_group_id)
                .filter(car_model_id=details["car_model_id"], active=True)
                .aggregate(m=Min("dealer_price"))["m"]
            )
        lead = open_or_update_lead(
            group_id=request.dealer_group_id,
            store=request.store,
            customer=request.customer,
            source=(kind.lead_source if kind else "") or request.kind,
            car_model_id=details.get("car_model_id"),
            trim_id=details.get("trim_id"),
            value=value,
            origin_kind="request",
            origin_id=request.pk,
        )
        if lead.pk and request.lead_id != lead.pk:
            request.lead_id = lead.pk
            ServiceRequest.objects.unscoped().filter(pk=request.pk).update(lead_id=lead.pk)
        return
    if stage and request.lead_id:
        lead = Lead.objects.for_group(request.dealer_group_id).filter(pk=request.lead_id).first()
        if lead is not None:
            advance_lead(lead, stage, actor=actor)


def _lock(request: ServiceRequest) -> ServiceRequest:
    return (
        ServiceRequest.objects.unscoped()
        .select_for_update(of=("self",))
        .select_related("store", "customer")
        .get(pk=request.pk)
    )


def cancel_request(owner, request: ServiceRequest, *, now=None) -> ServiceRequest:
    """The owner cancels an open request of theirs (another owner's: 404)."""
    if request.owner_id != getattr(owner, "pk", None):
        raise NotFound(_("No such request."))
    with transaction.atomic():
        r = _lock(request)
        if r.status == RequestStatus.CANCELLED:
            return r
        if r.status not in OWNER_CANCELLABLE:
            raise DomainError(
                "not_cancellable", _("This request is closed: it cannot be cancelled."), status=409
            )
        _move(None, r, RequestStatus.CANCELLED, now=now or timezone.now())
        add_event(r, gettext_noop("Cancelled by the owner"), at=now)
        tell_handler(r, gettext_noop("The owner cancelled request #%(id)s."), {"id": r.pk})
    return r


def accept_quote(owner, request: ServiceRequest, quote_id: int, *, now=None) -> RequestQuote:
    """The owner accepts one of the request's offered quotes (still valid): the others are
    not chosen; the kind's `on_quote_accepted` runs; the handler is told."""
    if request.owner_id != getattr(owner, "pk", None):
        raise NotFound(_("No such request."))
    now = now or timezone.now()
    with transaction.atomic():
        r = _lock(request)
        quote = RequestQuote.objects.for_owner(owner).filter(request=r, pk=quote_id).first()
        if quote is None:
            raise NotFound(_("No such quote."))
        if quote.status == QuoteStatus.ACCEPTED:
            return quote
        if r.status not in OPEN_STATUSES:
            raise DomainError("request_closed", _("This request is closed."), status=409)
        if quote.status != QuoteStatus.OFFERED:
            raise DomainError("quote_not_offered", _("This offer is no longer open."), status=409)
        if quote.valid_until and quote.valid_until < timezone.localdate(now, r.store.tz):
            raise DomainError("quote_expired", _("This offer has expired."), status=409)
        r.quotes.filter(status=QuoteStatus.OFFERED).exclude(pk=quote.pk).update(
            status=QuoteStatus.SUPERSEDED
        )
        quote.status, quote.accepted_at = QuoteStatus.ACCEPTED, now
        quote.save(update_fields=["status", "accepted_at"])
        add_event(
            r,
            gettext_noop("Offer accepted: %(label)s, %(total)s"),
            {"label": quote.label, "total": str(quote.total)},
            at=now,
        )
        kind = get_kind_or_none(r.kind)
        if kind and kind.on_quote_accepted:
            kind.on_quote_accepted(r, quote)
        tell_handler(
            r,
            gettext_noop("The owner accepted the offer %(label)s on request #%(id)s."),
            {"label": quote.label, "id": r.pk},
        )
    return quote


# --- staff ---------------------------------------------------------------------------------------
def _check_handler(actor, request: ServiceRequest) -> None:
    check_perm(actor, Perm.HANDLE_REQUESTS)
    if not actor.is_platform_admin and actor.dealer_group_id != request.dealer_group_id:
        raise NotFound(_("No such request."))


def _move(actor, r: ServiceRequest, to_status: str, *, now, scheduled_for=None, reason="") -> None:
    if to_status not in TRANSITIONS.get(r.status, ()):
        raise DomainError(
            "invalid_transition",
            _("A request that is %(from)s cannot become %(to)s.")
            % {
                "from": RequestStatus(r.status).label,
                "to": RequestStatus(to_status).label
                if to_status in RequestStatus.values
                else to_status,
            },
            status=409,
        )
    r.status = to_status
    if to_status in (RequestStatus.ACCEPTED, RequestStatus.SCHEDULED) and r.accepted_at is None:
        r.accepted_at = now
    if to_status == RequestStatus.SCHEDULED:
        r.scheduled_for = scheduled_for
    if to_status == RequestStatus.DONE:
        r.done_at = now
        if r.accepted_at is None:
            r.accepted_at = now
    if to_status == RequestStatus.DECLINED:
        r.decline_reason = reason
    if to_status in CLOSED_STATUSES:
        r.closed_at = now
    if actor is not None and r.assigned_to_id is None and isinstance(actor, StaffUser):
        r.assigned_to = actor
    r.save()
    kind = get_kind_or_none(r.kind)
    if kind and kind.on_transition:
        kind.on_transition(actor, r, to_status)


def transition(
    actor,
    request: ServiceRequest,
    to_status: str,
    *,
    reason: str = "",
    scheduled_for: dt.datetime | None = None,
    event_code: str | None = None,
    params: dict | None = None,
    now: dt.datetime | None = None,
) -> ServiceRequest:
    """Staff move a request (allowed moves only: 409 `invalid_transition`); declining needs a
    reason (422), scheduling a time (422). Each move is a history line the owner is told of."""
    _check_handler(actor, request)
    now = now or timezone.now()
    reason = (reason or "").strip()
    if to_status == RequestStatus.DECLINED and not reason:
        raise DomainError("reason_required", _("Give the owner a reason."), status=422)
    if to_status == RequestStatus.SCHEDULED and scheduled_for is None:
        raise DomainError("time_required", _("Give the date and time."), status=422)
    with transaction.atomic():
        r = _lock(request)
        _move(actor, r, to_status, now=now, scheduled_for=scheduled_for, reason=reason)
        values = {"when": local_text(r.store, r.scheduled_for), "reason": reason, **(params or {})}
        add_event(
            r,
            event_code or STATUS_EVENT[RequestStatus(to_status)],
            values,
            actor=actor,
            at=now,
            tell=True,
        )
    request.refresh_from_db()
    return request


def claim(actor, request: ServiceRequest, *, now=None) -> ServiceRequest:
    _check_handler(actor, request)
    with transaction.atomic():
        r = _lock(request)
        if r.status not in OPEN_STATUSES:
            raise DomainError("request_closed", _("This request is closed."), status=409)
        if r.assigned_to_id != actor.pk:
            r.assigned_to = actor
            r.save(update_fields=["assigned_to", "updated_at"])
            add_event(
                r,
                gettext_noop("Assigned to %(name)s"),
                {"name": actor.get_full_name() or actor.username},
                actor=actor,
                visible_to_owner=False,
                at=now,
            )
    request.refresh_from_db()
    return request


def transfer(actor, request: ServiceRequest, staff_id: int, *, now=None) -> ServiceRequest:
    """Give the request to a colleague of the group who handles requests at its store."""
    _check_handler(actor, request)
    person = StaffUser.objects.filter(
        pk=staff_id, dealer_group_id=request.dealer_group_id, is_active=True
    ).first()
    if person is None or not person.has_perm_m4s(Perm.HANDLE_REQUESTS):
        raise DomainError(
            "invalid_staff", _("That colleague cannot handle this request."), status=422
        )
    if not person.has_perm_m4s(Perm.VIEW_ALL_STORES) and request.store_id not in person.store_ids():
        raise DomainError(
            "invalid_staff", _("That colleague cannot handle this request."), status=422
        )
    with transaction.atomic():
        r = _lock(request)
        if r.status not in OPEN_STATUSES:
            raise DomainError("request_closed", _("This request is closed."), status=409)
        r.assigned_to = person
        r.save(update_fields=["assigned_to", "updated_at"])
        add_event(
            r,
            gettext_noop("Transferred to %(name)s"),
            {"name": person.get_full_name() or person.username},
            actor=actor,
            visible_to_owner=False,
            at=now,
        )
    request.refresh_from_db()
    tell_handler(request, gettext_noop("Request #%(id)s was transferred to you."), {"id": r.pk})
    return request


def add_note(actor, request: ServiceRequest, note: str, *, now=None) -> RequestEvent:
    _check_handler(actor, request)
    note = (note or "").strip()
    if not note:
        raise DomainError("note_required", _("Write the note."), status=422)
    with transaction.atomic():
        return add_event(
            request,
            gettext_noop("Note: %(note)s"),
            {"note": note[:1000]},
            actor=actor,
            visible_to_owner=False,
            at=now,
        )


def _decimal(value: Any) -> Decimal:
    try:
        d = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError, TypeError):
        raise DomainError("invalid_amount", _("Amounts are numbers."), status=422) from None
    if not d.is_finite() or d < 0 or d >= Decimal("10000000000"):
        raise DomainError("invalid_amount", _("Amounts are numbers."), status=422)
    return d


def add_quote(
    actor,
    request: ServiceRequest,
    *,
    label: str,
    lines: list[dict],
    total: Decimal | None = None,
    valid_until: dt.date | None = None,
    insurer_id: int | None = None,
    now=None,
) -> RequestQuote:
    """Staff offer a priced quote: `lines` [{label, amount}] (Decimal strings stored), total =
    their sum unless given. The owner is told."""
    _check_handler(actor, request)
    label = (label or "").strip()
    if not label:
        raise DomainError("label_required", _("Name the offer."), status=422)
    clean = []
    for line in lines or []:
        name = str(line.get("label") or "").strip()[:120]
        if not name:
            raise DomainError("invalid_line", _("Each line needs a name."), status=422)
        clean.append({"label": name, "amount": str(_decimal(line.get("amount")))})
    amount = (
        _decimal(total)
        if total is not None
        else sum((Decimal(x["amount"]) for x in clean), Decimal("0.00"))
    )
    if amount >= Decimal("10000000000"):
        raise DomainError("invalid_amount", _("Amounts are numbers."), status=422)
    with transaction.atomic():
        r = _lock(request)
        if r.status not in OPEN_STATUSES:
            raise DomainError("request_closed", _("This request is closed."), status=409)
        quote = RequestQuote.objects.create(
            dealer_group_id=r.dealer_group_id,
            request=r,
            label=label,
            insurer_id=insurer_id,
            lines=clean,
            total=amount,
            valid_until=valid_until,
            created_by=actor,
        )
        add_event(
            r,
            gettext_noop("New offer: %(label)s, %(total)s"),
            {"label": label, "total": str(amount)},
            actor=actor,
            at=now,
            tell=True,
        )
    return quote


COMMON_ACTIONS = ("accept", "schedule", "done", "decline", "claim", "transfer", "note")


def run_action(actor, request: ServiceRequest, action: str, data: dict | None = None):
    """A staff action by name: the common ones, else the kind's own (validated by its schema,
    run with the request locked)."""
    data = data or {}
    if action == "accept":
        return transition(actor, request, RequestStatus.ACCEPTED)
    if action == "schedule":
        when = data.get("scheduled_for")
        if not isinstance(when, dt.datetime):
            when = _when(when)
        return transition(actor, request, RequestStatus.SCHEDULED, scheduled_for=when)
    if action == "done":
        return transition(actor, request, RequestStatus.DONE)
    if action == "decline":
        return transition(actor, request, RequestStatus.DECLINED, reason=data.get("reason", ""))
    if action == "claim":
        return claim(actor, request)
    if action == "transfer":
        return transfer(actor, request, int(data.get("staff_id") or 0))
    if action == "note":
        add_note(actor, request, data.get("note", ""))
        return request
    kind = get_kind(request.kind)
    spec = kind.actions.get(action)
    if spec is None:
        raise NotFound(_("No such action."))
    _check_handler(actor, request)
    check_perm(actor, Perm(spec.perm))
    return _run_spec(spec, actor, request, data)


def _validated(schema, data: dict) -> dict:
    if schema is None:
        return {}
    try:
        return schema.model_validate(data).model_dump()
    except ValidationError as exc:
        problems = [
            {"field": ".".join(str(x) for x in e.get("loc", ())), "message": str(e["msg"])}
            for e in exc.errors()
        ]
        first = problems[0] if problems else {"field": "", "message": ""}
        raise DomainError(
            "invalid_fields",
            _("Check the field %(field)s: %(message)s") % first,
            status=422,
            errors=problems,
        ) from None


def run_owner_action(owner, request: ServiceRequest, action: str, data: dict | None = None):
    """An owner-side action of the request's kind (another owner's request: 404)."""
    if request.owner_id != getattr(owner, "pk", None):
        raise NotFound(_("No such request."))
    kind = get_kind(request.kind)
    spec = kind.owner_actions.get(action)
    if spec is None:
        raise NotFound(_("No such action."))
    return _run_spec(spec, owner, request, data or {})


def _run_spec(spec, who, request: ServiceRequest, data: dict) -> ServiceRequest:
    """A kind's action (staff or owner): the input validated by its schema, then the handler
    run with the request locked, if its status allows the action."""
    values = _validated(spec.schema, data)
    with transaction.atomic():
        r = _lock(request)
        if r.status not in spec.allowed_from:
            raise DomainError(
                "invalid_transition",
                _("This action is not possible while the request is %(status)s.")
                % {"status": RequestStatus(r.status).label},
                status=409,
            )
        spec.handler(who, r, values)
    request.refresh_from_db()
    return request


def actions_for(actor, request: ServiceRequest) -> list[tuple[str, Any, StaffActionLike]]:
    """The kind's own actions this actor may run now: (name, label, spec)."""
    kind = get_kind_or_none(request.kind)
    if kind is None:
        return []
    return [
        (name, spec.label, spec)
        for name, spec in kind.actions.items()
        if request.status in spec.allowed_from and actor.has_perm_m4s(spec.perm)
    ]


StaffActionLike = Any


def kind_label_of(key: str) -> str:
    kind = get_kind_or_none(key)
    return str(kind.label) if kind else key


def console_panel(request: ServiceRequest) -> str:
    kind = get_kind_or_none(request.kind)
    return kind.console_detail_template if kind else ""


def add_quote_from_form(actor, request: ServiceRequest, post) -> RequestQuote:
    """The console's quote form: label, insurer_id, valid_until, line_label[] / line_amount[]."""
    labels = post.getlist("line_label")
    amounts = post.getlist("line_amount")
    lines = [
        {"label": a, "amount": b}
        for a, b in zip(labels, amounts, strict=False)
        if (a or "").strip() or (b or "").strip()
    ]
    valid = post.get("valid_until") or ""
    try:
        valid_until = dt.date.fromisoformat(valid) if valid else None
    except ValueError:
        raise DomainError("invalid_date", _("Give a date."), status=422) from None
    insurer = post.get("insurer_id") or ""
    return add_quote(
        actor,
        request,
        label=post.get("label", ""),
        lines=lines,
        valid_until=valid_until,
        insurer_id=int(insurer) if insurer.isdigit() else None,
    )
