"""Business time: the one engine behind every SLA clock in M4S (complaints, conversations,
online services, care).

What counts as business time for a store
----------------------------------------
A moment is *open* when it falls inside one of the store's opening periods for its local date,
in the store's own time zone (`Store.tz`). The periods of a local date are:

1. none, if the store has a `Holiday` that day (a store holiday always closes the store, and only
   that store: other stores, in the same group or not, are untouched);
2. none, if the store observes statutory holidays (`Store.observes_statutory_holidays`, on by
   default) and the date is a statutory holiday (`StatutoryDay`, kind "holiday");
3. the **Monday** periods, if the store observes statutory holidays and the date is a weekend
   day published as a make-up working day (调休, kind "workday"): the store keeps a normal
   working day's hours, and Monday is the working day every schedule has. (A make-up working
   day that falls on a weekday keeps that weekday's own periods.);
4. otherwise the `BusinessHours` rows of that weekday (several rows = split shifts, e.g.
   08:30-12:00 and 13:30-18:00).

Each period is turned into an aware [start, end) interval with the store's zone, so daylight
saving time is handled by `zoneinfo` (a Berlin store opening 08:00 opens at 07:00 UTC in
summer and 08:00 UTC in winter); a period whose local times do not exist that night is skipped.

Statutory days are data, not code: `m4s sync-holidays` loads them from the chinesecalendar
library (idempotent; days headquarters corrected in the back office are left alone), and the
migration that created the table loaded the years known then.

The arithmetic
--------------
* `add_business_minutes(store, start, minutes)`: walk the open intervals from `start`, spending
  the minutes; a start outside hours first rolls to the next opening. With `minutes=0` the
  answer is `start` if the store is open then, else the next opening. A deadline that uses up a
  period exactly lands on that period's closing time (Friday 17:00 + 60 min = Friday 18:00,
  not Monday 08:30). The answer is in `start`'s time zone.
* `business_minutes_between(store, a, b)`: whole business minutes in [a, b) (the floor of the
  open seconds / 60); 0 when b <= a. For whole-minute instants it is additive:
  between(a, b) + between(b, c) == between(a, c), and between(s, add(s, m)) == m.
* A store with no opening hours at all raises `DomainError("store_has_no_business_hours")`;
  a search that finds no open minute within `HORIZON_DAYS` (e.g. a year of store holidays)
  raises `DomainError("business_time_horizon")`: never an endless loop.

Batch use
---------
`BusinessCalendar.for_store(store, start_date, end_date)` reads the store's hours, holidays and
statutory days once (three queries) for a window of local dates; `.add()`, `.between()`,
`.is_open()`, `.next_open()` then cost no query inside the window (outside it the calendar
reads the missing dates once more, so a window too small is slower, never wrong).
`BusinessCalendar.for_stores(stores, start_date, end_date)` does the same for many stores in
three queries in all (an escalation scan over 100,000 complaints in 200 stores).
The two module functions are one-off conveniences over `for_store`.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from m4s.core.errors import DomainError

from .choices import StatutoryKind, Weekday
from .models import BusinessHours, Holiday, StatutoryDay, Store

UTC = dt.UTC
HORIZON_DAYS = 400  # the farthest add() / next_open() looks for an open minute
MAKE_UP_DAY_WEEKDAY = Weekday.MONDAY  # whose hours a weekend make-up working day keeps
_CHUNK_DAYS = 62  # how far past the asked date a calendar reads when it must read more
_MINUTE = dt.timedelta(minutes=1)

Period = tuple[dt.time, dt.time]
Interval = tuple[dt.datetime, dt.datetime]


@dataclass(frozen=True)
class DayRule:
    """What decides one local date: its periods and, when closed by a holiday, its name."""

    periods: tuple[Period, ...]
    holiday: str | None = None  # store holiday name, or the statutory festival's name
    statutory: str | None = None  # StatutoryKind, when a statutory day decided the date


@dataclass
class BusinessCalendar:
    """A store's business time over a window of local dates, read once."""

    tz: zoneinfo.ZoneInfo
    weekly: dict[int, tuple[Period, ...]]
    observes_statutory: bool = True
    store_holidays: dict[dt.date, str] = field(default_factory=dict)
    statutory: dict[dt.date, StatutoryDay] = field(default_factory=dict)
    loaded_from: dt.date | None = None  # the window read so far (None: everything is given)
    loaded_to: dt.date | None = None
    store: Store | None = None
    _intervals: dict[dt.date, tuple[Interval, ...]] = field(default_factory=dict, repr=False)

    # --- building
    @classmethod
    def for_store(
        cls, store: Store, start_date: dt.date, end_date: dt.date | None = None
    ) -> BusinessCalendar:
        """Read one store's hours, holidays and statutory days for local dates in
        [start_date, end_date] (three queries; two if the store ignores statutory days)."""
        return cls.for_stores([store], start_date, end_date)[store.pk]

    @classmethod
    def for_stores(
        cls, stores: Iterable[Store], start_date: dt.date, end_date: dt.date | None = None
    ) -> dict[int, BusinessCalendar]:
        """Calendars of many stores in three queries in all, keyed by store id."""
        stores = list(stores)
        end_date = end_date or start_date
        if end_date < start_date:
            start_date, end_date = end_date, start_date
        # One day of slack each side: a UTC instant may fall on the neighbouring local date.
        lo, hi = start_date - dt.timedelta(days=1), end_date + dt.timedelta(days=1)
        ids = [s.pk for s in stores]
        weekly: dict[int, dict[int, list[Period]]] = defaultdict(lambda: defaultdict(list))
        rows = (
            BusinessHours.objects.unscoped()  # the stores were reached through a scoped read
            .filter(store_id__in=ids)
            .order_by("weekday", "opens_at")
            .values_list("store_id", "weekday", "opens_at", "closes_at")
        )
        for store_id, weekday, opens, closes in rows:
            weekly[store_id][weekday].append((opens, closes))
        holidays: dict[int, dict[dt.date, str]] = defaultdict(dict)
        for store_id, date, name in (
            Holiday.objects.unscoped()
            .filter(store_id__in=ids, date__range=(lo, hi))
            .values_list("store_id", "date", "name")
        ):
            holidays[store_id][date] = name
        statutory: dict[dt.date, StatutoryDay] = {}
        if any(s.observes_statutory_holidays for s in stores):
            statutory = {d.date: d for d in StatutoryDay.objects.filter(date__range=(lo, hi))}
        return {
            s.pk: cls(
                tz=s.tz,
                weekly={wd: tuple(p) for wd, p in weekly[s.pk].items()},
                observes_statutory=s.observes_statutory_holidays,
                store_holidays=dict(holidays[s.pk]),
                statutory=dict(statutory) if s.observes_statutory_holidays else {},
                loaded_from=lo,
                loaded_to=hi,
                store=s,
            )
            for s in stores
        }

    def _ensure_loaded(self, date: dt.date) -> None:
        """Read the holidays and statutory days of dates outside the window, once."""
        if self.store is None or self.loaded_from is None or self.loaded_to is None:
            return
        if self.loaded_from <= date <= self.loaded_to:
            return
        if date > self.loaded_to:
            lo, hi = self.loaded_to + dt.timedelta(days=1), date + dt.timedelta(days=_CHUNK_DAYS)
        else:
            lo, hi = date - dt.timedelta(days=_CHUNK_DAYS), self.loaded_from - dt.timedelta(days=1)
        self.store_holidays.update(
            Holiday.objects.unscoped()
            .filter(store_id=self.store.pk, date__range=(lo, hi))
            .values_list("date", "name")
        )
        if self.observes_statutory:
            self.statutory.update(
                {d.date: d for d in StatutoryDay.objects.filter(date__range=(lo, hi))}
            )
        self.loaded_from, self.loaded_to = min(self.loaded_from, lo), max(self.loaded_to, hi)

    # --- one local date
    def day(self, date: dt.date) -> DayRule:
        """The opening periods of one local date and why (store holiday, statutory day)."""
        self._ensure_loaded(date)
        name = self.store_holidays.get(date)
        if name is not None:
            return DayRule(periods=(), holiday=name)
        weekday_periods = self.weekly.get(date.weekday(), ())
        if self.observes_statutory:
            special = self.statutory.get(date)
            if special is not None and special.kind == StatutoryKind.HOLIDAY:
                return DayRule(
                    periods=(),
                    holiday=str(special.get_holiday_display()),
                    statutory=StatutoryKind.HOLIDAY,
                )
            if special is not None and special.kind == StatutoryKind.WORKDAY:
                periods = (
                    self.weekly.get(MAKE_UP_DAY_WEEKDAY, ())
                    if date.weekday() >= Weekday.SATURDAY
                    else weekday_periods
                )
                return DayRule(periods=periods, statutory=StatutoryKind.WORKDAY)
        return DayRule(periods=weekday_periods)

    def intervals(self, date: dt.date) -> tuple[Interval, ...]:
        """The open [start, end) intervals of one local date, in UTC, in order."""
        cached = self._intervals.get(date)
        if cached is not None:
            return cached
        out = []
        for opens, closes in self.day(date).periods:
            start = dt.datetime.combine(date, opens, tzinfo=self.tz)
            end = dt.datetime.combine(date, closes, tzinfo=self.tz)
            if not (_exists(start) and _exists(end)):
                continue  # a local time the clocks skip that night (DST gap)
            start, end = start.astimezone(UTC), end.astimezone(UTC)
            if end > start:
                out.append((start, end))
        result = tuple(sorted(out))
        self._intervals[date] = result
        return result

    def _intervals_from(self, moment: dt.datetime) -> Iterator[Interval]:
        """Open intervals ending after `moment`, in order, for at most HORIZON_DAYS days."""
        if not any(self.weekly.values()):
            raise DomainError(
                "store_has_no_business_hours",
                _("The store has no business hours: no business-time deadline can be set."),
            )
        date = moment.astimezone(self.tz).date() - dt.timedelta(days=1)
        for _offset in range(HORIZON_DAYS + 2):
            for start, end in self.intervals(date):
                if end > moment:
                    yield start, end
            date += dt.timedelta(days=1)
        raise DomainError(
            "business_time_horizon",
            _("The store is closed for more than %(days)d days in a row.") % {"days": HORIZON_DAYS},
        )

    # --- arithmetic
    def add(self, start: dt.datetime, minutes: int) -> dt.datetime:
        """`start` plus `minutes` business minutes (a closed start rolls to the next opening)."""
        _check_aware(start)
        if minutes < 0:
            raise DomainError(
                "negative_business_minutes", _("Business minutes to add cannot be negative.")
            )
        cursor = start.astimezone(UTC)
        left = dt.timedelta(minutes=minutes)
        for opens, closes in self._intervals_from(cursor):
            cursor = max(cursor, opens)
            room = closes - cursor
            if left <= room:
                return (cursor + left).astimezone(start.tzinfo)
            left -= room
            cursor = closes
        raise AssertionError("unreachable")  # _intervals_from raises past its horizon

    def next_open(self, moment: dt.datetime) -> dt.datetime:
        """`moment` if the store is open then, else its next opening."""
        return self.add(moment, 0)

    def is_open(self, moment: dt.datetime) -> bool:
        _check_aware(moment)
        moment = moment.astimezone(UTC)
        date = moment.astimezone(self.tz).date()
        return any(opens <= moment < closes for opens, closes in self.intervals(date))

    def open_time_between(self, a: dt.datetime, b: dt.datetime) -> dt.timedelta:
        """The exact open time in [a, b) (zero when b <= a)."""
        _check_aware(a)
        _check_aware(b)
        a, b = a.astimezone(UTC), b.astimezone(UTC)
        total = dt.timedelta(0)
        if b <= a:
            return total
        date = a.astimezone(self.tz).date() - dt.timedelta(days=1)
        last = b.astimezone(self.tz).date() + dt.timedelta(days=1)
        while date <= last:
            for opens, closes in self.intervals(date):
                lo, hi = max(opens, a), min(closes, b)
                if hi > lo:
                    total += hi - lo
            date += dt.timedelta(days=1)
        return total

    def between(self, a: dt.datetime, b: dt.datetime) -> int:
        """Whole business minutes in [a, b): the floor of the open seconds / 60; 0 if b <= a."""
        return self.open_time_between(a, b) // _MINUTE


def _exists(local: dt.datetime) -> bool:
    """False for a wall-clock time skipped by a DST jump in its zone."""
    return local.astimezone(UTC).astimezone(local.tzinfo).replace(tzinfo=None) == local.replace(
        tzinfo=None
    )


def _check_aware(moment: dt.datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("business time needs an aware datetime")


def _window(store: Store, *moments: dt.datetime) -> tuple[dt.date, dt.date]:
    dates = [m.astimezone(store.tz).date() for m in moments]
    return min(dates), max(dates)


def add_business_minutes(store: Store, start: dt.datetime, minutes: int) -> dt.datetime:
    """`start` plus `minutes` of the store's business time (aware in, aware out)."""
    _check_aware(start)
    first, _last = _window(store, start)
    # Most SLA targets end within a few weeks: read that much at once.
    calendar = BusinessCalendar.for_store(store, first, first + dt.timedelta(days=31))
    return calendar.add(start, minutes)


def business_minutes_between(store: Store, a: dt.datetime, b: dt.datetime) -> int:
    """Whole business minutes of the store in [a, b); 0 if b <= a."""
    _check_aware(a)
    _check_aware(b)
    if b <= a:
        return 0
    first, last = _window(store, a, b)
    return BusinessCalendar.for_store(store, first, last).between(a, b)
