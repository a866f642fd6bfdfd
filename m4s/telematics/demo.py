"""Demo connected cars: simulated terminals with 90 days of history on the demo owners' cars and
a few more, a fault code and a theft alarm on the first owner's car, and an old crash case, so
the Vehicle Health Record, a forecast and an alarm can be seen at once. `m4s demo` then keeps a
few simulated cars reporting while it serves (`m4s simulate`)."""

import datetime as dt

from django.utils import timezone

from m4s.customers.selectors import vehicles_of_owner
from m4s.vehicles.models import Vehicle

from . import services
from .models import Device, RescueCase
from .writer import write_batch


def build_telematics_demo(owners, *, extra_cars: int = 20) -> None:
    from .simulator import backfill

    cars = []
    for owner in owners:
        cars += list(vehicles_of_owner(owner).values_list("pk", flat=True))
    group_ids = set(
        Vehicle.objects.unscoped().filter(pk__in=cars).values_list("dealer_group_id", flat=True)
    )
    others = (
        Vehicle.objects.unscoped()
        .filter(dealer_group_id__in=group_ids, current_owner__isnull=False)
        .exclude(pk__in=cars)
        .order_by("pk")
        .values_list("pk", flat=True)[:extra_cars]
    )
    backfill([*cars, *others], days=90)
    services.recompute_all_forecasts()
    services.remind_due_maintenance(lead_days=30)
    if cars:
        _moments(cars[0])


def _moments(vehicle_id: int) -> None:
    """A check-engine code now, a theft alarm last week, a crash case handled last month."""
    device = Device.objects.unscoped().filter(vehicle_id=vehicle_id).first()
    if device is None:
        return
    now = timezone.now()
    write_batch(
        device,
        [
            {
                "device_id": device.device_id,
                "seq": 9_000_001,
                "ts": (now - dt.timedelta(days=6)).isoformat(),
                "lat": 39.9219,
                "lon": 116.4435,
                "alarm": "tow",
                "ignition": False,
            },
            {
                "device_id": device.device_id,
                "seq": 9_000_002,
                "ts": (now - dt.timedelta(minutes=20)).isoformat(),
                "dtcs": ["P0420"],
                "ignition": True,
                "battery_v": 12.1,
            },
        ],
        via="http",
    )
    vehicle = Vehicle.objects.unscoped().select_related("current_owner__store").get(pk=vehicle_id)
    customer = vehicle.current_owner
    if customer is not None:
        RescueCase.objects.create(
            dealer_group_id=vehicle.dealer_group_id,
            vehicle=vehicle,
            customer=customer,
            store=customer.store,
            kind="crash",
            status="closed",
            opened_at=now - dt.timedelta(days=25),
            alarm_at=now - dt.timedelta(days=25),
            lat=39.9042,
            lon=116.4074,
            speed_kmh=38,
            acknowledged_at=now - dt.timedelta(days=25, minutes=-1),
            tow_partner="京城道路救援 Jingcheng Road Rescue",
            note="Minor front bumper damage; towed to the store.",
            closed_at=now - dt.timedelta(days=24),
        )
