"""Writes for owners and cars: customers, the trinity binding, transfers, consultants,
invitations and rosters. Every staff write on customer data leaves an audit row."""

import json
import secrets
from dataclasses import dataclass

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from m4s.core import crypto, hooks
from m4s.core.audit import audit_entry, record_audit, record_view, snapshot
from m4s.core.errors import DomainError, RateLimited
from m4s.core.i18n import text
from m4s.notify.choices import Channel
from m4s.notify.services import send_message, tell_staff
from m4s.org.models import Store
from m4s.owners.phones import normalize_mobile
from m4s.staff.choices import Perm, Role
from m4s.staff.models import StaffUser
from m4s.staff.permissions import check_perm
from m4s.vehicles.choices import OwnershipReason
from m4s.vehicles.models import Vehicle, VehicleOwnership
from m4s.vehicles.validation import (
    PlateError,
    VinError,
    id_number_is_valid,
    normalize_plate,
    normalize_vin,
    vin_model_year,
)

from .choices import Assignment, BindingVia, Source, TimelineKind, TransferStatus
from .models import (
    Attribution,
    Binding,
    Customer,
    Invitation,
    TimelineEvent,
    TransferRequest,
)

ASSIGNMENT_ROLES = {
    Assignment.SALES: {Role.SALES_CONSULTANT, Role.STORE_MANAGER},
    Assignment.SERVICE: {Role.SERVICE_ADVISOR, Role.STORE_MANAGER},
    Assignment.CS: {Role.CUSTOMER_SERVICE, Role.STORE_MANAGER},
}
BIND_ATTEMPTS_PER_HOUR = 10


# --- timeline -----------------------------------------------------------------------------
def timeline_event(
    *,
    group_id: int,
    customer_id: int,
    kind: str,
    title: str,
    params=None,
    data=None,
    actor=None,
    at=None,
) -> TimelineEvent:
    """An unsaved timeline line (for bulk_create). `title` is the English source text (mark it
    with gettext_noop) and `params` fill its placeholders: it is translated for whoever reads it."""
    data = dict(data or {})
    if params:
        data["title_params"] = params
    return TimelineEvent(
        dealer_group_id=group_id,
        customer_id=customer_id,
        kind=kind,
        title=title[:200],
        data=data,
        actor=actor,
        at=at or timezone.now(),
    )


def record_timeline(
    customer: Customer, kind: str, title: str, *, params=None, data=None, actor=None, at=None
) -> TimelineEvent:
    """Append one line to a customer's timeline."""
    event = timeline_event(
        group_id=customer.dealer_group_id,
        customer_id=customer.pk,
        kind=kind,
        title=title,
        params=params,
        data=data,
        actor=actor,
        at=at,
    )
    event.save()
    return event


def add_timeline_lines_from(
    rows, *, kind: str, title: str, at, params=None, params_from=None, data=None, data_from=None
) -> int:
    """One timeline line per row of the queryset `rows`, written in a single INSERT … SELECT (no
    Python object per line): the same line `timeline_event` makes. The group and customer are
    the rows' `dealer_group_id` and `customer_id`; `params_from` / `data_from` map a title
    parameter / data key to a field of the rows, `params` / `data` are constants (JSON values).
    Returns the number of lines written."""
    params, data = dict(params or {}), dict(data or {})
    params_from, data_from = dict(params_from or {}), dict(data_from or {})
    fields = {"tl_group": F("dealer_group_id"), "tl_customer": F("customer_id")}
    for i, field in enumerate(params_from.values()):
        fields[f"tl_p{i}"] = F(field)
    for i, field in enumerate(data_from.values()):
        fields[f"tl_d{i}"] = F(field)
    source, source_params = rows.values(**fields).query.sql_with_params()
    pg = connection.vendor == "postgresql"
    obj, const = ("jsonb_build_object", "CAST(%s AS jsonb)") if pg else ("json_object", "json(%s)")
    values: list = []

    def build(from_fields: dict, prefix: str, constants: dict) -> str:
        parts = []
        for i, key in enumerate(from_fields):
            parts.append(f"%s, src.tl_{prefix}{i}")
            values.append(key)
        for key, value in constants.items():
            parts.append(f"%s, {const}")
            values.extend([key, json.dumps(value)])
        return ", ".join(parts)

    pieces = []
    if params or params_from:
        pieces.append(f"'title_params', {obj}({build(params_from, 'p', params)})")
    body = build(data_from, "d", data)
    if body:
        pieces.append(body)
    lines = connection.ops.quote_name(TimelineEvent._meta.db_table)
    # Only the model's own table name, placeholders and the compiled queryset are formatted in.
    sql = (
        f"INSERT INTO {lines} (dealer_group_id, customer_id, kind, at, title, data, actor_id) "  # noqa: S608
        f"SELECT src.tl_group, src.tl_customer, %s, %s, %s, {obj}({', '.join(pieces)}), NULL "
        f"FROM ({source}) AS src"
    )
    head = [kind, connection.ops.adapt_datetimefield_value(at), title[:200]]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*head, *values, *source_params])
        return cursor.rowcount


# --- customers ----------------------------------------------------------------------------
def mask_id_number(raw: str) -> str:
    return f"{raw[:3]}{'*' * (len(raw) - 7)}{raw[-4:]}" if len(raw) > 7 else "*" * len(raw)


def _clean_id_number(raw: str) -> str:
    value = (raw or "").strip().upper()
    if value and not id_number_is_valid(value):
        raise DomainError(
            "invalid_id_number",
            _("This ID-card number is not valid (check the date and the last digit)."),
        )
    return value


def set_id_number(customer: Customer, raw: str) -> None:
    value = _clean_id_number(raw)
    customer.id_number_cipher = crypto.encrypt(value)
    customer.id_number_masked = mask_id_number(value) if value else ""


def id_number_for(actor, customer: Customer) -> str:
    """The full number for roles that need it (each such read leaves an audit row the group
    can review), the masked one for everybody else."""
    if (
        actor is not None
        and getattr(actor, "is_authenticated", False)
        and actor.has_perm_m4s(Perm.VIEW_ID_NUMBERS)
    ):
        if not customer.id_number_cipher:
            return ""
        record_view(actor=actor, obj=customer, what="id_number")
        return crypto.decrypt(customer.id_number_cipher)
    return customer.id_number_masked


def _store_of_group(group_id: int, store: Store | int) -> Store:
    store_id = getattr(store, "pk", store)
    found = Store.objects.for_group(group_id).filter(pk=store_id).first()
    if found is None:
        raise DomainError(
            "invalid_store", _("That store is not one of this dealer group's stores.")
        )
    return found


def get_or_create_customer_for_owner(owner, store: Store, *, source: str = Source.APP) -> Customer:
    """The owner's record in the store's dealer group (matched by phone), linked to the owner."""
    customer = Customer.objects.for_group(store.dealer_group_id).filter(phone=owner.phone).first()
    if customer is None:
        try:
            with transaction.atomic():
                customer = Customer.objects.create(
                    dealer_group_id=store.dealer_group_id,
                    store=store,
                    owner=owner,
                    name=owner.name or owner.phone,
                    phone=owner.phone,
                    source=source,
                    marketing_consent=owner.marketing_consent,
                    telematics_consent=owner.telematics_consent,
                )
        except IntegrityError:  # created by a parallel request
            customer = Customer.objects.for_group(store.dealer_group_id).get(phone=owner.phone)
    if customer.owner_id is None:
        customer.owner = owner
        customer.save(update_fields=["owner", "updated_at"])
    return customer


# --- invitations and attribution ---------------------------------------------------------------
def get_or_create_invitation(store: Store, staff: StaffUser | None = None) -> Invitation:
    if staff is not None and (
        staff.dealer_group_id != store.dealer_group_id or store.pk not in staff.store_ids()
    ):
        raise DomainError("invalid_staff", _("This staff member does not work at that store."))
    qs = Invitation.objects.for_group(store.dealer_group_id).filter(store=store, staff=staff)
    invitation = qs.first()
    if invitation is None:
        try:
            with transaction.atomic():
                invitation = Invitation.objects.create(
                    dealer_group_id=store.dealer_group_id,
                    store=store,
                    staff=staff,
                    code=secrets.token_urlsafe(8)[:10],
                )
        except IntegrityError:
            invitation = qs.get()
    return invitation


def open_invitation(code: str, visitor: str) -> Invitation | None:
    """A visitor opened an invitation link: count them once."""
    invitation = (
        Invitation.objects.unscoped().select_related("store", "staff").filter(code=code).first()
    )
    if invitation is None:
        return None
    Attribution.objects.unscoped().get_or_create(
        invitation=invitation,
        visitor=visitor,
        defaults={"dealer_group_id": invitation.dealer_group_id, "opened_at": timezone.now()},
    )
    return invitation


def mark_signed_in(owner, invitation: Invitation | None, visitor: str | None) -> None:
    """After an owner signs in: the invitation they came through gets the credit; their
    customer record (if the group knows them) gets a timeline line."""
    now = timezone.now()
    if invitation is not None and visitor:
        Attribution.objects.for_group(invitation.dealer_group_id).filter(
            invitation=invitation, visitor=visitor, signed_in_at__isnull=True
        ).update(owner=owner, signed_in_at=now)
    customers = Customer.objects.unscoped().filter(owner=owner)
    TimelineEvent.objects.bulk_create(
        timeline_event(
            group_id=c.dealer_group_id,
            customer_id=c.pk,
            kind=TimelineKind.SIGN_IN,
            title=gettext_noop("Signed in to the app"),
            at=now,
        )
        for c in customers
    )


# --- binding --------------------------------------------------------------------------------
def _parse_vin(raw: str) -> tuple[str, bool]:
    """(value, is_full): a full VIN, or the last six characters when the dealer knows the car."""
    text = "".join((raw or "").split()).replace("-", "").upper()
    if len(text) == 6 and text.isalnum():
        return text, False
    try:
        return normalize_vin(text), True
    except VinError as exc:
        raise DomainError(exc.code, str(exc.message)) from None


def _parse_plate(raw: str) -> str:
    try:
        return normalize_plate(raw)
    except PlateError as exc:
        raise DomainError(exc.code, str(exc.message)) from None


def _mismatch() -> DomainError:
    # The same answer whether the plate is unknown or the VIN is wrong: no oracle for plates.
    return DomainError(
        "binding_mismatch",
        _("The plate and VIN do not match our records. Check both, or ask your store."),
    )


def _throttle_binding(key: str) -> None:
    cache_key = f"m4s:bind-attempts:{key}"
    cache.add(cache_key, 0, 3600)
    try:
        attempts = cache.incr(cache_key)
    except ValueError:
        cache.set(cache_key, 1, 3600)
        attempts = 1
    if attempts > BIND_ATTEMPTS_PER_HOUR:
        raise RateLimited(
            _("Too many binding attempts. Try again in an hour or ask your store."),
            retry_after=3600,
        )


def _find_vehicle(
    group_id: int, plate: str, vin: str, full_vin: bool, *, may_create: bool
) -> tuple[Vehicle, bool]:
    vehicles = Vehicle.objects.for_group(group_id).select_for_update()
    by_plate = vehicles.filter(plate=plate).first()
    if not full_vin:
        if by_plate is None or not by_plate.vin.endswith(vin):
            raise _mismatch()
        return by_plate, False
    by_vin = vehicles.filter(vin=vin).first()
    if by_plate is not None and by_plate != by_vin:
        raise _mismatch()
    if by_vin is not None:
        if by_vin.plate and by_vin.plate != plate:
            raise _mismatch()
        if not by_vin.plate:
            by_vin.plate = plate
            by_vin.save(update_fields=["plate", "updated_at"])
        return by_vin, False
    if not may_create:
        raise _mismatch()
    vehicle = Vehicle.objects.create(
        dealer_group_id=group_id, plate=plate, vin=vin, model_year=vin_model_year(vin)
    )
    return vehicle, True


ROLE_FIELD = {
    Role.SALES_CONSULTANT: Assignment.SALES,
    Role.SERVICE_ADVISOR: Assignment.SERVICE,
    Role.CUSTOMER_SERVICE: Assignment.CS,
}


def _adopt(customer: Customer, staff) -> None:
    """The staff member who invited a new customer becomes their consultant for that role,
    unless someone already is."""
    field = ROLE_FIELD.get(getattr(staff, "role", None))
    if (
        field
        and getattr(customer, f"{field}_id") is None
        and customer.store_id in staff.store_ids()
    ):
        setattr(customer, field, staff)
        customer.save(update_fields=[field, "updated_at"])


def _notify_staff(customer: Customer, kind: str, compose, *, link="", dedupe=None, also=None):
    """Tell the customer's service advisor and sales consultant (and `also`, e.g. who invited them).
    `compose()` returns (title, body) and runs in each reader's language."""
    staff_ids = {getattr(customer, f"{f}_id") for f in ("service_advisor", "sales_consultant")} | {
        getattr(also, "pk", None)
    }
    tell_staff(
        StaffUser.objects.filter(pk__in=[i for i in staff_ids if i])
        .only("pk", "language")
        .order_by("pk"),
        kind,
        compose,
        group_id=customer.dealer_group_id,
        link=link,
        dedupe=dedupe,
    )


@dataclass(frozen=True)
class CarBound:
    """A car was bound to a customer (settings.HOOKS["customers.car_bound"])."""

    dealer_group_id: int
    customer_id: int
    vehicle_id: int
    vin: str
    owner_id: int | None


@transaction.atomic
def bind_customer_vehicle(
    customer: Customer,
    vehicle: Vehicle,
    *,
    via: str,
    invitation: Invitation | None,
    staff,
    actor=None,
    reason=OwnershipReason.BINDING,
):
    """Bind a car to a customer, or open a transfer request if someone else has it."""
    now = timezone.now()
    active = (
        Binding.objects.for_group(customer.dealer_group_id)
        .filter(vehicle=vehicle, ended_at__isnull=True)
        .first()
    )
    holder_id = active.customer_id if active else vehicle.current_owner_id
    if holder_id == customer.pk and active is not None:
        return "already_bound", active
    if holder_id is not None and holder_id != customer.pk:
        transfer, created = TransferRequest.objects.for_group(
            customer.dealer_group_id
        ).get_or_create(
            vehicle=vehicle,
            to_customer=customer,
            status=TransferStatus.OPEN,
            defaults={
                "dealer_group_id": customer.dealer_group_id,
                "from_customer_id": holder_id,
                "via": via,
                "invitation": invitation,
                "requested_at": now,
            },
        )
        if created:
            record_timeline(
                customer,
                TimelineKind.TRANSFER,
                gettext_noop("Asked to bind %(plate)s, which belongs to another customer"),
                params={"plate": vehicle.plate},
                data={"transfer": transfer.pk},
                actor=actor,
            )
            holder = Customer.objects.for_group(customer.dealer_group_id).get(pk=holder_id)
            _notify_staff(
                holder,
                "transfer_requested",
                lambda: (
                    text(gettext_noop("Ownership transfer requested")),
                    text(
                        gettext_noop(
                            "%(name)s asks to bind %(plate)s, currently bound to %(holder)s."
                        ),
                        name=customer.name,
                        plate=vehicle.plate,
                        holder=holder.name,
                    ),
                ),
                link=f"/console/customers/{customer.pk}/",
                dedupe=f"transfer:{transfer.pk}",
            )
        return "transfer_requested", transfer
    binding = Binding.objects.create(
        dealer_group_id=customer.dealer_group_id,
        customer=customer,
        vehicle=vehicle,
        owner=customer.owner,
        via=via,
        invitation=invitation,
        staff=staff,
        store=invitation.store if invitation else customer.store,
        created_at=now,
    )
    if vehicle.current_owner_id != customer.pk:
        VehicleOwnership.objects.for_group(customer.dealer_group_id).filter(
            vehicle=vehicle, ended_at__isnull=True
        ).update(ended_at=now)
        VehicleOwnership.objects.create(
            dealer_group_id=customer.dealer_group_id,
            vehicle=vehicle,
            customer=customer,
            reason=reason,
            started_at=now,
        )
        vehicle.current_owner = customer
        vehicle.save(update_fields=["current_owner", "updated_at"])
    record_timeline(
        customer,
        TimelineKind.BINDING,
        gettext_noop("Bound %(plate)s"),
        params={"plate": vehicle.plate},
        data={"vehicle": vehicle.pk, "via": via},
        actor=actor,
    )
    if staff is not None and via in (BindingVia.STAFF_QR, BindingVia.DESK):
        _adopt(customer, staff)
    if invitation is not None and customer.owner_id:
        Attribution.objects.for_group(customer.dealer_group_id).filter(
            invitation=invitation, owner_id=customer.owner_id, bound_at__isnull=True
        ).update(bound_at=now)
    _notify_staff(
        customer,
        "binding",
        lambda: (
            text(gettext_noop("New car binding")),
            text(
                gettext_noop("%(name)s bound %(plate)s."),
                name=customer.name,
                plate=vehicle.plate,
            ),
        ),
        link=f"/console/customers/{customer.pk}/",
        dedupe=f"binding:{binding.pk}",
        also=staff,
    )
    hooks.after_commit(
        "customers.car_bound",
        CarBound(customer.dealer_group_id, customer.pk, vehicle.pk, vehicle.vin, customer.owner_id),
    )
    return "bound", binding


def bind_vehicle_for_owner(
    owner, plate: str, vin: str, *, invitation: Invitation | None = None, via: str | None = None
):
    """An owner binds a car in the app by plate + VIN (or plate + last six of the VIN)."""
    store = invitation.store if invitation is not None else owner.home_store
    if store is None:
        raise DomainError(
            "no_store",
            _("Open your store's invitation link first, so we know which store you belong to."),
        )
    plate_n = _parse_plate(plate)
    vin_v, full = _parse_vin(vin)
    _throttle_binding(f"owner:{owner.pk}")
    with transaction.atomic():
        vehicle, _created = _find_vehicle(
            store.dealer_group_id, plate_n, vin_v, full, may_create=True
        )
        customer = get_or_create_customer_for_owner(
            owner, store, source=Source.QR if invitation else Source.APP
        )
        return bind_customer_vehicle(
            customer,
            vehicle,
            via=via or (invitation.via if invitation else BindingVia.APP),
            invitation=invitation,
            staff=invitation.staff if invitation else None,
        )


DESK_VEHICLE_FIELDS = {
    "brand",
    "model",
    "model_year",
    "colour",
    "fuel",
    "purchase_date",
    "odometer_km",
}


def bind_at_desk(actor, customer: Customer, plate: str, vin: str, **details):
    """Staff bind a car to a customer at the desk (a new car is created with its details)."""
    check_perm(actor, Perm.EDIT_CUSTOMERS)
    plate_n = _parse_plate(plate)
    vin_v, full = _parse_vin(vin)
    if not full:
        raise DomainError("vin_length", _("At the desk, enter the whole 17-character VIN."))
    with transaction.atomic():
        vehicle, created = _find_vehicle(
            customer.dealer_group_id, plate_n, vin_v, True, may_create=True
        )
        if created and details:
            unknown = set(details) - DESK_VEHICLE_FIELDS
            if unknown:
                raise DomainError(
                    "unknown_field",
                    _("Unknown field(s): %(names)s.") % {"names": ", ".join(sorted(unknown))},
                )
            for field, value in details.items():
                setattr(vehicle, field, value)
            try:
                vehicle.full_clean(exclude=["dealer_group", "current_owner"])
            except ValidationError as exc:
                field, messages = next(iter(exc.message_dict.items()))
                raise DomainError(
                    "invalid_vehicle", f"{field}: {' '.join(messages)}", field=field
                ) from None
            vehicle.save()
        outcome, obj = bind_customer_vehicle(
            customer,
            vehicle,
            via=BindingVia.DESK,
            invitation=None,
            staff=actor,
            actor=actor,
            reason=OwnershipReason.DESK,
        )
        if outcome == "bound":
            record_audit(actor=actor, action="create", obj=obj, before=None, after=snapshot(obj))
        return outcome, obj


@transaction.atomic
def resolve_transfer(
    actor, transfer: TransferRequest, *, approve: bool, note: str = ""
) -> TransferRequest:
    check_perm(actor, Perm.RESOLVE_TRANSFERS)
    transfer = (
        TransferRequest.objects.for_group(transfer.dealer_group_id)
        .select_for_update()
        .get(pk=transfer.pk)
    )
    if transfer.status != TransferStatus.OPEN:
        raise DomainError("transfer_closed", _("This request was already decided."), status=409)
    before = snapshot(transfer)
    now = timezone.now()
    transfer.status = TransferStatus.APPROVED if approve else TransferStatus.REJECTED
    transfer.resolved_at, transfer.resolved_by, transfer.note = now, actor, note[:200]
    transfer.save()
    vehicle = transfer.vehicle
    if approve:
        Binding.objects.for_group(transfer.dealer_group_id).filter(
            vehicle=vehicle, ended_at__isnull=True
        ).update(ended_at=now)
        vehicle.current_owner_id = (
            None  # the old holder's claim ends here; bind_customer_vehicle starts the new ownership
        )
        VehicleOwnership.objects.for_group(transfer.dealer_group_id).filter(
            vehicle=vehicle, ended_at__isnull=True
        ).update(ended_at=now)
        vehicle.save(update_fields=["current_owner", "updated_at"])
        staff = transfer.invitation.staff if transfer.invitation else None
        bind_customer_vehicle(
            transfer.to_customer,
            vehicle,
            via=transfer.via,
            invitation=transfer.invitation,
            staff=staff,
            actor=actor,
            reason=OwnershipReason.TRANSFER,
        )
        TransferRequest.objects.for_group(transfer.dealer_group_id).filter(
            vehicle=vehicle, status=TransferStatus.OPEN
        ).update(
            status=TransferStatus.REJECTED, resolved_at=now, resolved_by=actor, note="superseded"
        )
        record_timeline(
            transfer.from_customer,
            TimelineKind.TRANSFER,
            gettext_noop("%(plate)s transferred to another owner"),
            params={"plate": vehicle.plate},
            actor=actor,
        )
    else:
        record_timeline(
            transfer.to_customer,
            TimelineKind.TRANSFER,
            gettext_noop("Transfer of %(plate)s was declined"),
            params={"plate": vehicle.plate},
            actor=actor,
        )
    owner = transfer.to_customer.owner
    if owner is not None:
        with translation.override(owner.language):  # the owner reads it in their own language
            send_message(
                channel=Channel.INAPP,
                owner=owner,
                group=transfer.dealer_group,
                kind="transfer",
                subject=text(gettext_noop("Your car binding")),
                body=text(
                    gettext_noop("%(plate)s is now bound to you.")
                    if approve
                    else gettext_noop(
                        "Your request to bind %(plate)s was declined; please contact your store."
                    ),
                    plate=vehicle.plate,
                ),
                dedupe_key=f"transfer-decided:{transfer.pk}",
            )
    record_audit(
        actor=actor, action="update", obj=transfer, before=before, after=snapshot(transfer)
    )
    return transfer


# --- consultants ---------------------------------------------------------------------------
def _check_assignee(customer: Customer, field: str, staff_id: int | None) -> StaffUser | None:
    if staff_id is None:
        return None
    staff = StaffUser.objects.filter(
        pk=staff_id, dealer_group_id=customer.dealer_group_id, is_active=True
    ).first()
    if staff is None:
        raise DomainError(
            "invalid_assignee", _("No such staff member in this dealer group."), field=field
        )
    if staff.role not in ASSIGNMENT_ROLES[field]:
        raise DomainError(
            "invalid_assignee",
            _("%(name)s cannot be this customer's %(role)s.")
            % {"name": staff, "role": Assignment(field).label},
            field=field,
        )
    if customer.store_id not in staff.store_ids():
        raise DomainError(
            "invalid_assignee",
            _("%(name)s does not work at the customer's store.") % {"name": staff},
            field=field,
        )
    return staff


@transaction.atomic
def assign_consultants(actor, customer: Customer, changes: dict) -> Customer:
    """Set any of sales_consultant / service_advisor / cs_agent (a staff id, or None to clear)."""
    check_perm(actor, Perm.ASSIGN_CUSTOMERS)
    unknown = set(changes) - set(Assignment.values)
    if unknown:
        raise DomainError(
            "unknown_field",
            _("Unknown field(s): %(names)s.") % {"names": ", ".join(sorted(unknown))},
        )
    customer = (
        Customer.objects.for_group(customer.dealer_group_id).select_for_update().get(pk=customer.pk)
    )
    before = snapshot(customer)
    for field, staff_id in changes.items():
        setattr(customer, field, _check_assignee(customer, field, staff_id))
    customer.save()
    after = snapshot(customer)
    if record_audit(actor=actor, action="update", obj=customer, before=before, after=after):
        record_timeline(
            customer,
            TimelineKind.ASSIGNMENT,
            gettext_noop("Consultants changed"),
            data={k: v for k, v in changes.items()},
            actor=actor,
        )
    return customer


@transaction.atomic
def bulk_reassign(
    actor, *, field: str, from_staff: StaffUser, to_staff: StaffUser, store: Store | None = None
) -> int:
    """Hand every customer of one staff member to another (e.g. when a consultant leaves). Set-based."""
    check_perm(actor, Perm.ASSIGN_CUSTOMERS)
    if field not in Assignment.values:
        raise DomainError(
            "invalid_field", _("Choose sales_consultant, service_advisor or cs_agent.")
        )
    group_id = actor.dealer_group_id if not actor.is_platform_admin else from_staff.dealer_group_id
    if from_staff.dealer_group_id != group_id or to_staff.dealer_group_id != group_id:
        raise DomainError(
            "invalid_assignee", _("Both staff members must belong to your dealer group.")
        )
    if to_staff.role not in ASSIGNMENT_ROLES[field] or not to_staff.is_active:
        raise DomainError(
            "invalid_assignee", _("%(name)s cannot take this role.") % {"name": to_staff}
        )
    qs = Customer.objects.for_group(group_id).filter(**{field: from_staff})
    qs = qs.filter(store_id__in=to_staff.store_ids()) if store is None else qs.filter(store=store)
    if store is not None and store.pk not in to_staff.store_ids():
        raise DomainError(
            "invalid_assignee", _("%(name)s does not work at that store.") % {"name": to_staff}
        )
    ids = list(qs.values_list("pk", flat=True))
    if not ids:
        return 0
    now = timezone.now()
    Customer.objects.for_group(group_id).filter(pk__in=ids).update(
        **{field: to_staff}, updated_at=now
    )
    from m4s.core.models import AuditEntry

    AuditEntry.objects.bulk_create(
        audit_entry(
            actor=actor,
            action="update",
            group_id=group_id,
            at=now,
            object_type="customers.customer",
            object_id=str(pk),
            object_repr=f"customer #{pk}",
            changes={f"{field}_id": [from_staff.pk, to_staff.pk]},
        )
        for pk in ids
    )
    TimelineEvent.objects.bulk_create(
        timeline_event(
            group_id=group_id,
            customer_id=pk,
            kind=TimelineKind.ASSIGNMENT,
            at=now,
            actor=actor,
            title=gettext_noop("%(role)s changed to %(name)s"),
            params={"role": field, "name": str(to_staff)},
        )
        for pk in ids
    )
    return len(ids)


# --- staff-side customer records -------------------------------------------------------------
CUSTOMER_FIELDS = {
    "name",
    "phone",
    "phone2",
    "birthday",
    "gender",
    "address",
    "id_number",
    "tags",
    "store",
    "source",
    "marketing_consent",
    "telematics_consent",
}


def _clean_customer_fields(group_id: int, data: dict) -> dict:
    unknown = set(data) - CUSTOMER_FIELDS
    if unknown:
        raise DomainError(
            "unknown_field",
            _("Unknown field(s): %(names)s.") % {"names": ", ".join(sorted(unknown))},
        )
    clean = dict(data)
    if "name" in clean:
        clean["name"] = (clean["name"] or "").strip()
        if not clean["name"]:
            raise DomainError("invalid_name", _("Enter the customer's name."))
    for key in ("phone", "phone2"):
        if clean.get(key):
            clean[key] = normalize_mobile(clean[key])
    if "store" in clean:
        clean["store"] = _store_of_group(group_id, clean["store"])
    if "tags" in clean:
        clean["tags"] = sorted({str(t).strip()[:30] for t in clean["tags"] or [] if str(t).strip()})
    return clean


@transaction.atomic
def create_customer(actor, *, group_id: int, **data) -> Customer:
    check_perm(actor, Perm.EDIT_CUSTOMERS)
    clean = _clean_customer_fields(group_id, data)
    if not clean.get("phone") or not clean.get("name") or not clean.get("store"):
        raise DomainError(
            "missing_fields", _("A customer needs a name, a mobile number and a store.")
        )
    if Customer.objects.for_group(group_id).filter(phone=clean["phone"]).exists():
        raise DomainError(
            "duplicate_phone", _("A customer with this mobile number already exists."), status=409
        )
    id_number = clean.pop("id_number", "")
    customer = Customer(dealer_group_id=group_id, **clean)
    set_id_number(customer, id_number)
    customer.save()
    record_audit(actor=actor, action="create", obj=customer, before=None, after=snapshot(customer))
    return customer


@transaction.atomic
def update_customer(actor, customer: Customer, data: dict) -> Customer:
    check_perm(actor, Perm.EDIT_CUSTOMERS)
    clean = _clean_customer_fields(customer.dealer_group_id, data)
    customer = (
        Customer.objects.for_group(customer.dealer_group_id).select_for_update().get(pk=customer.pk)
    )
    before = snapshot(customer)
    if (
        "phone" in clean
        and clean["phone"] != customer.phone
        and Customer.objects.for_group(customer.dealer_group_id)
        .filter(phone=clean["phone"])
        .exists()
    ):
        raise DomainError(
            "duplicate_phone", _("A customer with this mobile number already exists."), status=409
        )
    if "id_number" in clean:
        set_id_number(customer, clean.pop("id_number"))
    for field, value in clean.items():
        setattr(customer, field, value)
    customer.save()
    after = snapshot(customer)
    if record_audit(actor=actor, action="update", obj=customer, before=before, after=after):
        record_timeline(
            customer, TimelineKind.PROFILE, gettext_noop("Profile changed"), actor=actor
        )
    return customer
