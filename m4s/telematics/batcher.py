"""Batching across terminals: many terminals' messages go to the writer together, so its fixed
cost (transaction, duplicate check, state-row lock, daily-odometer merge) is paid once per
batch instead of once per terminal (`writer.write_many`).

* `Batcher`: for callers on several threads (HTTP requests). Each caller submits its terminal's
  messages and waits; one of the waiting callers (the leader) writes everything queued in one
  transaction when N messages are queued or the oldest has waited T ms, whichever comes first,
  and everyone gets their own result once it is committed (the HTTP answer, as before, only
  after the commit). With `flush_when_idle` the leader does not wait for T when no other
  request is on its way (`arriving()`): a lone client is never slowed down, concurrent ones
  share a commit. While the leader writes, new submissions queue for the next batch.
* The MQTT consumer (mqtt_ingest.py) runs on one thread and applies the same N-or-T rule to
  what the broker delivered, then calls `writer.write_many` itself.
* `ForecastThrottle`: a batch of a thousand cars would otherwise enqueue a thousand forecast
  tasks per commit; each car's forecast is enqueued at most once per `every` seconds, and a car
  whose data arrived inside that window is enqueued when it ends (so its newest data is always
  covered, a little later).
"""

import contextlib
import threading
import time

from django.db import transaction

from . import writer

DEFAULT_MAX_BATCH = 2000  # messages per commit, all terminals together
DEFAULT_MAX_WAIT_MS = 50  # how long the first queued message may wait for others
FORECAST_EVERY = 60.0  # s: at most one forecast task per car in this long


class ForecastThrottle:
    """Enqueue `services.enqueue_forecast(car)` at most once per `every` seconds per car.
    Not thread-safe by itself; `Batcher` calls it under its lock."""

    def __init__(self, every: float = FORECAST_EVERY):
        self.every = every
        self._last: dict[int, float] = {}
        self._owed: set[int] = set()
        self._checked = 0.0

    def add(self, vehicle_ids) -> None:
        self._owed.update(vehicle_ids)

    def run(self, *, now: float | None = None, force: bool = False) -> list[int]:
        """Enqueue what is due (all owed with `force`); returns the cars enqueued."""
        from . import services

        now = time.monotonic() if now is None else now
        if not self._owed or (not force and now - self._checked < min(1.0, self.every)):
            return []
        self._checked = now
        due = [v for v in self._owed if force or now - self._last.get(v, -self.every) >= self.every]
        if not due:
            return []
        with transaction.atomic():  # one commit for the lot (enqueued on commit)
            for vehicle_id in due:
                services.enqueue_forecast(vehicle_id)
        for vehicle_id in due:
            self._last[vehicle_id] = now
            self._owed.discard(vehicle_id)
        if len(self._last) > 200_000:  # forget cars heard from long ago
            self._last = {v: t for v, t in self._last.items() if now - t < self.every}
        return due


class _Ticket:
    __slots__ = ("device", "done", "outcome", "raws", "since")

    def __init__(self, device, raws: list):
        self.device, self.raws, self.since = device, raws, time.monotonic()
        self.done, self.outcome = False, None


class Batcher:
    """Writes what several threads submit, together: see the module's docstring."""

    def __init__(
        self,
        *,
        via: str,
        max_batch: int = DEFAULT_MAX_BATCH,
        max_wait_ms: float = DEFAULT_MAX_WAIT_MS,
        flush_when_idle: bool = True,
        forecasts: ForecastThrottle | None = None,
    ):
        if max_batch < 1 or max_wait_ms < 0:
            raise ValueError("max_batch must be ≥ 1 and max_wait_ms ≥ 0")
        self.via, self.max_batch, self.max_wait = via, max_batch, max_wait_ms / 1000
        self.flush_when_idle = flush_when_idle
        self.forecasts = forecasts if forecasts is not None else ForecastThrottle()
        self.commits = 0  # batches written (each one transaction)
        self._cond = threading.Condition()
        self._queue: list[_Ticket] = []
        self._queued = 0  # messages in the queue
        self._writing = False
        self._arriving = 0

    @contextlib.contextmanager
    def arriving(self):
        """Around reading a request's body: a submission is on its way, worth waiting for."""
        with self._cond:
            self._arriving += 1
        try:
            yield
        finally:
            with self._cond:
                self._arriving -= 1
                self._cond.notify_all()

    def submit(self, device, raws: list) -> writer.BatchResult:
        """Store this terminal's messages with whatever else is queued; returns its result
        once committed, or raises what its write raised."""
        ticket = _Ticket(device, raws)
        with self._cond:
            self._queue.append(ticket)
            self._queued += len(raws)
            self._cond.notify_all()
            batch = None
            while not ticket.done:
                if self._writing:
                    self._cond.wait()
                    continue
                wait = self._due_in()
                if wait <= 0:
                    batch = self._take()
                    self._writing = True
                    break
                self._cond.wait(wait)
        if batch is not None:
            self._write(batch)
        if isinstance(ticket.outcome, BaseException):
            raise ticket.outcome
        return ticket.outcome  # type: ignore[return-value]

    def _due_in(self) -> float:
        if not self._queue:
            return 3600.0
        if self._queued >= self.max_batch or (self.flush_when_idle and self._arriving == 0):
            return 0.0
        return self._queue[0].since + self.max_wait - time.monotonic()

    def _take(self) -> list[_Ticket]:
        batch: list[_Ticket] = []
        n = 0
        while self._queue and (not batch or n + len(self._queue[0].raws) <= self.max_batch):
            ticket = self._queue.pop(0)
            batch.append(ticket)
            n += len(ticket.raws)
        self._queued -= n
        return batch

    def _write(self, batch: list[_Ticket]) -> None:
        cars: set[int] = set()
        try:
            outcomes = writer.write_many(
                [(t.device, t.raws) for t in batch], via=self.via, forecasts=cars
            )
        except BaseException as e:  # noqa: BLE001 - every waiting caller gets it
            outcomes = [e] * len(batch)
        with self._cond:
            for ticket, outcome in zip(batch, outcomes, strict=True):
                ticket.outcome, ticket.done = outcome, True
            self._writing = False
            self.commits += 1
            self._cond.notify_all()
            self.forecasts.add(cars)
            try:
                self.forecasts.run()
            except Exception:  # noqa: BLE001 - owed: tried again after the next batch
                import logging

                logging.getLogger("m4s.telematics").exception("enqueueing forecasts failed")


_shared: dict[str, Batcher] = {}
_shared_lock = threading.Lock()


def shared(via: str) -> Batcher:
    """This process's batcher for one ingest path (HTTP requests of all terminals)."""
    with _shared_lock:
        if via not in _shared:
            _shared[via] = Batcher(via=via)
        return _shared[via]
