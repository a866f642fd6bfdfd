"""Batching across terminals (batcher.py, writer.write_many): one commit for many terminals'
messages when N are queued or after T ms; each caller answered only after the commit; a
submission that cannot be stored does not take the others down; a message sent twice within
one batch is stored once; forecasts enqueued at most once per car and window."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from m4s.telematics import batcher as batching
from m4s.telematics import services, writer
from m4s.telematics.models import DailyOdometer, DeadLetter, Device, Telemetry, VehicleState
from m4s.vehicles.models import Vehicle


def _m(device_id, seq, minutes_ago=5, **kw):
    ts = timezone.now() - dt.timedelta(minutes=minutes_ago)
    return {"device_id": device_id, "seq": seq, "ts": ts.isoformat(), **kw}


def _in_thread(fn):
    """Run fn in a thread; returns (thread, box) where box["result"] or box["error"] lands."""
    box = {}

    def run():
        try:
            box["result"] = fn()
        except Exception as e:  # noqa: BLE001 - looked at by the test
            box["error"] = e
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, box


def _stored(device):
    return Telemetry.objects.unscoped().filter(device_id=device.pk).count()


def test_many_terminals_are_written_in_one_transaction(fleet):
    w = fleet
    odo = {"odometer_km": 12000.0, "odometer_source": "can", "lat": 39.9, "lon": 116.4}
    a = [_m("tbox-a1", 1, 20, **odo), _m("tbox-a1", 2, 10, **{**odo, "odometer_km": 12005.0})]
    b = [_m("tbox-b1", 7, 15, **odo), {"device_id": "tbox-b1", "seq": "x"}]  # one malformed
    out = writer.write_many([(w.device_a, a), (w.device_b, b)], via="http")
    assert [(r.accepted, r.duplicates, r.dead) for r in out] == [(2, 0, 0), (1, 0, 1)]
    assert out[1].dead_reasons[0]["index"] == 1
    assert _stored(w.device_a) == 2 and _stored(w.device_b) == 1
    state_a = VehicleState.objects.for_group(w.group_a).get(vehicle=w.car)
    state_b = VehicleState.objects.for_group(w.group_b).get(vehicle=w.other_car)
    assert (state_a.odometer_km, state_b.odometer_km) == (12005.0, 12000.0)
    assert DailyOdometer.objects.for_group(w.group_a).get().odometer_km == 12005.0
    assert DailyOdometer.objects.for_group(w.group_b).get().odometer_km == 12000.0
    assert DeadLetter.objects.get().device_id == "tbox-b1"


def test_a_message_sent_twice_within_one_batch_is_stored_once(fleet):
    w = fleet
    m1, m2 = _m("tbox-a1", 1, 20), _m("tbox-a1", 2, 10)
    out = writer.write_many([(w.device_a, [m1]), (w.device_a, [m1, m2, m2])], via="mqtt")
    assert [(r.accepted, r.duplicates) for r in out] == [(1, 0), (1, 2)]
    assert sorted(Telemetry.objects.for_group(w.group_a).values_list("seq", flat=True)) == [1, 2]


def test_a_submission_that_cannot_be_stored_does_not_lose_the_others(fleet):
    """A terminal of group A fitted (wrongly) to group B's car: its write fails (a device only
    writes its own group's car); the other terminals of the same batch are stored."""
    w = fleet
    stray = Device.objects.create(
        dealer_group=w.group_a, device_id="stray-1", protocol="http", vehicle=w.other_car
    )
    out = writer.write_many(
        [
            (w.device_a, [_m("tbox-a1", 1)]),
            (stray, [_m("stray-1", 1)]),
            (w.device_b, [_m("tbox-b1", 1)]),
        ],
        via="http",
    )
    assert out[0].accepted == 1 and out[2].accepted == 1
    assert isinstance(out[1], Vehicle.DoesNotExist)
    assert _stored(w.device_a) == 1 and _stored(w.device_b) == 1 and _stored(stray) == 0
    with pytest.raises(Vehicle.DoesNotExist):  # alone, it raises as before
        writer.write_batch(stray, [_m("stray-1", 2)], via="http")


@pytest.mark.django_db(transaction=True)
def test_the_batch_is_committed_when_n_messages_are_queued(fleet):
    w = fleet
    b = batching.Batcher(via="http", max_batch=3, max_wait_ms=600_000, flush_when_idle=False)
    first, box = _in_thread(lambda: b.submit(w.device_a, [_m("tbox-a1", 1), _m("tbox-a1", 2)]))
    first.join(0.3)
    assert first.is_alive() and _stored(w.device_a) == 0  # 2 of 3: waiting
    second = b.submit(w.device_b, [_m("tbox-b1", 1)])  # the third: written now, by this caller
    first.join(20)
    assert not first.is_alive() and "error" not in box
    assert (box["result"].accepted, second.accepted, b.commits) == (2, 1, 1)


@pytest.mark.django_db(transaction=True)
def test_the_batch_is_committed_after_t_ms_when_n_is_not_reached(fleet):
    w = fleet
    b = batching.Batcher(via="http", max_batch=1000, max_wait_ms=200, flush_when_idle=False)
    thread, box = _in_thread(lambda: b.submit(w.device_a, [_m("tbox-a1", 1)]))
    thread.join(20)
    assert not thread.is_alive() and box["result"].accepted == 1 and b.commits == 1
    assert _stored(w.device_a) == 1


@pytest.mark.django_db(transaction=True)
def test_each_caller_is_answered_only_after_the_commit(fleet, monkeypatch):
    """The caller whose messages another caller wrote gets its answer after that commit: its
    rows are visible from its own connection when it is answered, and a failed write is an
    error for every caller of the batch (nothing acknowledged)."""
    w = fleet
    b = batching.Batcher(via="http", max_batch=2, max_wait_ms=600_000, flush_when_idle=False)

    def submit_and_count():
        result = b.submit(w.device_a, [_m("tbox-a1", 1)])
        return result, _stored(w.device_a)  # read on this thread's connection

    thread, box = _in_thread(submit_and_count)
    thread.join(0.3)
    b.submit(w.device_b, [_m("tbox-b1", 1)])  # completes the batch: this thread writes it
    thread.join(20)
    result, seen = box["result"]
    assert result.accepted == 1 and seen == 1

    def broken(submissions, **kw):
        raise RuntimeError("database went away")

    monkeypatch.setattr(writer, "write_many", broken)
    thread, box = _in_thread(lambda: b.submit(w.device_a, [_m("tbox-a1", 2)]))
    thread.join(0.3)
    with pytest.raises(RuntimeError):
        b.submit(w.device_b, [_m("tbox-b1", 2)])
    thread.join(20)
    assert isinstance(box["error"], RuntimeError)
    assert _stored(w.device_a) == 1 and _stored(w.device_b) == 1


@pytest.mark.django_db(transaction=True)
def test_a_lone_request_does_not_wait_for_t(fleet, client):
    """flush_when_idle (the HTTP default): nobody else on the way, the batch is written now."""
    w = fleet
    b = batching.Batcher(via="http", max_batch=1000, max_wait_ms=600_000)
    thread, box = _in_thread(lambda: b.submit(w.device_a, [_m("tbox-a1", 1)]))
    thread.join(20)
    assert not thread.is_alive() and box["result"].accepted == 1


def test_forecasts_are_enqueued_once_per_car_and_window(db, monkeypatch):
    enqueued = []
    monkeypatch.setattr(services, "enqueue_forecast", enqueued.append)
    throttle = batching.ForecastThrottle(every=60)
    throttle.add({1, 2})
    assert sorted(throttle.run(now=1000.0)) == [1, 2]
    throttle.add({1})  # more data for car 1 inside its window: owed, not yet enqueued
    assert throttle.run(now=1010.0) == []
    assert throttle.run(now=1061.0) == [1]  # when the window ends
    throttle.add({2})
    assert throttle.run(now=1062.0, force=True) == [2]  # on stop: everything owed
    assert sorted(enqueued) == [1, 1, 2, 2]


def test_the_batch_owes_the_forecasts_of_cars_with_new_daily_odometer(
    fleet, django_capture_on_commit_callbacks
):
    w = fleet
    cars = set()
    odo = {"odometer_km": 500.0, "odometer_source": "can"}
    with django_capture_on_commit_callbacks(execute=True):
        writer.write_many(
            [(w.device_a, [_m("tbox-a1", 1, **odo)]), (w.device_b, [_m("tbox-b1", 1)])],
            via="http",
            forecasts=cars,
        )
    assert cars == {w.car.pk}  # group B's message had no odometer
