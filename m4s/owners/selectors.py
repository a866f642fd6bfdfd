"""Reads about owners that other areas share."""

import datetime as dt
import zoneinfo

from django.utils import timezone


def owner_zone(owner) -> dt.tzinfo:
    """The owner's time zone: their own (settings page), else their home store's, else the
    platform's default."""
    name = getattr(owner, "time_zone", "") or ""
    if name:
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass  # a zone removed from the tz database since: fall back below
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


def quiet_hours_end(owner, now: dt.datetime) -> dt.datetime | None:
    """When the quiet hours the owner is in at `now` end (an aware moment on their clock);
    None when `now` is not in quiet hours."""
    if not in_quiet_hours(owner, now):
        return None
    zone = owner_zone(owner)
    local = now.astimezone(zone)
    end = dt.datetime.combine(local.date(), owner.quiet_hours_end, tzinfo=zone)
    if end <= local:
        end = dt.datetime.combine(
            local.date() + dt.timedelta(days=1), owner.quiet_hours_end, tzinfo=zone
        )
    return end
