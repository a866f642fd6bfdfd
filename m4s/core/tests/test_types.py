"""The API's shared value types (m4s/core/types.py): amounts are read to the cent, and numbers a
JSON body may carry but no amount can be (1e308, beyond the float range) are refused as invalid
input, never an overflow inside the validator."""

from decimal import Decimal

import pytest
from pydantic import TypeAdapter, ValidationError

from m4s.core.types import Money, PositiveMoney


@pytest.mark.parametrize("value", [1e308, -1e308, 1.7976931348623157e308, 12.345])
def test_amounts_out_of_range_or_below_the_cent_are_refused(value):
    with pytest.raises(ValidationError):
        TypeAdapter(Money).validate_python(value)


def test_amounts_are_read_to_the_cent():
    assert TypeAdapter(Money).validate_python(12.3) == Decimal("12.30")
    assert TypeAdapter(Money).validate_python("0.10") == Decimal("0.10")
    with pytest.raises(ValidationError):
        TypeAdapter(PositiveMoney).validate_python(0)
