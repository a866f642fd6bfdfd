"""Checks for what a dealer types about a car and its owner: VINs, Chinese plates, ID numbers.

Everything here is pure Python (no database). Each ``normalize_*`` function returns the one
canonical spelling we store, or raises an error with a machine-readable ``code`` and a
``message`` a service advisor can act on.

VIN (ISO 3779, China GB 16735)
    17 characters, digits and the letters A-Z except I, O and Q. The 9th character is a check
    digit: every other character is turned into a number (digits as themselves, letters by
    VIN_TRANSLITERATION: A=1 ... H=8, J=1 ... N=5, P=7, R=9, S=2 ... Z=9), multiplied by its position's weight, and the sum taken modulo 11; a remainder
    of 10 is written ``X``. North America and China require the check digit on every VIN, so a
    VIN whose check digit does not match is refused: it almost always means a typo.

Licence plate (GA 36-2018)
    A province abbreviation (京, 粤, ...), the issuing office's letter (A-Z without I and O),
    then either 5 characters (ordinary plate, 7 in all) or 6 (new-energy plate, 8 in all):

    * ordinary: 5 letters or digits (no I or O); the last may instead be 挂 (trailer),
      学 (learner), 警 (police), 港 or 澳 (Hong Kong / Macau cross-border): 京A12345, 苏E1234挂;
    * small new-energy car: D, A, B, C or E (battery-electric) or F, G, H, J or K (plug-in or
      other), then a letter or digit and 4 digits: 粤BD12345, 京AFA1234;
    * large new-energy vehicle: 5 digits then D or F: 沪A12345D.

    Embassy, consulate, military and armed-police plates are not recognised.

Resident ID number (GB 11643)
    18 characters: a 6-digit region code, the birth date as YYYYMMDD, a 3-digit sequence and a
    check character (ISO 7064 MOD 11-2, ``X`` standing for 10).
"""

import datetime as dt
import re

from django.utils.translation import gettext_lazy as _

__all__ = [
    "PLATE_PROVINCES",
    "PlateError",
    "VinError",
    "id_number_check_character",
    "id_number_is_valid",
    "is_valid_plate",
    "is_valid_vin",
    "normalize_plate",
    "normalize_vin",
    "plate_kind",
    "plate_search_key",
    "vin_check_digit",
    "vin_model_year",
]


class VinError(ValueError):
    """A VIN that cannot be right. ``code`` is vin_length, vin_characters or vin_check_digit."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class PlateError(ValueError):
    """A licence plate that is not a valid Chinese plate; ``code`` is always invalid_plate."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


# --------------------------------------------------------------------------------------------
# Shared text clean-up

# Full-width ASCII (U+FF01..U+FF5E) sits exactly 0xFEE0 above the ordinary characters; Chinese
# input methods produce it easily ("ＡＢ１２"). The ideographic space becomes a plain space.
_HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_HALF_WIDTH[0x3000] = ord(" ")


def _to_half_width(text: str) -> str:
    return text.translate(_HALF_WIDTH)


# --------------------------------------------------------------------------------------------
# VIN

VIN_LENGTH = 17
VIN_ALPHABET = frozenset("0123456789ABCDEFGHJKLMNPRSTUVWXYZ")  # A-Z without I, O, Q
VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
VIN_CHECK_POSITION = 8  # zero-based index of the 9th character
VIN_TRANSLITERATION = {
    **{digit: int(digit) for digit in "0123456789"},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
# Model-year codes (10th character) in order: A = 1980 (and 2010, 2040), ..., Y = 2000,
# 1..9 = 2001..2009, then the 30-year cycle starts again. I, O, Q, U, Z and 0 are never used.
VIN_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"
VIN_YEAR_CYCLE_START = 1980

_VIN_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015]+")


def _clean_vin(raw: str) -> str:
    return _VIN_SEPARATORS.sub("", _to_half_width(raw or "")).upper()


def _check_vin_shape(vin: str) -> None:
    """Raise VinError unless ``vin`` (already cleaned) has 17 characters from the VIN alphabet."""
    if len(vin) != VIN_LENGTH:
        raise VinError(
            "vin_length",
            _("A VIN has exactly 17 characters; this one has %(count)d.") % {"count": len(vin)},
        )
    for position, char in enumerate(vin, start=1):
        if char in VIN_ALPHABET:
            continue
        if char in "IOQ":
            message = _(
                "A VIN never contains the letters I, O or Q (they look like 1 and 0), "
                "but character %(position)d is '%(char)s'."
            )
        else:
            message = _(
                "A VIN contains only digits and the letters A-Z except I, O and Q, "
                "but character %(position)d is '%(char)s'."
            )
        raise VinError("vin_characters", message % {"position": position, "char": char})


def vin_check_digit(vin17: str) -> str:
    """Return the check digit ('0'-'9' or 'X') that the 9th character of ``vin17`` should be.

    The 9th character itself is ignored (its weight is 0), so any placeholder may stand there.
    Raises VinError (vin_length / vin_characters) if ``vin17`` is not 17 VIN characters.
    """
    vin = _clean_vin(vin17)
    _check_vin_shape(vin)
    total = sum(
        VIN_TRANSLITERATION[char] * weight for char, weight in zip(vin, VIN_WEIGHTS, strict=True)
    )
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def normalize_vin(raw: str) -> str:
    """Return the VIN in upper case without spaces or dashes, or raise VinError.

    Full-width characters are read as their ordinary forms. Errors, in the order checked:
    ``vin_length`` (not 17 characters), ``vin_characters`` (I, O, Q or anything outside A-Z and
    0-9), ``vin_check_digit`` (the 9th character does not match the computed check digit).
    """
    vin = _clean_vin(raw)
    expected = vin_check_digit(vin)
    actual = vin[VIN_CHECK_POSITION]
    if actual != expected:
        raise VinError(
            "vin_check_digit",
            _(
                "The VIN's check digit (9th character) should be '%(expected)s' but is "
                "'%(actual)s': a character was probably mistyped."
            )
            % {"expected": expected, "actual": actual},
        )
    return vin


def is_valid_vin(raw: str) -> bool:
    """True when ``normalize_vin(raw)`` would succeed."""
    try:
        normalize_vin(raw)
    except VinError:
        return False
    return True


def vin_model_year(vin: str, *, current_year: int | None = None) -> int | None:
    """Return the model year encoded in the VIN's 10th character, or None if it has none.

    The code repeats every 30 years (A = 1980 or 2010, 1 = 2001 or 2031, ...), so the most
    recent candidate year that is not later than next year is chosen (cars of next year's
    model are sold from mid-year). ``current_year`` defaults to this year (UTC). The VIN is
    cleaned like normalize_vin but its check digit is not verified; anything that is not 17
    characters or has no year code in 10th place gives None.
    """
    cleaned = _clean_vin(vin)
    if len(cleaned) != VIN_LENGTH:
        return None
    index = VIN_YEAR_CODES.find(cleaned[9])
    if index < 0:
        return None
    if current_year is None:
        current_year = dt.datetime.now(dt.UTC).year
    latest_allowed = current_year + 1
    year = VIN_YEAR_CYCLE_START + index
    cycle = len(VIN_YEAR_CODES)
    year += max(0, (latest_allowed - year) // cycle) * cycle
    return year


# --------------------------------------------------------------------------------------------
# Licence plates

PLATE_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
PLATE_SPECIAL_SUFFIXES = "挂学警港澳"  # trailer, learner, police, Hong Kong, Macau
NEV_SMALL_CODES = "DABCEFGHJK"  # D, A, B, C, E: battery-electric; F, G, H, J, K: other
NEV_LARGE_CODES = "DF"  # D: battery-electric; F: other

_LETTER = "A-HJ-NP-Z"  # A-Z without I and O
_ALNUM = "0-9" + _LETTER
_ORDINARY_PLATE = re.compile(
    rf"[{PLATE_PROVINCES}][{_LETTER}](?:[{_ALNUM}]{{5}}|[{_ALNUM}]{{4}}[{PLATE_SPECIAL_SUFFIXES}])"
)
_NEV_SMALL_PLATE = re.compile(
    rf"[{PLATE_PROVINCES}][{_LETTER}][{NEV_SMALL_CODES}][{_ALNUM}][0-9]{{4}}"
)
_NEV_LARGE_PLATE = re.compile(rf"[{PLATE_PROVINCES}][{_LETTER}][0-9]{{5}}[{NEV_LARGE_CODES}]")

# Whitespace, dashes and the dots people put after the office letter (京A·12345, 京A.12345).
_PLATE_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015.·•・\u2027\u00b7\uff65\u3002]+")


def plate_search_key(partial: str) -> str:
    """Clean a whole or partial plate the way normalize_plate does, without validating it.

    Use it on search input so "a·123" finds 京A12345: separators go, full-width characters
    become ordinary ones, Latin letters become upper case.
    """
    return _PLATE_SEPARATORS.sub("", _to_half_width(partial or "")).upper()


def normalize_plate(raw: str) -> str:
    """Return the plate without separators (京A12345, 粤BD12345), or raise PlateError.

    See the module docstring for the accepted formats. The error code is always
    ``invalid_plate``; the message says which part is wrong.
    """
    plate = plate_search_key(raw)
    formats = (_ORDINARY_PLATE, _NEV_SMALL_PLATE, _NEV_LARGE_PLATE)
    if any(plate_format.fullmatch(plate) for plate_format in formats):
        return plate
    raise PlateError("invalid_plate", _explain_plate_problem(plate))


def _explain_plate_problem(plate: str) -> str:
    """A human explanation of why ``plate`` (already cleaned) matched no plate format."""
    if not plate:
        return str(_("Enter a licence plate number, such as 京A12345."))
    if plate[0] not in PLATE_PROVINCES:
        return _(
            "A licence plate starts with a province abbreviation such as 京, 沪 or 粤, "
            "not '%(char)s'."
        ) % {"char": plate[0]}
    if len(plate) < 2 or not re.fullmatch(f"[{_LETTER}]", plate[1]):
        return _(
            "The second character of a licence plate is the issuing office's letter "
            "(A-Z, never I or O), such as the A in 京A12345."
        )
    if len(plate) not in (7, 8):
        return _(
            "A licence plate has 7 characters (such as 京A12345), or 8 for a new-energy "
            "vehicle (such as 粤BD12345); this one has %(count)d."
        ) % {"count": len(plate)}
    if len(plate) == 7:
        return str(
            _(
                "After the province and office letter an ordinary plate has 5 letters or "
                "digits (never I or O); only the last may be 挂, 学, 警, 港 or 澳."
            )
        )
    return str(
        _(
            "A new-energy plate has D or F (or A, B, C, E, G, H, J, K) after the office "
            "letter and then a letter or digit and 4 digits (such as 粤BD12345), or 5 digits "
            "and a final D or F (such as 沪A12345D)."
        )
    )


def is_valid_plate(raw: str) -> bool:
    """True when ``normalize_plate(raw)`` would succeed."""
    try:
        normalize_plate(raw)
    except PlateError:
        return False
    return True


def plate_kind(plate: str) -> str:
    """Return "new_energy" for 8-character (green) plates, "ordinary" for all others.

    The plate is normalised first, so PlateError is raised for an invalid one.
    """
    return "new_energy" if len(normalize_plate(plate)) == 8 else "ordinary"


# --------------------------------------------------------------------------------------------
# Resident ID numbers

ID_NUMBER_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_NUMBER_CHECK_CHARACTERS = "10X98765432"  # indexed by (weighted sum mod 11)
ID_NUMBER_EARLIEST_YEAR = 1800  # GB 11643's own worked example was born in 1880


def id_number_check_character(first17: str) -> str:
    """Return the 18th character of an ID number whose first 17 digits are ``first17``."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("An ID number's first 17 characters must be digits.")
    total = sum(
        int(digit) * weight for digit, weight in zip(first17, ID_NUMBER_WEIGHTS, strict=True)
    )
    return ID_NUMBER_CHECK_CHARACTERS[total % 11]


def id_number_is_valid(s: str) -> bool:
    """True for an 18-character resident ID number with a real birth date and a matching check.

    Surrounding spaces are ignored and a lower-case x is accepted. The birth date (characters
    7-14) must be a real calendar date from 1800 up to today (UTC). The region code is not
    checked against the list of districts, which changes over time.
    """
    text = _to_half_width(s or "").strip().upper()
    if len(text) != 18 or not text.isascii():
        return False
    body, check = text[:17], text[17]
    if not body.isdigit():
        return False
    try:
        birth = dt.date(int(body[6:10]), int(body[10:12]), int(body[12:14]))
    except ValueError:
        return False
    if birth.year < ID_NUMBER_EARLIEST_YEAR or birth > dt.datetime.now(dt.UTC).date():
        return False
    return id_number_check_character(body) == check
