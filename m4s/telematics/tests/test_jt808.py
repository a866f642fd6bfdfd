"""JT/T 808 (2013 and 2019): the codec checked against frames built by hand from the standard, and
the TCP server end to end (registration, authentication, location reports acknowledged only after
the commit, dead letters for malformed frames, batches)."""

import asyncio
import datetime as dt
import functools
import struct
import time

import pytest
from django.utils import timezone

from m4s.telematics import jt808
from m4s.telematics import jt808_server as server_module
from m4s.telematics.jt808 import V2013, V2019, FrameError
from m4s.telematics.jt808_server import Jt808Server
from m4s.telematics.models import DeadLetter, Device, Telemetry, VehicleState

UTC = dt.UTC
PHONE = "13800138000"
PHONE_2013 = "013800138000"  # BCD[6]: 12 digits, padded in front
PHONE_2019 = "00000000013800138000"  # BCD[10]: 20 digits


def xor(data: bytes) -> int:
    return functools.reduce(lambda a, b: a ^ b, data, 0)


# --- a 0x0200 frame written out by hand --------------------------------------------------------
# 2013 header, phone 013800138000, serial 0x007E (so the frame needs an escape), crash alarm,
# ACC on + positioned, 39.908692 N 116.397477 E, 50 m, 60.5 km/h, heading 90,
# 2024-05-01 08:30:00 GMT+8, mileage 12345.6 km, fuel 45.2 L.
LOCATION_CONTENT = bytes.fromhex(
    "0200"  # message id
    "0026"  # attributes: 2013 (bit 14 clear), not encrypted, body length 38
    "013800138000"  # phone BCD[6]
    "007e"  # serial number 126
    "20000000"  # alarm flags: bit 29 collision
    "00000003"  # status: bit 0 ACC on, bit 1 positioned, north, east
    "0260f554"  # latitude 39908692 (1e-6 degrees)
    "06f015a5"  # longitude 116397477
    "0032"  # altitude 50 m
    "025d"  # speed 605 (0.1 km/h)
    "005a"  # direction 90
    "240501083000"  # time BCD YYMMDDhhmmss, GMT+8
    "0104"
    "0001e240"  # item 0x01 mileage, 4 bytes: 123456 (0.1 km)
    "0202"
    "01c4"  # item 0x02 fuel, 2 bytes: 452 (0.1 L)
)
LOCATION_FRAME = bytes.fromhex(
    "7e"
    "0200 0026 013800138000"
    "007d02"  # serial 00 7E: 7E escaped as 7D 02
    "20000000 00000003 0260f554 06f015a5 0032 025d 005a 240501083000 0104 0001e240 0202 01c4"
    "1a"  # XOR of header + body
    "7e"
)


def test_location_frame_from_the_standard_decodes_field_by_field():
    assert xor(LOCATION_CONTENT) == 0x1A
    header, loc = jt808.decode_message(LOCATION_FRAME)
    assert header == jt808.Header(
        msg_id=0x0200, phone=PHONE_2013, serial=126, version=V2013, body_length=38
    )
    assert (loc.alarm_flags, loc.status) == (1 << 29, 3)
    assert (loc.lat, loc.lon, loc.altitude_m) == (39.908692, 116.397477, 50)
    assert (loc.speed_kmh, loc.direction) == (60.5, 90)
    assert loc.ts == dt.datetime(2024, 5, 1, 0, 30, tzinfo=UTC)  # 08:30 in Beijing
    assert (loc.mileage_km, loc.fuel_l, loc.items) == (12345.6, 45.2, {})


def test_location_frame_is_encoded_byte_for_byte():
    loc = jt808.Location(
        alarm_flags=1 << 29,
        status=jt808.STATUS_ACC_ON | jt808.STATUS_POSITIONED,
        lat=39.908692,
        lon=116.397477,
        altitude_m=50,
        speed_kmh=60.5,
        direction=90,
        ts=dt.datetime(2024, 5, 1, 0, 30, tzinfo=UTC),
        mileage_km=12345.6,
        fuel_l=45.2,
    )
    assert jt808.encode_message(loc, phone=PHONE, serial=126) == LOCATION_FRAME


def test_location_maps_to_the_internal_message():
    _, loc = jt808.decode_message(LOCATION_FRAME)
    m = jt808.to_message(loc, "jt-a1")
    assert (m.device_id, m.ts, m.lat, m.lon) == (
        "jt-a1",
        dt.datetime(2024, 5, 1, 0, 30, tzinfo=UTC),
        39.908692,
        116.397477,
    )
    assert (m.speed_kmh, m.heading, m.ignition, m.alarm) == (60.5, 90, True, "crash")
    assert (m.odometer_km, m.odometer_source) == (12345.6, "terminal")
    assert m.fuel_pct is None  # litres without a tank size are not a percentage
    # the same report under another serial number (e.g. replayed in a 0x0704) keeps its seq
    other_serial = jt808.encode_message(loc, phone=PHONE, serial=9)
    assert jt808.to_message(jt808.decode_message(other_serial)[1], "jt-a1").seq == m.seq
    loc.speed_kmh = 61
    assert jt808.to_message(loc, "jt-a1", seq=None).seq != m.seq
    assert 0 <= m.seq < 2**63


def test_no_fix_keeps_the_position_marked_not_valid_and_ignition_off():
    loc = _loc(status=0, mileage_km=None)  # not positioned, ACC off, no mileage item
    m = jt808.to_message(loc, "jt-a1")
    assert (m.lat, m.lon, m.fix_valid) == (31.230416, 121.473701, False)
    assert (m.ignition, m.odometer_source) == (False, "")
    assert jt808.to_message(_loc(), "jt-a1").fix_valid is True
    # no fix and not a place on Earth (a terminal's garbage): no position at all
    far = jt808.Location.decode(
        _loc(status=0).encode()[:8] + struct.pack(">II", 99_000_000, 0) + _loc().encode()[16:]
    )
    assert jt808.to_message(far, "jt-a1").lat is None


def test_the_raw_alarm_and_status_words_are_kept():
    loc = _loc(alarm_flags=(1 << 17) | (1 << 5), lat=-1.5, lon=-2.5)
    m = jt808.to_message(loc, "jt-a1")
    assert m.alarm_word == (1 << 17) | (1 << 5)
    assert m.status_word == (
        jt808.STATUS_ACC_ON | jt808.STATUS_POSITIONED | jt808.STATUS_SOUTH | jt808.STATUS_WEST
    )
    assert m.alarm == "blind_spot"  # bit 17 (2019: right-turn blind zone), no longer "none"


def test_2019_header_by_hand():
    # heartbeat, 2019: attributes 0x4000 (version flag, empty body), version 1, BCD[10] phone
    content = bytes.fromhex("0002 4000 01 00000000013800138000 0001")
    frame = b"\x7e" + content + bytes([xor(content)]) + b"\x7e"
    assert frame.hex() == "7e0002400001000000000138001380000001e87e"
    assert jt808.encode_message(jt808.Heartbeat(), phone=PHONE, serial=1, version=V2019) == frame
    header, body = jt808.decode_message(frame)
    assert header == jt808.Header(msg_id=2, phone=PHONE_2019, serial=1, version=1)
    assert header.size == 17 and body == jt808.Heartbeat()


def test_2013_header_by_hand():
    content = bytes.fromhex("0002 0000 013800138000 0005")
    frame = b"\x7e" + content + bytes([xor(content)]) + b"\x7e"
    assert jt808.encode_message(jt808.Heartbeat(), phone=PHONE, serial=5) == frame
    assert jt808.decode_message(frame)[0].size == 12


def test_registration_field_sizes_by_version():
    reg = jt808.Registration(31, 100, "M4S01", "TBX-9", "T000001", 1, "京A12345")
    body13 = reg.encode(V2013)
    assert body13 == (
        bytes.fromhex("001f 0064")  # province 31, city 100
        + b"M4S01"  # maker id BYTE[5]
        + b"TBX-9".ljust(20, b"\0")  # model BYTE[20]
        + b"T000001"  # terminal id BYTE[7]
        + b"\x01"  # plate colour (blue)
        + bytes.fromhex("bea9")  # 京 in GBK
        + b"A12345"
    )
    body19 = reg.encode(V2019)
    assert len(body19) == 4 + 11 + 30 + 30 + 1 + 8
    assert body19[4:15] == b"M4S01".ljust(11, b"\0")
    assert body19[45:75] == b"T000001".ljust(30, b"\0")
    assert jt808.Registration.decode(body13, V2013) == reg
    assert jt808.Registration.decode(body19, V2019) == reg
    with pytest.raises(FrameError) as e:
        jt808.Registration.decode(body13, V2019)  # too short for the 2019 layout
    assert e.value.reason == "bad_body"


def test_authentication_by_version():
    auth = jt808.Authentication("a1b2c3", imei="860000000000001", software_version="V1.2.3")
    assert auth.encode(V2013) == b"a1b2c3"
    body = auth.encode(V2019)
    assert body == b"\x06a1b2c3" + b"860000000000001" + b"V1.2.3".ljust(20, b"\0")
    assert jt808.Authentication.decode(body, V2019) == auth
    assert jt808.Authentication.decode(b"a1b2c3", V2013) == jt808.Authentication("a1b2c3")


def test_registration_reply_and_general_responses_by_hand():
    assert jt808.RegistrationReply(7, 0, "a1b2").encode() == bytes.fromhex("0007 00") + b"a1b2"
    assert jt808.RegistrationReply(7, 4, "ignored").encode() == bytes.fromhex("0007 04")
    assert jt808.PlatformResponse(7, 0x0200, 0).encode() == bytes.fromhex("0007 0200 00")
    assert jt808.TerminalResponse.decode(bytes.fromhex("0009 8100 03")) == (
        jt808.TerminalResponse(9, 0x8100, 3)
    )


def _loc(**kw):
    fields = dict(
        alarm_flags=0,
        status=jt808.STATUS_ACC_ON | jt808.STATUS_POSITIONED,
        lat=31.230416,
        lon=121.473701,
        altitude_m=4,
        speed_kmh=33.3,
        direction=270,
        ts=dt.datetime(2025, 3, 9, 2, 15, 7, tzinfo=UTC),
        mileage_km=88.8,
        items={0x30: b"\x17", 0x31: b"\x0a"},
    )
    return jt808.Location(**(fields | kw))


ALL_BODIES = [
    jt808.TerminalResponse(3, 0x8100, 0),
    jt808.PlatformResponse(65535, 0x0704, 4),
    jt808.Heartbeat(),
    jt808.Registration(44, 300, "MAKER", "MODEL-Z", "ID12345", 2, "粤B8X7Y6"),
    jt808.Registration(44, 300, "", "", "", 0, "LSVAU2180N2183294"),  # no plate yet: the VIN
    jt808.RegistrationReply(12, 0, "f00dfeed"),
    jt808.RegistrationReply(12, 2, ""),
    jt808.Authentication("f00dfeed"),
    _loc(),
    _loc(lat=-33.856784, lon=-70.648273, alarm_flags=1 << 7, fuel_l=None, mileage_km=None),
    jt808.LocationBatch(1, [_loc(), _loc(speed_kmh=0, status=jt808.STATUS_POSITIONED)]),
]


@pytest.mark.parametrize("version", [V2013, V2019], ids=["2013", "2019"])
@pytest.mark.parametrize("body", ALL_BODIES, ids=lambda b: type(b).__name__)
def test_every_message_round_trips(body, version):
    if isinstance(body, jt808.Authentication) and version == V2019:
        body = jt808.Authentication(body.auth_code, "860000000000001", "SW-2019")
    frame = jt808.encode_message(body, phone=PHONE, serial=0x7D7E, version=version)
    assert frame[0] == frame[-1] == 0x7E and 0x7E not in frame[1:-1]
    header, decoded = jt808.decode_message(frame)
    assert (header.msg_id, header.serial, header.version) == (body.MSG_ID, 0x7D7E, version)
    assert jt808.normalize_phone(header.phone) == PHONE
    assert decoded == body


def test_escape_example_of_the_standard():
    raw = bytes.fromhex("30 7e 08 7d 55")
    assert jt808.escape(raw) == bytes.fromhex("30 7d 02 08 7d 01 55")
    assert jt808.unescape(bytes.fromhex("30 7d 02 08 7d 01 55")) == raw
    assert jt808.unescape(jt808.escape(bytes(range(256)))) == bytes(range(256))


@pytest.mark.parametrize(
    ("frame", "reason", "has_header"),
    [
        (LOCATION_FRAME[:-2] + b"\x1b\x7e", "bad_checksum", True),
        (LOCATION_FRAME.replace(b"\x7d\x02", b"\x7d\x03"), "bad_escape", False),
        (LOCATION_FRAME[:-2] + b"\x7d\x7e", "bad_escape", False),  # 7D at the very end
        (bytes.fromhex("7e 0200 00 7e"), "truncated", False),
        (bytes.fromhex("7e 0002 4000 01 0000 7e"), "truncated", False),  # 2019 header cut
        (bytes.fromhex("7e 0102 0000 0000 7e"), "truncated", False),
        (b"\x7e" + b"\x01" * (jt808.MAX_ESCAPED_FRAME + 1) + b"\x7e", "too_long", False),
    ],
    ids=["checksum", "escape", "escape-at-end", "short", "short-2019", "short-2013", "long"],
)
def test_malformed_frames_are_refused(frame, reason, has_header):
    with pytest.raises(FrameError) as e:
        jt808.decode_frame(frame)
    assert e.value.reason == reason
    assert (e.value.header is not None) == has_header


def _frame_from(content: bytes) -> bytes:
    return b"\x7e" + jt808.escape(content + bytes([xor(content)])) + b"\x7e"


def test_body_length_must_match_the_header():
    longer = bytearray(LOCATION_CONTENT)
    longer[3] = 0x27  # says 39 bytes, has 38
    with pytest.raises(FrameError) as e:
        jt808.decode_frame(_frame_from(bytes(longer)))
    assert e.value.reason == "bad_length" and e.value.header.serial == 126


def test_bad_bodies_keep_the_header_for_the_reply():
    cut = bytearray(LOCATION_CONTENT[:-2])  # fuel item cut short; length fixed in the header
    cut[3] = len(cut) - 12
    with pytest.raises(FrameError) as e:
        jt808.decode_message(_frame_from(bytes(cut)))
    assert e.value.reason == "bad_body" and e.value.header.msg_id == 0x0200

    bad_time = bytearray(LOCATION_CONTENT)
    bad_time[34:40] = bytes.fromhex("241301083000")  # month 13
    with pytest.raises(FrameError) as e:
        jt808.decode_message(_frame_from(bytes(bad_time)))
    assert e.value.reason == "bad_time"

    not_bcd = bytearray(LOCATION_CONTENT)
    not_bcd[34] = 0x2A
    with pytest.raises(FrameError) as e:
        jt808.decode_message(_frame_from(bytes(not_bcd)))
    assert e.value.reason == "bad_bcd"

    batch = jt808.LocationBatch(0, [_loc()]).encode()
    wrong_count = b"\x00\x02" + batch[2:]
    with pytest.raises(FrameError, match="2 items"):
        jt808.LocationBatch.decode(wrong_count)


def test_encryption_and_subpackages_are_read_but_not_supported():
    encrypted = jt808.encode_frame(
        jt808.Header(msg_id=0x0200, phone=PHONE, serial=1, encryption=1), b""
    )
    with pytest.raises(FrameError) as e:
        jt808.decode_frame(encrypted)
    assert e.value.reason == "encrypted" and e.value.header.encryption == 1

    header = jt808.Header(msg_id=0x0704, phone=PHONE, serial=2, packet=(3, 1), version=V2019)
    frame = jt808.decode_frame(jt808.encode_frame(header, b"\x00\x01\x00"))
    assert frame.header.packet == (3, 1) and frame.header.size == 21
    with pytest.raises(FrameError) as e:
        jt808.decode_body(frame)
    assert e.value.reason == "unsupported"


@pytest.mark.parametrize(
    ("bits", "alarm"),
    [
        ([], "none"),
        ([0], "sos"),
        ([29], "crash"),
        ([30], "rollover"),
        ([26], "theft"),
        ([28], "movement"),
        ([8], "power_cut"),
        ([7], "low_battery"),
        ([1, 2, 13], "overspeed"),
        ([13], "speed_warn"),
        ([17], "blind_spot"),
        ([31], "door"),
        ([27], "ignition"),
        ([4, 24], "vss_fault"),
        ([0, 7, 8, 28, 30], "rollover"),
        ([0, 29, 30], "crash"),
        ([27, 28], "ignition"),
        ([26, 27], "theft"),
        ([0, 28], "movement"),
        ([0, 8], "sos"),
        ([7, 8], "power_cut"),
    ],
)
def test_alarm_bits(bits, alarm):
    flags = sum(1 << b for b in bits)
    assert jt808.alarm_from_flags(flags) == alarm


# JT/T 808-2019 table 24, bit by bit
TABLE_24 = [
    "sos", "overspeed", "fatigue", "danger", "gnss_fault", "gnss_cut", "gnss_short",
    "low_battery", "power_cut", "lcd_fault", "tts_fault", "camera_fault", "ic_card",
    "speed_warn", "fatigue_warn", "violation", "tyre_warn", "blind_spot", "drive_limit",
    "long_parking", "area", "route", "route_time", "off_route", "vss_fault", "fuel", "theft",
    "ignition", "movement", "crash", "rollover", "door",
]  # fmt: skip


def test_every_alarm_bit_has_a_kind_with_a_name():
    from m4s.telematics.choices import Alarm

    for bit, kind in enumerate(TABLE_24):
        assert jt808.alarm_from_flags(1 << bit) == kind
        assert kind in Alarm.values and Alarm(kind).label
    assert jt808.alarm_kinds(0xFFFFFFFF) == TABLE_24
    assert jt808.alarm_kinds((1 << 29) | 1) == ["sos", "crash"]


def test_south_and_west_come_from_the_status_bits():
    body = bytearray(LOCATION_CONTENT[12:])
    body[4:8] = struct.pack(">I", 0x03 | jt808.STATUS_SOUTH | jt808.STATUS_WEST)
    loc = jt808.Location.decode(bytes(body))
    assert (loc.lat, loc.lon) == (-39.908692, -116.397477)
    assert loc.status == 0x03  # the two bits live in the signs
    assert loc.encode() == bytes(body)
    body[4:8] = struct.pack(">I", 0x03 | jt808.STATUS_WEST)
    assert (jt808.Location.decode(bytes(body)).lat, jt808.Location.decode(bytes(body)).lon) == (
        39.908692,
        -116.397477,
    )
    body[8:12] = bytes(4)  # on the equator, south flag set: -0.0 keeps the flag
    body[4:8] = struct.pack(">I", 0x03 | jt808.STATUS_SOUTH)
    assert jt808.Location.decode(bytes(body)).encode() == bytes(body)
    # and the encoder sets them from the sign
    encoded = _loc(lat=-1.5, lon=2.5, status=jt808.STATUS_POSITIONED).encode()
    assert struct.unpack(">III", encoded[4:16]) == (
        jt808.STATUS_POSITIONED | jt808.STATUS_SOUTH,
        1_500_000,
        2_500_000,
    )


def test_time_is_gmt8_and_stored_utc():
    body = bytearray(LOCATION_CONTENT[12:])
    body[22:28] = bytes.fromhex("250101050000")  # 2025-01-01 05:00 in Beijing
    loc = jt808.Location.decode(bytes(body))
    assert loc.ts == dt.datetime(2024, 12, 31, 21, 0, tzinfo=UTC)
    assert loc.ts.utcoffset() == dt.timedelta(0)
    assert loc.encode()[22:28] == bytes.fromhex("250101050000")


def test_splitter_cuts_a_stream():
    a = jt808.encode_message(jt808.Heartbeat(), phone=PHONE, serial=1)
    b = LOCATION_FRAME
    splitter = jt808.FrameSplitter()
    stream = b"junk" + a + b + a[1:]  # junk first; the last frame lost its opening flag
    out = []
    for i in range(0, len(stream), 5):  # in small chunks
        out += splitter.feed(stream[i : i + 5])
    assert out == [a, b, a]  # each with its two flags
    assert splitter.feed(b"\x7e" + b"\x01" * 5000 + b"\x7e") == [
        b"\x7e" + b"\x01" * (splitter.max_len + 1)
    ]
    assert splitter.feed(a) == [a]


def _unescaped_7e_frame(serial=0x21, **kw) -> tuple[bytes, bytes]:
    """A 0x0200 whose body has a 0x7E the terminal did not escape (speed 12.6 km/h = 0x007E),
    and the same frame escaped properly."""
    loc = _loc(**({"speed_kmh": 12.6, "items": {}, "mileage_km": None} | kw))
    good = jt808.encode_message(loc, phone=PHONE, serial=serial)
    content = jt808.unescape(good[1:-1])
    assert b"\x7e" in content[12:-1]  # the body carries a 0x7E
    raw = b"\x7e" + jt808.escape(content).replace(b"\x7d\x02", b"\x7e") + b"\x7e"
    return raw, good


def test_a_frame_with_an_unescaped_7e_is_recovered_by_its_length():
    raw, good = _unescaped_7e_frame()
    hb = jt808.encode_message(jt808.Heartbeat(), phone=PHONE, serial=1)
    for chunk in (1, 3, 4096):
        splitter = jt808.FrameSplitter()
        stream = hb + raw + hb
        out = []
        for i in range(0, len(stream), chunk):
            out += splitter.feed(stream[i : i + chunk])
        assert out == [hb, raw, hb]  # cut once, around the 0x7E inside
        assert jt808.decode_message(out[1]) == jt808.decode_message(good)


def test_a_checksum_that_is_an_unescaped_7e_is_recovered():
    for serial in range(256):  # find a serial number that makes the checksum 0x7E
        good = jt808.encode_message(_loc(items={}), phone=PHONE, serial=serial)
        content = jt808.unescape(good[1:-1])
        if content[-1] == 0x7E:
            break
    raw = b"\x7e" + jt808.escape(content[:-1]) + b"\x7e\x7e"
    hb = jt808.encode_message(jt808.Heartbeat(), phone=PHONE, serial=1)
    assert jt808.FrameSplitter().feed(raw + hb) == [raw, hb]
    assert jt808.decode_message(raw) == jt808.decode_message(good)


def test_a_short_frame_does_not_swallow_the_good_ones_after_it():
    hb = jt808.encode_message(jt808.Heartbeat(), phone=PHONE, serial=1)
    raw, _good = _unescaped_7e_frame()
    cut = raw[: len(raw) // 2] + b"\x7e"  # its header promises more than comes
    splitter = jt808.FrameSplitter()
    out = splitter.feed(cut + hb + hb)
    assert out == [cut, hb, hb]
    with pytest.raises(FrameError):
        jt808.decode_frame(out[0])
    # a frame whose bytes after the 0x7E do not make it whole: the piece is returned alone
    broken = raw.replace(raw[-2:-1], bytes([raw[-2] ^ 0xFF]))  # wrong checksum
    out = jt808.FrameSplitter().feed(broken + hb)
    first = broken[: broken.index(b"\x7e", 1) + 1]
    assert out[0] == first and out[-1] == hb
    assert all(_decodes(f) is False for f in out[:-1])


def _decodes(frame) -> bool:
    try:
        jt808.decode_frame(frame)
    except FrameError:
        return False
    return True


# --- the server ---------------------------------------------------------------------------------
@pytest.fixture
def terminal(fleet):
    from m4s.telematics import services

    w = fleet
    w.jt, _ = services.register_device(
        w.admin_a, device_id="jt-a1", protocol="jt808", vehicle=w.car, terminal_phone=PHONE
    )
    return w


class Client:
    def __init__(self, reader, writer, version):
        self.reader, self.writer, self.version = reader, writer, version
        self.serial = 0
        self.splitter = jt808.FrameSplitter()
        self.pending: list[bytes] = []

    def frame(self, body, serial=None) -> bytes:
        if serial is None:
            self.serial += 1
            serial = self.serial
        return jt808.encode_message(body, phone=PHONE, serial=serial, version=self.version)

    async def send(self, data: bytes):
        self.writer.write(data)
        await self.writer.drain()

    async def recv(self, timeout=5.0):
        while not self.pending:
            chunk = await asyncio.wait_for(self.reader.read(4096), timeout)
            if not chunk:
                raise ConnectionError("closed")
            self.pending += self.splitter.feed(chunk)
        return jt808.decode_message(self.pending.pop(0))

    async def nothing(self, timeout=0.5):
        with pytest.raises(TimeoutError):
            await self.recv(timeout)

    async def call(self, body, serial=None):
        await self.send(self.frame(body, serial))
        return await self.recv()

    async def login(self):
        header, reply = await self.call(jt808.Registration(11, 0, "M4S", "T1", "ID1", 1, "京A1"))
        assert isinstance(reply, jt808.RegistrationReply) and reply.result == 0
        assert header.msg_id == 0x8100 and header.version == self.version
        _, ack = await self.call(jt808.Authentication(reply.auth_code, "860000000000001", "1.0"))
        assert ack.result == jt808.OK
        return reply.auth_code


def serve(scenario, version=V2013, **options):
    """Run the server on a free port in this test's event loop and one terminal against it."""

    async def main():
        server = Jt808Server("127.0.0.1", 0, **options)
        await server.start()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            client = Client(reader, writer, version)
            try:
                await scenario(client, server)
            finally:
                writer.close()
        finally:
            await server.stop()

    asyncio.run(main())


def _now_loc(minutes_ago=5, **kw):
    ts = (timezone.now() - dt.timedelta(minutes=minutes_ago)).replace(microsecond=0)
    return _loc(ts=ts, items={}, **kw)


@pytest.mark.parametrize("version", [V2013, V2019], ids=["2013", "2019"])
def test_register_authenticate_report(terminal, transactional_db, version):
    w = terminal
    loc = _now_loc(alarm_flags=1 << 29, mileage_km=15000.4)
    seen = {}

    async def scenario(client, server):
        seen["code"] = await client.login()
        _, beat = await client.call(jt808.Heartbeat())
        assert beat.result == jt808.OK
        header, ack = await client.call(loc, serial=77)
        assert header.msg_id == 0x8001
        assert (ack.reply_serial, ack.reply_id, ack.result) == (77, 0x0200, 0)

    serve(scenario, version)
    device = Device.objects.unscoped().get(pk=w.jt.pk)
    assert device.auth_code == seen["code"] and len(seen["code"]) == 16
    row = Telemetry.objects.for_group(w.group_a).get()
    assert (row.device_id, row.vehicle_id, row.ts) == (w.jt.pk, w.car.pk, loc.ts)
    assert (row.lat, row.lon, row.speed_kmh, row.heading) == (31.230416, 121.473701, 33.3, 270)
    assert (row.odometer_km, row.odometer_source, row.ignition) == (15000.4, "terminal", True)
    assert row.alarm == "crash"
    assert VehicleState.objects.for_group(w.group_a).get(vehicle=w.car).odometer_km == 15000.4


def test_registering_again_returns_the_same_code(terminal, transactional_db):
    async def scenario(client, server):
        first = await client.login()
        assert await client.login() == first

    serve(scenario)


def test_unknown_terminal_and_wrong_code_are_refused(terminal, transactional_db):
    async def scenario(client, server):
        other = jt808.encode_message(
            jt808.Registration(11, 0, "M4S", "T1", "ID1", 1, "京A1"), phone="13900000000", serial=1
        )
        await client.send(other)
        _, reply = await client.recv()
        assert (reply.result, reply.auth_code) == (jt808.REG_NO_TERMINAL, "")
        _, ack = await client.call(jt808.Authentication("guess"))
        assert ack.result == jt808.FAIL
        _, ack = await client.call(_now_loc())
        assert ack.result == jt808.FAIL

    serve(scenario)
    assert Device.objects.unscoped().get(device_id="jt-a1").auth_code == ""
    assert not Telemetry.objects.unscoped().exists()


def test_terminal_without_a_car_is_told_so(terminal, transactional_db):
    Device.objects.unscoped().filter(device_id="jt-a1").update(vehicle=None)

    async def scenario(client, server):
        _, reply = await client.call(jt808.Registration(11, 0, "M4S", "T1", "ID1", 1, "京A1"))
        assert reply.result == jt808.REG_NO_VEHICLE

    serve(scenario)


def test_location_before_authentication_is_refused(terminal, transactional_db):
    async def scenario(client, server):
        header, ack = await client.call(_now_loc(), serial=5)
        assert (ack.reply_serial, ack.reply_id, ack.result) == (5, 0x0200, jt808.FAIL)
        _, ack = await client.call(jt808.LocationBatch(0, [_now_loc()]))
        assert ack.result == jt808.FAIL

    serve(scenario)
    assert not Telemetry.objects.unscoped().exists()


def test_malformed_frames_are_dead_lettered_and_the_connection_goes_on(terminal, transactional_db):
    w = terminal

    async def scenario(client, server):
        await client.login()
        good = client.frame(_now_loc(), serial=40)
        bad_checksum = good[:-2] + bytes([good[-2] ^ 0xFF]) + b"\x7e"
        await client.send(bad_checksum)
        _, ack = await client.recv()
        assert (ack.reply_serial, ack.reply_id, ack.result) == (40, 0x0200, jt808.BAD_MESSAGE)
        await client.send(b"\x7e\x7d\x03\x01\x7e")  # bad escape, no header: skipped silently
        await client.nothing()
        _, ack = await client.call(jt808.Heartbeat())
        assert ack.result == jt808.OK
        await client.send(good)
        _, ack = await client.recv()
        assert (ack.reply_serial, ack.result) == (40, jt808.OK)

    serve(scenario)
    dead = list(DeadLetter.objects.order_by("id").values_list("reason", "via", "device_id"))
    assert dead == [("bad_checksum", "jt808", "jt-a1"), ("bad_escape", "jt808", "jt-a1")]
    assert DeadLetter.objects.order_by("id").first().payload["msg_id"] == 0x0200
    assert Telemetry.objects.for_group(w.group_a).count() == 1


def test_unsupported_messages_are_answered_3(terminal, transactional_db):
    async def scenario(client, server):
        await client.login()
        logout = jt808.encode_frame(jt808.Header(msg_id=0x0900, phone=PHONE, serial=9), b"\x01")
        await client.send(logout)
        _, ack = await client.recv()
        assert (ack.reply_id, ack.result) == (0x0900, jt808.UNSUPPORTED)
        part = jt808.encode_frame(
            jt808.Header(msg_id=0x0704, phone=PHONE, serial=10, packet=(2, 1)), b"\x00\x01\x00"
        )
        await client.send(part)
        _, ack = await client.recv()
        assert (ack.reply_id, ack.result) == (0x0704, jt808.UNSUPPORTED)

    serve(scenario)
    assert list(DeadLetter.objects.values_list("reason", flat=True)) == ["unsupported"]


def test_ack_only_after_commit(terminal, transactional_db, monkeypatch):
    w = terminal
    calls = []
    real = server_module.write_batch

    def flaky(device, raws, **kw):
        calls.append(len(raws))
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return real(device, raws, **kw)

    monkeypatch.setattr(server_module, "write_batch", flaky)
    loc = _now_loc()

    async def scenario(client, server):
        await client.login()
        frame = client.frame(loc, serial=300)
        await client.send(frame)
        await client.nothing(1.0)  # not stored, so not acknowledged
        await client.send(frame)  # the terminal's retransmission
        _, ack = await client.recv()
        assert (ack.reply_serial, ack.result) == (300, jt808.OK)
        await client.send(frame)  # an ack lost on the way: resent once more
        _, ack = await client.recv()
        assert ack.result == jt808.OK
        await client.nothing()

    serve(scenario)
    assert calls == [1, 1, 1]
    assert Telemetry.objects.for_group(w.group_a).count() == 1


def test_batch_upload_stores_every_item(terminal, transactional_db):
    w = terminal
    locations = [
        _now_loc(minutes_ago=30 - i, mileage_km=2000 + i, speed_kmh=10 * i) for i in range(5)
    ]

    async def scenario(client, server):
        await client.login()
        header, ack = await client.call(jt808.LocationBatch(1, locations), serial=900)
        assert (ack.reply_serial, ack.reply_id, ack.result) == (900, 0x0704, jt808.OK)
        _, ack = await client.call(locations[-1])  # the last one also came live: stored once
        assert ack.result == jt808.OK

    serve(scenario, V2019)
    rows = list(Telemetry.objects.for_group(w.group_a).order_by("ts"))
    assert [r.ts for r in rows] == [loc.ts for loc in locations]
    assert [r.odometer_km for r in rows] == [2000, 2001, 2002, 2003, 2004]
    assert [r.speed_kmh for r in rows] == [0, 10, 20, 30, 40]


def test_stop_closes_connections(terminal, transactional_db):
    async def scenario(client, server):
        await client.login()
        await server.stop()
        assert await client.reader.read() == b""

    serve(scenario)


def test_stop_lets_a_write_in_flight_finish_and_acknowledge(
    terminal, transactional_db, monkeypatch
):
    w = terminal
    real = server_module.write_batch

    def slow(device, raws, **kw):
        time.sleep(0.5)
        return real(device, raws, **kw)

    monkeypatch.setattr(server_module, "write_batch", slow)

    async def scenario(client, server):
        await client.login()
        await client.send(client.frame(_now_loc(), serial=61))
        await asyncio.sleep(0.2)  # the write is under way
        stopping = asyncio.create_task(server.stop())  # what SIGTERM does
        _, ack = await client.recv()
        assert (ack.reply_serial, ack.result) == (61, jt808.OK)
        await stopping
        assert await client.reader.read() == b""

    serve(scenario)
    assert Telemetry.objects.for_group(w.group_a).count() == 1


def test_idle_connections_are_closed(terminal, transactional_db):
    async def scenario(client, server):
        assert await asyncio.wait_for(client.reader.read(), 3) == b""

    serve(scenario, idle_timeout=0.3)


def test_a_frame_with_an_unescaped_7e_is_stored_once_and_a_broken_one_dead_lettered(
    terminal, transactional_db
):
    w = terminal
    ts = (timezone.now() - dt.timedelta(minutes=5)).replace(microsecond=0)
    raw, _good = _unescaped_7e_frame(serial=50, ts=ts)
    broken, _ = _unescaped_7e_frame(serial=51, ts=ts - dt.timedelta(minutes=1))
    broken = broken[:-2] + bytes([broken[-2] ^ 0xFF]) + b"\x7e"  # wrong checksum: unreadable

    async def scenario(client, server):
        await client.login()
        for _ in range(2):  # sent again (a lost ack): stored once
            await client.send(raw)
            _, ack = await client.recv()
            assert (ack.reply_serial, ack.reply_id, ack.result) == (50, 0x0200, jt808.OK)
        await client.send(broken)
        _, nak = await client.recv()  # its first piece has a header: answered "bad message"
        assert (nak.reply_serial, nak.result) == (51, jt808.BAD_MESSAGE)
        _, beat = await client.call(jt808.Heartbeat())  # the connection goes on
        assert beat.result == jt808.OK

    serve(scenario)
    row = Telemetry.objects.for_group(w.group_a).get()
    assert (row.ts, row.speed_kmh) == (ts, 12.6)
    dead = list(DeadLetter.objects.all())
    assert dead and all(d.via == "jt808" and d.payload["hex"] for d in dead)
    assert bytes.fromhex(dead[0].payload["hex"]) == broken[: broken.index(b"\x7e", 1) + 1]


def test_no_fix_and_every_alarm_bit_reach_the_stored_report(terminal, transactional_db):
    w = terminal
    loc = _now_loc(status=0, alarm_flags=(1 << 17) | (1 << 25))  # no fix; blind spot, fuel

    async def scenario(client, server):
        await client.login()
        _, ack = await client.call(loc, serial=60)
        assert ack.result == jt808.OK

    serve(scenario)
    row = Telemetry.objects.for_group(w.group_a).get()
    assert (row.lat, row.lon, row.fix_valid) == (31.230416, 121.473701, False)
    assert (row.alarm_word, row.status_word) == ((1 << 17) | (1 << 25), 0)
    assert row.alarm == "blind_spot"  # the more serious of the two (ALARM_PRIORITY)
    state = VehicleState.objects.for_group(w.group_a).get(vehicle=w.car)
    assert (state.lat, state.lon) == (None, None)  # never a known position


def test_the_same_sim_number_in_two_groups(terminal, transactional_db):
    """Terminal phones are unique per group: another group registering our SIM number learns
    nothing and takes nothing; the terminal is told apart by its car's plate when it
    registers and by its auth code afterwards."""
    from m4s.telematics import services

    w = terminal
    twin, _ = services.register_device(
        w.admin_b, device_id="jt-a1", protocol="jt808", vehicle=w.other_car, terminal_phone=PHONE
    )
    codes = {}

    async def scenario(client, server):
        async def register(plate):
            _, reply = await client.call(jt808.Registration(11, 0, "M4S", "T1", "ID1", 1, plate))
            return reply

        reply = await register("京X00000")  # neither car: refused, nothing said about who
        assert (reply.result, reply.auth_code) == (jt808.REG_TERMINAL_TAKEN, "")
        codes["b"] = (await register(w.other_car.plate)).auth_code
        codes["a"] = (await register(w.car.plate)).auth_code
        _, ack = await client.call(jt808.Authentication(codes["a"]))
        assert ack.result == jt808.OK
        _, ack = await client.call(_now_loc(), serial=70)
        assert ack.result == jt808.OK

    serve(scenario)
    assert codes["a"] and codes["b"] and codes["a"] != codes["b"]
    assert Device.objects.unscoped().get(pk=w.jt.pk).auth_code == codes["a"]
    assert Device.objects.unscoped().get(pk=twin.pk).auth_code == codes["b"]
    assert Telemetry.objects.for_group(w.group_a).count() == 1
    assert not Telemetry.objects.for_group(w.group_b).exists()
    assert server_module.authenticate_terminal(PHONE, codes["b"]) == twin
