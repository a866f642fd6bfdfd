"""Demo trips and driving scores: five months of simulated driving for the demo owners' cars and
a few more, cut and scored by the same code as live telemetry (m4s/driving/trips.py), so the
trips list and the monthly score chart are alive at first sight. A couple of loyalty missions
("1,000 km with no harsh braking") use the trips' smooth kilometres.

The traces are built point by point in memory (a report every 5 s, every second around a hard
stop or a sharp turn, as a T-Box reports events) and never stored as telemetry: only the trips
are. Each car gets a cut point at the build time, so live telemetry the simulator sends later
is cut from there."""

import datetime as dt
import math
import random

from django.db import transaction
from django.utils import timezone

from m4s.customers.selectors import vehicles_of_owner
from m4s.driving import services
from m4s.driving.models import CutPoint, Trip
from m4s.driving.trips import Limits, Point, cut
from m4s.vehicles.models import Vehicle

BEIJING = (39.9042, 116.4074)
MONTHS = 5


class _Car:
    """A car being driven: position, heading, speed, odometer, and the reports it makes."""

    def __init__(self, rng: random.Random, ts: dt.datetime, home, odometer: float):
        self.rng, self.ts = rng, ts
        self.lat, self.lon = home
        self.heading = rng.uniform(0, 360)
        self.speed = 0.0
        self.odo = odometer
        self.points: list[Point] = []

    def report(self, ignition: bool | None = True) -> None:
        self.points.append(
            Point(
                self.ts,
                round(self.lat, 6),
                round(self.lon, 6),
                round(self.speed, 1),
                int(self.heading) % 360,
                round(self.odo, 3),
                ignition,
            )
        )

    def step(self, seconds: float, speed: float, turn: float = 0.0) -> None:
        km = (self.speed + speed) / 2 * seconds / 3600
        self.heading = (self.heading + turn) % 360
        h = math.radians(self.heading)
        self.lat += km * math.cos(h) / 110.574
        self.lon += km * math.sin(h) / (111.320 * math.cos(math.radians(self.lat)))
        self.odo += km
        self.speed = speed
        self.ts += dt.timedelta(seconds=seconds)
        self.report()

    def cruise(self, speed: float, seconds: float) -> None:
        rng = self.rng
        for _i in range(int(seconds // 5)):
            wobble = max(0.0, speed + rng.uniform(-4, 4))
            self.step(5, wobble, turn=rng.uniform(-6, 6))

    def change(self, to: float, per_second: float) -> None:
        """Speed up or slow down at `per_second` km/h per second (5-s reports, 1-s when hard)."""
        dt_s = 1 if per_second >= 12 else 5
        while abs(self.speed - to) > 0.5:
            delta = min(abs(to - self.speed), per_second * dt_s)
            self.step(dt_s, self.speed + (delta if to > self.speed else -delta))
        self.speed = to

    def sharp_turn(self) -> None:
        for _i in range(4):
            self.step(1, max(self.speed, 45), turn=16)

    def stand(self, seconds: float) -> None:
        for _i in range(int(seconds // 5)):
            self.ts += dt.timedelta(seconds=5)
            self.speed = 0.0
            self.report()


def _drive(car: _Car, *, minutes: float, style: dict, highway: bool) -> None:
    rng = car.rng
    car.report(True)  # engine on
    car.stand(rng.choice((5, 10, 20)))
    end = car.ts + dt.timedelta(minutes=minutes)
    while car.ts < end:
        kind = rng.random()
        if highway and kind < 0.5:
            target = rng.uniform(95, 118) + (18 if rng.random() < style["speeder"] else 0)
            car.change(target, rng.uniform(2, 4))
            car.cruise(target, rng.uniform(120, 420))
        elif kind < 0.75:
            target = rng.uniform(35, 55) + (28 if rng.random() < style["speeder"] / 2 else 0)
            car.change(target, 14 if rng.random() < style["aggressive"] else rng.uniform(3, 7))
            car.cruise(target, rng.uniform(40, 200))
        else:
            target = rng.uniform(60, 78)
            car.change(target, rng.uniform(3, 6))
            car.cruise(target, rng.uniform(60, 240))
        if rng.random() < style["aggressive"] * 0.5:
            car.sharp_turn()
        hard = rng.random() < style["aggressive"]
        car.change(0, 18 if hard else rng.uniform(4, 8))  # a light, a junction
        car.stand(rng.uniform(10, 90))
    car.change(0, 6)
    car.stand(10)
    car.report(False)  # engine off


def _style(rng: random.Random, i: int) -> dict:
    # the first owner's car is a careful driver with a few slips; others vary
    if i == 0:
        return {"aggressive": 0.04, "speeder": 0.08, "night": 0.05}
    return {
        "aggressive": rng.choice((0.02, 0.06, 0.15)),
        "speeder": rng.choice((0.03, 0.1, 0.25)),
        "night": rng.choice((0.03, 0.1, 0.2)),
    }


def trips_for(
    vehicle_id: int, *, days: int, today: dt.date, tz, style: dict, odometer: float = 20000.0
) -> list:
    """The measured trips of a car's simulated days (oldest first)."""
    from m4s.driving.trips import measure

    rng = random.Random(f"driving:{vehicle_id}")
    home = (BEIJING[0] + rng.uniform(-0.12, 0.12), BEIJING[1] + rng.uniform(-0.15, 0.15))
    out = []
    for back in range(days, 0, -1):
        day = today - dt.timedelta(days=back)
        weekend = day.weekday() >= 5
        plans: list[tuple[float, float, bool]] = []
        if not weekend and rng.random() < 0.85:
            plans += [(7 + rng.random() * 1.5, 25, False), (17.5 + rng.random() * 2, 30, False)]
        if rng.random() < (0.5 if weekend else 0.2):
            plans.append((10 + rng.random() * 8, rng.uniform(20, 70), rng.random() < 0.5))
        if rng.random() < style["night"]:
            plans.append((22 + rng.random() * 1.5, rng.uniform(15, 35), False))
        for hour, minutes, highway in sorted(plans):
            start = dt.datetime.combine(day, dt.time(0), tzinfo=tz) + dt.timedelta(hours=hour)
            car = _Car(rng, start, home, odometer)
            _drive(car, minutes=minutes * rng.uniform(0.8, 1.2), style=style, highway=highway)
            odometer = car.odo
            for piece in cut(car.points, Limits(), now=car.ts + dt.timedelta(hours=1)):
                out.append(measure(piece, Limits(), tz))
    return out


def build_driving_demo(owners, *, extra_cars: int = 6, months: int = MONTHS) -> int:
    """Trips and scores for the demo owners' cars and `extra_cars` more of their groups."""
    cars = []
    for owner in owners:
        cars += list(vehicles_of_owner(owner).values_list("pk", flat=True))
    groups = set(
        Vehicle.objects.unscoped().filter(pk__in=cars).values_list("dealer_group_id", flat=True)
    )
    others = list(
        Vehicle.objects.unscoped()
        .filter(dealer_group_id__in=groups, current_owner__isnull=False)
        .exclude(pk__in=cars)
        .order_by("pk")
        .values_list("pk", flat=True)[:extra_cars]
    )
    vehicles = list(
        Vehicle.objects.unscoped()
        .filter(pk__in=[*cars, *others])
        .select_related("current_owner__store", "purchase_store")
    )
    order = {pk: i for i, pk in enumerate([*cars, *others])}
    vehicles.sort(key=lambda v: order[v.pk])
    today = timezone.localdate()
    now = timezone.now()
    written = 0
    for i, vehicle in enumerate(vehicles):
        tz = services.tz_of(vehicle)
        rng = random.Random(f"driving-style:{vehicle.pk}")
        measured = trips_for(
            vehicle.pk,
            days=months * 30,
            today=today,
            tz=tz,
            style=_style(rng, i),
            odometer=float(vehicle.odometer_km or 20000),
        )
        rows = [
            services.trip_row(m, group_id=vehicle.dealer_group_id, vehicle_id=vehicle.pk)
            for m in measured
            if m["distance_km"] >= 0.2
        ]
        for row in rows:
            row.smooth_recorded = True  # history: loyalty is not told about the past
        with transaction.atomic():
            Trip.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
            CutPoint.objects.for_group(vehicle.dealer_group_id).update_or_create(
                dealer_group_id=vehicle.dealer_group_id,
                vehicle_id=vehicle.pk,
                defaults={"resume_at": now},
            )
        written += len(rows)
    _missions(groups)
    return written


def _missions(group_ids) -> None:
    from m4s.loyalty.models import Mission

    for g in group_ids:
        Mission.objects.for_group(g).get_or_create(
            dealer_group_id=g,
            event="smooth_km",
            defaults={
                "name": "1,000 km with no harsh braking",
                "name_i18n": {
                    "zh-hans": "1000 公里无急刹车",
                    "en": "1,000 km with no harsh braking",
                    "ko": "급제동 없이 1,000km",
                },
                "description": "Drive 1,000 km on trips without a harsh braking within 90 days.",
                "description_i18n": {
                    "zh-hans": "90 天内在没有急刹车的行程中累计行驶 1000 公里。",
                    "en": "Drive 1,000 km on trips without a harsh braking within 90 days.",
                    "ko": "90일 안에 급제동 없는 주행으로 1,000km를 달리세요.",
                },
                "measure": "sum",
                "target": 1000,
                "window_days": 90,
                "points": 300,
            },
        )
