"""The simulated cars of `m4s simulate`: places around Beijing, habits, trips and what a car's
terminal reports (SimCar). The run itself (terminals, transports, the loop) is in simulator.py."""

import dataclasses
import datetime as dt
import math
import random
import zoneinfo

from django.conf import settings

from m4s.vehicles.models import Vehicle

from . import messages as msg
from .models import Device

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


@dataclasses.dataclass
class Terminal:
    vehicle: Vehicle
    device: Device
    secret: str | None = None  # HTTP token secret, when known
