"""The console's live channel: events pushed to the open pages of staff as server-sent events
(GET /api/v1/staff/stream), so a crash reaches the advisor's screen in well under a second
instead of at the next poll.

`publish` writes a `LiveEvent` row in the caller's transaction (so an event exists exactly when
the change that caused it committed) and, after commit, wakes the streams of that dealer group
through Redis pub/sub (channel `m4s:live:<group id>`). Without Redis (the embedded default) a
stream looks for new rows every LIVE_POLL_MS instead. Either way the rows are the truth: a
wake-up only says "look now", a lost one delays an event until the next look (at most the
heartbeat), and a page that reconnects sends Last-Event-ID and gets what it missed.

What a staff member's stream carries is decided here and nowhere else: events of their own
dealer group only, of their stores (or every store for those who see all), and notifications
addressed to them. Pages keep polling, slowly while the stream is up and every 2 s while it is
down (m4s/web/static/m4s/js/live.js), so a broken push channel costs latency, never an alarm.

A stream holds one server thread (WSGI) for at most LIVE_STREAM_SECONDS; each process takes at
most LIVE_MAX_STREAMS and refuses more with 503 `stream_busy`; those pages poll."""

import contextlib
import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Generator
from functools import cache
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from .models import LiveEvent

logger = logging.getLogger("m4s.notify.live")

HEARTBEAT_SECONDS = 15
BATCH = 100
KEEP = 24 * 3600  # seconds an event is kept for pages that reconnect


def channel_name(group_id: int) -> str:
    return f"m4s:live:{group_id}"


@cache
def _redis() -> Any:
    import redis

    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=2)


def publish(
    group_id: int,
    kind: str,
    data: dict[str, Any] | None = None,
    *,
    store_id: int | None = None,
    staff_id: int | None = None,
) -> LiveEvent:
    """Record an event for the live channel inside the caller's transaction; wake the group's
    streams after commit. `store_id`: only staff of that store (and those who see every store)
    get it; `staff_id`: only that person."""
    event = LiveEvent.objects.create(
        dealer_group_id=group_id,
        store_id=store_id,
        staff_id=staff_id,
        kind=kind,
        data=data or {},
        created_at=timezone.now(),
    )
    transaction.on_commit(lambda: wake(group_id, event.pk))
    return event


def wake(group_id: int, event_id: int) -> None:
    if not settings.REDIS_URL:
        return
    try:
        _redis().publish(channel_name(group_id), str(event_id))
    except Exception:  # noqa: BLE001 - Redis down: the streams find the row at their next look
        logger.warning("live: could not wake group %s streams", group_id, exc_info=True)


def prune(*, now: dt.datetime | None = None) -> int:
    """Drop events older than a day (the periodic job `notify.live_prune`)."""
    cutoff = (now or timezone.now()) - dt.timedelta(seconds=KEEP)
    deleted, _ = LiveEvent.objects.filter(created_at__lt=cutoff).delete()
    return deleted


# --- what a staff member may receive ------------------------------------------------------------
class Audience:
    """The events one signed-in staff member may receive."""

    def __init__(self, user: Any):
        from m4s.staff.choices import Perm

        self.group_id = user.dealer_group_id
        self.staff_id = user.pk
        self.store_ids = None if user.has_perm_m4s(Perm.VIEW_ALL_STORES) else user.store_ids()

    def events_after(self, after_id: int) -> list[LiveEvent]:
        if self.group_id is None:
            return []
        qs = LiveEvent.objects.filter(dealer_group_id=self.group_id, id__gt=after_id).filter(
            Q(staff_id__isnull=True) | Q(staff_id=self.staff_id)
        )
        if self.store_ids is not None:
            qs = qs.filter(Q(store_id__isnull=True) | Q(store_id__in=self.store_ids))
        return list(qs.order_by("id")[:BATCH])

    def newest_id(self) -> int:
        if self.group_id is None:
            return 0
        found = LiveEvent.objects.filter(dealer_group_id=self.group_id).aggregate(m=Max("id"))
        return found["m"] or 0


def sse(event: LiveEvent) -> str:
    payload = json.dumps(
        {"kind": event.kind, "store": event.store_id, **event.data}, separators=(",", ":")
    )
    return f"id: {event.pk}\nevent: {event.kind.split('.', 1)[0]}\ndata: {payload}\n\n"


# --- the stream --------------------------------------------------------------------------------
_open = 0
_open_lock = threading.Lock()


def take_slot() -> bool:
    """One of this process's LIVE_MAX_STREAMS stream slots, or False when all are taken."""
    global _open
    if settings.LIVE_MAX_STREAMS <= 0:
        return False
    with _open_lock:
        if _open >= settings.LIVE_MAX_STREAMS:
            return False
        _open += 1
    return True


def _give_slot() -> None:
    global _open
    with _open_lock:
        _open = max(_open - 1, 0)


class Stream:
    """The body of one SSE response: events of `audience` after `last_id` as they come, a
    comment line as heartbeat, for at most `seconds`. Holds a slot from `take_slot` and gives it
    back when the server closes the response (also when the body was never read)."""

    def __init__(self, audience: Audience, last_id: int | None, *, seconds: float | None = None):
        self.audience = audience
        # from the connection on (or, on a reconnect, from the last event the page saw)
        self.last_id = last_id if last_id is not None else audience.newest_id()
        self.seconds = settings.LIVE_STREAM_SECONDS if seconds is None else seconds
        self._body = self._events()
        self._closed = False

    def __iter__(self) -> "Stream":
        return self

    def __next__(self) -> bytes:
        return next(self._body).encode()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._body.close()
        _give_slot()

    def _events(self) -> Generator[str, None, None]:
        deadline = time.monotonic() + self.seconds
        pubsub = None
        if settings.REDIS_URL:
            try:
                pubsub = _redis().pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(channel_name(self.audience.group_id))
            except Exception:  # noqa: BLE001 - no Redis: look for new rows on a timer
                logger.warning("live: Redis unavailable, polling", exc_info=True)
                pubsub = None
        try:
            after = self.last_id
            yield "retry: 1000\n: connected\n\n"
            last_write = time.monotonic()
            while True:
                events = self.audience.events_after(after)
                if pubsub is not None and not connection.in_atomic_block:
                    connection.close()  # a waiting stream holds no database connection
                for event in events:
                    after = event.pk
                    yield sse(event)
                    last_write = time.monotonic()
                if len(events) == BATCH:
                    continue
                now = time.monotonic()
                if now >= deadline:
                    return
                if now - last_write >= HEARTBEAT_SECONDS:
                    yield ": keep-alive\n\n"
                    last_write = now
                wait = min(deadline - now, HEARTBEAT_SECONDS - (now - last_write))
                if pubsub is not None:
                    try:
                        if pubsub.get_message(timeout=max(wait, 0.01)) is not None:
                            while pubsub.get_message(timeout=0) is not None:
                                pass  # one look answers every wake-up that came meanwhile
                    except Exception:  # noqa: BLE001 - Redis went away: poll from now on
                        logger.warning("live: Redis lost, polling", exc_info=True)
                        pubsub = None
                else:
                    time.sleep(min(wait, settings.LIVE_POLL_MS / 1000))
        finally:
            if pubsub is not None:
                with contextlib.suppress(Exception):  # closing a broken connection
                    pubsub.close()
