"""MQTT ingest against the real broker (skipped unless MQTT_URL is set): stored once, dead
letters, acknowledgement only after commit (redelivery after a failed write and after a crash),
and a shared subscription splitting the load between two ingest processes.

Each test uses its own topic prefix, share group and client ids, so runs (and xdist workers)
sharing one broker never see each other's messages."""

import datetime as dt
import json
import threading
import time
import uuid
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from m4s.telematics import mqtt_ingest, writer
from m4s.telematics.models import DeadLetter, Telemetry


def needs_broker(test):
    """The real broker, and a database the ingest thread can see (committed rows)."""
    test = pytest.mark.skipif(not settings.MQTT_URL, reason="MQTT_URL is not set")(test)
    return pytest.mark.usefixtures("transactional_db")(test)


@pytest.fixture
def ns():
    """A namespace of this test on the shared broker."""
    tag = uuid.uuid4().hex[:10]
    return SimpleNamespace(tag=tag, prefix=f"m4s-test-{tag}/v1", group=f"m4s-test-{tag}")


@pytest.fixture
def publisher():
    broker = mqtt_ingest.parse_url(settings.MQTT_URL)
    client = mqtt_ingest.make_client(broker)
    client.connect(broker.host, broker.port)
    client.loop_start()

    def publish(topic, payload, qos=1):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        info = client.publish(topic, body, qos=qos)
        info.wait_for_publish(timeout=5)  # the broker has it (PUBACK)
        assert info.is_published()

    yield publish
    client.disconnect()
    client.loop_stop()


class Runner:
    """An ingest loop in a thread (as `m4s ingest-mqtt` would run in its own process)."""

    def __init__(self, ns, client_id, **options):
        options = {"max_wait_ms": 50, "session_expiry": 120, "retry_min": 0.2, **options}
        self.ingest = mqtt_ingest.MqttIngest(
            mqtt_ingest.Options(
                url=settings.MQTT_URL,
                client_id=f"{ns.tag}-{client_id}",
                prefix=ns.prefix,
                share_group=ns.group,
                **options,
            )
        )
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        assert self.ingest.ready.wait(10), "the ingest did not subscribe"

    def _run(self):
        try:
            self.ingest.run()
        except Exception as e:  # surfaced by stop()
            self.error = e

    @property
    def stats(self):
        return self.ingest.stats

    def wait(self, condition, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition(self.stats):
                return
            time.sleep(0.05)
        raise AssertionError(f"timed out; stats {self.stats}")

    def stop(self, **kw):
        self.ingest.stop(**kw)
        self.thread.join(15)
        assert not self.thread.is_alive()
        if self.error:
            raise self.error
        return self.stats


@pytest.fixture
def runners():
    started = []

    def start(ns, client_id, **options):
        runner = Runner(ns, client_id, **options)
        started.append(runner)
        return runner

    yield start
    for runner in started:
        if runner.thread.is_alive():
            runner.ingest.stop()
            runner.thread.join(15)


def _m(device_id, seq, minutes_ago=5, **kw):
    ts = timezone.now() - dt.timedelta(minutes=minutes_ago)
    return {"device_id": device_id, "seq": seq, "ts": ts.isoformat(), **kw}


def _topic(ns, device_id, kind="telemetry"):
    """The topic of the terminal with this id (its key), or of this key if there is none."""
    from m4s.telematics.models import Device

    key = Device.objects.unscoped().filter(device_id=device_id).values_list("key", flat=True)
    return mqtt_ingest.topic_for(key.first() or device_id, kind, prefix=ns.prefix)


def test_topics_and_urls():
    assert mqtt_ingest.parse_topic("m4s/v1/tbox-1/up/telemetry") == ("tbox-1", "telemetry")
    assert mqtt_ingest.parse_topic("m4s/v1/tbox-1/up/event") == ("tbox-1", "event")
    assert mqtt_ingest.parse_topic("m4s/v1/tbox-1/down/cmd") is None
    assert mqtt_ingest.parse_topic("m4s/v1/a/b/up/telemetry") is None
    assert mqtt_ingest.subscription_for() == "$share/m4s-ingest/m4s/v1/+/up/+"
    b = mqtt_ingest.parse_url("mqtts://u%40x:p@broker.example:9999")
    assert (b.host, b.port, b.tls, b.username, b.password) == (
        "broker.example",
        9999,
        True,
        "u@x",
        "p",
    )
    assert mqtt_ingest.parse_url("mqtt://127.0.0.1").port == 1883
    with pytest.raises(ValueError):
        mqtt_ingest.parse_url("http://127.0.0.1")


@needs_broker
def test_messages_are_stored_once(fleet, ns, publisher, runners):
    w = fleet
    run = runners(ns, "one")
    batch = [
        _m("tbox-a1", 1, 30, lat=39.9, lon=116.4, odometer_km=12000.0, odometer_source="can"),
        _m("tbox-a1", 2, 20, lat=39.91, lon=116.41, odometer_km=12010.0, odometer_source="can"),
    ]
    publisher(_topic(ns, "tbox-a1"), batch)  # an array
    publisher(_topic(ns, "tbox-a1", "event"), _m("tbox-a1", 3, 10, alarm="sos"))  # an object
    publisher(_topic(ns, "tbox-a1"), batch[0])  # the same message again
    run.wait(lambda s: s.acked == 3)
    stats = run.stop()
    assert (stats.accepted, stats.duplicates, stats.dead) == (3, 1, 0)
    rows = Telemetry.objects.for_group(w.group_a).order_by("seq")
    assert [r.seq for r in rows] == [1, 2, 3]
    assert rows[1].odometer_km == 12010.0 and rows[2].alarm == "sos"
    assert not DeadLetter.objects.exists()


@needs_broker
def test_messages_wait_for_their_batch_and_are_acknowledged_after_it(fleet, ns, publisher, runners):
    run = runners(ns, "batch", max_wait_ms=1500, max_batch=100)
    for seq in range(5):
        publisher(_topic(ns, "tbox-a1"), _m("tbox-a1", seq, minutes_ago=10 - seq))
    run.wait(lambda s: s.received == 5)
    assert (run.stats.writes, run.stats.acked) == (0, 0)  # waiting for the batch: no PUBACK yet
    run.wait(lambda s: s.acked == 5)
    assert run.stop().writes == 1  # one write for the five

    full = runners(ns, "full", max_wait_ms=60_000, max_batch=2)  # full batches do not wait
    for seq in range(10, 14):
        publisher(_topic(ns, "tbox-a1"), _m("tbox-a1", seq, minutes_ago=20 - seq))
    full.wait(lambda s: s.acked == 4)
    assert full.stop().writes == 2
    assert Telemetry.objects.for_group(fleet.group_a).count() == 9


@needs_broker
def test_what_cannot_be_stored_is_dead_lettered_and_acknowledged(fleet, ns, publisher, runners):
    w = fleet
    run = runners(ns, "dead")
    publisher(_topic(ns, "tbox-b1"), _m("tbox-a1", 1))  # group A's message on B's topic
    publisher(_topic(ns, "nobody"), _m("nobody", 2))  # an unknown terminal
    publisher(_topic(ns, "tbox-a1"), b"{not json")
    publisher(_topic(ns, "tbox-a1"), 42)  # JSON, but neither an object nor an array
    publisher(_topic(ns, "tbox-a1"), _m("tbox-a1", 3, minutes_ago=-60))  # in the future
    publisher(f"{ns.prefix}/tbox-a1/up/other", _m("tbox-a1", 4))  # not a kind we know
    run.wait(lambda s: s.acked == 6)
    assert run.stop().accepted == 0
    assert not Telemetry.objects.unscoped().exists()
    reasons = sorted(DeadLetter.objects.values_list("device_id", "reason"))
    assert reasons == sorted(
        [
            ("tbox-b1", "wrong_device"),
            ("nobody", "unknown_device"),
            ("tbox-a1", "bad_json"),
            ("tbox-a1", "bad_batch"),
            ("tbox-a1", "ts_in_future"),
            ("", "bad_topic"),
        ]
    )
    wrong = DeadLetter.objects.get(reason="wrong_device")
    assert wrong.dealer_group_id == w.group_b.pk and wrong.payload["device_id"] == "tbox-a1"
    # an inactive terminal's messages are refused the same way
    type(w.device_b).objects.unscoped().filter(pk=w.device_b.pk).update(is_active=False)
    again = runners(ns, "dead")  # same client id: the session comes back
    publisher(_topic(ns, "tbox-b1"), _m("tbox-b1", 5))
    again.wait(lambda s: s.acked == 1)
    stats = again.stop()
    assert stats.received == 1  # everything earlier was acknowledged: nothing came again
    assert DeadLetter.objects.filter(reason="inactive_device").count() == 1


@needs_broker
def test_a_failed_write_is_not_acknowledged_and_comes_again(
    fleet, ns, publisher, runners, monkeypatch
):
    w = fleet
    real = writer.write_many
    calls = []

    def fail_once(submissions, **kw):
        calls.append(sum(len(raws) for _device, raws in submissions))
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return real(submissions, **kw)

    monkeypatch.setattr(writer, "write_many", fail_once)
    run = runners(ns, "retry")
    publisher(_topic(ns, "tbox-a1"), [_m("tbox-a1", 1), _m("tbox-a1", 2)])
    run.wait(lambda s: s.acked == 1)
    stats = run.stop()
    assert stats.write_errors == 1 and stats.connects == 2
    assert stats.received == 2 and stats.redelivered == 1  # the broker sent it again (DUP)
    assert stats.accepted == 2 and len(calls) == 2
    assert Telemetry.objects.for_group(w.group_a).count() == 2


@needs_broker
def test_a_crash_before_the_write_loses_nothing(fleet, ns, publisher, runners):
    """A process dies with messages buffered and unacknowledged; when it starts again (same
    client id, persistent session) the broker delivers them again and they are stored once."""
    w = fleet
    first = runners(ns, "crash", max_wait_ms=60_000)  # holds its batch for a minute
    publisher(_topic(ns, "tbox-a1"), [_m("tbox-a1", 1), _m("tbox-a1", 2)])
    publisher(_topic(ns, "tbox-a1"), _m("tbox-a1", 3))
    first.wait(lambda s: s.received == 2)
    stats = first.stop(flush=False)  # dies: nothing written, nothing acknowledged
    assert (stats.accepted, stats.acked) == (0, 0)
    assert not Telemetry.objects.unscoped().exists()

    second = runners(ns, "crash")
    second.wait(lambda s: s.acked == 2)
    stats = second.stop()
    assert stats.redelivered == 2 and stats.accepted == 3
    assert Telemetry.objects.for_group(w.group_a).count() == 3


@needs_broker
def test_two_ingest_processes_share_the_subscription(fleet, ns, publisher, runners, monkeypatch):
    w = fleet
    if connection.vendor == "sqlite":
        # the in-memory test database takes one connection at a time while another writes (a
        # read of the devices beside a write is "table is locked"): one flush at a time
        lock, real = threading.Lock(), mqtt_ingest.MqttIngest._flush

        def one_at_a_time(self, *args, **kw):
            with lock:
                return real(self, *args, **kw)

        monkeypatch.setattr(mqtt_ingest.MqttIngest, "_flush", one_at_a_time)
    topics = {d: _topic(ns, d) for d in ("tbox-a1", "tbox-b1")}  # read before the writers run
    one, two = runners(ns, "one"), runners(ns, "two")
    n = 40
    for seq in range(n):
        device_id = ("tbox-a1", "tbox-b1")[seq % 2]
        publisher(topics[device_id], _m(device_id, seq, minutes_ago=50 - seq))
    one.wait(lambda s: s.acked + two.stats.acked == n)
    a, b = one.stop(), two.stop()
    assert a.received > 0 and b.received > 0  # both took a share
    assert a.received + b.received == n  # and no message went to both
    assert a.accepted + b.accepted == n and a.duplicates + b.duplicates == 0
    assert Telemetry.objects.for_group(w.group_a).count() == n // 2
    assert Telemetry.objects.for_group(w.group_b).count() == n // 2


@needs_broker
def test_two_groups_may_use_the_same_device_id_each_on_its_own_key(fleet, ns, publisher, runners):
    from m4s.telematics import services
    from m4s.telematics.models import Device

    w = fleet
    twin, _secret = services.register_device(
        w.admin_b, device_id="tbox-a1", protocol="mqtt", vehicle=w.other_car
    )
    mine = Device.objects.for_group(w.group_a).get(device_id="tbox-a1")
    assert twin.key != mine.key
    run = runners(ns, "twins")
    publisher(mqtt_ingest.topic_for(mine.key, prefix=ns.prefix), _m("tbox-a1", 1))
    publisher(
        mqtt_ingest.topic_for(twin.key, prefix=ns.prefix), [_m("tbox-a1", 2), _m("tbox-a1", 3)]
    )
    run.wait(lambda s: s.acked == 2)
    assert run.stop().accepted == 3
    assert list(Telemetry.objects.for_group(w.group_a).values_list("seq", "vehicle_id")) == [
        (1, w.car.pk)
    ]
    assert sorted(Telemetry.objects.for_group(w.group_b).values_list("seq", flat=True)) == [2, 3]


@needs_broker
def test_the_command_stops_after_max_seconds(fleet, ns, publisher):
    from django.core.management import call_command

    publisher(_topic(ns, "tbox-a1"), _m("tbox-a1", 1))  # nobody subscribed yet: not kept
    call_command(
        "ingest_mqtt",
        url=settings.MQTT_URL,
        client_id=f"{ns.tag}-cmd",
        prefix=ns.prefix,
        share_group=ns.group,
        session_expiry=60,
        max_seconds=1.0,
        verbosity=0,
    )
    assert not Telemetry.objects.unscoped().exists()


@needs_broker
def test_terminals_share_one_write_acknowledged_after_its_commit(fleet, ns, publisher, runners):
    """Batching across terminals: both terminals' messages wait for the batch (no PUBACK), then
    go in one write; a full batch (N messages, whoever sent them) does not wait for T."""
    topics = {d: _topic(ns, d) for d in ("tbox-a1", "tbox-b1")}
    run = runners(ns, "cross", max_wait_ms=1500, max_batch=100)
    publisher(topics["tbox-a1"], _m("tbox-a1", 1, 10))
    publisher(topics["tbox-b1"], [_m("tbox-b1", 1, 10), _m("tbox-b1", 2, 9)])
    run.wait(lambda s: s.received == 2)
    assert (run.stats.writes, run.stats.acked) == (0, 0)
    run.wait(lambda s: s.acked == 2)
    stats = run.stop()
    assert (stats.writes, stats.accepted) == (1, 3)

    full = runners(ns, "cross-full", max_wait_ms=60_000, max_batch=4)
    for seq in (3, 4):
        for device_id in ("tbox-a1", "tbox-b1"):
            publisher(topics[device_id], _m(device_id, seq, 10 - seq))
    full.wait(lambda s: s.acked == 4)
    stats = full.stop()
    assert (stats.writes, stats.accepted) == (1, 4)
    assert Telemetry.objects.for_group(fleet.group_a).count() == 3
    assert Telemetry.objects.for_group(fleet.group_b).count() == 4
