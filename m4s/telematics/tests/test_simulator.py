"""The car simulator: believable days, terminals registered on demo cars, reports arriving over
HTTP (live server), MQTT (real broker, when MQTT_URL is set) and JT/T 808 (the TCP server), and
`backfill` giving each car a daily odometer and a forecast."""

import asyncio
import datetime as dt
import json
import sys
import threading
import time
import uuid

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from m4s.demo import telematics as history
from m4s.telematics import messages as msg
from m4s.telematics import services, sim_cars, simulator
from m4s.telematics.models import DailyOdometer, DeadLetter, Device, Telemetry, VehicleState


def _week(**kw):
    now = timezone.now()
    car = sim_cars.SimCar(
        device_id="sim-x",
        vehicle_id=kw.pop("vehicle_id", 3),
        clock=now - dt.timedelta(days=7),
        **kw,
    )
    return car, [msg.parse(m, now=now) for m in car.advance(now, 30)]


def test_a_simulated_week_is_a_believable_life():
    car, week = _week(fuel="petrol", seed=1, crash_prob=0, theft_prob=0)
    assert car.commuter and len(week) > 500
    odometer = [m.odometer_km for m in week]
    assert odometer == sorted(odometer) and 50 < odometer[-1] - odometer[0] < 3000
    assert all(39.0 < m.lat < 41.5 and 115.5 < m.lon < 120 for m in week)  # around Beijing
    assert all(m.speed_kmh <= 120 and m.ts <= timezone.now() for m in week)
    starts = [b for a, b in zip(week, week[1:], strict=False) if not a.ignition and b.ignition]
    assert len(starts) >= 8  # there and back on the working days, more at the weekend
    local = [s.ts.astimezone(car.tz) for s in starts]
    assert any(5 <= t.hour <= 9 and t.weekday() < 5 for t in local)  # the morning commute
    gaps = [b.ts - a.ts for a, b in zip(week, week[1:], strict=False)]
    assert max(gaps) <= dt.timedelta(minutes=10)  # a heartbeat at least every ten minutes
    assert {m.fuel_pct is not None for m in week} == {True} and {m.soc_pct for m in week} == {None}


def test_electric_cars_charge_and_rare_events_happen_when_asked():
    car, week = _week(fuel="bev", seed=2, crash_prob=0, theft_prob=0)
    soc = [m.soc_pct for m in week]
    assert all(s is not None for s in soc) and {m.fuel_pct for m in week} == {None}
    assert any(b > a for a, b in zip(soc, soc[1:], strict=False))  # charged at home
    car, week = _week(seed=3, crash_prob=1.0, theft_prob=0, fault_prob=1.0)
    alarms = [m for m in week if m.alarm != "none"]
    assert alarms[0].alarm == "crash" and alarms[0].speed_kmh > 30
    assert car.crashed and all(not m.ignition for m in week[week.index(alarms[0]) + 2 :])
    assert any(m.dtcs and m.dtcs[0] in sim_cars.FAULT_CODES for m in week)
    car, week = _week(seed=4, crash_prob=0, theft_prob=50.0)  # stolen within the day
    kinds = [m.alarm for m in week if m.alarm != "none"]
    assert kinds == ["movement", "power_cut"] and car.silent
    moving = [m for m in week if not m.ignition and m.speed_kmh > 0]
    assert moving  # driven away with the ignition off


def test_simulate_over_http_registers_terminals_and_reports_arrive(cars, live_server, tmp_path):
    w = cars
    tokens = tmp_path / "tokens.json"
    counts = simulator.simulate(
        2,
        3,
        "http",
        url=live_server.url,
        speedup=0,
        schedule="busy",
        tokens_path=tokens,
        progress=False,
    )
    assert counts.errors == 0 and counts.dead == 0, counts.last_error
    assert counts.sent == counts.acked == counts.accepted > 2
    devices = Device.objects.unscoped().filter(device_id__startswith="sim-")
    assert {d.vehicle_id for d in devices} == {w.car.pk, w.other_car.pk}
    assert {d.dealer_group_id for d in devices} == {w.group_a.pk, w.group_b.pk}
    for car in (w.car, w.other_car):
        rows = list(Telemetry.objects.unscoped().filter(vehicle_id=car.pk).order_by("ts"))
        assert rows and all(r.ts <= timezone.now() and r.odometer_source == "can" for r in rows)
        assert not any(r.odometer_note for r in rows)
        state = VehicleState.objects.unscoped().get(vehicle=car)
        assert state.odometer_km == rows[-1].odometer_km
    assert len(json.loads(tokens.read_text())) == 2

    # again, through the command: the same terminals (their tokens were kept), carrying on
    before = Telemetry.objects.unscoped().count()
    call_command(
        "simulate",
        vehicles=2,
        minutes=2,
        via="http",
        url=live_server.url,
        speedup=0,
        schedule="busy",
        tokens_file=str(tokens),
        verbosity=0,
    )
    assert Device.objects.unscoped().count() == 2
    assert Telemetry.objects.unscoped().count() > before
    assert not Telemetry.objects.unscoped().exclude(odometer_note="").exists()
    assert not DeadLetter.objects.exists()


def test_speedup_keeps_every_timestamp_in_the_past(cars, live_server, tmp_path):
    started = timezone.now()
    counts = simulator.simulate(
        1,
        1,
        "http",
        url=live_server.url,
        speedup=60,  # one simulated minute: about a second
        schedule="busy",
        tokens_path=tmp_path / "t.json",
        progress=False,
    )
    assert counts.acked == counts.sent > 0
    span = Telemetry.objects.unscoped().order_by("ts").values_list("ts", flat=True)
    assert span[0] >= started - dt.timedelta(minutes=1) and span[len(span) - 1] <= timezone.now()
    assert timezone.now() - started < dt.timedelta(seconds=30)


def test_jt808_without_its_codec_says_so(monkeypatch):
    import m4s.telematics

    monkeypatch.delattr(m4s.telematics, "jt808", raising=False)
    monkeypatch.setitem(sys.modules, "m4s.telematics.jt808", None)
    with pytest.raises(simulator.SimulationError, match="jt808.py"):
        simulator.make_sender("jt808")


def test_no_cars_is_a_clear_error(db, tmp_path):
    with pytest.raises(simulator.SimulationError, match="No car"):
        simulator.simulate(
            1,
            1,
            "http",
            url="http://127.0.0.1:9",
            speedup=0,
            tokens_path=tmp_path / "t",
            progress=False,
        )


def test_backfill_writes_stay_inside_the_writers_window():
    """A quiet car reports once a day: 40 readings span 40 days, older than the writer's 30-day
    window at the last one's time. Each write spans at most 20 days (a CI failure once)."""
    t0 = dt.datetime(2026, 1, 1, 13, tzinfo=dt.UTC)
    quiet = [{"ts": (t0 + dt.timedelta(days=i)).isoformat(), "seq": i} for i in range(90)]
    busy = [{"ts": (t0 + dt.timedelta(hours=12 * i)).isoformat(), "seq": i} for i in range(90)]
    for batch in (quiet, busy):
        parts = list(history.driving_windows(batch, days=20, most=40))
        assert [m for p in parts for m in p] == batch  # all of them, in order
        for p in parts:
            span = dt.datetime.fromisoformat(p[-1]["ts"]) - dt.datetime.fromisoformat(p[0]["ts"])
            assert len(p) <= 40 and span <= dt.timedelta(days=20)
            assert span < msg.MAX_PAST


def test_backfill_keeps_every_day_of_many_cars(cars, tmp_path, rng):
    """Cars of every habit (commuters, weekend drivers, cars that barely move) get a daily
    odometer for each of the 90 days, and nothing is dead-lettered."""
    from m4s.customers import services as customers
    from m4s.demo import synthetic
    from m4s.vehicles.models import Vehicle

    w = cars
    ids = []
    for _ in range(12):
        car = Vehicle.objects.create(
            dealer_group=w.group_a, vin=synthetic.make_vin(rng), brand="Toyota", model="Camry"
        )
        customers.bind_customer_vehicle(
            w.known, car, via="desk", invitation=None, staff=w.advisor_a
        )
        ids.append(car.pk)
    for seed, car_id in enumerate(ids):
        history.backfill([car_id], days=90, seed=seed, tokens_path=tmp_path / "t.json")
    per_car = {
        car_id: DailyOdometer.objects.unscoped().filter(vehicle_id=car_id).count() for car_id in ids
    }
    assert per_car == {car_id: 90 for car_id in ids}
    assert list(DeadLetter.objects.values_list("reason", flat=True)) == []


def test_backfill_gives_a_daily_odometer_and_a_forecast(cars, tmp_path):
    w = cars
    today = timezone.localdate()
    tokens = tmp_path / "tokens.json"
    written = history.backfill([w.car.pk, w.other_car.pk], days=90, tokens_path=tokens)
    assert written > 180
    for car in (w.car, w.other_car):
        days = list(
            DailyOdometer.objects.unscoped()
            .filter(vehicle=car)
            .order_by("date")
            .values_list("date", "odometer_km")
        )
        assert len(days) == 90
        assert days[0][0] == today - dt.timedelta(days=90)
        assert days[-1][0] == today - dt.timedelta(days=1)
        assert [km for _d, km in days] == sorted(km for _d, km in days)
        forecast = services.compute_forecast(car.pk)
        assert forecast is not None and 3 < forecast.km_per_day < 300
    assert not Telemetry.objects.unscoped().exclude(odometer_note="").exists()
    assert not DeadLetter.objects.exists()
    assert history.backfill([w.car.pk], days=90, tokens_path=tokens) == 0  # nothing again
    assert len(json.loads(tokens.read_text())) == 2  # the terminals it registered, for simulate


def test_backfill_joins_a_car_that_already_reports(fleet, tmp_path):
    """History written after live data ends where the live readings begin."""
    from m4s.telematics.writer import write_batch

    w = fleet
    midnight = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(0, 1)))
    start = max(timezone.now() - dt.timedelta(minutes=3), midnight)  # all today
    live = [
        {
            "device_id": "tbox-a1",
            "seq": i,
            "ts": (start + dt.timedelta(seconds=60 * i)).isoformat(),
            "odometer_km": 30000.0 + 0.5 * i,  # 30 km/h
            "odometer_source": "can",
        }
        for i in range(3)
    ]
    write_batch(w.device_a, live, via="http")
    history.backfill([w.car.pk], days=30, tokens_path=tmp_path / "t")
    days = list(
        DailyOdometer.objects.unscoped()
        .filter(vehicle=w.car)
        .order_by("date")
        .values_list("odometer_km", flat=True)
    )
    assert len(days) == 31 and days == sorted(days)
    assert days[-2] <= 30000.0 < days[-1] == 30001.0
    assert not Telemetry.objects.unscoped().exclude(odometer_note="").exists()
    assert Device.objects.unscoped().filter(vehicle=w.car).count() == 1  # used its terminal


def test_a_simulation_carries_on_from_the_backfill(cars, live_server, tmp_path):
    w = cars
    tokens = tmp_path / "tokens.json"
    history.backfill([w.car.pk, w.other_car.pk], days=30, tokens_path=tokens)
    km = VehicleState.objects.unscoped().get(vehicle=w.car).odometer_km
    counts = simulator.simulate(
        2,
        5,
        "http",
        url=live_server.url,
        speedup=0,
        schedule="busy",
        tokens_path=tokens,
        progress=False,
    )
    assert counts.errors == 0 and counts.accepted == counts.sent > 2
    assert Device.objects.unscoped().count() == 2  # the backfill's terminals, driven over HTTP
    state = VehicleState.objects.unscoped().get(vehicle=w.car)
    assert state.odometer_km > km and state.ts > timezone.now() - dt.timedelta(minutes=6)
    assert not Telemetry.objects.unscoped().exclude(odometer_note="").exists()  # no jumps
    assert DailyOdometer.objects.unscoped().filter(vehicle=w.car).count() == 31  # and today


@pytest.mark.skipif(not settings.MQTT_URL, reason="MQTT_URL is not set")
def test_simulate_over_mqtt_into_the_ingest(cars, transactional_db, tmp_path):
    from m4s.telematics import mqtt_ingest

    tag = uuid.uuid4().hex[:10]
    prefix = f"m4s-sim-{tag}/v1"
    ingest = mqtt_ingest.MqttIngest(
        mqtt_ingest.Options(
            url=settings.MQTT_URL,
            client_id=f"{tag}-ingest",
            prefix=prefix,
            share_group=f"m4s-sim-{tag}",
            max_wait_ms=50,
            session_expiry=60,
        )
    )
    thread = threading.Thread(target=ingest.run, daemon=True)
    thread.start()
    assert ingest.ready.wait(10)
    try:
        counts = simulator.simulate(
            2,
            5,
            "mqtt",
            speedup=0,
            schedule="busy",
            mqtt_prefix=prefix,
            tokens_path=tmp_path / "t",
            progress=False,
        )
        assert counts.errors == 0 and counts.acked == counts.sent > 2
        deadline = time.monotonic() + 15
        while ingest.stats.accepted < counts.sent and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        ingest.stop()
        thread.join(15)
    assert ingest.stats.accepted == counts.sent and ingest.stats.dead == 0
    assert Telemetry.objects.unscoped().count() == counts.sent
    assert {d.protocol for d in Device.objects.unscoped()} == {"mqtt"}


def test_simulate_over_jt808_into_the_server(cars, transactional_db, tmp_path):
    pytest.importorskip("m4s.telematics.jt808_server")
    from m4s.telematics.jt808_server import Jt808Server

    server, loop = Jt808Server("127.0.0.1", 0), asyncio.new_event_loop()

    async def serve():
        await server.start()
        await server.serve_until_stopped()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while server._server is None and time.monotonic() < deadline:  # noqa: SLF001
        time.sleep(0.02)
    try:
        counts = simulator.simulate(
            2,
            3,
            "jt808",
            url=f"tcp://127.0.0.1:{server.port}",
            speedup=0,
            schedule="busy",
            tokens_path=tmp_path / "t",
            progress=False,
        )
    finally:
        loop.call_soon_threadsafe(server.request_stop)
        thread.join(15)
        loop.close()
    assert counts.errors == 0 and counts.acked == counts.sent > 2, counts.last_error
    devices = Device.objects.unscoped().filter(protocol="jt808")
    assert devices.count() == 2 and all(d.terminal_phone.startswith("144") for d in devices)
    rows = Telemetry.objects.unscoped()
    assert rows.count() == counts.sent
    assert {r.odometer_source for r in rows} == {"terminal"}


def test_two_writers_of_the_token_file_never_collide(tmp_path):
    """Two demo builds or simulators at once (a CI run had two): each write is atomic through
    its own temporary file, the file is always whole JSON and only its owner can read it."""
    path = tmp_path / "tokens.json"
    errors = []

    def write(tag):
        try:
            for i in range(50):
                simulator.save_tokens(path, {f"{tag}-{i}": "secret"})
        except Exception as e:  # noqa: BLE001 - collected for the assertion
            errors.append(e)

    threads = [threading.Thread(target=write, args=(t,)) for t in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(json.loads(path.read_text())) == 1
    assert oct(path.stat().st_mode)[-3:] == "600"
    assert [p.name for p in tmp_path.iterdir()] == ["tokens.json"]  # no temporary left over
