"""Writing a checked import plan in one transaction, with timeline and audit rows."""

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from m4s.core.audit import audit_entry, diff, snapshot
from m4s.core.errors import DomainError
from m4s.core.models import AuditEntry
from m4s.customers.choices import TimelineKind
from m4s.customers.models import Customer, TimelineEvent
from m4s.customers.services import timeline_event
from m4s.vehicles.choices import OwnershipReason
from m4s.vehicles.models import Vehicle, VehicleOwnership

from .planning import (
    ImportPlan,
    ImportReport,
    _check_actor,
    _CustomerPlan,
    _plan,
    _VehiclePlan,
    plan_import,
)

BATCH_SIZE = 500


# --- writing ----------------------------------------------------------------------------------------
def run_import(
    actor,
    group_id: int,
    rows: Iterable[dict],
    *,
    dry_run: bool,
    progress: Callable[[int], Any] | None = None,
) -> ImportReport:
    """Import customers and cars. ``actor`` is a staff member holding IMPORT_CUSTOMERS, or None
    for the system (the CLI command). A dry run only plans. A real run refuses the whole file
    (DomainError "import_has_errors") when any row has an error; otherwise it writes every
    change in one transaction. ``progress(n_done)`` is called with the number of rows written."""
    _check_actor(actor, group_id)
    rows = list(rows)
    if dry_run:
        return plan_import(group_id, rows).report(dry_run=True)
    try:
        with transaction.atomic():
            plan = _plan(group_id, rows, lock=True)
            report = plan.report(dry_run=False)
            if plan.has_errors:
                error = DomainError(
                    "import_has_errors",
                    _(
                        "%(count)d problem(s) in the file; nothing was imported. Fix them and import again."
                    )
                    % {"count": len(plan.errors)},
                    status=400,
                    error_count=len(plan.errors),
                    errors=[
                        {"row": e.row, "field": e.field, "message": e.message}
                        for e in plan.errors[:50]
                    ],
                )
                error.report = report
                raise error
            _write(plan, actor, progress)
    except IntegrityError:
        raise DomainError(
            "import_conflict",
            _(
                "These customers or cars were changed while importing; nothing was imported. Import the file again."
            ),
            status=409,
        ) from None
    return report


def _audit_entry(group_id: int, actor, action: str, obj, before: dict | None, now) -> AuditEntry:
    return audit_entry(
        actor=actor,
        action=action,
        group_id=group_id,
        changes=diff(before, snapshot(obj)),
        obj=obj,
        at=now,
    )


def _write(plan: ImportPlan, actor, progress) -> None:
    group_id, now = plan.group_id, timezone.now()
    customers_by_row: dict[int, list[_CustomerPlan]] = defaultdict(list)
    for customer in plan.customers.values():
        customers_by_row[customer.rows[0]].append(customer)
    vehicles_by_row: dict[int, list[_VehiclePlan]] = defaultdict(list)
    for vehicle in plan.vehicles.values():
        vehicles_by_row[vehicle.rows[0]].append(vehicle)
    numbers = [r.row for r in plan.rows]
    for start in range(0, len(numbers), BATCH_SIZE):
        batch = numbers[start : start + BATCH_SIZE]
        customers = [c for n in batch for c in customers_by_row.get(n, ())]
        vehicles = [v for n in batch for v in vehicles_by_row.get(n, ())]
        _write_customers(group_id, actor, customers, now)
        _write_vehicles(group_id, actor, vehicles, now)
        if progress is not None:
            progress(start + len(batch))


def _write_customers(group_id: int, actor, plans: list[_CustomerPlan], now) -> None:
    created = [p.instance for p in plans if p.action == "create"]
    changed = [p for p in plans if p.action == "update"]
    if created:
        Customer.objects.bulk_create(created, batch_size=BATCH_SIZE)
        if any(c.pk is None for c in created):  # a backend that cannot return ids from an insert
            ids = dict(
                Customer.objects.for_group(group_id)
                .filter(phone__in=[c.phone for c in created])
                .values_list("phone", "pk")
            )
            for c in created:
                c.pk = ids[c.phone]
        TimelineEvent.objects.bulk_create(
            [
                timeline_event(
                    group_id=group_id,
                    customer_id=c.pk,
                    kind=TimelineKind.IMPORT,
                    at=now,
                    actor=actor,
                    title=gettext_noop("Imported from a file"),
                )
                for c in created
            ],
            batch_size=BATCH_SIZE,
        )
    if changed:
        for p in changed:
            p.instance.updated_at = now
        fields = sorted(set().union(*(p.changed for p in changed)) | {"updated_at"})
        Customer.objects.for_group(group_id).bulk_update(
            [p.instance for p in changed], fields, batch_size=BATCH_SIZE
        )
    AuditEntry.objects.bulk_create(
        [_audit_entry(group_id, actor, AuditEntry.Action.CREATE, c, None, now) for c in created]
        + [
            _audit_entry(group_id, actor, AuditEntry.Action.UPDATE, p.instance, p.before, now)
            for p in changed
        ],
        batch_size=BATCH_SIZE,
    )


def _write_vehicles(group_id: int, actor, plans: list[_VehiclePlan], now) -> None:
    for p in plans:
        if p.action in ("create", "update") and p.instance.current_owner is not None:
            p.instance.current_owner_id = (
                p.instance.current_owner.pk
            )  # the owner may have been created just now
    created = [p.instance for p in plans if p.action == "create"]
    changed = [p for p in plans if p.action == "update"]
    if created:
        Vehicle.objects.bulk_create(created, batch_size=BATCH_SIZE)
        if any(v.pk is None for v in created):
            ids = dict(
                Vehicle.objects.for_group(group_id)
                .filter(vin__in=[v.vin for v in created])
                .values_list("vin", "pk")
            )
            for v in created:
                v.pk = ids[v.vin]
    if changed:
        for p in changed:
            p.instance.updated_at = now
        fields = sorted(set().union(*(p.changed for p in changed)) | {"updated_at"})
        Vehicle.objects.for_group(group_id).bulk_update(
            [p.instance for p in changed], fields, batch_size=BATCH_SIZE
        )
    new_owners = [p.instance for p in plans if p.new_ownership]
    if new_owners:
        # A car without a current owner should have no open ownership; close any left over.
        VehicleOwnership.objects.for_group(group_id).filter(
            vehicle_id__in=[v.pk for v in new_owners if v.pk], ended_at__isnull=True
        ).update(ended_at=now)
        VehicleOwnership.objects.bulk_create(
            [
                VehicleOwnership(
                    dealer_group_id=group_id,
                    vehicle=v,
                    customer_id=v.current_owner_id,
                    reason=OwnershipReason.IMPORT,
                    started_at=now,
                )
                for v in new_owners
            ],
            batch_size=BATCH_SIZE,
        )
    AuditEntry.objects.bulk_create(
        [_audit_entry(group_id, actor, AuditEntry.Action.CREATE, v, None, now) for v in created]
        + [
            _audit_entry(group_id, actor, AuditEntry.Action.UPDATE, p.instance, p.before, now)
            for p in changed
        ],
        batch_size=BATCH_SIZE,
    )
