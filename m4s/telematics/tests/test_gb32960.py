"""GB/T 32960.3-2016: the codec checked field by field against frames written out by hand from the
standard's tables, and the TCP server end to end (login by VIN, reports acknowledged only after
the commit, dead letters with the frame's bytes, two groups with the same VIN)."""

import asyncio
import datetime as dt
import functools
import struct

import pytest
from django.utils import timezone

from m4s.telematics import gb32960 as gb
from m4s.telematics import gb32960_server as server_module
from m4s.telematics.gb32960 import FrameError
from m4s.telematics.gb32960_server import Gb32960Server
from m4s.telematics.models import DeadLetter, Telemetry, VehicleState

VIN = "LSVAU2180N2183294"
T0 = dt.datetime(2024, 5, 1, 8, 30, 0, tzinfo=gb.GMT8)  # 2024-05-01 00:30:00 UTC


def xor(data: bytes) -> int:
    return functools.reduce(lambda a, b: a ^ b, data, 0)


def by_hand(command: int, data_hex: str, *, flag: int = 0xFE) -> bytes:
    """A frame laid out as in the standard's table 3, its BCC computed here independently."""
    data = bytes.fromhex(data_hex.replace(" ", ""))
    body = bytes([command, flag]) + VIN.encode() + b"\x01" + len(data).to_bytes(2, "big") + data
    return b"##" + body + bytes([xor(body)])


# 0x01 whole vehicle, 20 bytes (table 10)
VEHICLE_HEX = (
    "01"  # vehicle state: started
    "03"  # charging state: not charging
    "01"  # run mode: pure electric
    "0258"  # speed 600 = 60.0 km/h
    "0001e240"  # odometer 123456 = 12345.6 km
    "0e10"  # total voltage 3600 = 360.0 V
    "2648"  # total current 9800 = 980.0 A - 1000 A = -20.0 A
    "4b"  # SOC 75 %
    "01"  # DC-DC working
    "0e"  # gear: D
    "1388"  # insulation 5000 kΩ
    "14"  # accelerator 20 %
    "00"  # brake off
)
MOTOR_HEX = (
    "01"  # one motor
    "01"  # motor 1
    "01"  # consuming
    "50"  # controller 80 - 40 = 40 °C
    "5de8"  # 24040 - 20000 = 4040 r/min
    "4f1a"  # torque 20250 * 0.1 - 2000 = 25.0 N·m
    "5a"  # motor 90 - 40 = 50 °C
    "0e10"  # controller input 360.0 V
    "2710"  # 10000 * 0.1 - 1000 = 0.0 A
)
POSITION_HEX = "0006f015a50260f554"  # valid, N, E; lon 116.397477, lat 39.908692
EXTREMES_HEX = (
    "01"
    "05"
    "0ed8"  # max cell voltage: system 1, cell 5, 3.800 V
    "01"
    "09"
    "0e74"  # min: system 1, cell 9, 3.700 V
    "01"
    "02"
    "41"  # max temperature: system 1, probe 2, 65 - 40 = 25 °C
    "01"
    "07"
    "3c"  # min: system 1, probe 7, 60 - 40 = 20 °C
)
ALARM_HEX = (
    "03"  # highest alarm level 3
    "00000812"  # flags: bit 1 battery high temperature, bit 4 SOC low, bit 11 insulation
    "01"
    "00001001"  # one storage fault code
    "00"  # no motor faults
    "00"  # no engine faults
    "02"
    "0000000a"
    "0000000b"  # two other faults
)
TIME_HEX = "180501081e00"  # 24-05-01 08:30:00 (GMT+8, binary)


def test_login_frame_from_the_standard():
    # time, login serial 1, ICCID[20], 1 storage system with a code of 3 bytes, the code
    iccid = b"89860000000000000001"
    data = bytes.fromhex(TIME_HEX + "0001") + iccid + bytes.fromhex("0103") + b"B01"
    frame = by_hand(0x01, data.hex())
    decoded = gb.decode_frame(frame)
    assert decoded.header == gb.Header(gb.VEHICLE_LOGIN, gb.COMMAND, VIN, gb.PLAIN)
    login = gb.decode_data(decoded)
    assert login == gb.Login(T0.astimezone(dt.UTC), 1, iccid.decode(), ["B01"])
    assert gb.encode_login(VIN, T0, serial=1, iccid=iccid.decode(), systems=["B01"]) == frame


def test_realtime_report_field_by_field():
    frame = by_hand(
        0x02,
        TIME_HEX
        + "01"
        + VEHICLE_HEX
        + "02"
        + MOTOR_HEX
        + "05"
        + POSITION_HEX
        + "06"
        + EXTREMES_HEX
        + "07"
        + ALARM_HEX,
    )
    report = gb.decode_data(gb.decode_frame(frame))
    assert report.ts == dt.datetime(2024, 5, 1, 0, 30, tzinfo=dt.UTC)
    assert report.units == [1, 2, 5, 6, 7] and not report.reissued and report.unparsed == b""
    v = report.vehicle
    assert (v.state, v.charge_state, v.run_mode) == (gb.STARTED, gb.NOT_CHARGING, 1)
    assert (v.speed_kmh, v.odometer_km, v.total_v, v.total_a) == (60.0, 12345.6, 360.0, -20.0)
    assert (v.soc_pct, v.dcdc_state, v.gear, v.insulation_kohm) == (75, 1, 0x0E, 5000)
    assert (v.accelerator_pct, v.brake) == (20, 0)
    (motor,) = report.motors
    assert motor == gb.Motor(1, 1, 40, 4040, 25.0, 50, 360.0, 0.0)
    assert report.position == gb.Position(True, 39.908692, 116.397477)
    e = report.extremes
    assert (e.max_v_cell, e.max_cell_v, e.min_v_cell, e.min_cell_v) == (5, 3.8, 9, 3.7)
    assert (e.max_t_probe, e.max_t_c, e.min_t_probe, e.min_t_c) == (2, 25, 7, 20)
    a = report.alarm
    assert (a.level, a.flags) == (3, 0x812)
    assert a.flag_names == ["battery_high_temperature", "soc_low", "insulation"]
    assert (a.storage_faults, a.motor_faults, a.engine_faults) == ([0x1001], [], [])
    assert a.other_faults == [10, 11]
    # the encoder writes the same bytes
    assert gb.encode_report(VIN, report) == frame


def test_report_maps_to_the_internal_message():
    frame = by_hand(0x02, TIME_HEX + "01" + VEHICLE_HEX + "05" + POSITION_HEX + "07" + ALARM_HEX)
    m = gb.to_message(gb.decode_data(gb.decode_frame(frame)), "ev-1")
    assert m.ts == dt.datetime(2024, 5, 1, 0, 30, tzinfo=dt.UTC)
    assert m.seq == int(m.ts.timestamp())
    assert (m.speed_kmh, m.odometer_km, m.odometer_source, m.ignition) == (
        60.0,
        12345.6,
        "can",
        True,
    )
    assert (m.soc_pct, m.pack_v, m.pack_a, m.charge_state) == (75.0, 360.0, -20.0, 3)
    assert (m.lat, m.lon, m.fix_valid) == (39.908692, 116.397477, True)
    assert (m.alarm_level, m.alarm_word, m.alarm) == (3, 0x812, "battery")
    assert m.battery_v is None  # the 12 V battery: not in the standard's units


def test_invalid_and_abnormal_values_are_none():
    vehicle = "fffefffffefffffffffffffffefeff00fffffffe"
    frame = by_hand(0x02, TIME_HEX + "01" + vehicle + "05" + "07ffffffffffffffff")
    report = gb.decode_data(gb.decode_frame(frame))
    v = report.vehicle
    assert (v.state, v.charge_state, v.speed_kmh, v.odometer_km, v.total_v, v.total_a) == (
        *(None,) * 6,
    )
    assert (v.soc_pct, v.insulation_kohm, v.brake) == (None, None, None)
    p = report.position
    assert (p.valid, p.lat, p.lon) == (False, None, None)  # status bit 0: no fix
    m = gb.to_message(report, "ev-1")
    assert (m.soc_pct, m.lat, m.ignition, m.charge_state) == (None, None, None, None)


def test_south_west_and_no_fix():
    frame = by_hand(0x02, TIME_HEX + "05" + "07" + "00b71b00" + "01f78a40")
    p = gb.decode_data(gb.decode_frame(frame)).position
    assert (p.valid, p.lat, p.lon) == (False, -33.0, -12.0)
    assert gb.Position(False, -33.0, -12.0).encode().hex() == "0700b71b0001f78a40"


def test_variable_length_units_are_skipped_and_later_units_parse():
    fuel_cell = gb.fuel_cell_unit([20, 21, 22])
    voltages = (
        "02"  # two subsystems
        "01"
        "0e10"
        "2710"
        "0060"
        "0001"
        "02"
        "0ed8"
        "0ed9"  # 2 cells of 96
        "02"
        "0e10"
        "2710"
        "0060"
        "0003"
        "01"
        "0e74"
    )
    temps = "010100033c3d3e"  # system 1, 3 probes 20, 21, 22 °C
    engine = "010bb80064"
    data = (
        TIME_HEX
        + "03"
        + fuel_cell.hex()
        + "04"
        + engine
        + "08"
        + voltages
        + "09"
        + temps
        + "80"
        + "0003abcdef"  # user-defined, WORD length 3
        + "05"
        + POSITION_HEX
    )
    report = gb.decode_data(gb.decode_frame(by_hand(0x03, data)))
    assert report.reissued
    assert report.units == [3, 4, 8, 9, 0x80, 5]
    assert report.fuel_cell == fuel_cell and len(fuel_cell) == 18 + 3
    assert report.engine == bytes.fromhex(engine)
    assert [v.cell_v for v in report.voltages] == [[3.8, 3.801], [3.7]]
    assert (report.voltages[0].voltage, report.voltages[0].current) == (360.0, 0.0)
    assert report.temperatures == [gb.StorageTemperatures(1, [20, 21, 22])]
    assert report.position.lat == 39.908692


def test_unknown_unit_stops_cleanly_keeping_what_came_before():
    frame = by_hand(0x02, TIME_HEX + "05" + POSITION_HEX + "0a" + "0102030405" + "01" + VEHICLE_HEX)
    report = gb.decode_data(gb.decode_frame(frame))
    assert report.units == [5] and report.position.lat == 39.908692
    assert report.vehicle is None and report.unparsed[:1] == b"\x0a"


def test_logout_heartbeat_time_sync():
    logout = by_hand(0x04, TIME_HEX + "0007")
    assert gb.decode_data(gb.decode_frame(logout)) == gb.Logout(T0.astimezone(dt.UTC), 7)
    assert gb.encode_logout(VIN, T0, serial=7) == logout
    beat = by_hand(0x07, "")
    frame = gb.decode_frame(beat)
    assert frame.header.command == 0x07 and frame.data == b""
    assert gb.encode_heartbeat(VIN) == beat
    assert gb.encode_time_sync(VIN) == by_hand(0x08, "")
    now = dt.datetime(2024, 5, 1, 0, 30, tzinfo=dt.UTC)
    sync = gb.decode_frame(by_hand(0x08, ""))
    reply = gb.encode_response(sync.header, gb.SUCCESS, gb.response_data(sync, now))
    assert reply == by_hand(0x08, TIME_HEX, flag=0x01)


@pytest.mark.parametrize(
    "mangle, reason",
    [
        (lambda f: f[:-1] + bytes([f[-1] ^ 0xFF]), "bad_checksum"),
        (lambda f: f[:-5], "truncated"),
        (lambda f: f[:10], "truncated"),
        (lambda f: f + b"\x00", "bad_length"),
        (lambda f: b"$$" + f[2:], "bad_start"),
    ],
    ids=["checksum", "cut", "cut-header", "extra", "start"],
)
def test_malformed_frames_are_refused(mangle, reason):
    frame = by_hand(0x02, TIME_HEX + "05" + POSITION_HEX)
    with pytest.raises(FrameError) as e:
        gb.decode_frame(mangle(frame))
    assert e.value.reason == reason


def test_a_unit_cut_short_is_truncated_with_the_header():
    frame = by_hand(0x02, TIME_HEX + "01" + VEHICLE_HEX[:20])
    with pytest.raises(FrameError) as e:
        gb.decode_data(gb.decode_frame(frame))
    assert e.value.reason == "truncated" and e.value.header.vin == VIN


def test_encrypted_frames_are_not_supported():
    body = bytes([0x02, 0xFE]) + VIN.encode() + b"\x03\x00\x00"
    with pytest.raises(FrameError) as e:
        gb.decode_frame(b"##" + body + bytes([xor(body)]))
    assert e.value.reason == "encrypted"


def test_splitter_cuts_a_stream_and_drops_garbage():
    a, b = by_hand(0x07, ""), by_hand(0x02, TIME_HEX + "05" + POSITION_HEX)
    splitter = gb.FrameSplitter()
    stream = b"xx" + a + b + a
    out = []
    for i in range(0, len(stream), 7):
        out += splitter.feed(stream[i : i + 7])
    assert out == [a, b, a] and splitter.garbage == 2


# --- the server ---------------------------------------------------------------------------------
@pytest.fixture
def ev(fleet):
    from m4s.telematics import services

    w = fleet
    w.car.vin = VIN
    w.car.save(update_fields=["vin"])
    w.gb, _ = services.register_device(
        w.admin_a, device_id="ev-a1", protocol="gb32960", vehicle=w.car
    )
    return w


class Client:
    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer
        self.splitter = gb.FrameSplitter()
        self.pending: list[bytes] = []

    async def send(self, data: bytes):
        self.writer.write(data)
        await self.writer.drain()

    async def recv(self, timeout=5.0) -> gb.Frame:
        while not self.pending:
            chunk = await asyncio.wait_for(self.reader.read(4096), timeout)
            if not chunk:
                raise ConnectionError("closed")
            self.pending += self.splitter.feed(chunk)
        return gb.decode_frame(self.pending.pop(0))

    async def nothing(self, timeout=0.5):
        with pytest.raises(TimeoutError):
            await self.recv(timeout)

    async def call(self, frame: bytes) -> gb.Frame:
        await self.send(frame)
        return await self.recv()

    async def login(self, vin=VIN, iccid="") -> gb.Frame:
        return await self.call(gb.encode_login(vin, timezone.now(), iccid=iccid))


def serve(scenario, **options):
    async def main():
        server = Gb32960Server("127.0.0.1", 0, **options)
        await server.start()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            try:
                await scenario(Client(reader, writer), server)
            finally:
                writer.close()
        finally:
            await server.stop()

    asyncio.run(main())


def _report(minutes_ago=5, *, soc=64, charge=gb.NOT_CHARGING, level=0, vin=VIN) -> bytes:
    ts = (timezone.now() - dt.timedelta(minutes=minutes_ago)).replace(microsecond=0)
    report = gb.Report(
        ts=ts,
        vehicle=gb.VehicleData(
            charge_state=charge,
            speed_kmh=42.0,
            odometer_km=2345.6,
            total_v=355.2,
            total_a=12.5,
            soc_pct=soc,
        ),
        position=gb.Position(True, 31.230416, 121.473701),
        alarm=gb.AlarmData(level=level, flags=1 << 4 if level else 0),
    )
    return gb.encode_report(vin, report)


def test_login_report_heartbeat_time_sync_logout(ev, transactional_db):
    w = ev
    frame = _report(level=3)

    async def scenario(client, server):
        reply = await client.login()
        assert (reply.header.command, reply.header.response, reply.header.vin) == (1, 1, VIN)
        ack = await client.call(frame)
        assert (ack.header.command, ack.header.response) == (0x02, gb.SUCCESS)
        assert ack.data == frame[24:30]  # the report's time
        beat = await client.call(gb.encode_heartbeat(VIN))
        assert (beat.header.command, beat.header.response) == (0x07, gb.SUCCESS)
        sync = await client.call(gb.encode_time_sync(VIN))
        assert sync.header.response == gb.SUCCESS
        assert abs(gb.decode_time(sync.data) - timezone.now()) < dt.timedelta(seconds=5)
        out = await client.call(gb.encode_logout(VIN, timezone.now()))
        assert out.header.response == gb.SUCCESS
        again = await client.call(frame)  # logged out: refused
        assert again.header.response == gb.ERROR

    serve(scenario)
    row = Telemetry.objects.for_group(w.group_a).get()
    assert (row.device_id, row.vehicle_id) == (w.gb.pk, w.car.pk)
    assert (row.soc_pct, row.pack_v, row.pack_a, row.charge_state) == (64.0, 355.2, 12.5, 3)
    assert (row.lat, row.lon, row.odometer_km, row.speed_kmh) == (
        31.230416,
        121.473701,
        2345.6,
        42.0,
    )
    assert (row.alarm, row.alarm_level, row.alarm_word) == ("battery", 3, 16)
    state = VehicleState.objects.for_group(w.group_a).get(vehicle=w.car)
    assert (state.soc_pct, state.pack_v, state.charge_state, state.alarm_level) == (
        64.0,
        355.2,
        3,
        3,
    )
    assert w.car.alarms.get().kind == "battery"
    dead = DeadLetter.objects.get()
    assert dead.reason == "not_logged_in" and dead.payload["hex"] == frame.hex()


def test_reissued_report_of_the_same_time_is_stored_once(ev, transactional_db):
    w = ev
    frame = _report()
    reissued = bytearray(frame)
    reissued[2] = 0x03
    reissued[-1] = xor(reissued[2:-1])

    async def scenario(client, server):
        await client.login()
        assert (await client.call(frame)).header.response == gb.SUCCESS
        assert (await client.call(bytes(reissued))).header.response == gb.SUCCESS

    serve(scenario)
    assert Telemetry.objects.for_group(w.group_a).count() == 1


def test_ack_only_after_commit(ev, transactional_db, monkeypatch):
    w = ev
    calls = []
    real = server_module.store_reports

    def flaky(device, raws):
        calls.append(len(raws))
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return real(device, raws)

    monkeypatch.setattr(server_module, "store_reports", flaky)
    frame = _report()

    async def scenario(client, server):
        await client.login()
        first = await client.call(frame)
        assert first.header.response == gb.ERROR  # not stored: no success
        second = await client.call(frame)
        assert second.header.response == gb.SUCCESS

    serve(scenario)
    assert calls == [1, 1]
    assert Telemetry.objects.for_group(w.group_a).count() == 1


def test_unknown_vin_is_dead_lettered_with_its_bytes_and_nothing_stored(ev, transactional_db):
    stranger = "LFV2A21K6A3000001"
    login = gb.encode_login(stranger, timezone.now())
    report = _report(vin=stranger)

    async def scenario(client, server):
        reply = await client.call(login)
        assert reply.header.response == gb.ERROR
        assert (await client.call(report)).header.response == gb.ERROR

    serve(scenario)
    assert Telemetry.objects.unscoped().count() == 0
    reasons = {d.reason: d for d in DeadLetter.objects.all()}
    assert set(reasons) == {"unknown_vin", "not_logged_in"}
    assert reasons["unknown_vin"].payload["hex"] == login.hex()
    assert reasons["not_logged_in"].payload["hex"] == report.hex()
    assert reasons["unknown_vin"].dealer_group_id is None


def test_bad_frames_are_dead_lettered_and_the_connection_goes_on(ev, transactional_db):
    frame = _report()
    broken = frame[:-1] + bytes([frame[-1] ^ 1])

    async def scenario(client, server):
        await client.login()
        refused = await client.call(broken)
        assert refused.header.response == gb.ERROR
        assert (await client.call(frame)).header.response == gb.SUCCESS

    serve(scenario)
    dead = DeadLetter.objects.get()
    assert (dead.reason, dead.via, dead.payload["hex"]) == ("bad_checksum", "gb32960", broken.hex())
    assert Telemetry.objects.unscoped().count() == 1


def test_a_vin_in_two_groups_never_writes_to_the_wrong_group(ev, transactional_db):
    """Group B has the same VIN on its books with its own terminal: without an ICCID to tell
    them apart the login is refused; with group B's ICCID the data lands in group B only."""
    from m4s.telematics import services

    w = ev
    w.other_car.vin = VIN
    w.other_car.save(update_fields=["vin"])
    b_device, _ = services.register_device(
        w.admin_b,
        device_id="ev-b1",
        protocol="gb32960",
        vehicle=w.other_car,
        terminal_phone="89860000000000000002",
    )
    frame = _report()

    async def scenario(client, server):
        # group B registered an ICCID: a login without it can only be group A's terminal
        assert (await client.login()).header.response == gb.SUCCESS
        assert (await client.call(frame)).header.response == gb.SUCCESS
        assert (await client.login(iccid="89860000000000000002")).header.response == gb.SUCCESS
        assert (await client.call(_report(minutes_ago=4))).header.response == gb.SUCCESS

    serve(scenario)
    assert Telemetry.objects.for_group(w.group_a).get().device_id == w.gb.pk
    assert Telemetry.objects.for_group(w.group_b).get().device_id == b_device.pk
    # both without an ICCID: ambiguous, refused
    b_device.terminal_phone = ""
    b_device.save(update_fields=["terminal_phone"])
    assert server_module.login_vehicle(VIN) is None
    assert server_module.login_vehicle(VIN, "89860000000000000009") is None


def test_register_device_accepts_gb32960(ev):
    assert ev.gb.protocol == "gb32960"
    assert struct.calcsize(gb.VehicleData.FORMAT) == gb.VehicleData.SIZE
    assert struct.calcsize(gb.Motor.FORMAT) == gb.Motor.SIZE
    assert struct.calcsize(gb.Extremes.FORMAT) == gb.Extremes.SIZE


def test_reports_sent_together_are_stored_in_one_write_and_acked_in_order(
    ev, transactional_db, monkeypatch
):
    w = ev
    calls = []
    real = server_module.store_reports

    def counting(device, raws):
        calls.append(len(raws))
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return real(device, raws)

    monkeypatch.setattr(server_module, "store_reports", counting)
    frames = [_report(minutes_ago=m) for m in (9, 8, 7)]

    async def scenario(client, server):
        await client.login()
        await client.send(b"".join(frames))  # one write: the server reads them together
        first = [await client.recv() for _ in frames]
        assert [r.header.response for r in first] == [gb.ERROR] * 3  # nothing stored
        await client.send(b"".join(frames))
        again = [await client.recv() for _ in frames]
        assert [r.header.response for r in again] == [gb.SUCCESS] * 3
        assert [r.data for r in again] == [f[24:30] for f in frames]  # in order

    serve(scenario)
    assert len(calls) >= 2 and sum(calls[1:]) == 3
    assert Telemetry.objects.for_group(w.group_a).count() == 3
