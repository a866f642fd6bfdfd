"""GB/T 32960.3-2016 codec (new-energy vehicle remote service and management: the communication
protocol). Pure: bytes in, dataclasses out and back; nothing here touches the database.

Written from the standard: the PyPI package `gb32960` (0.1.0, 2024) is an empty placeholder (a
2.9 kB wheel holding only `__version__`), so there is no maintained library to use.

Frame on the wire (all integers big-endian):
  '##' | command BYTE | response flag BYTE | VIN STRING[17] | encryption BYTE |
  data length WORD | data[length] | BCC BYTE
  BCC: XOR of every byte from the command to the end of the data (the two '#' excluded).
  response flag: 0xFE in a command; 0x01 success, 0x02 error, 0x03 VIN repeated in a reply.
  encryption: 0x01 none, 0x02 RSA, 0x03 AES-128, 0xFE abnormal, 0xFF invalid.
Time is BYTE[6] YY MM DD hh mm ss (binary, not BCD) in GMT+8.

Values: 0xFE (0xFFFE, 0xFFFFFFFE) means abnormal and 0xFF (0xFFFF, 0xFFFFFFFF) invalid; both
become None. Real-time and re-issued reports hold a time, then data units, each introduced by
its type byte; the units decoded are 0x01 whole vehicle, 0x02 drive motors, 0x05 position,
0x06 extreme values and 0x07 alarms; 0x03 fuel cell, 0x04 engine, 0x08 storage voltages and
0x09 storage temperatures are read to their (variable) length so the units after them parse;
0x80-0xFE (user-defined) carry a WORD length and are skipped. An unknown type stops the
decoding cleanly: what was decoded is kept, the rest is returned as `unparsed`.
"""

import datetime as dt
import struct
from dataclasses import dataclass, field

from .choices import Alarm, OdometerSource
from .messages import Message

START = b"##"
HEADER_SIZE = 24  # '##' + command + flag + VIN + encryption + length
MAX_DATA = 65531
GMT8 = dt.timezone(dt.timedelta(hours=8), "GMT+8")

# commands (table 5)
VEHICLE_LOGIN = 0x01
REALTIME = 0x02
REISSUE = 0x03
VEHICLE_LOGOUT = 0x04
PLATFORM_LOGIN = 0x05
PLATFORM_LOGOUT = 0x06
HEARTBEAT = 0x07
TIME_SYNC = 0x08

# response flags (table 6)
SUCCESS, ERROR, VIN_REPEATED, COMMAND = 0x01, 0x02, 0x03, 0xFE
# encryption (table 4)
PLAIN, RSA, AES128 = 0x01, 0x02, 0x03

# information types of a report (table 9)
UNIT_VEHICLE = 0x01
UNIT_MOTORS = 0x02
UNIT_FUEL_CELL = 0x03
UNIT_ENGINE = 0x04
UNIT_POSITION = 0x05
UNIT_EXTREMES = 0x06
UNIT_ALARM = 0x07
UNIT_VOLTAGES = 0x08
UNIT_TEMPERATURES = 0x09

# vehicle state (table 11), charging state (table 12 - choices.ChargeState), run mode
STARTED, STOPPED, OTHER = 0x01, 0x02, 0x03
CHARGING_PARKED, CHARGING_DRIVING, NOT_CHARGING, CHARGE_COMPLETE = 1, 2, 3, 4
MODE_ELECTRIC, MODE_HYBRID, MODE_FUEL = 1, 2, 3

# the general alarm flags (table 18), bit -> machine name
ALARM_FLAGS: dict[int, str] = {
    0: "temperature_difference",
    1: "battery_high_temperature",
    2: "storage_overvoltage",
    3: "storage_undervoltage",
    4: "soc_low",
    5: "cell_overvoltage",
    6: "cell_undervoltage",
    7: "soc_high",
    8: "soc_jump",
    9: "storage_mismatch",
    10: "cell_consistency",
    11: "insulation",
    12: "dcdc_temperature",
    13: "brake_system",
    14: "dcdc_state",
    15: "motor_controller_temperature",
    16: "high_voltage_interlock",
    17: "motor_temperature",
    18: "storage_overcharge",
}
HIGHEST_ALARM_LEVEL = 3  # level 3: stop the car (the standard's most serious fault)


class FrameError(ValueError):
    """A frame that cannot be taken: `reason` is a short code; `header` when it could be read."""

    def __init__(self, reason: str, detail: str = "", header: "Header | None" = None):
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail, self.header = reason, detail[:300], header


@dataclass(frozen=True)
class Header:
    command: int
    response: int
    vin: str
    encryption: int = PLAIN


@dataclass
class Frame:
    header: Header
    data: bytes


# --- framing ------------------------------------------------------------------------------------
def bcc(data: bytes) -> int:
    value = 0
    for byte in data:
        value ^= byte
    return value


def encode_frame(
    command: int, vin: str, data: bytes = b"", *, response: int = COMMAND, encryption=PLAIN
) -> bytes:
    vin_bytes = vin.encode("ascii")[:17].ljust(17, b"\x00")
    body = bytes((command, response)) + vin_bytes + bytes((encryption,))
    body += struct.pack(">H", len(data)) + data
    return START + body + bytes((bcc(body),))


def _read_header(raw: bytes) -> Header:
    vin = raw[4:21].rstrip(b"\x00 ").decode("ascii", "replace")
    return Header(command=raw[2], response=raw[3], vin=vin, encryption=raw[21])


def decode_frame(raw: bytes) -> Frame:
    """One whole frame → Frame, or FrameError (bad_start, truncated, bad_length, bad_checksum,
    encrypted, bad_vin)."""
    if raw[:2] != START:
        raise FrameError("bad_start", raw[:2].hex())
    if len(raw) < HEADER_SIZE + 1:
        raise FrameError("truncated", f"{len(raw)} bytes")
    header = _read_header(raw)
    (length,) = struct.unpack_from(">H", raw, 22)
    if length > MAX_DATA:
        raise FrameError("bad_length", f"data length {length}", header)
    if len(raw) != HEADER_SIZE + length + 1:
        reason = "truncated" if len(raw) < HEADER_SIZE + length + 1 else "bad_length"
        raise FrameError(reason, f"{len(raw)} bytes for data length {length}", header)
    if bcc(raw[2:-1]) != raw[-1]:
        raise FrameError(
            "bad_checksum", f"BCC {raw[-1]:#04x}, computed {bcc(raw[2:-1]):#04x}", header
        )
    if not header.vin.isascii() or not header.vin.isalnum():
        raise FrameError("bad_vin", repr(header.vin)[:40], header)
    if header.encryption not in (PLAIN, 0xFE, 0xFF):
        raise FrameError("encrypted", f"encryption {header.encryption:#04x}", header)
    return Frame(header, raw[HEADER_SIZE:-1])


class FrameSplitter:
    """Cuts a TCP byte stream into frames by '##' and the data length. Bytes before a '##' are
    dropped (returned by `garbage`); a length above the maximum drops the '##' and searches on."""

    MAX_BUFFER = HEADER_SIZE + MAX_DATA + 1

    def __init__(self):
        self.buffer = bytearray()
        self.garbage = 0

    def feed(self, chunk: bytes) -> list[bytes]:
        self.buffer += chunk
        out = []
        buf = self.buffer
        while True:
            start = buf.find(START)
            if start < 0:
                keep = 1 if buf[-1:] == b"#" else 0
                self.garbage += len(buf) - keep
                del buf[: len(buf) - keep]
                break
            if start:
                self.garbage += start
                del buf[:start]
            if len(buf) < HEADER_SIZE:
                break
            (length,) = struct.unpack_from(">H", buf, 22)
            if length > MAX_DATA:
                out.append(bytes(buf[:HEADER_SIZE]))  # refused by decode_frame (bad_length)
                del buf[:2]
                continue
            size = HEADER_SIZE + length + 1
            if len(buf) < size:
                break
            out.append(bytes(buf[:size]))
            del buf[:size]
        return out


# --- values -------------------------------------------------------------------------------------
def _u8(value: int):
    return None if value >= 0xFE else value


def _u16(value: int):
    return None if value >= 0xFFFE else value


def _u32(value: int):
    return None if value >= 0xFFFFFFFE else value


def _scaled(raw: int | None, scale: float, offset: float = 0.0):
    return None if raw is None else round(raw * scale + offset, 3)


def _raw(value, scale: float, offset: float = 0.0, invalid: int = 0xFFFF) -> int:
    """A physical value back to its raw integer (None → invalid)."""
    return invalid if value is None else int(round((value - offset) / scale))


def encode_time(ts: dt.datetime) -> bytes:
    t = ts.astimezone(GMT8)
    return bytes((t.year - 2000, t.month, t.day, t.hour, t.minute, t.second))


def decode_time(raw: bytes) -> dt.datetime:
    try:
        year, month, day, hour, minute, second = raw[:6]
        return dt.datetime(2000 + year, month, day, hour, minute, second, tzinfo=GMT8).astimezone(
            dt.UTC
        )
    except ValueError as e:
        raise FrameError("bad_time", raw[:6].hex()) from e


def _need(data: bytes, at: int, size: int, what: str):
    if len(data) < at + size:
        raise FrameError("truncated", f"{what}: {len(data) - at} of {size} bytes")


# --- data units ---------------------------------------------------------------------------------
@dataclass
class VehicleData:
    """0x01 whole vehicle (20 bytes)."""

    state: int | None = STARTED
    charge_state: int | None = NOT_CHARGING
    run_mode: int | None = MODE_ELECTRIC
    speed_kmh: float | None = None  # 0.1 km/h
    odometer_km: float | None = None  # 0.1 km
    total_v: float | None = None  # 0.1 V
    total_a: float | None = None  # 0.1 A, offset -1000 A (negative: charging)
    soc_pct: int | None = None
    dcdc_state: int | None = 0x01  # 1 working, 2 off
    gear: int = 0x0F  # bits 0-3 gear (0 N, 1-6, 13 R, 14 D, 15 P), 4 braking, 5 driving force
    insulation_kohm: int | None = None
    accelerator_pct: int | None = None
    brake: int | None = None  # 0 off, 1-100 %, 101 on without travel

    SIZE = 20
    FORMAT = ">BBBHIHHBBBHBB"

    def encode(self) -> bytes:
        return struct.pack(
            self.FORMAT,
            0xFF if self.state is None else self.state,
            0xFF if self.charge_state is None else self.charge_state,
            0xFF if self.run_mode is None else self.run_mode,
            _raw(self.speed_kmh, 0.1),
            _raw(self.odometer_km, 0.1, invalid=0xFFFFFFFF),
            _raw(self.total_v, 0.1),
            _raw(self.total_a, 0.1, -1000),
            0xFF if self.soc_pct is None else self.soc_pct,
            0xFF if self.dcdc_state is None else self.dcdc_state,
            self.gear,
            0xFFFF if self.insulation_kohm is None else self.insulation_kohm,
            0xFF if self.accelerator_pct is None else self.accelerator_pct,
            0xFF if self.brake is None else self.brake,
        )

    @classmethod
    def decode(cls, raw: bytes) -> "VehicleData":
        (state, charge, mode, speed, odo, volts, amps, soc, dcdc, gear, ins, acc, brake) = (
            struct.unpack(cls.FORMAT, raw)
        )
        return cls(
            state=_u8(state),
            charge_state=_u8(charge),
            run_mode=_u8(mode),
            speed_kmh=_scaled(_u16(speed), 0.1),
            odometer_km=_scaled(_u32(odo), 0.1),
            total_v=_scaled(_u16(volts), 0.1),
            total_a=_scaled(_u16(amps), 0.1, -1000),
            soc_pct=_u8(soc),
            dcdc_state=_u8(dcdc),
            gear=gear,
            insulation_kohm=_u16(ins),
            accelerator_pct=_u8(acc),
            brake=_u8(brake),
        )


@dataclass
class Motor:
    """One drive motor of 0x02 (12 bytes)."""

    seq: int = 1
    state: int | None = 0x01  # 1 consuming, 2 generating, 3 off, 4 ready
    controller_temp_c: int | None = None  # offset -40 °C
    rpm: int | None = None  # offset -20000 r/min
    torque_nm: float | None = None  # 0.1 N·m, offset -2000 N·m
    temp_c: int | None = None  # offset -40 °C
    controller_v: float | None = None  # 0.1 V
    controller_a: float | None = None  # 0.1 A, offset -1000 A

    SIZE = 12
    FORMAT = ">BBBHHBHH"

    def encode(self) -> bytes:
        return struct.pack(
            self.FORMAT,
            self.seq,
            0xFF if self.state is None else self.state,
            0xFF if self.controller_temp_c is None else self.controller_temp_c + 40,
            0xFFFF if self.rpm is None else self.rpm + 20000,
            _raw(self.torque_nm, 0.1, -2000),
            0xFF if self.temp_c is None else self.temp_c + 40,
            _raw(self.controller_v, 0.1),
            _raw(self.controller_a, 0.1, -1000),
        )

    @classmethod
    def decode(cls, raw: bytes) -> "Motor":
        seq, state, ctemp, rpm, torque, temp, volts, amps = struct.unpack(cls.FORMAT, raw)
        ctemp, rpm, temp = _u8(ctemp), _u16(rpm), _u8(temp)
        return cls(
            seq=seq,
            state=_u8(state),
            controller_temp_c=None if ctemp is None else ctemp - 40,
            rpm=None if rpm is None else rpm - 20000,
            torque_nm=_scaled(_u16(torque), 0.1, -2000),
            temp_c=None if temp is None else temp - 40,
            controller_v=_scaled(_u16(volts), 0.1),
            controller_a=_scaled(_u16(amps), 0.1, -1000),
        )


@dataclass
class Position:
    """0x05 (9 bytes): status bit 0 set = not a valid fix, bit 1 south, bit 2 west."""

    valid: bool = True
    lat: float | None = None  # degrees, 1e-6
    lon: float | None = None

    SIZE = 9

    def encode(self) -> bytes:
        lat, lon = self.lat or 0.0, self.lon or 0.0
        status = (0 if self.valid else 1) | (2 if lat < 0 else 0) | (4 if lon < 0 else 0)
        return struct.pack(">BII", status, round(abs(lon) * 1e6), round(abs(lat) * 1e6))

    @classmethod
    def decode(cls, raw: bytes) -> "Position":
        status, lon, lat = struct.unpack(">BII", raw)
        lon_v, lat_v = _u32(lon), _u32(lat)
        return cls(
            valid=not status & 1,
            lat=None if lat_v is None else (-1 if status & 2 else 1) * lat_v / 1e6,
            lon=None if lon_v is None else (-1 if status & 4 else 1) * lon_v / 1e6,
        )


@dataclass
class Extremes:
    """0x06 (14 bytes): the highest and lowest cell voltage (0.001 V) and probe temperature
    (offset -40 °C), each with its subsystem and cell or probe number."""

    max_v_system: int | None = 1
    max_v_cell: int | None = 1
    max_cell_v: float | None = None
    min_v_system: int | None = 1
    min_v_cell: int | None = 1
    min_cell_v: float | None = None
    max_t_system: int | None = 1
    max_t_probe: int | None = 1
    max_t_c: int | None = None
    min_t_system: int | None = 1
    min_t_probe: int | None = 1
    min_t_c: int | None = None

    SIZE = 14
    FORMAT = ">BBHBBHBBBBBB"

    def encode(self) -> bytes:
        def b(v):
            return 0xFF if v is None else v

        return struct.pack(
            self.FORMAT,
            b(self.max_v_system),
            b(self.max_v_cell),
            _raw(self.max_cell_v, 0.001),
            b(self.min_v_system),
            b(self.min_v_cell),
            _raw(self.min_cell_v, 0.001),
            b(self.max_t_system),
            b(self.max_t_probe),
            0xFF if self.max_t_c is None else self.max_t_c + 40,
            b(self.min_t_system),
            b(self.min_t_probe),
            0xFF if self.min_t_c is None else self.min_t_c + 40,
        )

    @classmethod
    def decode(cls, raw: bytes) -> "Extremes":
        v = struct.unpack(cls.FORMAT, raw)
        max_t, min_t = _u8(v[8]), _u8(v[11])
        return cls(
            max_v_system=_u8(v[0]),
            max_v_cell=_u8(v[1]),
            max_cell_v=_scaled(_u16(v[2]), 0.001),
            min_v_system=_u8(v[3]),
            min_v_cell=_u8(v[4]),
            min_cell_v=_scaled(_u16(v[5]), 0.001),
            max_t_system=_u8(v[6]),
            max_t_probe=_u8(v[7]),
            max_t_c=None if max_t is None else max_t - 40,
            min_t_system=_u8(v[9]),
            min_t_probe=_u8(v[10]),
            min_t_c=None if min_t is None else min_t - 40,
        )


@dataclass
class AlarmData:
    """0x07: the highest alarm level (0-3), the general alarm flags (table 18) and the fault
    code lists (4 bytes a code) of the storage, the drive motors, the engine and the rest."""

    level: int | None = 0
    flags: int = 0
    storage_faults: list[int] = field(default_factory=list)
    motor_faults: list[int] = field(default_factory=list)
    engine_faults: list[int] = field(default_factory=list)
    other_faults: list[int] = field(default_factory=list)

    def encode(self) -> bytes:
        out = struct.pack(">BI", 0xFF if self.level is None else self.level, self.flags)
        for codes in (
            self.storage_faults,
            self.motor_faults,
            self.engine_faults,
            self.other_faults,
        ):
            out += bytes((len(codes),)) + b"".join(struct.pack(">I", c) for c in codes)
        return out

    @property
    def flag_names(self) -> list[str]:
        return [name for bit, name in ALARM_FLAGS.items() if self.flags >> bit & 1]

    @classmethod
    def decode(cls, data: bytes, at: int) -> tuple["AlarmData", int]:
        _need(data, at, 5, "alarm data")
        level, flags = struct.unpack_from(">BI", data, at)
        at += 5
        lists = []
        for what in ("storage", "motor", "engine", "other"):
            _need(data, at, 1, f"{what} fault count")
            n = data[at]
            n = 0 if n >= 0xFE else n
            _need(data, at + 1, 4 * n, f"{what} fault codes")
            lists.append(list(struct.unpack_from(f">{n}I", data, at + 1)))
            at += 1 + 4 * n
        level = _u8(level)
        return cls(level, flags if flags < 0xFFFFFFFE else 0, *lists), at


@dataclass
class StorageVoltage:
    """One subsystem of 0x08: voltage 0.1 V, current 0.1 A offset -1000, cell voltages 0.001 V."""

    system: int = 1
    voltage: float | None = None
    current: float | None = None
    total_cells: int = 0
    first_cell: int = 1
    cell_v: list = field(default_factory=list)

    def encode(self) -> bytes:
        return struct.pack(
            ">BHHHHB",
            self.system,
            _raw(self.voltage, 0.1),
            _raw(self.current, 0.1, -1000),
            self.total_cells,
            self.first_cell,
            len(self.cell_v),
        ) + b"".join(struct.pack(">H", _raw(v, 0.001)) for v in self.cell_v)


@dataclass
class StorageTemperatures:
    """One subsystem of 0x09: probe temperatures (offset -40 °C)."""

    system: int = 1
    temps_c: list = field(default_factory=list)

    def encode(self) -> bytes:
        return struct.pack(">BH", self.system, len(self.temps_c)) + bytes(
            0xFF if t is None else t + 40 for t in self.temps_c
        )


@dataclass
class Report:
    """A real-time (0x02) or re-issued (0x03) report."""

    ts: dt.datetime
    vehicle: VehicleData | None = None
    motors: list[Motor] = field(default_factory=list)
    position: Position | None = None
    extremes: Extremes | None = None
    alarm: AlarmData | None = None
    fuel_cell: bytes | None = None  # 0x03 and 0x04: kept raw (length decoded)
    engine: bytes | None = None
    voltages: list[StorageVoltage] = field(default_factory=list)
    temperatures: list[StorageTemperatures] = field(default_factory=list)
    units: list[int] = field(default_factory=list)  # the types met, in order
    unparsed: bytes = b""  # from an unknown type on
    reissued: bool = False

    def encode(self) -> bytes:
        out = encode_time(self.ts)
        if self.vehicle is not None:
            out += bytes((UNIT_VEHICLE,)) + self.vehicle.encode()
        if self.motors:
            out += bytes((UNIT_MOTORS, len(self.motors))) + b"".join(
                m.encode() for m in self.motors
            )
        if self.fuel_cell is not None:
            out += bytes((UNIT_FUEL_CELL,)) + self.fuel_cell
        if self.engine is not None:
            out += bytes((UNIT_ENGINE,)) + self.engine
        if self.position is not None:
            out += bytes((UNIT_POSITION,)) + self.position.encode()
        if self.extremes is not None:
            out += bytes((UNIT_EXTREMES,)) + self.extremes.encode()
        if self.alarm is not None:
            out += bytes((UNIT_ALARM,)) + self.alarm.encode()
        if self.voltages:
            out += bytes((UNIT_VOLTAGES, len(self.voltages))) + b"".join(
                v.encode() for v in self.voltages
            )
        if self.temperatures:
            out += bytes((UNIT_TEMPERATURES, len(self.temperatures))) + b"".join(
                t.encode() for t in self.temperatures
            )
        return out + self.unparsed


def fuel_cell_unit(probe_temps: list[int]) -> bytes:
    """A 0x03 unit (without its type byte) with the given probe temperatures, for tests."""
    return (
        struct.pack(">HHHH", 3200, 1500, 100, len(probe_temps))
        + bytes(t + 40 for t in probe_temps)
        + struct.pack(">HBHBHBB", 600, 1, 100, 1, 350, 1, 1)
    )


def _fuel_cell_size(data: bytes, at: int) -> int:
    _need(data, at, 8, "fuel cell")
    (probes,) = struct.unpack_from(">H", data, at + 6)
    probes = 0 if probes >= 0xFFFE else probes
    return 8 + probes + 10


def decode_report(data: bytes, *, reissued: bool = False) -> Report:
    _need(data, 0, 6, "report time")
    report = Report(ts=decode_time(data[:6]), reissued=reissued)
    at = 6
    while at < len(data):
        kind = data[at]
        at += 1
        if kind == UNIT_VEHICLE:
            _need(data, at, VehicleData.SIZE, "whole vehicle data")
            report.vehicle = VehicleData.decode(data[at : at + VehicleData.SIZE])
            at += VehicleData.SIZE
        elif kind == UNIT_MOTORS:
            _need(data, at, 1, "motor count")
            n = data[at]
            _need(data, at + 1, n * Motor.SIZE, "drive motors")
            report.motors = [
                Motor.decode(data[at + 1 + i * Motor.SIZE : at + 1 + (i + 1) * Motor.SIZE])
                for i in range(n)
            ]
            at += 1 + n * Motor.SIZE
        elif kind == UNIT_FUEL_CELL:
            size = _fuel_cell_size(data, at)
            _need(data, at, size, "fuel cell")
            report.fuel_cell = data[at : at + size]
            at += size
        elif kind == UNIT_ENGINE:
            _need(data, at, 5, "engine")
            report.engine = data[at : at + 5]
            at += 5
        elif kind == UNIT_POSITION:
            _need(data, at, Position.SIZE, "position")
            report.position = Position.decode(data[at : at + Position.SIZE])
            at += Position.SIZE
        elif kind == UNIT_EXTREMES:
            _need(data, at, Extremes.SIZE, "extreme values")
            report.extremes = Extremes.decode(data[at : at + Extremes.SIZE])
            at += Extremes.SIZE
        elif kind == UNIT_ALARM:
            report.alarm, at = AlarmData.decode(data, at)
        elif kind == UNIT_VOLTAGES:
            _need(data, at, 1, "storage voltage count")
            n, at = data[at], at + 1
            for _ in range(n):
                _need(data, at, 10, "storage voltage")
                system, volts, amps, total, first, m = struct.unpack_from(">BHHHHB", data, at)
                _need(data, at + 10, 2 * m, "cell voltages")
                cells = struct.unpack_from(f">{m}H", data, at + 10)
                report.voltages.append(
                    StorageVoltage(
                        system,
                        _scaled(_u16(volts), 0.1),
                        _scaled(_u16(amps), 0.1, -1000),
                        total,
                        first,
                        [_scaled(_u16(c), 0.001) for c in cells],
                    )
                )
                at += 10 + 2 * m
        elif kind == UNIT_TEMPERATURES:
            _need(data, at, 1, "storage temperature count")
            n, at = data[at], at + 1
            for _ in range(n):
                _need(data, at, 3, "storage temperatures")
                system, probes = struct.unpack_from(">BH", data, at)
                _need(data, at + 3, probes, "probe temperatures")
                temps = [None if t >= 0xFE else t - 40 for t in data[at + 3 : at + 3 + probes]]
                report.temperatures.append(StorageTemperatures(system, temps))
                at += 3 + probes
        elif 0x80 <= kind <= 0xFE:  # user-defined: WORD length, then its data
            _need(data, at, 2, "user-defined length")
            (size,) = struct.unpack_from(">H", data, at)
            _need(data, at + 2, size, "user-defined data")
            at += 2 + size
        else:
            report.unparsed = data[at - 1 :]
            break
        report.units.append(kind)
    return report


# --- other commands -----------------------------------------------------------------------------
@dataclass
class Login:
    """0x01: time, login serial (1-65531, daily), ICCID[20], the storage subsystems' codes."""

    ts: dt.datetime
    serial: int = 1
    iccid: str = ""
    systems: list[str] = field(default_factory=list)

    def encode(self) -> bytes:
        size = max((len(s) for s in self.systems), default=0)
        return (
            encode_time(self.ts)
            + struct.pack(">H", self.serial)
            + self.iccid.encode("ascii")[:20].ljust(20, b"\x00")
            + bytes((len(self.systems), size))
            + b"".join(s.encode("ascii").ljust(size, b"\x00") for s in self.systems)
        )

    @classmethod
    def decode(cls, data: bytes) -> "Login":
        _need(data, 0, 30, "vehicle login")
        n, size = data[28], data[29]
        _need(data, 30, n * size, "storage system codes")
        return cls(
            ts=decode_time(data),
            serial=struct.unpack_from(">H", data, 6)[0],
            iccid=data[8:28].rstrip(b"\x00 ").decode("ascii", "replace"),
            systems=[
                data[30 + i * size : 30 + (i + 1) * size].rstrip(b"\x00").decode("ascii", "replace")
                for i in range(n)
            ],
        )


@dataclass
class Logout:
    """0x04 (and 0x06 of a platform): time and the login serial."""

    ts: dt.datetime
    serial: int = 1

    def encode(self) -> bytes:
        return encode_time(self.ts) + struct.pack(">H", self.serial)

    @classmethod
    def decode(cls, data: bytes) -> "Logout":
        _need(data, 0, 8, "logout")
        return cls(decode_time(data), struct.unpack_from(">H", data, 6)[0])


@dataclass
class PlatformLogin:
    """0x05: time, serial, user name[12], password[20], encryption rule."""

    ts: dt.datetime
    serial: int = 1
    username: str = ""
    password: str = ""
    encryption: int = PLAIN

    @classmethod
    def decode(cls, data: bytes) -> "PlatformLogin":
        _need(data, 0, 41, "platform login")
        return cls(
            decode_time(data),
            struct.unpack_from(">H", data, 6)[0],
            data[8:20].rstrip(b"\x00").decode("ascii", "replace"),
            data[20:40].rstrip(b"\x00").decode("ascii", "replace"),
            data[40],
        )


def decode_data(frame: Frame):
    """The frame's data as its dataclass (None for a heartbeat or a time sync)."""
    command = frame.header.command
    try:
        if command == VEHICLE_LOGIN:
            return Login.decode(frame.data)
        if command in (REALTIME, REISSUE):
            return decode_report(frame.data, reissued=command == REISSUE)
        if command in (VEHICLE_LOGOUT, PLATFORM_LOGOUT):
            return Logout.decode(frame.data)
        if command == PLATFORM_LOGIN:
            return PlatformLogin.decode(frame.data)
        if command in (HEARTBEAT, TIME_SYNC):
            return None
    except FrameError as e:
        e.header = frame.header
        raise
    raise FrameError("unsupported", f"command {command:#04x}", frame.header)


# --- encoders (terminal side: tests, the simulator, the bench) ----------------------------------
def encode_login(vin: str, ts: dt.datetime, *, serial: int = 1, iccid: str = "", systems=()):
    return encode_frame(VEHICLE_LOGIN, vin, Login(ts, serial, iccid, list(systems)).encode())


def encode_logout(vin: str, ts: dt.datetime, *, serial: int = 1) -> bytes:
    return encode_frame(VEHICLE_LOGOUT, vin, Logout(ts, serial).encode())


def encode_report(vin: str, report: Report) -> bytes:
    return encode_frame(REISSUE if report.reissued else REALTIME, vin, report.encode())


def encode_heartbeat(vin: str) -> bytes:
    return encode_frame(HEARTBEAT, vin)


def encode_time_sync(vin: str) -> bytes:
    return encode_frame(TIME_SYNC, vin)


def encode_response(header: Header, result: int, data: bytes = b"") -> bytes:
    """The platform's reply to a command: the same command, result SUCCESS or ERROR."""
    return encode_frame(header.command, header.vin, data, response=result)


def response_data(frame: Frame, now: dt.datetime) -> bytes:
    """What a reply carries: the request's time (its first 6 bytes); for a time sync the
    platform's time; nothing for a heartbeat."""
    if frame.header.command == TIME_SYNC:
        return encode_time(now)
    if frame.header.command == HEARTBEAT:
        return b""
    return frame.data[:6]


# --- into the internal message model ------------------------------------------------------------
def to_message(report: Report, device_id: str) -> Message:
    """A report → the internal Message. `seq` is the report's time in Unix seconds: a report
    re-issued (0x03) for the same time is the same message, stored once (dedupe on device, seq,
    ts). Level-3 alarms become the `battery` alarm; the general alarm flags go to alarm_word."""
    m = Message(device_id=device_id, seq=int(report.ts.timestamp()), ts=report.ts)
    v = report.vehicle
    if v is not None:
        m.speed_kmh = v.speed_kmh if v.speed_kmh is None or v.speed_kmh <= 400 else None
        if v.odometer_km is not None and v.odometer_km <= 3_000_000:
            m.odometer_km, m.odometer_source = v.odometer_km, OdometerSource.CAN
        m.ignition = {STARTED: True, STOPPED: False}.get(v.state)  # type: ignore[arg-type]
        m.soc_pct = float(v.soc_pct) if v.soc_pct is not None and v.soc_pct <= 100 else None
        m.pack_v = v.total_v if v.total_v is not None and v.total_v <= 2000 else None
        m.pack_a = v.total_a
        m.charge_state = v.charge_state if v.charge_state in (1, 2, 3, 4) else None
    p = report.position
    fix = p is not None and p.lat is not None and p.lon is not None
    if fix and abs(p.lat) <= 90 and abs(p.lon) <= 180:  # type: ignore[union-attr,arg-type]
        m.lat, m.lon, m.fix_valid = p.lat, p.lon, p.valid  # type: ignore[union-attr]
    a = report.alarm
    if a is not None:
        m.alarm_level = a.level if a.level is not None and a.level <= 3 else None
        m.alarm_word = a.flags
        if a.level == HIGHEST_ALARM_LEVEL:
            m.alarm = Alarm.BATTERY
    return m
