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

from . import services
from .choices import Protocol
from .models import Device, VehicleState
from .sim_cars import MAX_MINUTES, TANK_L, SimCar, Terminal


class SimulationError(Exception):
    """Something the person running the simulator must fix (no cars, no broker, ...)."""


# --- terminals on demo cars -----------------------------------------------------------------------


def sim_device_id(vehicle_id: int, via: str) -> str:
    if via == "gb32960":
        return f"sim-{vehicle_id}-gb"
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
    protocol = {
        "http": Protocol.HTTP,
        "mqtt": Protocol.MQTT,
        "jt808": Protocol.JT808,
        "gb32960": Protocol.GB32960,
    }[via]
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
            if via == "gb32960" and len(vehicle.vin or "") != 17:
                skip("GB/T 32960 needs the car's 17-character VIN")
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


class _Gb32960Link:
    """One vehicle's TCP connection: logs in with its VIN, then sends real-time reports."""

    def __init__(self, codec, host: str, port: int, car: SimCar):
        self.gb, self.car = codec, car
        self.vin = car.terminal.vehicle.vin
        self.sock = socket.create_connection((host, port), timeout=15)
        self.splitter = codec.FrameSplitter()
        self.replies: list = []
        self.sock.sendall(codec.encode_login(self.vin, dt.datetime.now(dt.UTC)))
        reply = self.read_reply()
        if reply.header.response != codec.SUCCESS:
            raise SimulationError(f"GB/T 32960 login of {self.vin} refused")

    def read_reply(self):
        while not self.replies:
            data = self.sock.recv(8192)
            if not data:
                raise OSError("the GB/T 32960 server closed the connection")
            self.replies += [self.gb.decode_frame(f) for f in self.splitter.feed(data)]
        return self.replies.pop(0)

    def close(self) -> None:
        self.sock.close()


class Gb32960Sender:
    """GB/T 32960 over TCP: a connection per vehicle (login by VIN); each message a real-time
    report (0x02) with the whole-vehicle, position and alarm units, acknowledged by the server
    after commit. A car without a state of charge reports one falling slowly with the odometer."""

    def __init__(self, url: str):
        from . import gb32960

        self.gb = gb32960
        parsed = urlparse(url or "tcp://127.0.0.1:32960")
        if parsed.scheme not in {"tcp", "gb32960"} or not parsed.hostname:
            raise SimulationError(f"--url must be tcp://host:port for GB/T 32960, not {url!r}")
        self.host, self.port = parsed.hostname, parsed.port or 32960
        self.links: dict[str, _Gb32960Link] = {}

    def report_frame(self, vin: str, m: dict) -> bytes:
        gb = self.gb
        soc = m.get("soc_pct")
        if soc is None:
            soc = max(5, 90 - int(m.get("odometer_km", 0)) % 80)
        charge = m.get("charge_state") or gb.NOT_CHARGING
        report = gb.Report(
            ts=dt.datetime.fromisoformat(m["ts"]),
            vehicle=gb.VehicleData(
                state=gb.STARTED if m.get("ignition") else gb.STOPPED,
                charge_state=charge,
                speed_kmh=m.get("speed_kmh"),
                odometer_km=m.get("odometer_km"),
                total_v=m.get("pack_v") or 355.0,
                total_a=m.get("pack_a") if m.get("pack_a") is not None else 10.0,
                soc_pct=int(soc),
            ),
            position=gb.Position(True, m["lat"], m["lon"]) if "lat" in m else None,
            alarm=gb.AlarmData(level=3 if m.get("alarm") == "battery" else 0),
        )
        return gb.encode_report(vin, report)

    def _link(self, car: SimCar) -> _Gb32960Link:
        link = self.links.get(car.device_id)
        if link is None:
            try:
                link = self.links[car.device_id] = _Gb32960Link(self.gb, self.host, self.port, car)
            except OSError as e:
                raise SimulationError(
                    f"cannot reach the GB/T 32960 server at {self.host}:{self.port}: {e}"
                ) from None
        return link

    def send(self, batches: list[tuple[SimCar, list]]) -> Counts:
        total, waiting = Counts(), []
        for car, batch in batches:
            link = self._link(car)
            try:
                link.sock.sendall(b"".join(self.report_frame(link.vin, m) for m in batch))
                waiting.append((link, len(batch)))
            except OSError as e:
                total.errors, total.last_error = total.errors + len(batch), str(e)
                self.links.pop(car.device_id, None)
            total.sent += len(batch)
        for link, n in waiting:  # written to every connection first, then the acks
            for _ in range(n):
                try:
                    reply = link.read_reply()
                except OSError as e:
                    total.errors, total.last_error = total.errors + 1, str(e)
                    self.links.pop(link.car.device_id, None)
                    break
                if reply.header.response == self.gb.SUCCESS:
                    total.acked += 1
                else:
                    total.errors, total.last_error = total.errors + 1, "GB/T 32960 error reply"
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
    if via == "gb32960":
        return Gb32960Sender(url)
    raise SimulationError(f"--via is http, mqtt, jt808 or gb32960, not {via!r}")


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
    backfill=None,
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
        if backfill_days and backfill is not None:  # the demo's history writer, passed in
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
