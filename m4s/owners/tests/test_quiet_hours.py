"""Quiet hours are read on the owner's own clock (their home store's time zone)."""

import datetime as dt

import pytest

from m4s.owners.selectors import in_quiet_hours, owner_zone


@pytest.mark.django_db
def test_quiet_hours_follow_the_owners_time_zone_across_midnight(world):
    owner = world.owner
    owner.quiet_hours_start, owner.quiet_hours_end = dt.time(22, 0), dt.time(7, 0)
    store = owner.home_store or world.store_a
    owner.home_store = store
    store.timezone = "Asia/Seoul"  # one hour ahead of the server's Asia/Shanghai
    assert str(owner_zone(owner)) == "Asia/Seoul"
    # 21:30 in Shanghai is 22:30 in Seoul: quiet for this owner
    at = dt.datetime(2026, 12, 6, 13, 30, tzinfo=dt.UTC)
    assert in_quiet_hours(owner, at)
    store.timezone = "Asia/Shanghai"
    assert not in_quiet_hours(owner, at)
    # across midnight: 06:59 quiet, 07:00 not
    assert in_quiet_hours(owner, dt.datetime(2026, 12, 6, 22, 59, tzinfo=dt.UTC))
    assert not in_quiet_hours(owner, dt.datetime(2026, 12, 6, 23, 0, tzinfo=dt.UTC))
    owner.quiet_hours_start = None
    assert not in_quiet_hours(owner, at)
