"""Trouble codes: the raw 2-byte form, the generic table (every key a valid code, three
languages, a severity) and describe() in the reader's language."""

import pytest
from django.utils import translation

from m4s.telematics import dtc

LANGUAGES = ("en", "zh-hans", "ko")


def test_decode_raw_forms():
    assert dtc.decode_raw(b"\x03\x01") == "P0301"
    assert dtc.decode_raw(0xC100) == "U0100"
    assert dtc.decode_raw(0x0420) == "P0420"
    assert dtc.decode_raw("2A00") == "P2A00"
    assert dtc.decode_raw(0x4123) == "C0123"
    assert dtc.decode_raw(0x8001) == "B0001"
    assert dtc.encode_raw("U0100") == b"\xc1\x00"
    with pytest.raises(ValueError):
        dtc.decode_raw(b"\x01")
    with pytest.raises(ValueError):
        dtc.decode_raw(0x10000)


def test_normalize_and_round_trip():
    assert dtc.normalize(" p0301 ") == "P0301"
    assert dtc.normalize("0301") == "P0301"
    for bad in ("", "P03", "X0301", "P4301", "P03G1", "P03011"):
        with pytest.raises(ValueError):
            dtc.normalize(bad)
    for code in dtc.table():
        assert dtc.decode_raw(dtc.encode_raw(code)) == code


def test_table_is_complete_and_well_formed():
    table = dtc.table()
    assert len(table) >= 150
    for code, entry in table.items():
        assert dtc.normalize(code) == code, code
        assert set(entry) == {"description", "advice", "severity"}, code
        assert entry["severity"] in {"info", "soon", "now"}, code
        for part in ("description", "advice"):
            assert set(entry[part]) == set(LANGUAGES), (code, part)
            for language in LANGUAGES:
                text = entry[part][language]
                assert isinstance(text, str) and 3 <= len(text) <= 400, (code, part, language)
    # The families the brief names are all there.
    for code in (
        *[f"P03{n:02d}" for n in range(0, 13)],
        "P0420",
        "P0430",
        *[f"P04{n}" for n in range(40, 54)],
        "P0455",
        "P0456",
        "P0500",
        "P0505",
        "P0700",
        "P0730",
        "P2096",
        "P2097",
        "P2187",
        "P2188",
        "P2270",
        "P2271",
        "P2A00",
        "U0001",
        "U0100",
        "U0101",
        "U0121",
        "U0140",
        "U0155",
    ):
        assert code in table, code
    # A car owner must be told to stop for the dangerous ones.
    assert {c for c, e in table.items() if e["severity"] == "now"} >= {"P0217", "P0524"}


def test_describe_in_the_current_language():
    with translation.override("en"):
        d = dtc.describe("0301")
        assert d["code"] == "P0301"
        assert d["description"] == "Cylinder 1 is misfiring"
        assert d["severity"] == "soon"
        assert "book a check" in d["advice"]
    with translation.override("zh-hans"):
        assert dtc.describe("P0301")["description"] == "1号气缸失火"
        assert "油箱盖" in dtc.describe("p0457")["advice"]
    with translation.override("ko"):
        assert dtc.describe("P0301")["description"] == "1번 실린더 실화"
        assert dtc.describe("U0100")["description"] == "엔진 컴퓨터와 통신 끊김"
    with translation.override("de"):  # a language the table lacks reads English
        assert dtc.describe("P0217")["description"] == "Engine is overheating"
        assert dtc.describe("P0217")["severity"] == "now"


def test_describe_unknown_and_family_fallback():
    with translation.override("en"):
        assert dtc.describe("P1234") == {
            "code": "P1234",
            "description": "Powertrain fault",
            "advice": "Not urgent unless the car drives differently. Book a check.",
            "severity": "soon",
        }
        assert dtc.describe("U3FFF")["description"] == "Network fault"
        assert dtc.describe("garbage")["description"] == "Unknown code"
