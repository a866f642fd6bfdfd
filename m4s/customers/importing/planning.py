"""Checking an import against the group's data: what each row will create, update or leave."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from m4s.core import crypto
from m4s.core.audit import snapshot
from m4s.core.errors import NotFound
from m4s.customers.choices import Assignment, Source
from m4s.customers.models import Customer
from m4s.customers.services import ASSIGNMENT_ROLES, set_id_number
from m4s.org.models import Store
from m4s.staff.choices import Perm
from m4s.staff.models import StaffUser
from m4s.staff.permissions import check_perm
from m4s.vehicles.models import Vehicle
from m4s.vehicles.validation import (
    vin_model_year,
)

from .parsing import (
    COLUMNS,
    CONSULTANT_COLUMNS,
    RowError,
    _canonical_rows,
    _chunks,
    _merge,
    _parse_keys,
    _parse_row,
    _Row,
    _text,
)


@dataclass
class RowPlan:
    """What a row will do: "create", "update" or "unchanged" for its customer and its car
    (vehicle is None for a row without a car; both are None for a row with errors)."""

    row: int
    phone: str
    vin: str
    customer: str | None
    vehicle: str | None


@dataclass
class _CustomerPlan:
    phone: str
    rows: list[int]
    fields: dict = field(default_factory=dict)  # field -> (value, row)
    existing: Customer | None = None
    instance: Customer | None = None
    action: str | None = None
    changed: set = field(default_factory=set)
    before: dict | None = None


@dataclass
class _VehiclePlan:
    vin: str
    phone: str
    rows: list[int]
    fields: dict = field(default_factory=dict)  # field -> (value, row)
    existing: Vehicle | None = None
    instance: Vehicle | None = None
    action: str | None = None
    changed: set = field(default_factory=set)
    before: dict | None = None
    new_ownership: bool = False


@dataclass
class ImportPlan:
    """The outcome of checking a file against the group's data; nothing is written."""

    group_id: int
    rows_total: int
    rows: list[RowPlan]
    errors: list[RowError]
    customers: dict[str, _CustomerPlan] = field(default_factory=dict, repr=False)
    vehicles: dict[str, _VehiclePlan] = field(default_factory=dict, repr=False)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors)

    def _count(self, plans, action: str) -> int:
        return sum(1 for plan in plans.values() if plan.action == action)

    def report(self, *, dry_run: bool) -> "ImportReport":
        return ImportReport(
            rows_total=self.rows_total,
            customers_created=self._count(self.customers, "create"),
            customers_updated=self._count(self.customers, "update"),
            customers_unchanged=self._count(self.customers, "unchanged"),
            vehicles_created=self._count(self.vehicles, "create"),
            vehicles_updated=self._count(self.vehicles, "update"),
            vehicles_unchanged=self._count(self.vehicles, "unchanged"),
            errors=list(self.errors),
            dry_run=dry_run,
        )


@dataclass
class ImportReport:
    rows_total: int
    customers_created: int
    customers_updated: int
    customers_unchanged: int
    vehicles_created: int
    vehicles_updated: int
    vehicles_unchanged: int
    errors: list[RowError]
    dry_run: bool

    @property
    def changed_anything(self) -> bool:
        return bool(
            self.customers_created
            or self.customers_updated
            or self.vehicles_created
            or self.vehicles_updated
        )

    def as_dict(self) -> dict:
        return {
            "rows_total": self.rows_total,
            "dry_run": self.dry_run,
            "customers": {
                "created": self.customers_created,
                "updated": self.customers_updated,
                "unchanged": self.customers_unchanged,
            },
            "vehicles": {
                "created": self.vehicles_created,
                "updated": self.vehicles_updated,
                "unchanged": self.vehicles_unchanged,
            },
            "errors": [{"row": e.row, "field": e.field, "message": e.message} for e in self.errors],
        }


def _check_actor(actor, group_id: int) -> None:
    """None means the system (the CLI command); staff need the import capability in this group."""
    if actor is None:
        return
    check_perm(actor, Perm.IMPORT_CUSTOMERS)
    if not actor.is_platform_admin and actor.dealer_group_id != group_id:
        raise NotFound()


def plan_import(group_id: int, rows: Iterable[dict]) -> ImportPlan:
    """Check every row against the group's data and say what an import would do. Writes nothing;
    a constant number of queries whatever the number of rows (up to LOOKUP_CHUNK per IN list)."""
    return _plan(group_id, rows, lock=False)


def _plan(group_id: int, rows: Iterable[dict], *, lock: bool) -> ImportPlan:
    parsed = _canonical_rows(rows)
    for row in parsed:
        _parse_keys(row)

    # Look-ups: one query per table (per chunk of LOOKUP_CHUNK values).
    stores_list = list(Store.objects.for_group(group_id))
    stores = {s.code: s for s in stores_list}
    active_stores = [s for s in stores_list if s.is_active]
    default_store = active_stores[0] if len(active_stores) == 1 else None
    phones = sorted({r.phone for r in parsed if r.phone})
    vins = sorted({r.vin for r in parsed if r.vin})
    plates = sorted({r.vehicle["plate"] for r in parsed if r.vehicle.get("plate")})
    customers_qs = Customer.objects.for_group(group_id)
    vehicles_qs = Vehicle.objects.for_group(group_id).select_related("current_owner")
    if lock:
        customers_qs = customers_qs.select_for_update()
        vehicles_qs = vehicles_qs.select_for_update(of=("self",))
    existing_customers = {
        c.phone: c for chunk in _chunks(phones) for c in customers_qs.filter(phone__in=chunk)
    }
    existing_vehicles = {
        v.pk: v for chunk in _chunks(vins) for v in vehicles_qs.filter(vin__in=chunk)
    }
    for chunk in _chunks(plates):
        existing_vehicles.update((v.pk, v) for v in vehicles_qs.filter(plate__in=chunk))
    by_vin = {v.vin: v for v in existing_vehicles.values()}
    by_plate = {v.plate: v for v in existing_vehicles.values() if v.plate}
    usernames = sorted(
        {_text(r.raw, column) for r in parsed for column in CONSULTANT_COLUMNS} - {""}
    )
    staff = {
        u.username: u
        for chunk in _chunks(usernames)
        for u in StaffUser.objects.filter(dealer_group_id=group_id, username__in=chunk)
    }
    staff_stores: dict[int, set[int]] = defaultdict(set)
    through = StaffUser.stores.through
    for chunk in _chunks([u.pk for u in staff.values()]):
        for staff_id, store_id in through.objects.filter(staffuser_id__in=chunk).values_list(
            "staffuser_id", "store_id"
        ):
            staff_stores[staff_id].add(store_id)

    for row in parsed:
        _parse_row(row, stores, staff)

    # Across rows: one customer per phone, one customer per VIN, one VIN per plate.
    customer_plans: dict[str, _CustomerPlan] = {}
    vehicle_plans: dict[str, _VehiclePlan] = {}
    rows_by_vin: dict[str, list[_Row]] = defaultdict(list)
    vins_by_plate: dict[str, set[str]] = defaultdict(set)
    rows_by_plate: dict[str, list[_Row]] = defaultdict(list)
    same_phone, same_vin = _("phone number"), _("VIN")
    for row in parsed:
        if not row.phone:
            continue
        plan = customer_plans.setdefault(
            row.phone,
            _CustomerPlan(phone=row.phone, rows=[], existing=existing_customers.get(row.phone)),
        )
        plan.rows.append(row.number)
        _merge(plan.fields, row, row.customer, same_phone)
        if row.vin:
            rows_by_vin[row.vin].append(row)
            if row.vehicle.get("plate"):
                vins_by_plate[row.vehicle["plate"]].add(row.vin)
                rows_by_plate[row.vehicle["plate"]].append(row)
    for vin, vin_rows in rows_by_vin.items():
        owners = {r.phone for r in vin_rows}
        if len(owners) > 1:
            numbers = ", ".join(str(r.number) for r in vin_rows)
            for r in vin_rows:
                r.error(
                    "vin",
                    _("This VIN appears in rows %(rows)s with different phone numbers.")
                    % {"rows": numbers},
                )
            continue
        plan = vehicle_plans[vin] = _VehiclePlan(
            vin=vin, phone=vin_rows[0].phone, rows=[], existing=by_vin.get(vin)
        )
        for r in vin_rows:
            plan.rows.append(r.number)
            _merge(plan.fields, r, r.vehicle, same_vin)
    for plate, plate_vins in vins_by_plate.items():
        if len(plate_vins) > 1:
            numbers = ", ".join(str(r.number) for r in rows_by_plate[plate])
            for r in rows_by_plate[plate]:
                r.error(
                    "plate",
                    _("This plate appears in rows %(rows)s with different VINs.")
                    % {"rows": numbers},
                )
    row_by_number = {r.number: r for r in parsed}

    # Each customer against the stored data: store, name, consultants.
    for plan in customer_plans.values():
        first = row_by_number[plan.rows[0]]
        existing = plan.existing
        store_value = plan.fields.get("store")
        store = store_value[0] if store_value else None
        if (
            store is not None
            and not store.is_active
            and (existing is None or existing.store_id != store.pk)
        ):
            row_by_number[store_value[1]].error(
                "store_code", _("The store %(code)s is closed.") % {"code": store.code}
            )
        store_id = (
            store.pk
            if store
            else existing.store_id
            if existing
            else default_store.pk
            if default_store
            else None
        )
        if store_id is None:
            first.error("store_code", _("Enter the store code for a new customer."))
        if existing is None and "name" not in plan.fields:
            first.error("name", _("Enter the new customer's name."))
        for column in CONSULTANT_COLUMNS:
            if column not in plan.fields:
                continue
            member, number = plan.fields[column]
            if existing is not None and getattr(existing, f"{column}_id") == member.pk:
                continue  # already assigned: not a change, not checked again
            if not member.is_active:
                row_by_number[number].error(
                    column, _("%(name)s no longer works here.") % {"name": member.username}
                )
            elif member.role not in ASSIGNMENT_ROLES[column]:
                row_by_number[number].error(
                    column,
                    _("%(name)s cannot be this customer's %(role)s.")
                    % {"name": member.username, "role": Assignment(column).label},
                )
            elif store_id is not None and store_id not in staff_stores[member.pk]:
                row_by_number[number].error(
                    column,
                    _("%(name)s does not work at the customer's store.")
                    % {"name": member.username},
                )

    # Each car against the stored data: plate, owner.
    for vin, plan in vehicle_plans.items():
        owner = existing_customers.get(plan.phone)
        row = row_by_number[plan.rows[0]]
        existing = plan.existing
        plate_value = plan.fields.get("plate")
        if plate_value:
            plate, number = plate_value
            if existing is not None and existing.plate and existing.plate != plate:
                row_by_number[number].error(
                    "plate",
                    _("The car with this VIN has the plate %(stored)s, not %(plate)s.")
                    % {"stored": existing.plate, "plate": plate},
                )
            other = by_plate.get(plate)
            if other is not None and other.vin != vin:
                row_by_number[number].error(
                    "plate",
                    _("The plate %(plate)s belongs to another car (VIN %(vin)s).")
                    % {"plate": plate, "vin": other.vin},
                )
        if (
            existing is not None
            and existing.current_owner_id is not None
            and (owner is None or existing.current_owner_id != owner.pk)
        ):
            holder = existing.current_owner
            row.error(
                "vin",
                _("This car belongs to another customer (%(name)s, phone ending %(last4)s).")
                % {"name": holder.name, "last4": holder.phone_last4},
            )

    # What would change, for customers and cars without errors.
    bad_rows = {r.number for r in parsed if r.errors}
    for plan in customer_plans.values():
        if not bad_rows.intersection(plan.rows):
            _plan_customer(group_id, plan, default_store)
    for plan in vehicle_plans.values():
        customer = customer_plans[plan.phone]
        if customer.action is not None and not bad_rows.intersection(plan.rows):
            _plan_vehicle(group_id, plan, customer)

    row_plans, errors = [], []
    for row in parsed:
        errors.extend(row.errors)
        customer = customer_plans.get(row.phone)
        vehicle = vehicle_plans.get(row.vin)
        row_plans.append(
            RowPlan(
                row=row.number,
                phone=row.phone,
                vin=row.vin,
                customer=customer.action if customer and not row.errors else None,
                vehicle=vehicle.action if vehicle and not row.errors else None,
            )
        )
    errors.sort(
        key=lambda e: (e.row, COLUMNS.index(e.field) if e.field in COLUMNS else len(COLUMNS))
    )
    return ImportPlan(
        group_id=group_id,
        rows_total=len(parsed),
        rows=row_plans,
        errors=errors,
        customers={p: c for p, c in customer_plans.items() if c.action},
        vehicles={v: p for v, p in vehicle_plans.items() if p.action},
    )


def _same_tags(stored, new: list[str]) -> bool:
    return sorted({str(t) for t in stored or []}) == new


def _plan_customer(group_id: int, plan: _CustomerPlan, default_store: Store | None) -> None:
    values = {name: value for name, (value, _row) in plan.fields.items()}
    existing = plan.existing
    if existing is None:
        customer = Customer(
            dealer_group_id=group_id,
            phone=plan.phone,
            source=Source.IMPORT,
            store=values.pop("store", default_store),
        )
        id_number = values.pop("id_number", "")
        for name, value in values.items():
            setattr(customer, name, value)
        set_id_number(customer, id_number)
        customer.phone_last4 = customer.phone[-4:]
        customer.phone2_last4 = customer.phone2[-4:] if customer.phone2 else ""
        plan.instance, plan.action = customer, "create"
        return
    changes = {}
    for name, value in values.items():
        if name == "id_number":
            if crypto.decrypt(existing.id_number_cipher) != value:
                changes[name] = value
        elif name == "tags":
            if not _same_tags(existing.tags, value):
                changes[name] = value
        elif name in ("store", *CONSULTANT_COLUMNS):
            if getattr(existing, f"{name}_id") != value.pk:
                changes[name] = value
        elif getattr(existing, name) != value:
            changes[name] = value
    plan.instance = existing
    if not changes:
        plan.action = "unchanged"
        return
    plan.before = snapshot(existing)
    for name, value in changes.items():
        if name == "id_number":
            set_id_number(existing, value)
            plan.changed |= {"id_number_cipher", "id_number_masked"}
            continue
        setattr(existing, name, value)
        plan.changed.add(name)
        if name == "phone2":
            existing.phone2_last4 = value[-4:]
            plan.changed.add("phone2_last4")
    plan.action = "update"


def _plan_vehicle(group_id: int, plan: _VehiclePlan, customer: _CustomerPlan) -> None:
    values = {name: value for name, (value, _row) in plan.fields.items()}
    existing = plan.existing
    if existing is None:
        vehicle = Vehicle(dealer_group_id=group_id, vin=plan.vin, **values)
        if vehicle.model_year is None:
            vehicle.model_year = vin_model_year(plan.vin)
        vehicle.current_owner = customer.instance
        plan.instance, plan.action, plan.new_ownership = vehicle, "create", True
        return
    changes = {name: value for name, value in values.items() if getattr(existing, name) != value}
    plan.instance = existing
    if existing.current_owner_id is None:
        plan.new_ownership = True
    if not changes and not plan.new_ownership:
        plan.action = "unchanged"
        return
    plan.before = snapshot(existing)
    for name, value in changes.items():
        setattr(existing, name, value)
        plan.changed.add(name)
    if plan.new_ownership:
        existing.current_owner = customer.instance
        plan.changed.add("current_owner")
    plan.action = "update"
