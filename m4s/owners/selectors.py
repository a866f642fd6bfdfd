"""Reads about owners that other areas share."""

import datetime as dt

from django.utils import timezone


def owner_zone(owner) -> dt.tzinfo:
    """The owner's time zone: their home store's, else the platform's default."""
    store = getattr(owner, "home_store", None)
    if store is not None:
        return store.tz
    return timezone.get_default_timezone()


def in_quiet_hours(owner, now: dt.datetime) -> bool:
    """Whether `now` falls in the owner's quiet hours, read on the owner's own clock (a window
    may cross midnight, e.g. 22:00–07:00). No quiet hours set: never."""
    start, end = owner.quiet_hours_start, owner.quiet_hours_end
    if not start or not end:
        return False
    local = now.astimezone(owner_zone(owner)).time()
    return start <= local < end if start < end else (local >= start or local < end)
