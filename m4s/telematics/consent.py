"""The owner's telematics consent, enforced where data comes in and where it is shown.

Without the consent of the car's owner (PIPL: positions are sensitive personal data), ingest
keeps only what safety needs: crash, rollover, SOS and theft-type alarms. Their positions go to
the alarm and the rescue case (someone has to find the car), never to the telemetry rows or the
car's current state; every other report is acknowledged and dropped. The consent is read per
batch (one query), so withdrawing it takes effect with the next batch, and the hand-off
`owners.telematics_consent_changed` clears the position the car's state still holds at once.

Whose consent: a car's current owner (customer) who signed in to the app decides in the app
(`Owner.telematics_consent`); a customer without an app account by what the store recorded
(`Customer.telematics_consent`). A car without an owner (stock, a demonstrator) has nobody's
personal data to protect.
"""

from django.db.models import Q

from .choices import RESCUE_ALARMS, THEFT_ALARMS
from .models import VehicleState

SAFETY_ALARMS = frozenset(RESCUE_ALARMS | THEFT_ALARMS | {"sos"})

_NO_CONSENT = Q(
    current_owner__owner__isnull=False, current_owner__owner__telematics_consent=False
) | Q(current_owner__owner__isnull=True, current_owner__telematics_consent=False)


def vehicles_without_consent(group_id: int, vehicle_ids) -> set[int]:
    """The cars among `vehicle_ids` whose owner has not consented (one query for the set)."""
    from m4s.vehicles.models import Vehicle

    ids = {i for i in vehicle_ids if i is not None}
    if not ids:
        return set()
    return set(
        Vehicle.objects.for_group(group_id)
        .filter(pk__in=ids, current_owner__isnull=False)
        .filter(_NO_CONSENT)
        .values_list("pk", flat=True)
    )


def has_consent(vehicle) -> bool:
    return not vehicles_without_consent(vehicle.dealer_group_id, [vehicle.pk])


def forget_positions(group_id: int, vehicle_ids) -> int:
    """Clear the live and parked position the cars' current state holds (one statement)."""
    return (
        VehicleState.objects.for_group(group_id)
        .filter(vehicle_id__in=list(vehicle_ids))
        .filter(Q(lat__isnull=False) | Q(parked_lat__isnull=False))
        .update(lat=None, lon=None, parked_lat=None, parked_lon=None)
    )


def audit_staff_reads(actor, record: dict) -> None:
    """A staff member saw the car's live position or its position history (alarm positions):
    each leaves an audit row (m4s.core.audit, action "view") the group can review."""
    from m4s.core.audit import record_view

    vehicle, state = record["vehicle"], record.get("state")
    if state is not None and state.lat is not None:
        record_view(actor=actor, obj=vehicle, what="live_position")
    if any(a.lat is not None for a in record.get("alarms", [])):
        record_view(actor=actor, obj=vehicle, what="position_history")


def on_telematics_consent_changed(changed) -> None:
    """Hook receiver (settings.HOOKS["owners.telematics_consent_changed"]): a withdrawal clears
    the positions of the owner's cars in every group; idempotent."""
    if changed.granted:
        return
    from m4s.vehicles.models import Vehicle

    cars = (
        Vehicle.objects.unscoped()
        .filter(current_owner__owner_id=changed.owner_id)
        .values_list("dealer_group_id", "pk")
    )
    by_group: dict[int, list[int]] = {}
    for group_id, pk in cars:
        by_group.setdefault(group_id, []).append(pk)
    for group_id, ids in by_group.items():
        if vehicles_without_consent(group_id, ids):
            forget_positions(group_id, vehicles_without_consent(group_id, ids))
