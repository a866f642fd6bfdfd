"""Simulated traces built point by point: a car driving east at given speeds, stops, turns."""

import datetime as dt
import math

from m4s.driving.trips import Point

KM_PER_DEG_LAT = 110.574


class Trace:
    """A car's reports, one every `step` seconds, from `start` at (lat, lon)."""

    def __init__(self, start: dt.datetime, *, lat=39.90, lon=116.40, odometer=20000.0, step=5):
        self.ts, self.lat, self.lon, self.odo, self.step = start, lat, lon, odometer, step
        self.heading = 90.0
        self.points: list[Point] = []

    def _emit(self, speed: float, ignition: bool | None = True, alarm: str = "none") -> None:
        self.points.append(
            Point(
                self.ts,
                round(self.lat, 6),
                round(self.lon, 6),
                speed,
                int(self.heading) % 360,
                round(self.odo, 3),
                ignition,
                alarm,
            )
        )

    def _move(self, speed: float, seconds: float) -> None:
        km = speed * seconds / 3600
        h = math.radians(self.heading)
        self.lat += km * math.cos(h) / KM_PER_DEG_LAT
        self.lon += km * math.sin(h) / (111.320 * math.cos(math.radians(self.lat)))
        self.odo += km
        self.ts += dt.timedelta(seconds=seconds)

    def ignition_on(self) -> "Trace":
        self._emit(0.0, True)
        self.ts += dt.timedelta(seconds=self.step)
        return self

    def ignition_off(self) -> "Trace":
        self._emit(0.0, False)
        self.ts += dt.timedelta(seconds=self.step)
        return self

    def drive(self, speed: float, seconds: float, *, turn_per_step: float = 0.0) -> "Trace":
        """Steady speed (km/h); each report after one step of movement."""
        for _i in range(int(seconds // self.step)):
            self._move(speed, self.step)
            self.heading = (self.heading + turn_per_step) % 360
            self._emit(speed)
        return self

    def ramp(self, to: float, per_step_kmh: float) -> "Trace":
        """Speed up or slow down by `per_step_kmh` each report until `to`."""
        speed = self.points[-1].speed_kmh if self.points else 0.0
        while abs(speed - to) > 1e-9:
            speed = min(to, speed + per_step_kmh) if to > speed else max(to, speed - per_step_kmh)
            self._move(speed, self.step)
            self._emit(speed)
        return self

    def stand(self, seconds: float, *, ignition: bool | None = True) -> "Trace":
        for _i in range(int(seconds // self.step)):
            self.ts += dt.timedelta(seconds=self.step)
            self._emit(0.0, ignition)
        return self

    def silence(self, seconds: float) -> "Trace":
        self.ts += dt.timedelta(seconds=seconds)
        return self
