"""Input types shared by the API schemas: ids a database can hold, dates a calendar can do sums
with. A value outside them is a 422 from validation, never an overflow deep in a query."""

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, Field

FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2100, 12, 31)

DbId = Annotated[int, Field(ge=1, le=2**63 - 1)]


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


SaneDate = Annotated[dt.date, AfterValidator(_date)]
SaneDateTime = Annotated[dt.datetime, AfterValidator(_datetime)]
