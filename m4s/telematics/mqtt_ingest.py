"""MQTT ingest (`m4s ingest-mqtt`): terminals publish to `m4s/v1/{key}/up/{telemetry|event}`
a JSON object or array of messages; this process stores them through the one batched writer.
`key` is the device's global, server-issued key (`Device.key`; for devices registered before
keys existed, their device id): device ids are unique only within a dealer group, so they
cannot name a terminal in a topic every group shares.

* MQTT v5 with a persistent session (clean start off, a session expiry interval, a stable
  client id per process), QoS 1, subscribed to the shared subscription
  `$share/m4s-ingest/m4s/v1/+/up/+`: several ingest processes split the load.
* Manual acknowledgement: a PUBACK goes out only after `write_many` has committed the message,
  and PUBACKs go out in the order the messages arrived (MQTT 5, 4.6). A crash or a failed write
  leaves messages unacknowledged; the broker sends them again when the session reconnects and
  the writer's dedupe (device, seq, ts) stores them once.
* Messages are batched across terminals (batcher.py): everything delivered is written in one
  transaction (`writer.write_many`: one duplicate check, one COPY, one state update, one daily
  merge for all terminals) once `max_batch` messages are waiting or the oldest has waited
  `max_wait_ms`, whichever comes first. A terminal whose write fails is not acknowledged (the
  others of the batch are stored and acknowledged).
* What can never be stored (an unknown or inactive terminal, a payload that is not JSON, a topic
  of the wrong shape) is dead-lettered and acknowledged, so it is not delivered for ever. A
  message whose `device_id` is not the topic device's (its id or key) is dead-lettered
  `wrong_device` by the writer.

Authentication is the broker's job: per-device credentials with an ACL that lets a terminal
publish only under its own `m4s/v1/{key}/up/#`.

One thread does everything (network loop, batching, database), so the Django connection and the
paho client are never shared between threads; `stop()` may be called from any thread.
"""

import dataclasses
import json
import logging
import socket
import ssl
import threading
import time
from collections import deque
from urllib.parse import unquote, urlparse

import paho.mqtt.client as mqtt
from django.db import close_old_connections, connection, transaction
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from . import writer
from .batcher import DEFAULT_MAX_BATCH, ForecastThrottle
from .models import Device

log = logging.getLogger("m4s.telematics.mqtt")

DEFAULT_PREFIX = "m4s/v1"
DEFAULT_SHARE_GROUP = "m4s-ingest"
KINDS = ("telemetry", "event")
MAX_MESSAGES_PER_PAYLOAD = 5000  # as the HTTP ingest
VIA = "mqtt"
DB_CHECK_SECONDS = 10.0  # how often the database connection is checked (age, errors)


# --- topics and the broker address -----------------------------------------------------------------
def topic_for(key: str, kind: str = "telemetry", prefix: str = DEFAULT_PREFIX) -> str:
    """Where a terminal publishes: `m4s/v1/{key}/up/{telemetry|event}` (key: `Device.key`)."""
    return f"{prefix}/{key}/up/{kind}"


def subscription_for(prefix: str = DEFAULT_PREFIX, share_group: str = DEFAULT_SHARE_GROUP) -> str:
    topic = f"{prefix}/+/up/+"
    return f"$share/{share_group}/{topic}" if share_group else topic


def parse_topic(topic: str, prefix: str = DEFAULT_PREFIX) -> tuple[str, str] | None:
    """`m4s/v1/tbox-1/up/telemetry` → ("tbox-1", "telemetry"); None for any other shape."""
    head = prefix + "/"
    if not topic.startswith(head):
        return None
    parts = topic[len(head) :].split("/")
    if len(parts) != 3 or parts[1] != "up" or parts[2] not in KINDS or not parts[0]:
        return None
    return parts[0], parts[2]


@dataclasses.dataclass(frozen=True)
class Broker:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None


def parse_url(url: str) -> Broker:
    """mqtt://[user:password@]host[:port] (1883), mqtts:// or ssl:// for TLS (8883)."""
    parsed = urlparse(url or "")
    if parsed.scheme not in {"mqtt", "mqtts", "tcp", "ssl"} or not parsed.hostname:
        raise ValueError(f"not an MQTT URL (mqtt://host:port): {url!r}")
    tls = parsed.scheme in {"mqtts", "ssl"}
    return Broker(
        host=parsed.hostname,
        port=parsed.port or (8883 if tls else 1883),
        tls=tls,
        username=unquote(parsed.username) if parsed.username else None,
        password=unquote(parsed.password) if parsed.password else None,
    )


def default_client_id() -> str:
    """Stable across restarts of the process on this host, so its session (and whatever the
    broker holds for it) is picked up again. Run several processes on one host with
    `--client-id` each."""
    return f"m4s-ingest-{socket.gethostname()}"[:64]


def make_client(broker: Broker, client_id: str = "", *, manual_ack: bool = False) -> mqtt.Client:
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=mqtt.MQTTv5,
        manual_ack=manual_ack,
    )
    if broker.username:
        client.username_pw_set(broker.username, broker.password)
    if broker.tls:
        client.tls_set(tls_version=ssl.PROTOCOL_TLS_CLIENT)
    return client


# --- the ingest loop -------------------------------------------------------------------------------
@dataclasses.dataclass
class Options:
    url: str
    client_id: str = ""
    prefix: str = DEFAULT_PREFIX
    share_group: str = DEFAULT_SHARE_GROUP
    max_batch: int = DEFAULT_MAX_BATCH  # messages per write, all terminals together
    max_wait_ms: int = 100  # how long the first message of a batch may wait for others
    session_expiry: int = 86_400  # seconds the broker keeps the session while we are away
    # Unacknowledged messages the broker may send at once. Messages wait unacknowledged for their
    # batch, so this bounds the batch sizes, hence the throughput (each write has a fixed cost).
    receive_maximum: int = 10_000
    keepalive: int = 30
    max_seconds: float | None = None  # stop (gracefully) after this long
    once: bool = False  # stop once the backlog is drained (idle for `idle_seconds`)
    idle_seconds: float = 2.0
    drain_seconds: float = 5.0  # on stop: keep storing what the broker still sends this long
    retry_min: float = 0.5  # reconnect back-off
    retry_max: float = 30.0


@dataclasses.dataclass
class Stats:
    received: int = 0  # MQTT messages
    messages: int = 0  # telemetry messages in them
    accepted: int = 0
    duplicates: int = 0
    dead: int = 0
    acked: int = 0
    writes: int = 0
    write_errors: int = 0
    connects: int = 0
    redelivered: int = 0  # MQTT messages with the DUP flag

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


class _Delivery:
    """One received MQTT message, acknowledged once `done` and everything before it is done."""

    __slots__ = ("done", "mid", "qos")

    def __init__(self, mid: int, qos: int):
        self.mid, self.qos, self.done = mid, qos, False


@dataclasses.dataclass
class _Pending:
    first_at: float
    items: list = dataclasses.field(default_factory=list)
    deliveries: list = dataclasses.field(default_factory=list)


class _WriteFailed(Exception):
    pass


class MqttIngest:
    def __init__(self, options: Options):
        if options.max_batch < 1 or options.max_wait_ms < 0:
            raise ValueError("max_batch must be ≥ 1 and max_wait_ms ≥ 0")
        self.options = options
        self.broker = parse_url(options.url)
        self.client_id = options.client_id or default_client_id()
        self.subscription = subscription_for(options.prefix, options.share_group)
        self.stats = Stats()
        self.ready = threading.Event()  # subscribed: publishing now reaches us
        self._stop = threading.Event()
        self._flush_on_stop = True
        self._pending: dict[str, _Pending] = {}
        self._rejects: list[tuple] = []  # (raw, reason, detail, device_id, delivery)
        self._order: deque[_Delivery] = deque()
        self._full = False  # the batch reached max_batch
        self._waiting = 0  # messages in the batch
        self._forecasts = ForecastThrottle()
        self._db_checked_at = 0.0
        self._connect_failed = False
        self._last_arrival = time.monotonic()
        self._backoff = options.retry_min
        self._client = self._make_client()

    # -- control (any thread) --
    def stop(self, *, flush: bool = True) -> None:
        """Stop: by default store and acknowledge what is buffered, unsubscribe and drain first.
        `flush=False` leaves like a crash would: nothing buffered is acknowledged."""
        self._flush_on_stop = flush
        self._stop.set()

    # -- paho callbacks (run inside client.loop(), i.e. in our thread) --
    def _make_client(self) -> mqtt.Client:
        client = make_client(self.broker, self.client_id, manual_ack=True)
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        client.on_disconnect = self._on_disconnect
        return client

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            log.error("MQTT broker refused the connection: %s", reason_code)
            self._connect_failed = True
            return
        self.stats.connects += 1
        log.info(
            "connected to %s:%s as %s (session present: %s)",
            self.broker.host,
            self.broker.port,
            self.client_id,
            flags.session_present,
        )
        # Always (re)subscribe: harmless when the session kept it, needed when it did not.
        client.subscribe(self.subscription, options=SubscribeOptions(qos=1))

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties):
        failed = [rc for rc in reason_codes if rc.is_failure]
        if failed:
            log.error("subscription to %s refused: %s", self.subscription, failed)
            self._connect_failed = True
            return
        log.info("subscribed to %s", self.subscription)
        self._backoff = self.options.retry_min
        self.ready.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        if not self._stop.is_set():
            log.warning("disconnected from the MQTT broker: %s", reason_code)

    def _on_message(self, client, userdata, message):
        self._last_arrival = time.monotonic()
        self.stats.received += 1
        self.stats.redelivered += bool(message.dup)
        delivery = _Delivery(message.mid, message.qos)
        if message.qos > 0:
            self._order.append(delivery)
        try:
            topic = message.topic
        except UnicodeDecodeError:
            topic = ""
        where = parse_topic(topic, self.options.prefix)
        if where is None:
            text = bytes(message.payload[:2000]).decode("utf-8", "replace")
            self._reject(text, "bad_topic", topic[:200], "", delivery)
            return
        device_id, _kind = where
        try:
            payload = json.loads(message.payload)
        except (ValueError, UnicodeDecodeError):
            text = bytes(message.payload[:2000]).decode("utf-8", "replace")
            self._reject(text, "bad_json", "payload is not JSON", device_id, delivery)
            return
        if isinstance(payload, dict):
            items = [payload]
        elif isinstance(payload, list) and len(payload) <= MAX_MESSAGES_PER_PAYLOAD:
            items = payload
        else:
            detail = f"send a JSON object or an array of up to {MAX_MESSAGES_PER_PAYLOAD} messages"
            if isinstance(payload, list):
                detail += f" (got {len(payload)})"
                payload = payload[:10]
            self._reject(payload, "bad_batch", detail, device_id, delivery)
            return
        if not items:
            delivery.done = True
            return
        self.stats.messages += len(items)
        pending = self._pending.get(device_id)
        if pending is None:
            pending = self._pending[device_id] = _Pending(first_at=time.monotonic())
        pending.items.extend(items)
        pending.deliveries.append(delivery)
        self._waiting += len(items)
        self._full = self._full or self._waiting >= self.options.max_batch

    def _reject(self, raw, reason, detail, device_id, delivery):
        self._rejects.append((raw, reason, detail, device_id, delivery))

    # -- the loop --
    def run(self) -> Stats:
        opts = self.options
        started = time.monotonic()
        try:
            self._connect(first=True)
            while not self._stop.is_set():
                now = time.monotonic()
                if opts.max_seconds is not None and now - started >= opts.max_seconds:
                    break
                if (
                    opts.once
                    and self.ready.is_set()
                    and not self._pending
                    and not self._order
                    and now - self._last_arrival >= opts.idle_seconds
                ):
                    break
                # one packet per call; select() returns at once while more are waiting
                rc = self._client.loop(timeout=self._wait_seconds())
                if rc != mqtt.MQTT_ERR_SUCCESS or self._connect_failed:
                    self._reconnect(f"network loop: {mqtt.error_string(rc)}")
                    continue
                try:
                    self._flush(force=False)
                except _WriteFailed:
                    self._reconnect("a write failed")
            if self._flush_on_stop:
                self._graceful_leave()
        finally:
            if self._client.is_connected():  # stop(flush=False), or an error: leave as a crash
                self._client.disconnect()
                self._client.loop(timeout=0.1)
            connection.close()
        return self.stats

    def _wait_seconds(self) -> float:
        wait = 0.25  # how often the stop flag is looked at
        if self._rejects:
            return 0.0
        if self._full:
            return 0.0
        if self._pending:  # batches are kept in the order they were opened: the first is oldest
            oldest = next(iter(self._pending.values())).first_at
            wait = min(wait, max(0.0, oldest + self.options.max_wait_ms / 1000 - time.monotonic()))
        return wait

    def _connect(self, *, first: bool) -> None:
        """Connect (or reconnect), retrying with back-off until it works or we are stopped."""
        while not self._stop.is_set():
            self._connect_failed = False
            try:
                if first:
                    props = Properties(PacketTypes.CONNECT)
                    props.SessionExpiryInterval = self.options.session_expiry
                    props.ReceiveMaximum = self.options.receive_maximum
                    self._client.connect(
                        self.broker.host,
                        self.broker.port,
                        keepalive=self.options.keepalive,
                        clean_start=False,
                        properties=props,
                    )
                else:
                    self._client.reconnect()
                return
            except OSError as e:
                log.warning(
                    "cannot reach the MQTT broker %s:%s (%s); retrying in %.1fs",
                    self.broker.host,
                    self.broker.port,
                    e,
                    self._backoff,
                )
                self._wait_backoff()

    def _wait_backoff(self) -> None:
        self._stop.wait(self._backoff)
        self._backoff = min(self._backoff * 2, self.options.retry_max)

    def _reconnect(self, why: str) -> None:
        """Forget everything not yet acknowledged and reconnect: the broker sends the
        unacknowledged messages again (the session persists), the writer dedupes them."""
        log.warning(
            "%s: reconnecting in %.1fs; unacknowledged messages will come again", why, self._backoff
        )
        self._drop_unacked()
        self._wait_backoff()
        self._connect(first=False)

    def _drop_unacked(self) -> None:
        self._full = False
        self._waiting = 0
        self._pending.clear()
        self._rejects.clear()
        self._order.clear()

    def _graceful_leave(self) -> None:
        """Unsubscribe (the broker stops giving this session a share), store and acknowledge what
        still arrives until quiet, then disconnect. The session is kept for the next start."""
        client = self._client
        try:
            if client.is_connected():
                client.unsubscribe(self.subscription)
                deadline = time.monotonic() + self.options.drain_seconds
                quiet_since = time.monotonic()
                while time.monotonic() < deadline and client.is_connected():
                    received = self.stats.received
                    rc = client.loop(timeout=0.05)
                    if rc != mqtt.MQTT_ERR_SUCCESS:
                        break
                    if self.stats.received != received:
                        quiet_since = time.monotonic()
                    elif time.monotonic() - quiet_since > 0.3:
                        break
                    self._flush(force=False)
            self._flush(force=True)
            self._ack_done()
            self._forecasts.run(force=True)
            if client.is_connected():
                client.disconnect()
                for _ in range(20):  # send the last PUBACKs and the DISCONNECT
                    if client.loop(timeout=0.05) != mqtt.MQTT_ERR_SUCCESS:
                        break
        except _WriteFailed:
            log.warning("write failed while stopping: the broker will deliver those again")

    # -- storing and acknowledging --
    def _flush(self, *, force: bool) -> None:
        """Write the batch (every terminal's messages) when it is full or its oldest message is
        old enough (always when `force`), then acknowledge what is stored, in arrival order."""
        now = time.monotonic()
        oldest = next(iter(self._pending.values()), None)
        due = oldest is not None and (
            force or self._full or now - oldest.first_at >= self.options.max_wait_ms / 1000
        )
        if not (due or self._rejects):
            self._ack_done()  # nothing to write (cheap: this runs after every packet)
            self._forecasts_due()
            return
        if now - self._db_checked_at > DB_CHECK_SECONDS:  # not per write: a reconnect costs
            close_old_connections()
            self._db_checked_at = now
        if connection.in_atomic_block:
            raise RuntimeError("MQTT ingest must run outside a transaction: it acks after commit")
        try:
            self._store_rejects()
            if due:
                self._store_all()
        except Exception as e:
            self.stats.write_errors += 1
            log.exception("storing MQTT messages failed")
            self._ack_done()  # what was stored before the failure
            connection.close()
            self._db_checked_at = 0.0
            raise _WriteFailed from e
        self._ack_done()
        self._forecasts_due()

    def _forecasts_due(self) -> None:
        try:
            self._forecasts.run()
        except Exception:  # noqa: BLE001 - still owed: tried again on the next round
            log.exception("enqueueing forecasts failed")

    def _store_rejects(self) -> None:
        if not self._rejects:
            return
        keys = {key for *_rest, key, _delivery in self._rejects if key}
        devices = {d.key: d for d in Device.objects.unscoped().filter(key__in=keys)} if keys else {}
        with transaction.atomic():
            for raw, reason, detail, key, _delivery in self._rejects:
                writer.dead_letter(
                    {"device_id": key, "payload": raw},
                    reason,
                    detail,
                    via=VIA,
                    device=devices.get(key),  # its group and device id, when the key is known
                )
        self.stats.dead += len(self._rejects)
        for *_rest, delivery in self._rejects:
            delivery.done = True
        self._rejects.clear()

    def _store_all(self) -> None:
        """Everything pending, all terminals in one `write_many` (one transaction)."""
        pending, self._pending = self._pending, {}
        self._full, self._waiting = False, 0
        devices = {d.key: d for d in Device.objects.unscoped().filter(key__in=list(pending))}
        unknown = [(key, devices.get(key)) for key in pending]
        unknown = [(key, d) for key, d in unknown if d is None or not d.is_active]
        if unknown:
            with transaction.atomic():
                for key, device in unknown:
                    reason = "unknown_device" if device is None else "inactive_device"
                    for raw in pending[key].items:
                        writer.dead_letter(
                            raw if isinstance(raw, dict) else {"device_id": key, "payload": raw},
                            reason,
                            f"topic device {key}",
                            via=VIA,
                            device=device,
                        )
                    self.stats.dead += len(pending[key].items)
            for key, _device in unknown:
                for delivery in pending.pop(key).deliveries:
                    delivery.done = True
        if not pending:
            return
        cars: set[int] = set()
        keys = list(pending)
        outcomes = writer.write_many(
            [(devices[key], pending[key].items) for key in keys], via=VIA, forecasts=cars
        )
        self.stats.writes += 1
        self._forecasts.add(cars)
        failed = None
        for key, outcome in zip(keys, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                failed = failed or outcome  # not acknowledged: the broker sends it again
                continue
            self.stats.accepted += outcome.accepted
            self.stats.duplicates += outcome.duplicates
            self.stats.dead += outcome.dead
            for delivery in pending[key].deliveries:
                delivery.done = True
        if failed is not None:
            raise failed

    def _ack_done(self) -> None:
        order = self._order
        while order and order[0].done:
            delivery = order.popleft()
            self._client.ack(delivery.mid, delivery.qos)
            self.stats.acked += 1


def run_ingest(options: Options) -> Stats:
    return MqttIngest(options).run()
