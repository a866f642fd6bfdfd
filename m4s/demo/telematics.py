"""Demo connected cars: simulated terminals with 90 days of history on the demo owners' cars and
a few more, a fault code and a theft alarm on the first owner's car, and an old crash case, so
the Vehicle Health Record, a forecast and an alarm can be seen at once. `m4s demo` then keeps a
few simulated cars reporting while it serves (`m4s simulate`, m4s/telematics/simulator.py).

`backfill()` writes months of history so each car has a daily odometer and a forecast; it drives
the simulator's cars (`SimCar`) day by day and is also what `m4s simulate --backfill` runs."""

import datetime as dt
from pathlib import Path

from django.utils import timezone

from m4s.customers.selectors import vehicles_of_owner
from m4s.telematics import messages as msg
from m4s.telematics import services, writer
from m4s.telematics.choices import Protocol
from m4s.telematics.models import DailyOdometer, Device, RescueCase, Telemetry, VehicleState
from m4s.telematics.sim_cars import PETROL_PCT_PER_KM, SimCar
from m4s.telematics.simulator import (
    default_tokens_path,
    group_admins,
    load_tokens,
    save_tokens,
    sim_device_id,
    tz_of,
)
from m4s.telematics.writer import write_batch
from m4s.vehicles.models import Vehicle


def build_telematics_demo(owners, *, extra_cars: int = 20) -> None:
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
    from m4s.care.scan import run_scan

    run_scan(["maintenance"])  # the mileage chain's reminders, through the contact policy
    if cars:
        _moments(cars[0])
    from .rescue import build_directory, build_rescue_demo

    for group_id in sorted(group_ids):
        build_directory(group_id)  # tow partners and insurers of each demo group
    if cars:
        build_rescue_demo(cars[0])  # a past SOS case with tow and insurer steps
    if cars:
        from .ev import build_ev_demo

        build_ev_demo(cars[1] if len(cars) > 1 else cars[0])  # one EV over GB/T 32960


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


# --- history -------------------------------------------------------------------------------------
def _day_km(car: SimCar, day: dt.date) -> tuple[float, float]:
    """(km by mid-morning, km over the whole day) of a car's life on a past day."""
    road = 1.3  # roads are longer than the straight line
    plan = car._day(day)
    morning = total = 0.0
    if plan["commute"]:
        morning = msg.distance_km(*car.home, *car.work) * road
        total += 2 * morning
    if plan["errand"]:
        total += 2 * msg.distance_km(*car.home, *plan["errand"][1]) * road
    if plan["outing"]:
        total += 2 * msg.distance_km(*car.home, *plan["outing"][1]) * road
    if not total and car.rng.random() < 0.3:
        total = car.rng.uniform(3, 12)  # a short hop nobody planned
    return morning, total


def driving_windows(batch: list[dict], *, days: int, most: int):
    """Consecutive runs of time-ordered messages, each spanning at most `days` and holding at
    most `most` messages (a quiet car's 40 evening readings can span 40 days)."""
    part, first = [], None
    for m in batch:
        ts = dt.datetime.fromisoformat(m["ts"])
        if part and (len(part) >= most or ts - first > dt.timedelta(days=days)):
            yield part
            part = []
        if not part:
            first = ts
        part.append(m)
    if part:
        yield part


def backfill(
    vehicle_ids,
    days: int = 90,
    *,
    today: dt.date | None = None,
    seed: int = 0,
    tokens_path: Path | None = None,
) -> int:
    """Months of history for each car, written straight through `write_batch`: one or two
    readings a day (the CAN odometer after the morning commute and at night), so each car has a
    daily odometer and a mileage forecast. Cars get a simulated terminal if they have none (its
    token goes to `tokens_path`, by default the simulator's, so `simulate` can drive it later).
    Safe to run again: only days before the car's earliest daily odometer in the window are
    written. Returns the number of messages written."""
    today = today or timezone.localdate()
    first_day = today - dt.timedelta(days=days)
    vehicles = list(
        Vehicle.objects.unscoped()
        .filter(pk__in=list(vehicle_ids))
        .select_related("current_owner__store")
    )
    states = {
        s.vehicle_id: s
        for s in VehicleState.objects.unscoped().filter(vehicle_id__in=[v.pk for v in vehicles])
    }
    admins = group_admins()
    tokens_path = tokens_path or default_tokens_path()
    tokens = load_tokens(tokens_path)
    written = 0
    for vehicle in vehicles:
        device = (
            Device.objects.unscoped()
            .filter(vehicle=vehicle, is_active=True)
            .order_by("device_id")
            .first()
        )
        if device is None:
            admin = admins.get(vehicle.dealer_group_id)
            if admin is None:
                continue
            device_id = sim_device_id(vehicle.pk, "http")
            device, tokens[device_id] = services.register_device(
                admin, device_id=device_id, protocol=Protocol.HTTP, vehicle=vehicle
            )
            save_tokens(tokens_path, tokens)
        earliest = (
            DailyOdometer.objects.for_group(vehicle.dealer_group_id)
            .filter(vehicle=vehicle, date__gte=first_day)
            .order_by("date")
            .first()
        )
        last_day = (
            earliest.date - dt.timedelta(days=1) if earliest else today - dt.timedelta(days=1)
        )
        if last_day < first_day:
            continue
        tz = tz_of(vehicle)
        state = states.get(vehicle.pk)
        car = SimCar(
            device_id=device.device_id,
            vehicle_id=vehicle.pk,
            clock=timezone.now(),
            fuel=vehicle.fuel or "petrol",
            tz=tz,
            seed=seed,
        )
        n_days = (last_day - first_day).days + 1
        plan = [
            (first_day + dt.timedelta(days=i), *_day_km(car, first_day + dt.timedelta(days=i)))
            for i in range(n_days)
        ]
        distance = sum(total for _day, _m, total in plan)
        # End where the car's accepted readings begin, so the history joins them.
        first_ts = dt.datetime.combine(first_day, dt.time(0), tzinfo=tz)
        reported = state.odometer_km if state and state.odometer_km is not None else None
        first_reading = (
            Telemetry.objects.for_group(vehicle.dealer_group_id)
            .filter(vehicle_id=vehicle.pk, ts__gte=first_ts, odometer_km__isnull=False)
            .filter(odometer_note="")
            .order_by("ts")
            .values_list("odometer_km", flat=True)
            .first()
        )
        end_km = (
            first_reading
            or (earliest.odometer_km if earliest else None)
            or reported
            or vehicle.odometer_km
            or car.rng.uniform(15000, 60000)
        )
        start_km = max(0.0, end_km - distance)
        if reported and state.odometer_ts and state.odometer_ts < first_ts:
            start_km = max(start_km, reported)  # its last reading is older: carry on from it
        batch, km, seq = [], start_km, int(first_ts.timestamp())
        fuel = car.rng.uniform(40, 90)
        for day, morning, total in plan:
            evening = dt.datetime.combine(day, dt.time(21, car.rng.randint(0, 59)), tzinfo=tz)
            readings = []
            if morning:
                work = car.work
                arrived = dt.datetime.combine(day, dt.time(8, car.rng.randint(20, 59)), tzinfo=tz)
                readings.append((arrived, km + morning, work, True))
            home = car.home
            readings.append((evening, km + total, home, False))
            km += total
            if car.fuel_pct is not None:
                fuel -= total * (PETROL_PCT_PER_KM if not car.plug_in else PETROL_PCT_PER_KM / 3)
                if fuel < 15:
                    fuel = car.rng.uniform(90, 100)
            for ts, reading, (lat, lon), ignition in readings:
                seq += 1
                m = {
                    "device_id": device.device_id,
                    "seq": seq,
                    "ts": ts.astimezone(dt.UTC).isoformat(),
                    "lat": round(lat, 6),
                    "lon": round(lon, 6),
                    "speed_kmh": 0.0,
                    "odometer_km": round(reading, 1),
                    "odometer_source": "can",
                    "ignition": ignition,
                    "battery_v": 14.0 if ignition else 12.6,
                }
                if car.fuel_pct is not None:
                    m["fuel_pct"] = round(fuel, 1)
                if car.soc_pct is not None:
                    m["soc_pct"] = round(car.rng.uniform(40, 90), 1)
                batch.append(m)
        for part in driving_windows(batch, days=20, most=40):  # inside the writer's 30-day window
            now = dt.datetime.fromisoformat(part[-1]["ts"]) + dt.timedelta(minutes=1)
            result = writer.write_batch(device, part, via="sim", now=now)
            written += result.accepted
    for vehicle in vehicles:
        services.compute_forecast(vehicle.pk)
    return written
