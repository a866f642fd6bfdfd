"""Simulated owners' driving habits, a day at a time, for judging the mileage forecast.

Each habit draws the kilometres driven on each day of a car's life (the truth); `trace` turns a
life into the end-of-day odometer a terminal would report (repeated on parked days, with the odd
glitched reading) and the service case it is judged on. Pure Python and seeded: the same seed
gives the same owners. The minute-by-minute cars of `m4s simulate` are in sim_cars.py."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import random

from .forecast import add_months

HABITS = (
    "commuter",
    "weekend",
    "ride-hailing",
    "seasonal",
    "irregular",
    "low-use",
    "holidays",
)
OBSERVED_DAYS = 90
# each habit's service intervals (km, months): ride-hailing cars on long-life oil, a small car
# used little on a two-year plan
INTERVALS = {
    "ride-hailing": (20000, 12),
    "weekend": (7500, 12),
    "irregular": (5000, 12),
    "low-use": (5000, 24),
}


@dataclasses.dataclass
class Trace:
    """One simulated car: what was observed and the truth it is judged against."""

    car: int
    habit: str
    observed_start: dt.date
    observed: list[float]  # end-of-day odometer, one per day from observed_start
    last_service_km: float
    last_service_date: dt.date
    interval_km: int
    interval_months: int
    true_due: dt.date  # the day the km or the months rule really falls due
    by_km: bool  # the km rule came first (the cars the error is reported on)

    @property
    def today(self) -> dt.date:
        return self.observed_start + dt.timedelta(days=len(self.observed) - 1)

    def as_json(self) -> dict:
        return {
            "car": self.car,
            "observed_start": self.observed_start.isoformat(),
            "observed_daily_odometer_km": self.observed,
            "last_service_km": self.last_service_km,
            "last_service_date": self.last_service_date.isoformat(),
            "interval_km": self.interval_km,
            "interval_months": self.interval_months,
        }


class _Owner:
    """Draws one owner's traits; `km(day)` is what the car does that day."""

    def __init__(self, habit: str, rng: random.Random, start: dt.date, days: int):
        self.habit, self.rng = habit, rng
        self.commute = rng.uniform(8, 35)  # one way, km
        self.weekend_km = rng.uniform(40, 160)
        self.long_trip_p = rng.uniform(0.005, 0.03)  # a day's chance of a 150-600 km trip
        self.phase = rng.uniform(0, 2 * math.pi)
        self.amplitude = rng.uniform(0.3, 0.6)
        self.daily = rng.uniform(150, 320)  # ride-hailing
        self.level = rng.uniform(0.7, 1.3)
        self.parked: set[int] = set()
        if habit == "holidays":  # two or three stretches a year, 1-3 weeks, the car parked
            for _ in range(math.ceil(days / 365 * rng.choice((2, 3)))):
                first, length = rng.randrange(days), rng.randint(7, 21)
                self.parked.update(range(first, first + length))
        self.start = start

    def km(self, i: int) -> float:
        r, day = self.rng, self.start + dt.timedelta(days=i)
        weekend = day.weekday() >= 5
        if i in self.parked:
            return 0.0
        long_trip = r.uniform(150, 600) if r.random() < self.long_trip_p else 0.0
        if self.habit in ("commuter", "holidays"):
            base = r.uniform(0, 40) if weekend else 2 * self.commute * r.uniform(0.9, 1.15)
            if not weekend and r.random() < 0.05:  # sick day, working from home
                base = 0.0
            return base + long_trip
        if self.habit == "weekend":
            if weekend:
                return self.weekend_km * r.uniform(0.3, 1.7) + long_trip
            return r.uniform(5, 25) if r.random() < 0.15 else 0.0
        if self.habit == "ride-hailing":
            return 0.0 if day.weekday() == self.phase_day() else self.daily * r.uniform(0.7, 1.3)
        if self.habit == "seasonal":  # a commute that swells in summer and shrinks in winter
            season = 1 + self.amplitude * math.sin(2 * math.pi * day.timetuple().tm_yday / 365)
            base = r.uniform(0, 30) if weekend else 2 * self.commute * r.uniform(0.85, 1.15)
            return base * season + long_trip * season
        if self.habit == "irregular":  # no rhythm: bursts of driving with quiet spells
            return r.lognormvariate(3.3, 1.0) * self.level if r.random() < 0.45 else 0.0
        # low-use: a trip or two a week around town
        return r.uniform(4, 30) if r.random() < 0.4 else 0.0

    def phase_day(self) -> int:
        return int(self.phase) % 7


def trace(car: int, habit: str, *, seed: int = 0, glitch_p: float = 0.1) -> Trace:
    """A car serviced some months ago, observed for the last OBSERVED_DAYS days, and its true
    due date (the future is simulated too). About `glitch_p` of the cars get one glitched
    odometer reading (a spike, a zero or a dropped digit) in the observed days."""
    rng = random.Random(f"{seed}:{car}:{habit}")
    service_date = dt.date(2026, 1, 1) + dt.timedelta(days=rng.randrange(365))
    life = 900
    owner = _Owner(habit, rng, service_date, life)
    km = [owner.km(i) for i in range(life)]
    interval_km, interval_months = INTERVALS.get(habit, (10000, 12))
    service_km = round(rng.uniform(5000, 80000), 1)
    odo, cum = [], 0.0
    for d in km:  # odo[i]: the reading at the end of day i (day 0: serviced, then driven)
        cum += d
        odo.append(round(service_km + cum, 1))
    # today: when the car has done 20-85 % of its km interval (when a reminder matters), at least
    # OBSERVED_DAYS after the service and at most 400
    done = service_km + rng.uniform(0.2, 0.85) * interval_km
    since_service = next((i for i, v in enumerate(odo) if v >= done), 400)
    since_service = min(400, max(OBSERVED_DAYS - 1, since_service))
    first = since_service - OBSERVED_DAYS + 1
    observed = odo[first : since_service + 1]
    if rng.random() < glitch_p:
        j = rng.randrange(len(observed))
        observed[j] = rng.choice(
            (observed[j] + rng.uniform(2000, 90000), 0.0, round(observed[j] / 10, 1))
        )
    by_months = add_months(service_date, interval_months)
    reached = next((i for i, v in enumerate(odo) if v >= service_km + interval_km), len(odo) - 1)
    by_km_day = service_date + dt.timedelta(days=reached)
    return Trace(
        car=car,
        habit=habit,
        observed_start=service_date + dt.timedelta(days=first),
        observed=observed,
        last_service_km=service_km,
        last_service_date=service_date,
        interval_km=interval_km,
        interval_months=interval_months,
        true_due=min(by_km_day, by_months),
        by_km=by_km_day < by_months,
    )


def population(per_habit: int, *, seed: int = 0, habits=HABITS) -> list[Trace]:
    """`per_habit` cars of every habit, numbered from 1."""
    out, car = [], 0
    for habit in habits:
        for _ in range(per_habit):
            car += 1
            out.append(trace(car, habit, seed=seed))
    return out
