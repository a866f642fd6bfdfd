"""Fixtures for every app's tests."""

import pytest

from m4s.core import cache as config_cache


@pytest.fixture(autouse=True)
def _fresh_config_cache():
    """Each test reads its own configuration cache (m4s/core/cache.py): a store's branding or a
    group's programme is keyed by id, and ids come round again in the next test's database."""
    config_cache.isolate()
