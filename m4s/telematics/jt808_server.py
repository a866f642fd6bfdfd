"""JT/T 808 over TCP (asyncio): registration, authentication, heartbeats, location reports.

One task per terminal connection; frames of a connection are handled one after the other, so
acknowledgements go out in order. Database work (device look-ups, the batched writer, dead
letters) runs in a few threads of its own (`DatabaseThreads`): each job starts and ends with
`close_old_connections()`, so a broken or expired connection is dropped and never reused, and
each thread closes its connection when the server stops.

A location report (0x0200) or batch (0x0704) is acknowledged with 0x8001 result 0 only after
`write_batch` has returned, i.e. committed. If the write fails nothing is sent: the terminal
resends, and the writer's dedupe (device, seq, ts) stores it once. Frames that cannot be decoded
are logged and dead-lettered; the connection stays open and is answered with 0x8001 result 2
(bad message) — or 3 (unsupported: encryption, subpackages) — when the header could be read.
"""

import asyncio
import concurrent.futures
import contextlib
import logging
import queue
import secrets
import threading
import time

from django.db import close_old_connections, connections

from . import jt808
from .choices import Protocol
from .models import Device
from .writer import dead_letter, write_batch

log = logging.getLogger("m4s.telematics.jt808")

READ_SIZE = 4096
DEVICE_REFRESH_SECONDS = 300  # re-read an authenticated terminal's row (car, active) this often
UNSUPPORTED_REASONS = {"encrypted", "unsupported"}


# --- database side --------------------------------------------------------------------------------
class DatabaseThreads:
    """A few threads for the ORM. Each job starts and ends with `close_old_connections()`, which
    drops a broken or expired connection and keeps a healthy one for CONN_MAX_AGE; each thread
    closes its connections when the pool stops (so nothing is left open behind the server)."""

    def __init__(self, size: int, name: str = "jt808-db"):
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True)
            for i in range(size)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, fn, *args, **kwargs) -> concurrent.futures.Future:
        future: concurrent.futures.Future = concurrent.futures.Future()
        self._jobs.put((future, fn, args, kwargs))
        return future

    def shutdown(self):
        """Finish the queued jobs, then stop every thread (blocking)."""
        for _ in self._threads:
            self._jobs.put(None)
        for thread in self._threads:
            thread.join()

    def _work(self):
        try:
            while (job := self._jobs.get()) is not None:
                future, fn, args, kwargs = job
                if not future.set_running_or_notify_cancel():
                    continue
                close_old_connections()
                try:
                    result = fn(*args, **kwargs)
                except BaseException as e:  # handed to the awaiting coroutine
                    future.set_exception(e)
                else:
                    future.set_result(result)
                finally:
                    close_old_connections()
        finally:
            connections.close_all()


def find_devices(phone: str) -> list[Device]:
    """The pre-registered terminals with this phone number, the exact spelling first. The
    header pads it with zeros to 12 (2013) or 20 (2019) digits; the dealer typed it with or
    without them.

    A terminal phone is a SIM number, unique within a dealer group only: a group must not learn
    that another group has a SIM, nor take another group's terminal by registering its number
    first. So one number may name terminals of several groups, and a terminal is told apart by
    what only it has: its auth code once registered (`authenticate_terminal`), and when
    registering, the plate or VIN it reports (`register_terminal`)."""
    digits = jt808.normalize_phone(phone)
    if not digits:
        return []
    candidates = {digits.zfill(n) for n in range(max(len(digits), 11), 21)} | {phone}
    found = list(
        Device.objects.unscoped()
        .filter(terminal_phone__in=candidates)
        .select_related("vehicle")
        .order_by("pk")
    )
    found.sort(key=lambda d: (d.terminal_phone != phone, len(d.terminal_phone)))
    return found


def _same_car(device: Device, plate: str) -> bool:
    """The plate (or, before it has one, the VIN) a terminal registers with is its car's."""
    vehicle = device.vehicle
    wanted = "".join(plate.split()).upper()
    return bool(
        vehicle is not None
        and wanted
        and wanted in {"".join((vehicle.plate or "").split()).upper(), (vehicle.vin or "").upper()}
    )


def register_terminal(phone: str, plate: str = "") -> tuple[int, str, Device | None]:
    """0x0100 → (result, auth code, device). A terminal registering again gets its code again.
    When terminals of several groups have this phone number, the one whose car has the plate
    (or VIN) the terminal reports is meant; if that does not single one out, the registration
    is refused (3, terminal already registered) and logged: nothing is told about the others."""
    devices = [d for d in find_devices(phone) if d.is_active and d.protocol == Protocol.JT808]
    if len(devices) > 1:
        devices = [d for d in devices if _same_car(d, plate)]
        if len(devices) != 1:
            log.warning(
                "JT/T 808 registration of %s: %d terminals have this number", phone, len(devices)
            )
            return jt808.REG_TERMINAL_TAKEN, "", None
    device = devices[0] if devices else None
    if device is None:
        return jt808.REG_NO_TERMINAL, "", None
    if device.vehicle_id is None:
        return jt808.REG_NO_VEHICLE, "", device
    if not device.auth_code:
        code = secrets.token_hex(8)
        updated = (
            Device.objects.unscoped().filter(pk=device.pk, auth_code="").update(auth_code=code)
        )
        if not updated:  # another connection of the same terminal was first
            device.refresh_from_db(fields=["auth_code"])
        else:
            device.auth_code = code
    return jt808.REG_OK, device.auth_code, device


def authenticate_terminal(phone: str, code: str) -> Device | None:
    """The active JT/T 808 terminal with this phone number whose auth code this is."""
    for device in find_devices(phone):
        if (
            device.is_active
            and device.protocol == Protocol.JT808
            and device.auth_code
            and secrets.compare_digest(device.auth_code.encode(), code.encode())
        ):
            return device
    return None


def store_locations(device: Device, raws: list[dict]):
    return write_batch(device, raws, via=Protocol.JT808)


def reload_device(device: Device) -> Device | None:
    return Device.objects.unscoped().filter(pk=device.pk, is_active=True).first()


def default_workers() -> int:
    """SQLite takes one writer at a time, so more threads would only wait for its lock (or, on
    a shared-cache in-memory database, fail with "table is locked"); PostgreSQL takes several."""
    return 1 if connections["default"].vendor == "sqlite" else 4


# --- the server ----------------------------------------------------------------------------------
class Jt808Server:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 7808,
        *,
        workers: int | None = None,
        idle_timeout: float = 300.0,
        grace: float = 10.0,
    ):
        self.host, self.requested_port = host, port
        self.idle_timeout, self.grace = idle_timeout, grace
        self.workers = workers
        self.stopping = False
        self._db: DatabaseThreads | None = None
        self._server: asyncio.Server | None = None
        self._connections: set[_Connection] = set()
        self._stop_requested: asyncio.Event | None = None

    @property
    def port(self) -> int:
        return self._server.sockets[0].getsockname()[1]

    async def start(self):
        self._stop_requested = asyncio.Event()
        self._db = DatabaseThreads(self.workers or default_workers())
        self._server = await asyncio.start_server(self._accept, self.host, self.requested_port)
        log.info("JT/T 808 server listening on %s:%s", self.host, self.port)

    async def serve_until_stopped(self):
        if self._server is None:
            await self.start()
        await self._stop_requested.wait()
        await self.stop()

    def request_stop(self):
        """Signal-handler safe: ask `serve_until_stopped` to stop gracefully."""
        if self._stop_requested is not None:
            self._stop_requested.set()

    async def stop(self):
        """Stop accepting, let every connection finish the frames it is handling (acks of
        committed writes still go out), close idle ones, then wait for the database threads."""
        if self.stopping:
            return
        self.stopping = True
        if self._server is not None:
            self._server.close()
        tasks = [c.task for c in self._connections if c.task is not None]
        for conn in list(self._connections):
            conn.reader.feed_eof()  # an idle read returns now; a busy one ends after its frames
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=self.grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
        if self._db is not None:
            await asyncio.to_thread(self._db.shutdown)
        log.info("JT/T 808 server stopped")

    async def db(self, fn, *args, **kwargs):
        """Run `fn` in a database thread and wait for it."""
        return await asyncio.wrap_future(self._db.submit(fn, *args, **kwargs))

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        conn = _Connection(self, reader, writer)
        conn.task = asyncio.current_task()
        self._connections.add(conn)
        try:
            await conn.run()
        except asyncio.CancelledError:
            if not self.stopping:
                raise
            # cancelled by stop() after the grace period: the connection is closed
        finally:
            self._connections.discard(conn)


class _Connection:
    def __init__(self, server: Jt808Server, reader, writer):
        self.server = server
        self.reader, self.writer = reader, writer
        self.peer = writer.get_extra_info("peername")
        self.task: asyncio.Task | None = None
        self.device: Device | None = None  # set once authenticated
        self.device_loaded_at = 0.0
        self.serial = 0

    async def run(self):
        splitter = jt808.FrameSplitter()
        log.info("JT/T 808 connection from %s", self.peer)
        try:
            while not self.server.stopping:
                try:
                    chunk = await asyncio.wait_for(
                        self.reader.read(READ_SIZE), self.server.idle_timeout
                    )
                except TimeoutError:
                    log.info(
                        "JT/T 808 %s idle for %ss, closing", self.peer, self.server.idle_timeout
                    )
                    break
                except ConnectionError:
                    break
                if not chunk:
                    break
                for raw in splitter.feed(chunk):
                    await self.handle(raw)
        except ConnectionError:
            pass
        finally:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()
            log.info("JT/T 808 connection from %s closed", self.peer)

    # -- replies --
    def _next_serial(self) -> int:
        serial = self.serial
        self.serial = (self.serial + 1) & 0xFFFF
        return serial

    async def send(self, body, header: jt808.Header):
        self.writer.write(
            jt808.encode_message(
                body, phone=header.phone, serial=self._next_serial(), version=header.version
            )
        )
        await self.writer.drain()

    async def respond(self, header: jt808.Header, result: int):
        await self.send(jt808.PlatformResponse(header.serial, header.msg_id, result), header)

    # -- frames --
    async def handle(self, raw: bytes):
        try:
            frame = jt808.decode_frame(raw)
            header = frame.header
            if header.msg_id not in HANDLERS:
                log.info("JT/T 808 %s: message %#06x not supported", self.peer, header.msg_id)
                await self.respond(header, jt808.UNSUPPORTED)
                return
            body = jt808.decode_body(frame)
        except jt808.FrameError as e:
            await self.refuse(raw, e)
            return
        try:
            await HANDLERS[header.msg_id](self, header, body)
        except ConnectionError:
            raise
        except Exception:  # e.g. the database is down: no reply, the terminal tries again
            log.exception("JT/T 808 %s: message %#06x failed", self.peer, header.msg_id)

    async def refuse(self, raw: bytes, e: jt808.FrameError):
        log.warning("JT/T 808 %s: malformed frame: %s %s", self.peer, e.reason, e.detail)
        payload = {"hex": raw.hex()[:2000]}
        if e.header is not None:
            payload |= {"terminal_phone": e.header.phone, "msg_id": e.header.msg_id}
        try:
            await self.server.db(
                dead_letter,
                payload,
                e.reason[:40],
                e.detail,
                via=Protocol.JT808,
                device=self.device,
            )
        except Exception:  # the database is down: the frame is in the log line above
            log.exception("JT/T 808 %s: could not write the dead letter", self.peer)
        if e.header is not None:
            result = jt808.UNSUPPORTED if e.reason in UNSUPPORTED_REASONS else jt808.BAD_MESSAGE
            await self.respond(e.header, result)

    async def on_registration(self, header: jt808.Header, body: jt808.Registration):
        result, code, device = await self.server.db(register_terminal, header.phone, body.plate)
        log.info(
            "JT/T 808 %s: registration of %s (terminal %s, plate %s): result %s",
            self.peer,
            header.phone,
            body.terminal_id,
            body.plate,
            result,
        )
        await self.send(jt808.RegistrationReply(header.serial, result, code), header)

    async def on_authentication(self, header: jt808.Header, body: jt808.Authentication):
        device = await self.server.db(authenticate_terminal, header.phone, body.auth_code)
        self.device, self.device_loaded_at = device, time.monotonic()
        if device is None:
            log.warning("JT/T 808 %s: authentication of %s refused", self.peer, header.phone)
            await self.respond(header, jt808.FAIL)
            return
        log.info("JT/T 808 %s: %s authenticated as %s", self.peer, header.phone, device.device_id)
        await self.respond(header, jt808.OK)

    async def on_heartbeat(self, header: jt808.Header, body):
        await self.respond(header, jt808.OK)

    async def on_terminal_response(self, header: jt808.Header, body: jt808.TerminalResponse):
        log.debug("JT/T 808 %s: terminal response %s", self.peer, body)

    async def on_locations(self, header: jt808.Header, body):
        device = self.device
        if device is None or jt808.normalize_phone(header.phone) != jt808.normalize_phone(
            device.terminal_phone
        ):
            log.warning(
                "JT/T 808 %s: location from %s before authentication", self.peer, header.phone
            )
            await self.respond(header, jt808.FAIL)
            return
        locations = [body] if isinstance(body, jt808.Location) else body.locations
        raws = [jt808.to_message(loc, device.device_id).as_dict() for loc in locations]
        try:
            if time.monotonic() - self.device_loaded_at > DEVICE_REFRESH_SECONDS:
                device = await self.server.db(reload_device, device)
                self.device, self.device_loaded_at = device, time.monotonic()
                if device is None:
                    log.warning("JT/T 808 %s: terminal deactivated", self.peer)
                    await self.respond(header, jt808.FAIL)
                    return
            result = await self.server.db(store_locations, device, raws)
        except Exception:  # not stored: no ack, the terminal sends it again
            log.exception(
                "JT/T 808 %s: storing %d location(s) of %s failed; not acknowledged",
                self.peer,
                len(raws),
                device.device_id,
            )
            return
        log.debug("JT/T 808 %s: %s", self.peer, result.as_dict())
        await self.respond(header, jt808.OK)


HANDLERS = {
    jt808.REGISTRATION: _Connection.on_registration,
    jt808.AUTHENTICATION: _Connection.on_authentication,
    jt808.HEARTBEAT: _Connection.on_heartbeat,
    jt808.TERMINAL_RESPONSE: _Connection.on_terminal_response,
    jt808.LOCATION: _Connection.on_locations,
    jt808.LOCATION_BATCH: _Connection.on_locations,
}
