"""Input types shared by the API schemas: ids a database can hold, dates a calendar can do sums
with, amounts a column can hold, booleans that are booleans. A value outside them is a 422 from
validation, never an overflow deep in a query; and each says in the OpenAPI document what it
accepts, so a client knows what it may send."""

import datetime as dt
import math
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, StrictBool, WithJsonSchema

FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2100, 12, 31)

DbId = Annotated[int, Field(ge=1, le=2**63 - 1)]

# JSON booleans only: 0, 1, "false" or "yes" are refused (422), not guessed.
Bool = StrictBool


def _integer(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a whole number")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("must be a whole number")
        return int(value)
    return value


# A JSON integer (3, or 3.0 which JSON Schema counts as one); never true or "3".
Int = Annotated[int, BeforeValidator(_integer)]


def in_calendar(day: dt.date) -> bool:
    return FIRST_DAY <= day <= LAST_DAY


def _date(value: dt.date) -> dt.date:
    if not in_calendar(value):
        raise ValueError(f"must be between {FIRST_DAY} and {LAST_DAY}")
    return value


def _datetime(value: dt.datetime) -> dt.datetime:
    if not in_calendar(value.date()):
        raise ValueError(f"must be between {FIRST_DAY} and {LAST_DAY}")
    return value


def _local_time(value: dt.time) -> dt.time:
    if value.tzinfo is not None:
        raise ValueError("a time of day without a zone (the store's or the owner's local time)")
    return value


# A local time of day, HH:MM or HH:MM:SS.
LocalTime = Annotated[
    dt.time,
    AfterValidator(_local_time),
    WithJsonSchema({"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"}),
]

# The years 2000-2100, written so JSON Schema (and a generated client) can say it.
# A text field with at least one character Python's str.strip() keeps. JSON Schema's \s
# (ECMAScript) leaves out the information separators U+001C–U+001F and U+0085, which strip()
# removes: with a plain \S, a text of only those passes the schema and is empty once saved.
NON_BLANK = r"[^\s\x1c-\x1f\x85]"

_YEARS = "^(20[0-9]{2}|2100)-"

SaneDate = Annotated[
    dt.date,
    AfterValidator(_date),
    WithJsonSchema({"type": "string", "format": "date", "pattern": _YEARS}, mode="validation"),
]
SaneDateTime = Annotated[
    dt.datetime,
    AfterValidator(_datetime),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": _YEARS}, mode="validation"),
]


def _cents(value: Any) -> Any:
    """A JSON number meant as an amount (12.3 as 12.300000000000001) is read to the cent."""
    if (
        isinstance(value, float)
        and math.isfinite(value * 100)
        and abs(value * 100 - round(value * 100)) < 1e-6
    ):
        return Decimal(str(round(value, 2)))
    return value  # huge or fractional-cent numbers: the field's bounds refuse them (422)


def _amount(maximum: int, description: str, *, positive: bool = False) -> Any:
    low = {"exclusiveMinimum": 0} if positive else {"minimum": 0}
    digits = len(str(maximum)) - 1
    pattern = ("^(?=.*[1-9])" if positive else "^") + rf"[0-9]{{1,{digits}}}(\.[0-9]{{1,2}})?$"
    return Annotated[
        Decimal,
        BeforeValidator(_cents),
        Field(ge=0, lt=maximum, max_digits=12, decimal_places=2, gt=0 if positive else None),
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "number", **low, "exclusiveMaximum": maximum, "multipleOf": 0.01},
                    {"type": "string", "pattern": pattern},
                ],
                "description": description,
            },
            mode="validation",
        ),
    ]


Money = _amount(10**9, "An amount in CNY, to the cent: a number or a decimal string.")
PositiveMoney = _amount(10**9, "An amount in CNY above zero, to the cent.", positive=True)
Measurement = _amount(10**4, "A measurement to two decimals (mm, V ...), below 10,000.")
