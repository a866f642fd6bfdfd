"""Diagnostic trouble codes (SAE J2012 / ISO 15031-6): decode the raw 2-byte form, and describe
generic codes in plain language with advice and a severity. The table lives in
data/dtc_generic.json (written for this project)."""

import json
from functools import lru_cache
from pathlib import Path

from django.utils.translation import gettext as _

SYSTEMS = {0: "P", 1: "C", 2: "B", 3: "U"}
DATA = Path(__file__).resolve().parent / "data" / "dtc_generic.json"


def decode_raw(value: int | bytes | str) -> str:
    """0x0301 / b'\\x03\\x01' / '0301' → 'P0301'. The top two bits pick the system (P, C, B, U),
    the next two the first digit, then three hex digits."""
    if isinstance(value, str):
        value = int(value, 16)
    elif isinstance(value, bytes | bytearray):
        if len(value) != 2:
            raise ValueError("a raw DTC is 2 bytes")
        value = int.from_bytes(value, "big")
    if not 0 <= value <= 0xFFFF:
        raise ValueError("a raw DTC is 2 bytes")
    return f"{SYSTEMS[value >> 14]}{(value >> 12) & 0x3}{value & 0xFFF:03X}"


def encode_raw(code: str) -> bytes:
    code = normalize(code)
    system = {v: k for k, v in SYSTEMS.items()}[code[0]]
    return ((system << 14) | (int(code[1]) << 12) | int(code[2:], 16)).to_bytes(2, "big")


def normalize(code: str) -> str:
    code = (code or "").strip().upper()
    if len(code) == 4 and all(c in "0123456789ABCDEF" for c in code):
        return decode_raw(code)
    if (
        len(code) != 5
        or code[0] not in "PCBU"
        or code[1] not in "0123"
        or any(c not in "0123456789ABCDEF" for c in code[2:])
    ):
        raise ValueError(f"not a trouble code: {code!r}")
    return code


@lru_cache(maxsize=1)
def table() -> dict:
    if not DATA.exists():
        return {}
    return json.loads(DATA.read_text(encoding="utf-8"))


def describe(code: str) -> dict:
    """{code, description, advice, severity} for a code (generic table, else a family fallback),
    in the current language (zh-hans, en, ko; English when the table lacks the language)."""
    try:
        code = normalize(code)
    except ValueError:
        return {
            "code": code,
            "description": _("Unknown code"),
            "advice": _("Ask your service advisor."),
            "severity": "soon",
        }
    entry = table().get(code)
    if entry:
        from django.utils.translation import get_language

        language = (get_language() or "en").lower()
        base = "zh-hans" if language.startswith("zh") else language.split("-")[0]

        def pick(texts: dict) -> str:
            return texts.get(language) or texts.get(base) or texts.get("en") or ""

        return {
            "code": code,
            "description": pick(entry["description"]),
            "advice": pick(entry["advice"]),
            "severity": entry["severity"],
        }
    family = {
        "P": _("Powertrain fault"),
        "C": _("Chassis fault"),
        "B": _("Body fault"),
        "U": _("Network fault"),
    }
    return {
        "code": code,
        "description": family[code[0]],
        "advice": _("Not urgent unless the car drives differently. Book a check."),
        "severity": "soon",
    }
