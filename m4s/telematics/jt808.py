"""JT/T 808 (2013 and 2019) codec: framing, escaping, checksum, header and the message bodies the
platform handles. Pure: bytes in, dataclasses out and back; nothing here touches the database.

Frame on the wire:  7E | escape(header + body + checksum) | 7E
  escape:    7E -> 7D 02, 7D -> 7D 01 (over everything between the two flags)
  checksum:  XOR of every byte of header + body
  header 2013: msg id WORD | attributes WORD | phone BCD[6]  | serial WORD | [packets WORD, index WORD]
  header 2019: msg id WORD | attributes WORD | version BYTE | phone BCD[10] | serial WORD | [...]
  attributes: bits 0-9 body length, 10-12 encryption, 13 subpackaged, 14 version flag (2019)
All integers are big-endian; STRING is GBK; time is BCD[6] YYMMDDhhmmss in GMT+8.

Not supported (the header is still decoded, so the server can say so with 0x8001 result 3):
encrypted bodies (RSA) and subpackaged messages (reassembly).

Tolerated: some terminals forget to escape a 0x7E inside a frame. The splitter then takes that
byte as data when the header's body length says the frame is not over yet, and keeps the longer
frame only if its checksum and length verify (see `FrameSplitter`); a raw 0x7E inside a frame
is data to `unescape`, the checksum decides.
"""

import datetime as dt
import hashlib
import math
import struct
from dataclasses import dataclass, field
from typing import ClassVar

from .choices import Alarm, OdometerSource
from .messages import Message

FLAG = 0x7E
ESC = 0x7D
V2013 = None  # header without the version byte
V2019 = 1  # the protocol version byte of JT/T 808-2019 (starts at 1)
MAX_BODY = 0x3FF  # 10 bits
# header (21 max) + body + checksum, every byte possibly escaped to two
MAX_ESCAPED_FRAME = 2 * (21 + MAX_BODY + 1)
GMT8 = dt.timezone(dt.timedelta(hours=8), "GMT+8")

# message ids
TERMINAL_RESPONSE = 0x0001
HEARTBEAT = 0x0002
REGISTRATION = 0x0100
AUTHENTICATION = 0x0102
LOCATION = 0x0200
LOCATION_BATCH = 0x0704
PLATFORM_RESPONSE = 0x8001
REGISTRATION_REPLY = 0x8100

# 0x8001 / 0x0001 results
OK, FAIL, BAD_MESSAGE, UNSUPPORTED, ALARM_CONFIRMED = 0, 1, 2, 3, 4
# 0x8100 results
REG_OK, REG_VEHICLE_TAKEN, REG_NO_VEHICLE, REG_TERMINAL_TAKEN, REG_NO_TERMINAL = 0, 1, 2, 3, 4

# 0x0200 status bits
STATUS_ACC_ON = 1 << 0
STATUS_POSITIONED = 1 << 1
STATUS_SOUTH = 1 << 2
STATUS_WEST = 1 << 3

# 0x0200 alarm word: every bit of JT/T 808-2019 table 24 -> our alarm kind. Bits 15-17 are
# reserved in 2013; bit 31 is "illegal door opening" in 2013 and reserved in 2019 (a 2019
# terminal leaves it clear). The raw word is stored with each report (Telemetry.alarm_word).
ALARM_BIT_KINDS: dict[int, str] = {
    0: Alarm.SOS,  # emergency alarm (alarm switch pressed)
    1: Alarm.OVERSPEED,  # overspeed alarm
    2: Alarm.FATIGUE,  # fatigue driving alarm
    3: Alarm.DANGER,  # danger warning (2013) / dangerous driving behaviour alarm (2019)
    4: Alarm.GNSS_FAULT,  # GNSS module fault
    5: Alarm.GNSS_CUT,  # GNSS antenna not connected or cut
    6: Alarm.GNSS_SHORT,  # GNSS antenna short-circuited
    7: Alarm.LOW_BATTERY,  # terminal main power under-voltage
    8: Alarm.POWER_CUT,  # terminal main power off
    9: Alarm.LCD_FAULT,  # terminal LCD or display fault
    10: Alarm.TTS_FAULT,  # TTS module fault
    11: Alarm.CAMERA_FAULT,  # camera fault
    12: Alarm.IC_CARD_FAULT,  # road transport certificate IC card module fault
    13: Alarm.SPEED_WARN,  # overspeed warning
    14: Alarm.FATIGUE_WARN,  # fatigue driving warning
    15: Alarm.VIOLATION,  # 2019: illegal driving alarm
    16: Alarm.TYRE_WARN,  # 2019: tyre pressure warning
    17: Alarm.BLIND_SPOT,  # 2019: right-turn blind zone abnormal alarm
    18: Alarm.DRIVE_LIMIT,  # accumulated driving time of the day exceeded
    19: Alarm.LONG_PARKING,  # parking overtime
    20: Alarm.AREA,  # entering / leaving an area
    21: Alarm.ROUTE,  # entering / leaving a route
    22: Alarm.ROUTE_TIME,  # road section driving time too short / too long
    23: Alarm.OFF_ROUTE,  # route deviation
    24: Alarm.VSS_FAULT,  # vehicle VSS (speed sensor) fault
    25: Alarm.FUEL,  # abnormal fuel level
    26: Alarm.THEFT,  # vehicle stolen (reported by the car's anti-theft device)
    27: Alarm.IGNITION,  # illegal ignition
    28: Alarm.MOVEMENT,  # illegal displacement
    29: Alarm.CRASH,  # collision warning (2019: collision / rollover alarm)
    30: Alarm.ROLLOVER,  # rollover warning
    31: Alarm.DOOR,  # 2013: illegal door opening (2019: reserved)
}
# When several bits are set, the report's alarm is the most serious (the first one set here).
ALARM_PRIORITY: list[int] = [
    *(29, 30, 26, 27, 28, 31, 0, 8, 7),  # rescue, theft, SOS, power: what the platform acts on
    *(3, 1, 2, 23, 20, 21, 22, 16, 17, 15, 25, 18, 19, 13, 14),  # driving
    *(24, 4, 5, 6, 9, 10, 11, 12),  # equipment faults
]
ALARM_BITS: list[tuple[int, str]] = [(bit, ALARM_BIT_KINDS[bit]) for bit in ALARM_PRIORITY]
assert sorted(ALARM_PRIORITY) == list(range(32))  # noqa: S101 - every bit, once

# 0x0200 additional information items decoded into fields
ITEM_MILEAGE = 0x01  # DWORD, 0.1 km
ITEM_FUEL = 0x02  # WORD, 0.1 L


class FrameError(ValueError):
    """A frame or body that cannot be decoded. `reason` is a short code (bad_checksum,
    bad_escape, truncated, bad_length, too_long, bad_body, bad_bcd, bad_time, encrypted ...);
    `header` is set when the header could still be read, so the sender can be answered."""

    def __init__(self, reason: str, detail: str = "", header: "Header | None" = None):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.header = header


# --- framing -----------------------------------------------------------------------------------
def escape(data: bytes) -> bytes:
    return data.replace(b"\x7d", b"\x7d\x01").replace(b"\x7e", b"\x7d\x02")


def unescape(data: bytes) -> bytes:
    """Undo the escaping. A bare 0x7E (a terminal that forgot to escape it; the splitter keeps
    one inside a frame only when the header's length asks for it) is taken as a data byte: the
    checksum and body length decide whether the frame is good."""
    if ESC not in data:
        return bytes(data)
    out = bytearray()
    i, n = 0, len(data)
    while i < n:
        b = data[i]
        if b == ESC:
            if i + 1 >= n:
                raise FrameError("bad_escape", "7D at the end of the frame")
            nxt = data[i + 1]
            if nxt == 0x01:
                out.append(ESC)
            elif nxt == 0x02:
                out.append(FLAG)
            else:
                raise FrameError("bad_escape", f"7D {nxt:02X} at {i}")
            i += 2
            continue
        out.append(b)
        i += 1
    return bytes(out)


def checksum(data: bytes) -> int:
    c = 0
    for b in data:
        c ^= b
    return c


class FrameSplitter:
    """Cuts a TCP byte stream into frames, returned with their two 0x7E flags. Bytes before the
    first 0x7E are skipped; a run longer than any legal frame is returned as is (decoding
    refuses it as too_long) and the splitter skips to the next 0x7E.

    A 0x7E normally ends a frame. Some terminals send a 0x7E inside a frame unescaped: when the
    run so far has a readable header whose body length says the frame is longer, the 0x7E is
    kept as a data byte and the run goes on. The longer frame is returned only if it decodes
    (checksum, length); if it does not, or a piece after the 0x7E is a good frame by itself,
    the 0x7E was a flag after all: the first piece is returned alone (it fails to decode and is
    dead-lettered with its bytes) and the rest is cut again."""

    def __init__(self, max_len: int = MAX_ESCAPED_FRAME):
        self.max_len = max_len
        self._buf = bytearray()
        self._marks: list[int] = []  # positions in _buf of 0x7E bytes kept as data
        self._started = False
        self._skipping = False

    def feed(self, data: bytes) -> list[bytes]:
        frames: list[bytes] = []
        for chunk_part in _split_keep(data):
            if chunk_part is None:  # a 0x7E
                self._on_flag(frames)
                continue
            if not self._started or self._skipping:
                continue
            self._buf += chunk_part
            if len(self._buf) > self.max_len:
                if self._marks:
                    self._fall_back(frames, b"")
                    continue
                frames.append(b"\x7e" + bytes(self._buf[: self.max_len + 1]))
                self._buf.clear()
                self._skipping = True
        return frames

    def _on_flag(self, frames: list[bytes]) -> None:
        buf = self._buf
        if not self._started or self._skipping or not buf:
            self._buf.clear()
            self._started, self._skipping = True, False
            return
        if self._marks and _whole_frame(bytes(buf[self._marks[-1] + 1 :])):
            self._fall_back(frames, b"\x7e")  # the piece after the 0x7E is a frame of its own
            return
        missing = _bytes_missing(buf)
        if missing > 0:  # the header asks for more: take this 0x7E as data
            self._marks.append(len(buf))
            buf.append(FLAG)
            return
        if self._marks and not _whole_frame(bytes(buf)):
            self._fall_back(frames, b"\x7e")
            return
        frames.append(b"\x7e" + bytes(buf) + b"\x7e")
        buf.clear()
        self._marks.clear()

    def _fall_back(self, frames: list[bytes], tail: bytes) -> None:
        """The first 0x7E kept as data was a flag: return the piece before it alone, cut the
        rest again (followed by `tail`, the flag being handled)."""
        first, rest = bytes(self._buf[: self._marks[0]]), bytes(self._buf[self._marks[0] + 1 :])
        self._buf.clear()
        self._marks.clear()
        self._started, self._skipping = True, False
        frames.append(b"\x7e" + first + b"\x7e")
        frames += self.feed(rest + tail)


def _bytes_missing(run: bytes | bytearray) -> int:
    """How many (unescaped) bytes the frame begun by `run` still lacks by its header's body
    length; 0 when complete or when the header cannot be read."""
    head = run[:48]  # the longest header (21) and a few more, each byte possibly escaped
    try:
        data = unescape(bytes(head[:-1] if head[-1:] == b"\x7d" else head))
        if len(data) < 4:
            return 0
        header = _decode_header(data + b"\x00" * 22)  # padded: only the size fields matter
    except FrameError:
        return 0
    length = len(run) - bytes(run).count(b"\x7d")  # each escape pair is one byte
    return header.size + header.body_length + 1 - length


def _whole_frame(run: bytes) -> bool:
    if not run:
        return False
    try:
        decode_frame(b"\x7e" + run + b"\x7e")  # flags around it: a last raw 0x7E is data
    except FrameError:
        return False
    return True


def _split_keep(data: bytes):
    """The pieces of `data` between 0x7E bytes, with None for each 0x7E."""
    start = 0
    while True:
        i = data.find(b"\x7e", start)
        if i < 0:
            if start < len(data):
                yield data[start:]
            return
        if i > start:
            yield data[start:i]
        yield None
        start = i + 1


# --- header -----------------------------------------------------------------------------------
@dataclass
class Header:
    msg_id: int
    phone: str  # the BCD digits as sent (12 for 2013, 20 for 2019), leading zeros included
    serial: int
    version: int | None = V2013  # None: 2013; otherwise the 2019 protocol version byte
    encryption: int = 0
    packet: tuple[int, int] | None = None  # (total, index) of a subpackaged message
    body_length: int = 0

    @property
    def is_2019(self) -> bool:
        return self.version is not None

    @property
    def size(self) -> int:
        return (17 if self.is_2019 else 12) + (4 if self.packet else 0)


def bcd_encode(digits: str, size: int) -> bytes:
    if not digits.isdigit() or len(digits) > 2 * size:
        raise ValueError(f"{digits!r} is not at most {2 * size} digits")
    return bytes.fromhex(digits.zfill(2 * size))


def bcd_decode(data: bytes) -> str:
    text = data.hex()
    if not text.isdigit():
        raise FrameError("bad_bcd", data.hex())
    return text


def normalize_phone(digits: str) -> str:
    """A terminal phone without the zeros padding it to 12 (2013) or 20 (2019) digits."""
    return digits.lstrip("0")


def encode_header(h: Header, body_length: int) -> bytes:
    if not 0 <= body_length <= MAX_BODY:
        raise ValueError(f"body of {body_length} bytes needs subpackaging (not supported)")
    attrs = body_length | (h.encryption & 0x7) << 10
    if h.packet:
        attrs |= 1 << 13
    if h.is_2019:
        attrs |= 1 << 14
        out = struct.pack(">HHB", h.msg_id, attrs, h.version) + bcd_encode(h.phone, 10)
    else:
        out = struct.pack(">HH", h.msg_id, attrs) + bcd_encode(h.phone, 6)
    out += struct.pack(">H", h.serial & 0xFFFF)
    if h.packet:
        out += struct.pack(">HH", *h.packet)
    return out


def _decode_header(data: bytes) -> Header:
    """`data` is the unescaped frame content (header + body + checksum)."""
    if len(data) < 4:
        raise FrameError("truncated", f"{len(data)} bytes")
    msg_id, attrs = struct.unpack_from(">HH", data)
    is_2019 = bool(attrs & (1 << 14))
    packet = bool(attrs & (1 << 13))
    size = (17 if is_2019 else 12) + (4 if packet else 0)
    if len(data) < size + 1:
        raise FrameError("truncated", f"{len(data)} bytes, header needs {size} + checksum")
    if is_2019:
        version = data[4]
        phone, pos = bcd_decode(data[5:15]), 15
    else:
        version = None
        phone, pos = bcd_decode(data[4:10]), 10
    (serial,) = struct.unpack_from(">H", data, pos)
    pos += 2
    total_index = struct.unpack_from(">HH", data, pos) if packet else None
    return Header(
        msg_id=msg_id,
        phone=phone,
        serial=serial,
        version=version,
        encryption=(attrs >> 10) & 0x7,
        packet=total_index,
        body_length=attrs & MAX_BODY,
    )


@dataclass
class Frame:
    header: Header
    body: bytes


def encode_frame(header: Header, body: bytes) -> bytes:
    content = encode_header(header, len(body)) + body
    return bytes([FLAG]) + escape(content + bytes([checksum(content)])) + bytes([FLAG])


def decode_frame(raw: bytes) -> Frame:
    """One frame, with or without its 0x7E flags → Frame; FrameError if it is malformed. Only
    one flag is taken off each end (a checksum that is an unescaped 0x7E stays)."""
    if raw[:1] == b"\x7e":
        raw = raw[1:]
    if raw[-1:] == b"\x7e":
        raw = raw[:-1]
    if len(raw) > MAX_ESCAPED_FRAME:
        raise FrameError("too_long", f"{len(raw)} bytes")
    data = unescape(raw)
    header = _decode_header(data)
    content, check = data[:-1], data[-1]
    if checksum(content) != check:
        raise FrameError(
            "bad_checksum", f"got {check:02X}, computed {checksum(content):02X}", header
        )
    body = content[header.size :]
    if len(body) != header.body_length:
        raise FrameError(
            "bad_length", f"header says {header.body_length}, body has {len(body)}", header
        )
    if header.encryption:
        raise FrameError("encrypted", f"encryption {header.encryption}", header)
    return Frame(header, body)


# --- bodies -----------------------------------------------------------------------------------
def _fixed(text: str, size: int) -> bytes:
    raw = text.encode("gbk")
    if len(raw) > size:
        raise ValueError(f"{text!r} is longer than {size} bytes")
    return raw.ljust(size, b"\x00")


def _unfixed(raw: bytes) -> str:
    return raw.rstrip(b"\x00").decode("gbk", errors="replace")


def _string(raw: bytes) -> str:
    try:
        return raw.rstrip(b"\x00").decode("gbk")
    except UnicodeDecodeError:
        raise FrameError("bad_body", f"not GBK: {raw[:40].hex()}") from None


def _need(body: bytes, size: int, what: str):
    if len(body) < size:
        raise FrameError("bad_body", f"{what}: {len(body)} bytes, needs {size}")


@dataclass
class TerminalResponse:
    """0x0001 terminal general response."""

    MSG_ID: ClassVar[int] = TERMINAL_RESPONSE
    reply_serial: int
    reply_id: int
    result: int = OK

    def encode(self, version=V2013) -> bytes:
        return struct.pack(">HHB", self.reply_serial, self.reply_id, self.result)

    @classmethod
    def decode(cls, body: bytes, version=V2013):
        if len(body) != 5:
            raise FrameError("bad_body", f"general response of {len(body)} bytes")
        return cls(*struct.unpack(">HHB", body))


@dataclass
class PlatformResponse(TerminalResponse):
    """0x8001 platform general response (result 4: alarm handling confirmed)."""

    MSG_ID: ClassVar[int] = PLATFORM_RESPONSE


@dataclass
class Heartbeat:
    """0x0002, no body."""

    MSG_ID: ClassVar[int] = HEARTBEAT

    def encode(self, version=V2013) -> bytes:
        return b""

    @classmethod
    def decode(cls, body: bytes, version=V2013):
        if body:
            raise FrameError("bad_body", "heartbeat with a body")
        return cls()


# field sizes of 0x0100 by version: maker id, model, terminal id
REGISTRATION_SIZES = {False: (5, 20, 7), True: (11, 30, 30)}


@dataclass
class Registration:
    """0x0100 terminal registration."""

    MSG_ID: ClassVar[int] = REGISTRATION
    province: int
    city: int
    maker_id: str
    model: str
    terminal_id: str
    plate_colour: int
    plate: str  # GBK; the VIN when plate_colour is 0 (no plate yet)

    def encode(self, version=V2013) -> bytes:
        maker, model, tid = REGISTRATION_SIZES[version is not None]
        return (
            struct.pack(">HH", self.province, self.city)
            + _fixed(self.maker_id, maker)
            + _fixed(self.model, model)
            + _fixed(self.terminal_id, tid)
            + bytes([self.plate_colour])
            + self.plate.encode("gbk")
        )

    @classmethod
    def decode(cls, body: bytes, version=V2013):
        maker, model, tid = REGISTRATION_SIZES[version is not None]
        fixed = 4 + maker + model + tid + 1
        _need(body, fixed, "registration")
        province, city = struct.unpack_from(">HH", body)
        pos = 4
        parts = []
        for size in (maker, model, tid):
            parts.append(_unfixed(body[pos : pos + size]))
            pos += size
        return cls(province, city, *parts, plate_colour=body[pos], plate=_string(body[pos + 1 :]))


@dataclass
class RegistrationReply:
    """0x8100 registration reply; the auth code only with result 0."""

    MSG_ID: ClassVar[int] = REGISTRATION_REPLY
    reply_serial: int
    result: int
    auth_code: str = ""

    def encode(self, version=V2013) -> bytes:
        out = struct.pack(">HB", self.reply_serial, self.result)
        return out + self.auth_code.encode("gbk") if self.result == REG_OK else out

    @classmethod
    def decode(cls, body: bytes, version=V2013):
        _need(body, 3, "registration reply")
        serial, result = struct.unpack_from(">HB", body)
        return cls(serial, result, _string(body[3:]))


@dataclass
class Authentication:
    """0x0102 authentication. 2013: the code only; 2019: code length BYTE, code, IMEI BYTE[15],
    software version BYTE[20]."""

    MSG_ID: ClassVar[int] = AUTHENTICATION
    auth_code: str
    imei: str = ""
    software_version: str = ""

    def encode(self, version=V2013) -> bytes:
        code = self.auth_code.encode("gbk")
        if version is None:
            return code
        if len(code) > 255:
            raise ValueError("auth code longer than 255 bytes")
        return bytes([len(code)]) + code + _fixed(self.imei, 15) + _fixed(self.software_version, 20)

    @classmethod
    def decode(cls, body: bytes, version=V2013):
        if version is None:
            return cls(_string(body))
        _need(body, 1, "authentication")
        n = body[0]
        if len(body) != 1 + n + 15 + 20:
            raise FrameError("bad_body", f"authentication of {len(body)} bytes, code of {n}")
        return cls(
            _string(body[1 : 1 + n]),
            imei=_unfixed(body[1 + n : 16 + n]),
            software_version=_unfixed(body[16 + n :]),
        )


def _bcd_time(ts: dt.datetime) -> bytes:
    if ts.tzinfo is None:
        raise ValueError("time must be aware")
    return bytes.fromhex(ts.astimezone(GMT8).strftime("%y%m%d%H%M%S"))


def _time_from_bcd(raw: bytes) -> dt.datetime:
    text = bcd_decode(raw)
    try:
        local = dt.datetime.strptime("20" + text, "%Y%m%d%H%M%S").replace(tzinfo=GMT8)
    except ValueError:
        raise FrameError("bad_time", text) from None
    return local.astimezone(dt.UTC)


@dataclass
class Location:
    """0x0200 location report. lat/lon are signed degrees: south/west (status bits 2/3) live in
    their sign only, so `status` never carries those two bits (decoding moves them into the
    sign, encoding sets them from it). Speed km/h; direction degrees from north; altitude m.
    Additional items: 0x01 mileage (km) and 0x02 fuel (litres) are decoded into fields, any
    other item is kept raw in `items`."""

    MSG_ID: ClassVar[int] = LOCATION
    alarm_flags: int
    status: int
    lat: float
    lon: float
    altitude_m: int
    speed_kmh: float
    direction: int
    ts: dt.datetime  # UTC
    mileage_km: float | None = None
    fuel_l: float | None = None
    items: dict[int, bytes] = field(default_factory=dict)

    BASE: ClassVar[int] = 28

    def encode(self, version=V2013) -> bytes:
        status = self.status & ~(STATUS_SOUTH | STATUS_WEST)
        status |= STATUS_SOUTH if math.copysign(1, self.lat) < 0 else 0
        status |= STATUS_WEST if math.copysign(1, self.lon) < 0 else 0
        out = struct.pack(
            ">IIIIHHH",
            self.alarm_flags,
            status,
            round(abs(self.lat) * 1e6),
            round(abs(self.lon) * 1e6),
            self.altitude_m & 0xFFFF,
            round(self.speed_kmh * 10),
            self.direction,
        ) + _bcd_time(self.ts)
        items = {}
        if self.mileage_km is not None:
            items[ITEM_MILEAGE] = struct.pack(">I", round(self.mileage_km * 10))
        if self.fuel_l is not None:
            items[ITEM_FUEL] = struct.pack(">H", round(self.fuel_l * 10))
        items.update(self.items)
        for item_id, value in items.items():
            if len(value) > 255:
                raise ValueError(f"item {item_id:#x} longer than 255 bytes")
            out += bytes([item_id, len(value)]) + value
        return out

    @classmethod
    def decode(cls, body: bytes, version=V2013):
        _need(body, cls.BASE, "location")
        alarm, status, lat, lon, alt, speed, direction = struct.unpack_from(">IIIIHHH", body)
        loc = cls(
            alarm_flags=alarm,
            status=status & ~(STATUS_SOUTH | STATUS_WEST),
            lat=-(lat / 1e6) if status & STATUS_SOUTH else lat / 1e6,
            lon=-(lon / 1e6) if status & STATUS_WEST else lon / 1e6,
            altitude_m=alt,
            speed_kmh=speed / 10,
            direction=direction,
            ts=_time_from_bcd(body[22:28]),
        )
        pos = cls.BASE
        while pos < len(body):
            if pos + 2 > len(body):
                raise FrameError("bad_body", f"additional item header cut at {pos}")
            item_id, n = body[pos], body[pos + 1]
            value = body[pos + 2 : pos + 2 + n]
            if len(value) != n:
                raise FrameError("bad_body", f"additional item {item_id:#04x} cut short")
            pos += 2 + n
            if item_id == ITEM_MILEAGE:
                if n != 4:
                    raise FrameError("bad_body", f"mileage item of {n} bytes")
                loc.mileage_km = struct.unpack(">I", value)[0] / 10
            elif item_id == ITEM_FUEL:
                if n != 2:
                    raise FrameError("bad_body", f"fuel item of {n} bytes")
                loc.fuel_l = struct.unpack(">H", value)[0] / 10
            else:
                loc.items[item_id] = value
        return loc


@dataclass
class LocationBatch:
    """0x0704 batch location upload: count WORD, type BYTE (0 normal, 1 blind-area resend),
    then per item a WORD length and a 0x0200 body."""

    MSG_ID: ClassVar[int] = LOCATION_BATCH
    kind: int
    locations: list[Location]

    def encode(self, version=V2013) -> bytes:
        out = struct.pack(">HB", len(self.locations), self.kind)
        for loc in self.locations:
            body = loc.encode(version)
            out += struct.pack(">H", len(body)) + body
        return out

    @classmethod
    def decode(cls, body: bytes, version=V2013):
        _need(body, 3, "batch")
        count, kind = struct.unpack_from(">HB", body)
        pos, locations = 3, []
        while pos < len(body):
            if pos + 2 > len(body):
                raise FrameError("bad_body", f"batch item length cut at {pos}")
            (n,) = struct.unpack_from(">H", body, pos)
            item = body[pos + 2 : pos + 2 + n]
            if len(item) != n:
                raise FrameError("bad_body", f"batch item {len(locations)} cut short")
            locations.append(Location.decode(item, version))
            pos += 2 + n
        if len(locations) != count:
            raise FrameError("bad_body", f"batch says {count} items, has {len(locations)}")
        return cls(kind, locations)


BODIES = {
    cls.MSG_ID: cls
    for cls in (
        TerminalResponse,
        PlatformResponse,
        Heartbeat,
        Registration,
        RegistrationReply,
        Authentication,
        Location,
        LocationBatch,
    )
}


def decode_body(frame: Frame):
    """The body of a decoded frame as its dataclass; FrameError (with the header) if it cannot
    be read, `unsupported` for message ids this codec does not know or subpackages."""
    cls = BODIES.get(frame.header.msg_id)
    if cls is None:
        raise FrameError("unsupported", f"message {frame.header.msg_id:#06x}", frame.header)
    if frame.header.packet:
        raise FrameError("unsupported", "subpackaged message", frame.header)
    try:
        return cls.decode(frame.body, frame.header.version)
    except FrameError as e:
        e.header = frame.header
        raise


def encode_message(body, *, phone: str, serial: int, version=V2013) -> bytes:
    """A whole frame (flags included) for one body dataclass."""
    header = Header(msg_id=body.MSG_ID, phone=phone, serial=serial, version=version)
    return encode_frame(header, body.encode(version))


def decode_message(raw: bytes):
    """One frame → (header, body dataclass)."""
    frame = decode_frame(raw)
    return frame.header, decode_body(frame)


# --- into the one internal message ----------------------------------------------------------------
def alarm_from_flags(flags: int) -> str:
    """The most serious alarm set in the word (ALARM_PRIORITY), or none."""
    for bit, alarm in ALARM_BITS:
        if flags & (1 << bit):
            return alarm
    return Alarm.NONE


def alarm_kinds(flags: int) -> list[str]:
    """Every alarm set in the word, by bit number."""
    return [ALARM_BIT_KINDS[bit] for bit in range(32) if flags & (1 << bit)]


def location_seq(body: bytes) -> int:
    """A stable 63-bit id of one location report, from its (re-encoded) 0x0200 body. The writer dedupes on
    (device, seq, ts): a frame resent after a lost ack, or replayed in a 0x0704 blind-area batch
    under a new serial number, carries the same bytes and is stored once, while two different
    reports in the same second (a periodic one and an alarm) are both kept. The serial number
    alone would miss replays and wraps at 65535."""
    return int.from_bytes(hashlib.blake2b(body, digest_size=8).digest(), "big") >> 1


def to_message(loc: Location, device_id: str, seq: int | None = None) -> Message:
    """A decoded location → the internal Message.

    Fuel (item 0x02) is in litres and the platform does not know the tank size, so it is not
    turned into fuel_pct (left None); altitude has no field. Lat/lon are kept even when the
    terminal says it has no fix (status bit 1 clear): then `fix_valid` is False and the writer
    does not take them as the car's position. Mileage is the terminal's odometer. The raw alarm
    and status words (south/west bits put back from the signs) are kept."""
    positioned = bool(loc.status & STATUS_POSITIONED)
    lat, lon = loc.lat, loc.lon
    if not positioned and not (-90 <= lat <= 90 and -180 <= lon <= 180):
        lat = lon = None  # no fix and not even a place on Earth: nothing to keep
    status = loc.status | (STATUS_SOUTH if math.copysign(1, loc.lat) < 0 else 0)
    status |= STATUS_WEST if math.copysign(1, loc.lon) < 0 else 0
    return Message(
        device_id=device_id,
        seq=location_seq(loc.encode()) if seq is None else seq,
        ts=loc.ts,
        lat=lat,
        lon=lon,
        fix_valid=positioned,
        alarm_word=loc.alarm_flags,
        status_word=status,
        speed_kmh=loc.speed_kmh,
        heading=loc.direction,
        odometer_km=loc.mileage_km,
        odometer_source=OdometerSource.TERMINAL if loc.mileage_km is not None else "",
        ignition=bool(loc.status & STATUS_ACC_ON),
        alarm=alarm_from_flags(loc.alarm_flags),
    )
