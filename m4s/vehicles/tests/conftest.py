import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _english():
    """These tests read the English wording of validation messages."""
    with translation.override("en"):
        yield
