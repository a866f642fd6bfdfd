"""Simulated connected cars for the demo and for load tests (`m4s simulate`). The months of
history behind each demo car (`backfill()`, daily odometer and forecast) are written by
`m4s.demo.telematics`, from the same simulated lives (`SimCar`).

A simulated car lives around Beijing: it has a home, usually a workplace, and a daily life —
commutes on weekdays (times differ per car), outings at weekends, now and then a long trip
(the Great Wall, Tianjin, Beidaihe), an errand some evenings. While it drives it reports every
`60 / rate` simulated seconds (position, speed, heading, the CAN odometer growing with the distance,
fuel or state of charge, battery voltage); parked it sends a heartbeat every ten minutes. Fuel
drains and is refilled, electric cars charge at home, 12 V batteries sag when parked. Rarely a
fault code comes on (real generic codes), a car crashes, or one is stolen (parked-movement
alarm, driven away, then the box's power is cut). Probabilities are options.

Time: `speedup` compresses simulated time (60 = a simulated minute per second; 0 = as fast as
possible). The simulated clock starts in the past and ends at "now", so no timestamp is ever in
the future (the writer refuses those) and none is older than the writer accepts.

Transports: HTTP (batches to the ingest endpoint with the terminal's token), MQTT (QoS 1 to
`m4s/v1/{key}/up/telemetry|event`), JT/T 808 over TCP (registration, authentication, 0x0200
and 0x0704 location reports; see jt808.py).
"""

import concurrent.futures
import contextlib
import dataclasses
import datetime as dt
import http.client
import json
import math
import os
import random
import socket
import tempfile
import threading
import time
import zoneinfo
from pathlib import Path
from urllib.parse import urlparse

from django.conf import settings
from django.utils import timezone

from m4s.core.errors import DomainError
from m4s.staff.choices import Role
from m4s.staff.models import StaffUser
from m4s.vehicles.models import Vehicle

from . import messages as msg
from . import services
from .choices import Protocol
from .models import Device, VehicleState

BEIJING = (39.9042, 116.4074)
WORKPLACES = [
    ("CBD", 39.9087, 116.4605),
    ("Zhongguancun", 39.9834, 116.3162),
    ("Financial Street", 39.9155, 116.3606),
    ("Wangjing", 39.9965, 116.4700),
    ("Yizhuang", 39.7950, 116.5060),
    ("Shangdi", 40.0330, 116.3080),
    ("Lize", 39.8650, 116.3150),
    ("Sanlitun", 39.9330, 116.4540),
]
OUTINGS = [
    ("Summer Palace", 39.9999, 116.2755),
    ("Olympic Park", 40.0020, 116.3900),
    ("Temple of Heaven", 39.8822, 116.4066),
    ("Wangfujing", 39.9140, 116.4110),
    ("Chaoyang Park", 39.9440, 116.4780),
    ("Fragrant Hills", 39.9920, 116.1890),
    ("Universal Beijing", 39.8530, 116.6770),
    ("Siyuanqiao IKEA", 39.9840, 116.4610),
    ("Capital Airport", 40.0799, 116.6031),
]
LONG_TRIPS = [
    ("Badaling Great Wall", 40.3560, 116.0160),
    ("Mutianyu Great Wall", 40.4310, 116.5640),
    ("Tianjin", 39.1250, 117.1900),
    ("Gubei Water Town", 40.6560, 117.2630),
    ("Chengde", 40.9760, 117.9390),
    ("Beidaihe", 39.8250, 119.4860),
]
# Generic OBD-II codes (SAE J2012): misfire, catalyst, lean, lost ECM, thermostat, EVAP leak.
FAULT_CODES = ["P0301", "P0420", "P0171", "U0100", "P0128", "P0442"]

HEARTBEAT = dt.timedelta(minutes=10)
TANK_L = 50.0
PETROL_PCT_PER_KM = 100 * 0.075 / TANK_L  # 7.5 L/100 km
BEV_PCT_PER_KM = 0.21  # 15 kWh/100 km of 70 kWh
PHEV_SOC_PCT_PER_KM = 1.1  # 18 kWh pack
MAX_MINUTES = 29 * 24 * 60  # the writer refuses readings older than 30 days


class SimulationError(Exception):
    """Something the person running the simulator must fix (no cars, no broker, ...)."""


# --- geometry ------------------------------------------------------------------------------------
def _offset(lat: float, lon: float, north_km: float, east_km: float) -> tuple[float, float]:
    return lat + north_km / 111.32, lon + east_km / (111.32 * math.cos(math.radians(lat)))


def _bearing(lat1, lon1, lat2, lon2) -> float:
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    x = math.sin(dl) * math.cos(p2)
    y = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return math.degrees(math.atan2(x, y)) % 360


def _around(rng: random.Random, centre, low_km: float, high_km: float) -> tuple[float, float]:
    r, a = rng.uniform(low_km, high_km), rng.uniform(0, 2 * math.pi)
    return _offset(centre[0], centre[1], r * math.cos(a), r * math.sin(a))


def _route(rng: random.Random, a, b, *, highway: bool) -> list[tuple[float, float]]:
    """Waypoints from a to b: city streets run on a grid (an L with a jog), highways are a
    slightly bent line."""
    if highway:
        n = rng.randint(3, 5)
        points = [
            (
                a[0] + (b[0] - a[0]) * i / n + rng.uniform(-0.02, 0.02),
                a[1] + (b[1] - a[1]) * i / n + rng.uniform(-0.02, 0.02),
            )
            for i in range(1, n)
        ]
        return [*points, b]
    corner = (a[0], b[1]) if rng.random() < 0.5 else (b[0], a[1])
    mid = (
        (a[0] + corner[0]) / 2 + rng.uniform(-0.004, 0.004),
        (a[1] + corner[1]) / 2 + rng.uniform(-0.004, 0.004),
    )
    return [mid, corner, b]


@dataclasses.dataclass
class Trip:
    waypoints: list
    destination: str  # home, work, out
    highway: bool
    stay: dt.timedelta = dt.timedelta(0)  # how long the car stays there
    crash_at_km: float | None = None
    stolen: bool = False
    km: float = 0.0


@dataclasses.dataclass
class Plan:
    depart_at: dt.datetime
    destination: str
    to: tuple[float, float]
    stay: dt.timedelta = dt.timedelta(0)
    highway: bool = False


# --- one simulated car ---------------------------------------------------------------------------
class SimCar:
    """A car and its terminal. `advance(until)` moves its clock forward in report steps and
    returns the messages the terminal would have sent (dicts the writer understands)."""

    def __init__(
        self,
        *,
        device_id: str,
        vehicle_id: int,
        clock: dt.datetime,
        fuel: str = "petrol",
        odometer_km: float = 20000.0,
        seed: int = 0,
        tz=None,
        schedule: str = "realistic",
        crash_prob: float = 0.0005,
        theft_prob: float = 0.0002,
        fault_prob: float = 0.01,
        position: tuple[float, float] | None = None,
        fuel_pct: float | None = None,
        soc_pct: float | None = None,
        seq: int | None = None,
    ):
        self.device_id, self.vehicle_id = device_id, vehicle_id
        self.rng = random.Random(f"{seed}:{vehicle_id}")
        rng = self.rng
        self.tz = tz or zoneinfo.ZoneInfo(settings.TIME_ZONE)
        self.schedule = schedule
        self.crash_prob, self.theft_prob, self.fault_prob = crash_prob, theft_prob, fault_prob
        self.electric = fuel == "bev"
        self.plug_in = fuel in {"bev", "phev"}
        # a life: where it sleeps, where (and whether) it works, when it commutes
        self.home = _around(rng, BEIJING, 3, 22)
        self.commuter = rng.random() < 0.8
        self.work = rng.choice(WORKPLACES)[1:]
        self.leave_home = dt.timedelta(hours=7, minutes=rng.randint(0, 100))
        self.leave_work = dt.timedelta(hours=17, minutes=rng.randint(15, 130))
        self.weak_battery = rng.random() < 0.05
        # its state now
        self.clock = clock
        self.lat, self.lon = position or self.home
        self.at = self._where()
        self.heading = 0
        self.speed = 0.0
        self.odometer = float(odometer_km)
        self.fuel_pct = None if self.electric else (fuel_pct or rng.uniform(35, 95))
        self.soc_pct = (soc_pct or rng.uniform(40, 95)) if self.plug_in else None
        self.battery_v = 12.3 if self.weak_battery else 12.6
        self.ignition = False
        self.dtcs: list[str] = []
        self.trip: Trip | None = None
        self.plan: Plan | None = None
        self.crashed = self.silent = self.low_battery_sent = False
        self.theft_started: dt.datetime | None = None
        self.last_report: dt.datetime | None = None
        self.seq = seq if seq is not None else int(clock.timestamp() * 1000) % 2**40
        self.not_before: dt.datetime | None = None  # its last stored report: stay after it
        self._days: dict[dt.date, dict] = {}
        self.terminal: Terminal | None = None  # set by make_cars

    def _where(self) -> str:
        for name, place in (("home", self.home), ("work", self.work)):
            if msg.distance_km(self.lat, self.lon, *place) < 0.5:
                return name
        return "out"

    # -- the clock --
    def advance(self, until: dt.datetime, step: float) -> list[dict]:
        out: list[dict] = []
        delta = dt.timedelta(seconds=step)
        while self.clock + delta <= until:
            self.clock += delta
            if self.silent or (self.not_before and self.clock <= self.not_before):
                continue
            self._tick(step, out)
        return out

    def _tick(self, step: float, out: list) -> None:
        now = self.clock
        if self.trip is not None:
            self._drive(step, out)
            return
        if self.plan is None:
            self.plan = self._next_plan(now)
        if not self.crashed and self.plan and now >= self.plan.depart_at:
            self._start(self.plan)
            self.plan = None
            self._report(out)
            return
        self._parked(step)
        if self.theft_prob and self.rng.random() < self.theft_prob * step / 86400:
            self._start_theft()
            self._report(out, alarm="movement")
            return
        if not self.low_battery_sent and self.battery_v < 11.8:
            self.low_battery_sent = True
            self._report(out, alarm="low_battery")
        elif self.last_report is None or now - self.last_report >= HEARTBEAT:
            self._report(out)

    # -- planning a life --
    def _day(self, day: dt.date) -> dict:
        """What this car does on a day (decided once per day)."""
        if day not in self._days:
            rng = random.Random(f"{self.rng.random()}:{day}")
            weekday = day.weekday() < 5
            plan = {
                "commute": weekday and self.commuter and rng.random() > 0.05,  # 5%: a day off
                "jitter": dt.timedelta(minutes=rng.randint(-12, 12)),
                "errand": None,
                "outing": None,
            }
            if weekday and (not self.commuter or rng.random() < 0.25):
                start = (
                    dt.timedelta(hours=19, minutes=30) if self.commuter else dt.timedelta(hours=10)
                )
                plan["errand"] = (
                    start + dt.timedelta(minutes=rng.randint(0, 300 if not self.commuter else 90)),
                    rng.choice(OUTINGS)[1:]
                    if rng.random() < 0.5
                    else _around(rng, self.home, 1, 6),
                    dt.timedelta(minutes=rng.randint(25, 100)),
                )
            if not weekday and rng.random() < 0.8:
                long_trip = rng.random() < 0.12
                place = rng.choice(LONG_TRIPS if long_trip else OUTINGS)[1:]
                plan["outing"] = (
                    dt.timedelta(hours=rng.uniform(8.5, 14.5)),
                    place,
                    dt.timedelta(hours=rng.uniform(3, 6) if long_trip else rng.uniform(1, 3.5)),
                    long_trip,
                )
            self._days[day] = plan
        return self._days[day]

    def _next_plan(self, now: dt.datetime) -> Plan | None:
        rng = self.rng
        if self.schedule == "busy":  # a taxi-like life for lively demos: off at once
            to = _around(rng, BEIJING, 2, 18)
            wait = rng.uniform(0.5, 4) if self.last_report else rng.uniform(0, 0.5)
            return Plan(now + dt.timedelta(minutes=wait), "out", to)
        if self.at == "out":  # errands and outings end at home
            return Plan(now, "home", self.home, highway=self._far(self.home))
        local = now.astimezone(self.tz)
        for offset in range(8):
            day = local.date() + dt.timedelta(days=offset)
            midnight = dt.datetime.combine(day, dt.time(0), tzinfo=self.tz)
            plan = self._day(day)
            if self.at == "work":
                leave = midnight + self.leave_work + plan["jitter"]
                return Plan(max(leave, now + dt.timedelta(minutes=5)), "home", self.home)
            options = []
            if plan["commute"]:
                options.append(Plan(midnight + self.leave_home + plan["jitter"], "work", self.work))
            if plan["errand"]:
                at, to, stay = plan["errand"]
                options.append(Plan(midnight + at, "out", to, stay))
            if plan["outing"]:
                at, to, stay, far = plan["outing"]
                options.append(Plan(midnight + at, "out", to, stay, highway=far))
            options = [p for p in options if p.depart_at > now]
            if options:
                return min(options, key=lambda p: p.depart_at)
        return None

    def _far(self, to) -> bool:
        return msg.distance_km(self.lat, self.lon, *to) > 40

    # -- driving --
    def _start(self, plan: Plan) -> None:
        rng = self.rng
        highway = plan.highway or self._far(plan.to)
        self.trip = Trip(
            _route(rng, (self.lat, self.lon), plan.to, highway=highway),
            plan.destination,
            highway,
            stay=plan.stay,
        )
        length = msg.distance_km(self.lat, self.lon, *plan.to)
        if self.crash_prob and rng.random() < self.crash_prob:
            self.trip.crash_at_km = rng.uniform(0.2, 0.8) * length
        if self.fault_prob and rng.random() < self.fault_prob:
            code = rng.choice(FAULT_CODES)
            if code not in self.dtcs:
                self.dtcs.append(code)
        elif self.dtcs and rng.random() < 0.1:  # fixed at the workshop, or went away
            self.dtcs = []
        self.ignition = True
        self.battery_v = round(rng.uniform(13.8, 14.4), 2)
        self.low_battery_sent = False

    def _start_theft(self) -> None:
        rng = self.rng
        to = _around(rng, (self.lat, self.lon), 15, 40)
        self.trip = Trip(_route(rng, (self.lat, self.lon), to, highway=False), "out", False)
        self.trip.stolen = True
        self.theft_started = self.clock
        self.plan = None

    def _drive(self, step: float, out: list) -> None:
        trip, rng = self.trip, self.rng
        if trip.highway:
            self.speed = min(120.0, max(70.0, rng.gauss(102, 9)))
        elif rng.random() < 0.12:
            self.speed = 0.0  # a red light, a jam
        else:
            self.speed = min(75.0, max(6.0, rng.gauss(38, 13)))
        km = self.speed * step / 3600
        while km > 1e-6 and trip.waypoints:
            target = trip.waypoints[0]
            left = msg.distance_km(self.lat, self.lon, *target)
            if left > 1e-3:
                self.heading = round(_bearing(self.lat, self.lon, *target)) % 360
            move = min(km, left)
            if left <= km:
                self.lat, self.lon = target
                trip.waypoints.pop(0)
            else:
                f = move / left
                self.lat += (target[0] - self.lat) * f
                self.lon += (target[1] - self.lon) * f
            km -= move
            self.odometer += move  # the CAN odometer follows the distance driven
            self._consume(move)
            trip.km += move
        if trip.stolen:
            if self.clock - self.theft_started >= dt.timedelta(minutes=15):
                self._report(out, alarm="power_cut")  # the thieves find the box
                self.silent = True
            else:
                self._report(out)
            return
        if trip.crash_at_km is not None and trip.km >= trip.crash_at_km:
            self.speed = max(self.speed, rng.uniform(35, 70))
            self._report(out, alarm="crash")
            self.speed, self.crashed, self.trip = 0.0, True, None
            self.ignition = False
            self._report(out)
            return
        if not trip.waypoints:
            self._arrive(out)
        else:
            self._report(out)

    def _arrive(self, out: list) -> None:
        trip, rng = self.trip, self.rng
        self.trip, self.speed, self.ignition = None, 0.0, False
        self.at = trip.destination if trip.destination != "out" else self._where_out()
        if self.fuel_pct is not None and self.fuel_pct < 15:
            self.fuel_pct = rng.uniform(93, 100)  # the last stop was at a petrol station
        self.battery_v = 12.3 if self.weak_battery else round(rng.uniform(12.55, 12.7), 2)
        self._report(out)
        self.plan = (
            Plan(self.clock + trip.stay, "home", self.home, highway=self._far(self.home))
            if trip.destination == "out" and self.schedule != "busy"
            else None
        )

    def _where_out(self) -> str:
        return "out" if self._where() != "home" else "home"

    def _consume(self, km: float) -> None:
        if self.electric:
            self.soc_pct = max(3.0, self.soc_pct - BEV_PCT_PER_KM * km)
            return
        if self.plug_in and self.soc_pct > 15:
            self.soc_pct = max(15.0, self.soc_pct - PHEV_SOC_PCT_PER_KM * km)
            return
        self.fuel_pct = max(2.0, self.fuel_pct - PETROL_PCT_PER_KM * km)

    def _parked(self, step: float) -> None:
        hours = step / 3600
        if self.plug_in:
            if self.at == "home" and self.soc_pct < 90:  # 7 kW wallbox
                self.soc_pct = min(90.0, self.soc_pct + 10 * hours)
            elif self.at == "out" and self.soc_pct < 20:  # a fast charger while shopping
                self.soc_pct = min(80.0, self.soc_pct + 60 * hours)
        floor = 11.5 if self.weak_battery else 12.2
        self.battery_v = max(floor, self.battery_v - (0.06 if self.weak_battery else 0.01) * hours)

    # -- what the terminal sends --
    def _report(self, out: list, alarm: str = "none") -> None:
        self.seq += 1
        self.last_report = self.clock
        m = {
            "device_id": self.device_id,
            "seq": self.seq,
            "ts": self.clock.isoformat(),
            "lat": round(self.lat, 6),
            "lon": round(self.lon, 6),
            "speed_kmh": round(self.speed, 1),
            "heading": self.heading,
            "odometer_km": round(self.odometer, 1),
            "odometer_source": "can",
            "ignition": self.ignition,
            "battery_v": round(self.battery_v, 2),
            "alarm": alarm,
        }
        if self.fuel_pct is not None:
            m["fuel_pct"] = round(self.fuel_pct, 1)
        if self.soc_pct is not None:
            m["soc_pct"] = round(self.soc_pct, 1)
        if self.ignition and self.dtcs:
            m["dtcs"] = list(self.dtcs)
        out.append(m)


# --- terminals on demo cars -----------------------------------------------------------------------
@dataclasses.dataclass
class Terminal:
    vehicle: Vehicle
    device: Device
    secret: str | None = None  # HTTP token secret, when known


def sim_device_id(vehicle_id: int, via: str) -> str:
    return f"sim-{vehicle_id}-808" if via == "jt808" else f"sim-{vehicle_id}"


def sim_terminal_phone(vehicle_id: int) -> str:
    return f"144{vehicle_id:08d}"  # an IoT (M2M) number, 11 digits


def default_tokens_path() -> Path:
    return Path(settings.DATA_DIR) / "simulator-terminals.json"


def load_tokens(path: Path) -> dict:
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text())
    except ValueError:
        return {}


def save_tokens(path: Path, tokens: dict) -> None:
    """Write the file atomically through a temporary file of our own (two simulators or demo
    builds at once must not share one temporary name)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:  # mkstemp creates it 0600: the terminals' secrets
            f.write(json.dumps(tokens, indent=1, sort_keys=True))
        os.replace(name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise


def group_admins() -> dict:
    admins = {}
    for user in StaffUser.objects.filter(role=Role.GROUP_ADMIN, is_active=True).order_by("pk"):
        admins.setdefault(user.dealer_group_id, user)
    return admins


def _vehicles(group=None):
    vehicles = Vehicle.objects.unscoped().select_related("current_owner__store").order_by("pk")
    if group is not None:
        from m4s.org.models import DealerGroup

        key = str(group)
        found = DealerGroup.objects.filter(
            **({"pk": int(key)} if key.isdigit() else {"slug": key})
        ).first()
        if found is None:
            raise SimulationError(f"No dealer group {group!r} (give its id or slug).")
        vehicles = vehicles.filter(dealer_group=found)
    return vehicles


def prepare_terminals(
    count: int, via: str, *, group=None, tokens_path: Path | None = None, notes=None
) -> list[Terminal]:
    """`count` cars with a simulated terminal for `via`, registering terminals (through
    `register_device`, as a group admin of the car's group) on cars that have none. Cars with
    a real terminal are left alone; HTTP needs the token, kept in `tokens_path`."""
    notes = notes if notes is not None else []
    tokens_path = tokens_path or default_tokens_path()
    tokens = load_tokens(tokens_path)
    admins = group_admins()
    chosen: list[Terminal] = []
    skipped: dict[str, int] = {}

    def skip(why: str) -> None:
        skipped[why] = skipped.get(why, 0) + 1

    changed = False
    protocol = {"http": Protocol.HTTP, "mqtt": Protocol.MQTT, "jt808": Protocol.JT808}[via]
    vehicles = _vehicles(group)
    for start in range(0, vehicles.count(), 500):
        chunk = list(vehicles[start : start + 500])
        devices: dict[int, list[Device]] = {}
        for d in Device.objects.unscoped().filter(vehicle_id__in=[v.pk for v in chunk]):
            devices.setdefault(d.vehicle_id, []).append(d)
        for vehicle in chunk:
            if len(chosen) >= count:
                break
            own = devices.get(vehicle.pk, [])
            if any(not d.device_id.startswith("sim-") for d in own):
                skip("has a real terminal")
                continue
            want = sim_device_id(vehicle.pk, via)
            device = next((d for d in own if d.device_id == want), None)
            secret = tokens.get(want)
            if device is None:
                admin = admins.get(vehicle.dealer_group_id)
                if admin is None:
                    skip("no group admin to register it")
                    continue
                try:
                    device, secret = services.register_device(
                        admin,
                        device_id=want,
                        protocol=protocol,
                        vehicle=vehicle,
                        terminal_phone=sim_terminal_phone(vehicle.pk) if via == "jt808" else "",
                    )
                except DomainError as e:  # a clash with another terminal: leave the car alone
                    skip(e.message)
                    continue
                tokens[want], changed = secret, True
            elif not device.is_active:
                skip("terminal switched off")
                continue
            elif via == "http" and not secret:
                skip("its terminal's token is not in the simulator's token file")
                continue
            chosen.append(Terminal(vehicle, device, secret))
        if len(chosen) >= count:
            break
    if changed:
        save_tokens(tokens_path, tokens)
    for why, n in skipped.items():
        notes.append(f"skipped {n} car(s): {why}")
    return chosen


def tz_of(vehicle: Vehicle):
    owner = vehicle.current_owner
    if owner is not None and owner.store_id:
        return owner.store.tz
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def make_cars(terminals: list[Terminal], clock: dt.datetime, **kw) -> list[SimCar]:
    """Simulated cars that carry on from each car's last known state."""
    states = {
        s.vehicle_id: s
        for s in VehicleState.objects.unscoped().filter(
            vehicle_id__in=[t.vehicle.pk for t in terminals]
        )
    }
    cars = []
    for t in terminals:
        v, state = t.vehicle, states.get(t.vehicle.pk)
        rng = random.Random(v.pk)
        # carry on from what the platform last accepted (a jump would be refused as impossible)
        odometer = (state.odometer_km if state else None) or v.odometer_km or rng.uniform(5e3, 6e4)
        car = SimCar(
            device_id=t.device.device_id,
            vehicle_id=v.pk,
            clock=clock,
            fuel=v.fuel or "petrol",
            odometer_km=odometer,
            tz=tz_of(v),
            position=(state.lat, state.lon) if state and state.lat is not None else None,
            fuel_pct=state.fuel_pct if state else None,
            soc_pct=state.soc_pct if state else None,
            **kw,
        )
        if state is not None:
            car.not_before = max(state.ts, state.odometer_ts or state.ts)
        car.terminal = t
        cars.append(car)
    return cars


# --- transports ----------------------------------------------------------------------------------
@dataclasses.dataclass
class Counts:
    sent: int = 0  # messages
    acked: int = 0  # acknowledged by the receiving end (HTTP 200, MQTT PUBACK, JT/T 808 0x8001)
    accepted: int = 0  # stored as new (HTTP only: the other transports do not say)
    duplicates: int = 0
    dead: int = 0
    errors: int = 0
    last_error: str = ""

    def add(self, other: "Counts") -> None:
        for f in ("sent", "acked", "accepted", "duplicates", "dead", "errors"):
            setattr(self, f, getattr(self, f) + getattr(other, f))
        self.last_error = other.last_error or self.last_error

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


class HttpSender:
    """Batches to `POST /api/v1/telematics/ingest` with each terminal's token, a few at once."""

    PATH = "/api/v1/telematics/ingest"

    def __init__(self, url: str, workers: int = 8):
        parsed = urlparse(url or "http://127.0.0.1:8000")
        if parsed.scheme not in {"http", "https"} or not parsed.hostname:
            raise SimulationError(f"--url must be http(s)://host:port for HTTP, not {url!r}")
        self.url = url
        self.https = parsed.scheme == "https"
        self.host, self.port = parsed.hostname, parsed.port
        self.path = parsed.path.rstrip("/") + self.PATH
        self._local = threading.local()
        self._pool = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="sim-http")

    def _connection(self, fresh=False) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None or fresh:
            if conn is not None:
                conn.close()
            cls = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
            conn = self._local.conn = cls(self.host, self.port, timeout=30)
        return conn

    def _post(self, car: SimCar, batch: list) -> Counts:
        c = Counts(sent=len(batch))
        body = json.dumps(batch)
        headers = {
            "Content-Type": "application/json",
            "Authorization": "Bearer "
            + services.token_for(car.terminal.device, car.terminal.secret),
        }
        # As a terminal would: try again after a dropped connection or a server error (the
        # ingest dedupes, so a batch stored before its answer was lost is stored once).
        for attempt, pause in enumerate((0.0, 0.3, 1.0, 3.0)):
            time.sleep(pause)
            try:
                conn = self._connection(fresh=attempt > 0)
                conn.request("POST", self.path, body=body, headers=headers)
                response = conn.getresponse()
                text = response.read()
            except (OSError, http.client.HTTPException) as e:
                c.last_error = f"{self.url}: {e}"
                continue
            if response.status < 500:
                break
            c.last_error = f"HTTP {response.status}: {text[:200]!r}"
        else:
            c.errors = len(batch)
            return c
        if response.status != 200:
            c.errors, c.last_error = len(batch), f"HTTP {response.status}: {text[:200]!r}"
            return c
        c.last_error = ""
        result = json.loads(text)
        c.acked = len(batch)
        c.accepted, c.duplicates = result["accepted"], result["duplicates"]
        c.dead = result["dead_lettered"]
        if result["errors"]:
            c.last_error = str(result["errors"][0])[:200]
        return c

    def send(self, batches: list[tuple[SimCar, list]]) -> Counts:
        total = Counts()
        for c in self._pool.map(lambda item: self._post(*item), batches):
            total.add(c)
        return total

    def close(self) -> None:
        self._pool.shutdown()


class MqttSender:
    """QoS 1 to `m4s/v1/{key}/up/telemetry` (alarms to `.../up/event`), JSON arrays.
    One connection for all simulated terminals (real ones each have their own)."""

    def __init__(self, url: str, prefix: str = ""):
        from . import mqtt_ingest

        self.mqtt_ingest = mqtt_ingest
        url = url or settings.MQTT_URL or "mqtt://127.0.0.1:1883"
        try:
            broker = mqtt_ingest.parse_url(url)
        except ValueError as e:
            raise SimulationError(str(e)) from None
        self.prefix = prefix or mqtt_ingest.DEFAULT_PREFIX
        self.client = mqtt_ingest.make_client(broker, f"m4s-sim-{os.getpid()}-{id(self):x}")
        try:
            self.client.connect(broker.host, broker.port)
        except OSError as e:
            raise SimulationError(f"cannot reach the MQTT broker {url}: {e}") from None
        self.client.loop_start()

    def send(self, batches: list[tuple[SimCar, list]]) -> Counts:
        total, infos = Counts(), []
        for car, batch in batches:
            for kind, part in (
                ("event", [m for m in batch if m.get("alarm", "none") != "none"]),
                ("telemetry", [m for m in batch if m.get("alarm", "none") == "none"]),
            ):
                if part:
                    topic = self.mqtt_ingest.topic_for(
                        car.terminal.device.key, kind, prefix=self.prefix
                    )
                    infos.append((len(part), self.client.publish(topic, json.dumps(part), qos=1)))
                    total.sent += len(part)
        for n, info in infos:
            try:
                info.wait_for_publish(timeout=30)
            except (RuntimeError, ValueError) as e:
                total.errors, total.last_error = total.errors + n, str(e)
                continue
            if info.is_published():
                total.acked += n
            else:
                total.errors, total.last_error = total.errors + n, "no PUBACK from the broker"
        return total

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class _Jt808Link:
    """One terminal's TCP connection: registers, authenticates, then reports locations."""

    def __init__(self, codec, host: str, port: int, car: SimCar):
        self.jt, self.car = codec, car
        self.phone = car.terminal.device.terminal_phone
        self.serial = 0
        self.sock = socket.create_connection((host, port), timeout=15)
        self.splitter = codec.FrameSplitter()
        self.replies: list = []
        vehicle = car.terminal.vehicle
        reply = self.call(
            codec.Registration(
                province=11,  # Beijing
                city=0,
                maker_id="M4SIM",
                model="SIM-808",
                terminal_id=str(vehicle.pk)[-7:],
                plate_colour=1 if vehicle.plate else 0,
                plate=vehicle.plate or vehicle.vin,
            )
        )
        if not isinstance(reply, codec.RegistrationReply) or reply.result != codec.REG_OK:
            raise SimulationError(f"JT/T 808 registration of {self.phone} refused: {reply}")
        reply = self.call(codec.Authentication(reply.auth_code))
        if getattr(reply, "result", None) != codec.OK:
            raise SimulationError(f"JT/T 808 authentication of {self.phone} refused: {reply}")

    def write(self, body) -> int:
        self.serial = (self.serial + 1) & 0xFFFF
        self.sock.sendall(self.jt.encode_message(body, phone=self.phone, serial=self.serial))
        return self.serial

    def read_reply(self, serial: int):
        while True:
            for i, (_header, body) in enumerate(self.replies):
                if getattr(body, "reply_serial", None) == serial:
                    del self.replies[: i + 1]
                    return body
            data = self.sock.recv(4096)
            if not data:
                raise OSError("the JT/T 808 server closed the connection")
            for frame in self.splitter.feed(data):
                self.replies.append(self.jt.decode_message(frame))

    def call(self, body):
        return self.read_reply(self.write(body))

    def close(self) -> None:
        self.sock.close()


class Jt808Sender:
    """JT/T 808-2013 over TCP: a connection per terminal; locations as 0x0200, or 0x0704 batches
    of up to 20; acknowledged (0x8001) by the server after commit. Fault codes do not travel
    (no standard item for them); fuel goes as litres of a 50 L tank."""

    ALARM_BIT = {
        "crash": 29,
        "rollover": 30,
        "theft": 26,
        "movement": 28,
        "tow": 28,
        "sos": 0,
        "power_cut": 8,
        "low_battery": 7,
    }

    def __init__(self, url: str):
        try:
            from . import jt808
        except ImportError:
            raise SimulationError(
                "--via jt808 needs the JT/T 808 codec (m4s/telematics/jt808.py), "
                "which this installation does not have yet."
            ) from None
        self.jt = jt808
        parsed = urlparse(url or "tcp://127.0.0.1:7808")
        if parsed.scheme not in {"tcp", "jt808"} or not parsed.hostname:
            raise SimulationError(f"--url must be tcp://host:port for JT/T 808, not {url!r}")
        self.host, self.port = parsed.hostname, parsed.port or 7808
        self.links: dict[str, _Jt808Link] = {}

    def _location(self, m: dict):
        jt = self.jt
        status = jt.STATUS_POSITIONED | (jt.STATUS_ACC_ON if m.get("ignition") else 0)
        bit = self.ALARM_BIT.get(m.get("alarm", "none"))
        return jt.Location(
            alarm_flags=(1 << bit) if bit is not None else 0,
            status=status,
            lat=m["lat"],
            lon=m["lon"],
            altitude_m=45,
            speed_kmh=m["speed_kmh"],
            direction=m["heading"],
            ts=dt.datetime.fromisoformat(m["ts"]),
            mileage_km=m["odometer_km"],
            fuel_l=round(m["fuel_pct"] * TANK_L / 100, 1) if "fuel_pct" in m else None,
        )

    def _link(self, car: SimCar) -> _Jt808Link:
        link = self.links.get(car.device_id)
        if link is None:
            try:
                link = self.links[car.device_id] = _Jt808Link(self.jt, self.host, self.port, car)
            except OSError as e:
                raise SimulationError(
                    f"cannot reach the JT/T 808 server at {self.host}:{self.port}: {e}"
                ) from None
        return link

    def send(self, batches: list[tuple[SimCar, list]]) -> Counts:
        total, waiting = Counts(), []
        for car, batch in batches:
            link = self._link(car)
            for start in range(0, len(batch), 20):
                part = [self._location(m) for m in batch[start : start + 20]]
                body = part[0] if len(part) == 1 else self.jt.LocationBatch(0, part)
                try:
                    waiting.append((link, link.write(body), len(part)))
                except OSError as e:
                    total.errors, total.last_error = total.errors + len(part), str(e)
                    self.links.pop(car.device_id, None)
                total.sent += len(part)
        for link, serial, n in waiting:  # written to every connection first, then the acks
            try:
                reply = link.read_reply(serial)
            except OSError as e:
                total.errors, total.last_error = total.errors + n, str(e)
                self.links.pop(link.car.device_id, None)
                continue
            if getattr(reply, "result", None) == self.jt.OK:
                total.acked += n
            else:
                total.errors, total.last_error = total.errors + n, f"0x8001 result {reply}"
        return total

    def close(self) -> None:
        for link in self.links.values():
            link.close()


def make_sender(via: str, url: str = "", *, mqtt_prefix: str = ""):
    if via == "http":
        return HttpSender(url)
    if via == "mqtt":
        return MqttSender(url, mqtt_prefix)
    if via == "jt808":
        return Jt808Sender(url)
    raise SimulationError(f"--via is http, mqtt or jt808, not {via!r}")


# --- the run -------------------------------------------------------------------------------------
def simulate(
    vehicles: int,
    minutes: float,
    via: str = "http",
    *,
    rate: float = 2.0,
    url: str = "",
    speedup: float = 0.0,
    group=None,
    schedule: str = "realistic",
    crash_prob: float = 0.0005,
    theft_prob: float = 0.0002,
    fault_prob: float = 0.01,
    seed: int = 0,
    backfill_days: int = 0,
    tokens_path: Path | None = None,
    mqtt_prefix: str = "",
    max_batch: int = 100,
    flush_seconds: float = 1.0,
    progress: bool = True,
    notes: list | None = None,
) -> Counts:
    """Drive `vehicles` cars for `minutes` of simulated time and send what their terminals
    report. `speedup` 0 runs as fast as it can; otherwise simulated time runs `speedup` times
    faster than real time. Timestamps end at the moment the run ends, never in the future."""
    from tqdm import tqdm

    if vehicles < 1 or not 0 < minutes <= MAX_MINUTES:
        raise SimulationError(f"Give at least one car and 0 < minutes ≤ {MAX_MINUTES}.")
    if rate <= 0 or speedup < 0:
        raise SimulationError("--rate must be positive and --speedup at least 0.")
    if schedule not in {"realistic", "busy"}:
        raise SimulationError("--schedule is realistic or busy.")
    notes = notes if notes is not None else []
    sender = make_sender(via, url, mqtt_prefix=mqtt_prefix)  # fails early: no broker, no codec
    try:
        terminals = prepare_terminals(
            vehicles, via, group=group, tokens_path=tokens_path, notes=notes
        )
        if not terminals:
            raise SimulationError(
                "No car to simulate: " + ("; ".join(notes) or "no cars (run `m4s demo`).")
            )
        if len(terminals) < vehicles:
            notes.append(f"only {len(terminals)} car(s) could be simulated")
        if backfill_days:
            from m4s.demo.telematics import backfill  # the demo's history writer

            n = backfill(
                [t.vehicle.pk for t in terminals], backfill_days, seed=seed, tokens_path=tokens_path
            )
            notes.append(f"backfilled {n} readings over {backfill_days} days")
        step = 60.0 / rate
        real_start, mono_start = timezone.now(), time.monotonic()
        span = dt.timedelta(minutes=minutes)
        lead = span if speedup == 0 else span * max(0.0, 1 - 1 / speedup)
        sim_start = real_start - lead
        cars = make_cars(
            terminals,
            sim_start,
            schedule=schedule,
            crash_prob=crash_prob,
            theft_prob=theft_prob,
            fault_prob=fault_prob,
            seed=seed,
        )
        late = [c for c in cars if c.not_before and c.not_before > sim_start]
        if late:
            notes.append(
                f"{len(late)} car(s) had already reported up to "
                f"{timezone.localtime(max(c.not_before for c in late)):%Y-%m-%d %H:%M}: they are "
                "simulated from their last report on (no timestamp may repeat the past or be "
                "in the future)"
            )
        total = Counts()
        buffers: dict[SimCar, list] = {car: [] for car in cars}

        def flush(only_alarms=False):
            batch = [
                (car, buf)
                for car, buf in buffers.items()
                if buf and (not only_alarms or any(m["alarm"] != "none" for m in buf))
            ]
            if not batch:
                return
            sent = sender.send(batch)
            total.add(sent)
            for car, _buf in batch:
                buffers[car] = []
            if sent.sent and sent.errors == sent.sent and not total.acked:
                raise SimulationError(f"Nothing gets through: {sent.last_error}")

        bar = tqdm(
            total=round(minutes, 1),
            unit="sim min",
            desc=f"{len(cars)} cars via {via}",
            disable=not progress,
        )
        t, end, last_flush = sim_start, sim_start + span, time.monotonic()
        try:
            while t < end:
                previous, t = t, min(t + dt.timedelta(seconds=step), end)
                if speedup > 0:
                    due = mono_start + (t - sim_start).total_seconds() / speedup
                    time.sleep(max(0.0, due - time.monotonic()))
                ahead = (t - timezone.now()).total_seconds()
                if ahead > 0:  # never report from the future
                    time.sleep(ahead)
                for car in cars:
                    buffers[car].extend(car.advance(t, step))
                full = any(len(b) >= max_batch for b in buffers.values())
                if full or time.monotonic() - last_flush >= flush_seconds:
                    flush()
                    last_flush = time.monotonic()
                    bar.set_postfix(sent=total.sent, acked=total.acked, errors=total.errors)
                else:
                    flush(only_alarms=True)  # alarms do not wait
                bar.update((t - previous).total_seconds() / 60)
            flush()
            bar.set_postfix(sent=total.sent, acked=total.acked, errors=total.errors)
        finally:
            bar.close()
        return total
    finally:
        sender.close()
