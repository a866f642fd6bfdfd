"""GB/T 32960 over TCP (asyncio): vehicle login and logout, real-time and re-issued reports,
heartbeats and time sync. The same shape as jt808_server (whose DatabaseThreads it uses).

A vehicle logs in (0x01) with its VIN: the VIN must name exactly one active, pre-registered
GB/T 32960 terminal (`find_devices`); until then its reports are refused. A report (0x02, 0x03)
is acknowledged with response flag 0x01 (success) only after `store_reports` has returned, i.e.
committed; if the write fails, 0x02 (error) goes out and nothing is stored, so the vehicle
re-issues it (0x03) and the writer's dedupe (device, seq = the report's time, ts) stores it
once. Reports that arrive together (one read: a vehicle sending without waiting for each ack)
are written in one batch, then each acknowledged in order. Refused frames - bad BCC, bad length, truncated, unknown VIN, report before login - are
dead-lettered with their bytes (hex) and a reason code, and answered with 0x02 when the header
could be read.
"""

import asyncio
import contextlib
import logging
import time

from django.utils import timezone

from . import batcher, gb32960
from .choices import Protocol
from .jt808_server import DatabaseThreads, default_workers
from .models import Device
from .writer import dead_letter

log = logging.getLogger("m4s.telematics.gb32960")

READ_SIZE = 8192
DEVICE_REFRESH_SECONDS = 300


# --- database side --------------------------------------------------------------------------------
def find_devices(vin: str) -> list[Device]:
    """The active GB/T 32960 terminals fitted to a car with this VIN, in every group.

    A VIN may be on the books of several dealer groups (a car sold by one, serviced by another):
    a group must neither learn that another has it nor receive another's data. So a VIN that
    names terminals of several groups is told apart by what only the terminal has - the ICCID
    of its SIM, sent at login, when the dealer registered it (Device.terminal_phone) - and
    refused when that does not single one out (`login_vehicle`)."""
    vin = (vin or "").strip().upper()
    if len(vin) != 17:
        return []
    return list(
        Device.objects.unscoped()
        .filter(protocol=Protocol.GB32960, is_active=True, vehicle__vin__iexact=vin)
        .select_related("vehicle")
        .order_by("pk")
    )


def login_vehicle(vin: str, iccid: str = "") -> Device | None:
    """0x01 → the one terminal this login is, or None. A terminal registered with an ICCID
    takes only a login with it; several candidates must be told apart by it."""
    iccid = (iccid or "").strip()
    devices = [d for d in find_devices(vin) if not d.terminal_phone or d.terminal_phone == iccid]
    if len(devices) > 1:
        devices = [d for d in devices if d.terminal_phone and d.terminal_phone == iccid]
    if len(devices) != 1:
        if devices:
            log.warning("GB/T 32960 login of %s: %d terminals match", vin, len(devices))
        return None
    return devices[0]


def store_reports(device: Device, raws: list[dict]):
    """Store one vehicle's reports with whatever other vehicles' reports the database threads
    are storing at the same moment: one transaction for all of them (batcher.py), each
    vehicle's result (and its acks) only after that commit."""
    return batcher.shared(Protocol.GB32960).submit(device, raws)


def reload_device(device: Device) -> Device | None:
    return Device.objects.unscoped().filter(pk=device.pk, is_active=True).first()


# --- the server ----------------------------------------------------------------------------------
class Gb32960Server:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 32960,
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
        # on PostgreSQL several threads hand their vehicles' reports to the one batched write
        # (store_reports) at once; they wait on it, not on the database
        workers = self.workers or (default_workers() * 4 if default_workers() > 1 else 1)
        self._db = DatabaseThreads(workers, name="gb32960-db")
        self._server = await asyncio.start_server(self._accept, self.host, self.requested_port)
        log.info("GB/T 32960 server listening on %s:%s", self.host, self.port)

    async def serve_until_stopped(self):
        if self._server is None:
            await self.start()
        await self._stop_requested.wait()
        await self.stop()

    def request_stop(self):
        if self._stop_requested is not None:
            self._stop_requested.set()

    async def stop(self):
        """Stop accepting, let each connection finish its frames, then the database threads."""
        if self.stopping:
            return
        self.stopping = True
        if self._server is not None:
            self._server.close()
        tasks = [c.task for c in self._connections if c.task is not None]
        for conn in list(self._connections):
            conn.reader.feed_eof()
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=self.grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
        if self._db is not None:
            await asyncio.to_thread(self._db.shutdown)
        log.info("GB/T 32960 server stopped")

    async def db(self, fn, *args, **kwargs):
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
        finally:
            self._connections.discard(conn)


class _Connection:
    def __init__(self, server: Gb32960Server, reader, writer):
        self.server = server
        self.reader, self.writer = reader, writer
        self.peer = writer.get_extra_info("peername")
        self.task: asyncio.Task | None = None
        self.device: Device | None = None  # set by a vehicle login
        self.vin = ""
        self.device_loaded_at = 0.0

    async def run(self):
        splitter = gb32960.FrameSplitter()
        try:
            while not self.server.stopping:
                try:
                    chunk = await asyncio.wait_for(
                        self.reader.read(READ_SIZE), self.server.idle_timeout
                    )
                except TimeoutError:
                    break
                except ConnectionError:
                    break
                if not chunk:
                    break
                await self.handle_many(splitter.feed(chunk))
        except ConnectionError:
            pass
        finally:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()

    async def reply(self, frame: gb32960.Frame, result: int, *, drain: bool = True):
        data = gb32960.response_data(frame, timezone.now())
        self.writer.write(gb32960.encode_response(frame.header, result, data))
        if drain:
            await self.writer.drain()

    async def handle_many(self, raws: list[bytes]):
        """The frames of one read, in order. Consecutive reports of the logged-in vehicle are
        stored together (one write, one commit) and then each acknowledged, in order; any other
        frame first flushes the reports before it, so replies keep the frames' order."""
        reports: list[tuple[gb32960.Frame, gb32960.Report]] = []
        for raw in raws:
            report = self._own_report(raw)
            if report is not None:
                reports.append(report)
                continue
            if reports:
                await self.store(reports)
                reports = []
            await self.handle(raw)
        if reports:
            await self.store(reports)

    def _own_report(self, raw: bytes):
        """(frame, report) for a well-formed report of the logged-in vehicle, else None."""
        if (
            self.device is None
            or len(raw) < 25
            or raw[2] not in (gb32960.REALTIME, gb32960.REISSUE)
        ):
            return None
        try:
            frame = gb32960.decode_frame(raw)
            if frame.header.response != gb32960.COMMAND or frame.header.vin != self.vin:
                return None
            return frame, gb32960.decode_data(frame)
        except gb32960.FrameError:
            return None  # handle() refuses it, with its reason

    async def store(self, reports: list):
        device = self.device
        if time.monotonic() - self.device_loaded_at > DEVICE_REFRESH_SECONDS:
            device = await self.server.db(reload_device, device)
            self.device, self.device_loaded_at = device, time.monotonic()
        if device is None:
            for frame, _report in reports:
                await self.reply(frame, gb32960.ERROR)
            return
        raws = [gb32960.to_message(report, device.device_id).as_dict() for _f, report in reports]
        try:
            result = await self.server.db(store_reports, device, raws)
        except Exception:  # not stored: error replies, the vehicle re-issues them
            log.exception(
                "GB/T 32960 %s: storing %d report(s) of %s failed", self.peer, len(raws), self.vin
            )
            for frame, _report in reports:
                await self.reply(frame, gb32960.ERROR, drain=False)
            await self.writer.drain()
            return
        refused = {e["index"] for e in result.dead_reasons}
        for i, (frame, _report) in enumerate(reports):
            ok = i not in refused and None not in refused
            await self.reply(frame, gb32960.SUCCESS if ok else gb32960.ERROR, drain=False)
        await self.writer.drain()

    async def handle(self, raw: bytes):
        try:
            frame = gb32960.decode_frame(raw)
            if frame.header.response != gb32960.COMMAND:
                return  # a vehicle's reply to a platform command: nothing to do
            body = gb32960.decode_data(frame)
        except gb32960.FrameError as e:
            await self.refuse(raw, e.reason, e.detail, e.header)
            return
        handler = HANDLERS.get(frame.header.command)
        try:
            if handler is None:
                await self.refuse(raw, "unsupported", f"command {frame.header.command:#04x}")
                await self.reply(frame, gb32960.ERROR)
                return
            await handler(self, frame, body, raw)
        except ConnectionError:
            raise
        except Exception:  # e.g. the database is down: no reply, the vehicle tries again
            log.exception("GB/T 32960 %s: command %#04x failed", self.peer, frame.header.command)

    async def refuse(self, raw: bytes, reason: str, detail: str, header=None):
        log.warning("GB/T 32960 %s: refused frame: %s %s", self.peer, reason, detail)
        payload: dict = {"hex": raw.hex()[:4000]}
        if header is not None:
            payload |= {"vin": header.vin, "command": header.command}
        try:
            await self.server.db(
                dead_letter,
                payload,
                reason[:40],
                detail,
                via=Protocol.GB32960,
                device=self.device,
            )
        except Exception:
            log.exception("GB/T 32960 %s: could not write the dead letter", self.peer)
        if header is not None:
            self.writer.write(
                gb32960.encode_response(header, gb32960.ERROR, raw[24:30] if len(raw) > 30 else b"")
            )
            await self.writer.drain()

    async def on_login(self, frame: gb32960.Frame, body: gb32960.Login, raw: bytes):
        device = await self.server.db(login_vehicle, frame.header.vin, body.iccid)
        if device is None:
            self.device, self.vin = None, ""
            await self.refuse(raw, "unknown_vin", f"no terminal for VIN {frame.header.vin}")
            await self.reply(frame, gb32960.ERROR)
            return
        self.device, self.vin = device, frame.header.vin
        self.device_loaded_at = time.monotonic()
        log.info("GB/T 32960 %s: %s logged in as %s", self.peer, self.vin, device.device_id)
        await self.reply(frame, gb32960.SUCCESS)

    async def on_logout(self, frame: gb32960.Frame, body, raw: bytes):
        ok = self.device is not None and frame.header.vin == self.vin
        self.device, self.vin = None, ""
        await self.reply(frame, gb32960.SUCCESS if ok else gb32960.ERROR)

    async def on_heartbeat(self, frame: gb32960.Frame, body, raw: bytes):
        await self.reply(frame, gb32960.SUCCESS)

    async def on_platform(self, frame: gb32960.Frame, body, raw: bytes):
        # platform login/logout (a forwarding platform): not offered here
        await self.refuse(raw, "unsupported", "platform login is not offered")
        await self.reply(frame, gb32960.ERROR)

    async def on_report(self, frame: gb32960.Frame, body: gb32960.Report, raw: bytes):
        device = self.device
        if device is None or frame.header.vin != self.vin:
            await self.refuse(raw, "not_logged_in", f"report of {frame.header.vin} before login")
            await self.reply(frame, gb32960.ERROR)
            return
        await self.store([(frame, body)])


HANDLERS = {
    gb32960.VEHICLE_LOGIN: _Connection.on_login,
    gb32960.REALTIME: _Connection.on_report,
    gb32960.REISSUE: _Connection.on_report,
    gb32960.VEHICLE_LOGOUT: _Connection.on_logout,
    gb32960.PLATFORM_LOGIN: _Connection.on_platform,
    gb32960.PLATFORM_LOGOUT: _Connection.on_platform,
    gb32960.HEARTBEAT: _Connection.on_heartbeat,
    gb32960.TIME_SYNC: _Connection.on_heartbeat,
}
