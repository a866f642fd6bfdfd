"""The business-time engine (m4s/org/business_time.py): split shifts, store holidays, China's
statutory holidays with their make-up working days, time zones and DST, batch calendars, the
`m4s sync-holidays` command and the back office of statutory days."""

import datetime as dt
import io
import zoneinfo

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from m4s.core.errors import DomainError
from m4s.core.tests.factories import StoreFactory
from m4s.org import services as org
from m4s.org.business_time import (
    HORIZON_DAYS,
    BusinessCalendar,
    add_business_minutes,
    business_minutes_between,
)
from m4s.org.choices import StatutoryHoliday, StatutoryKind, StatutorySource
from m4s.org.models import Holiday, StatutoryDay
from m4s.org.selectors import get_day_schedule, is_store_open_at

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
SPLIT = [(dt.time(8, 30), dt.time(12)), (dt.time(13, 30), dt.time(18))]
HYPO = settings(
    max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)


def local(y, mo, d, h=0, mi=0, tz=SHANGHAI):
    return dt.datetime(y, mo, d, h, mi, tzinfo=tz)


def weekdays_only(store, periods=SPLIT):
    for weekday in range(5):
        org.set_business_hours(store, weekday, periods)


@pytest.fixture
def shop(world):
    """Store A: 08:30-12:00 and 13:30-18:00 Monday to Friday, closed at weekends; China's
    statutory days synced from the library."""
    weekdays_only(world.store_a)
    weekdays_only(world.store_b)
    world.sister = StoreFactory(dealer_group=world.group_a, name="Alpha South")
    weekdays_only(world.sister)
    call_command("sync_holidays", stdout=io.StringIO())
    return world


# --- the edges of the issue


def test_friday_afternoon_runs_over_the_weekend_to_monday(shop):
    """The issue's edge "Friday 16:30 + 60 min -> Monday 09:30" holds for a Friday that closes
    at 16:30; with 13:30-18:00 on Friday the same hour ends on Friday at 17:30, and it takes
    150 minutes (90 on Friday, 60 on Monday) to reach Monday 09:30."""
    store = shop.store_a
    friday = local(2025, 3, 7, 16, 30)
    assert friday.weekday() == 4
    assert add_business_minutes(store, friday, 60) == local(2025, 3, 7, 17, 30)
    assert add_business_minutes(store, friday, 150) == local(2025, 3, 10, 9, 30)
    assert business_minutes_between(store, friday, local(2025, 3, 10, 9, 30)) == 150
    org.set_business_hours(
        store, 4, [(dt.time(8, 30), dt.time(12)), (dt.time(13, 30), dt.time(16, 30))]
    )
    assert add_business_minutes(store, friday, 60) == local(2025, 3, 10, 9, 30)
    assert business_minutes_between(store, friday, local(2025, 3, 10, 9, 30)) == 60


def test_the_lunch_break_does_not_count(shop):
    store = shop.store_a
    assert add_business_minutes(store, local(2025, 3, 11, 11, 30), 60) == local(2025, 3, 11, 14)
    assert business_minutes_between(store, local(2025, 3, 11, 11), local(2025, 3, 11, 14)) == 90


def test_zero_minutes_and_closed_starts(shop):
    store = shop.store_a
    open_moment = local(2025, 3, 11, 9, 17)
    assert add_business_minutes(store, open_moment, 0) == open_moment
    assert add_business_minutes(store, local(2025, 3, 11, 12), 0) == local(2025, 3, 11, 13, 30)
    assert add_business_minutes(store, local(2025, 3, 11, 7), 0) == local(2025, 3, 11, 8, 30)
    assert add_business_minutes(store, local(2025, 3, 8, 10), 0) == local(2025, 3, 10, 8, 30)
    # A saturday start rolls to Monday's opening before counting.
    assert add_business_minutes(store, local(2025, 3, 8, 10), 45) == local(2025, 3, 10, 9, 15)
    # A deadline that uses up a period ends at its closing time.
    assert add_business_minutes(store, local(2025, 3, 7, 17), 60) == local(2025, 3, 7, 18)
    assert business_minutes_between(store, local(2025, 3, 8, 10), local(2025, 3, 8, 11)) == 0
    assert business_minutes_between(store, local(2025, 3, 11, 10), local(2025, 3, 11, 9)) == 0
    # Floor of the open seconds.
    start = local(2025, 3, 11, 9)
    assert business_minutes_between(store, start, start + dt.timedelta(seconds=119)) == 1


def test_library_publishes_national_day_2025_with_two_make_up_days(shop):
    days = {
        d.date: d for d in StatutoryDay.objects.filter(date__range=("2025-09-20", "2025-10-20"))
    }
    for day in range(1, 9):
        assert days[dt.date(2025, 10, day)].kind == StatutoryKind.HOLIDAY
        expected = (
            StatutoryHoliday.MID_AUTUMN_FESTIVAL if day == 6 else StatutoryHoliday.NATIONAL_DAY
        )
        assert days[dt.date(2025, 10, day)].holiday == expected  # 2025: both at once
    assert days[dt.date(2025, 9, 28)].kind == StatutoryKind.WORKDAY  # a Sunday
    assert days[dt.date(2025, 10, 11)].kind == StatutoryKind.WORKDAY  # a Saturday
    assert dt.date(2025, 10, 9) not in days and dt.date(2025, 10, 10) not in days
    assert days[dt.date(2025, 10, 11)].source == StatutorySource.LIBRARY


def test_national_day_week_and_the_make_up_saturday(shop):
    store = shop.store_a
    # Tuesday 30 Sep 17:30: half an hour that day, then 1-8 Oct closed, Thursday 9 Oct opens.
    assert add_business_minutes(store, local(2025, 9, 30, 17, 30), 60) == local(2025, 10, 9, 9)
    # Friday 10 Oct 17:30: the next working day is the make-up Saturday, with Monday's hours.
    assert add_business_minutes(store, local(2025, 10, 10, 17, 30), 60) == local(2025, 10, 11, 9)
    assert add_business_minutes(store, local(2025, 10, 11, 11, 30), 60) == local(2025, 10, 11, 14)
    # Sunday 28 Sep is a working day too.
    assert add_business_minutes(store, local(2025, 9, 26, 17, 30), 60) == local(2025, 9, 28, 9)
    assert business_minutes_between(store, local(2025, 9, 27), local(2025, 9, 29)) == 480
    # The whole holiday counts nothing.
    assert business_minutes_between(store, local(2025, 10, 1), local(2025, 10, 9)) == 0
    schedule = get_day_schedule(store, dt.date(2025, 10, 1))
    assert not schedule.is_open and schedule.holiday == "National Day"
    saturday = get_day_schedule(store, dt.date(2025, 10, 11))
    assert saturday.is_open and saturday.periods == SPLIT
    assert is_store_open_at(store, local(2025, 10, 11, 10))
    assert not is_store_open_at(store, local(2025, 10, 3, 10))
    assert not is_store_open_at(store, local(2025, 10, 18, 10))  # an ordinary Saturday


def test_a_store_that_ignores_statutory_days_keeps_its_weekly_hours(shop):
    store = shop.sister
    store.observes_statutory_holidays = False
    store.save()
    assert add_business_minutes(store, local(2025, 9, 30, 17, 30), 60) == local(2025, 10, 1, 9)
    assert add_business_minutes(store, local(2025, 10, 10, 17, 30), 60) == local(2025, 10, 13, 9)
    # ... and the other stores still close for National Day.
    assert add_business_minutes(shop.store_a, local(2025, 9, 30, 17, 30), 60) == local(
        2025, 10, 9, 9
    )


def test_a_store_holiday_closes_that_store_only(shop):
    org.add_holiday(shop.store_a, dt.date(2025, 3, 10), "Stocktaking")
    friday = local(2025, 3, 7, 16, 30)
    assert add_business_minutes(shop.store_a, friday, 150) == local(2025, 3, 11, 9, 30)
    assert add_business_minutes(shop.sister, friday, 150) == local(2025, 3, 10, 9, 30)
    assert add_business_minutes(shop.store_b, friday, 150) == local(2025, 3, 10, 9, 30)
    assert get_day_schedule(shop.store_a, dt.date(2025, 3, 10)).holiday == "Stocktaking"
    assert get_day_schedule(shop.sister, dt.date(2025, 3, 10)).is_open
    calendars = BusinessCalendar.for_stores(
        [shop.store_a, shop.sister, shop.store_b], dt.date(2025, 3, 1), dt.date(2025, 3, 31)
    )
    assert calendars[shop.store_a.pk].between(local(2025, 3, 10), local(2025, 3, 11)) == 0
    assert calendars[shop.sister.pk].between(local(2025, 3, 10), local(2025, 3, 11)) == 480
    assert calendars[shop.store_b.pk].between(local(2025, 3, 10), local(2025, 3, 11)) == 480


def test_a_store_in_another_time_zone(shop):
    store = StoreFactory(
        dealer_group=shop.group_a, name="Alpha West", timezone="America/Los_Angeles"
    )
    weekdays_only(store)
    la = zoneinfo.ZoneInfo("America/Los_Angeles")
    friday = local(2025, 3, 7, 16, 30, tz=la)
    assert add_business_minutes(store, friday, 150) == local(2025, 3, 10, 9, 30, tz=la)
    # The same instant written in Shanghai time (Saturday 08:30 there) is Friday 16:30 in LA.
    written_in_shanghai = friday.astimezone(SHANGHAI)
    due = add_business_minutes(store, written_in_shanghai, 150)
    assert due == local(2025, 3, 10, 9, 30, tz=la) and due.tzinfo == SHANGHAI
    # Shanghai's store is closed at that instant (Saturday), LA's is open.
    assert is_store_open_at(store, written_in_shanghai)
    assert not is_store_open_at(shop.store_a, written_in_shanghai)


def test_daylight_saving_time_in_berlin(shop):
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    store = StoreFactory(dealer_group=shop.group_a, name="Alpha Berlin", timezone="Europe/Berlin")
    for weekday in range(5):
        org.set_business_hours(store, weekday, [(dt.time(8), dt.time(17))])
    # Sundays 01:00-04:00 cross both DST changes of 2025 (30 March, 26 October).
    org.set_business_hours(store, 6, [(dt.time(1), dt.time(4))])
    store.observes_statutory_holidays = False
    store.save()
    utc = dt.UTC
    # Opening is 08:00 local: 06:00 UTC in summer, 07:00 UTC in winter.
    assert add_business_minutes(store, dt.datetime(2025, 7, 1, 5, tzinfo=utc), 0) == dt.datetime(
        2025, 7, 1, 6, tzinfo=utc
    )
    assert add_business_minutes(store, dt.datetime(2025, 1, 7, 5, tzinfo=utc), 0) == dt.datetime(
        2025, 1, 7, 7, tzinfo=utc
    )
    # Spring forward: 01:00-04:00 is two real hours; autumn back: four.
    assert (
        business_minutes_between(
            store, local(2025, 3, 30, tz=berlin), local(2025, 3, 31, tz=berlin)
        )
        == 120
    )
    assert (
        business_minutes_between(
            store, local(2025, 10, 26, tz=berlin), local(2025, 10, 27, tz=berlin)
        )
        == 240
    )
    assert (
        business_minutes_between(
            store, local(2025, 10, 19, tz=berlin), local(2025, 10, 20, tz=berlin)
        )
        == 180
    )
    # Friday 16:30 + 60 min crosses the night of the change and lands on Sunday 01:30.
    assert add_business_minutes(store, local(2025, 3, 28, 16, 30, tz=berlin), 60) == local(
        2025, 3, 30, 1, 30, tz=berlin
    )
    # The sum over the year equals the per-day sum (no hour lost or doubled).
    calendar = BusinessCalendar.for_store(store, dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    year = calendar.between(local(2025, 1, 1, tz=berlin), local(2026, 1, 1, tz=berlin))
    days = sum(
        calendar.between(
            local(2025, 1, 1, tz=berlin) + dt.timedelta(days=n),
            local(2025, 1, 1, tz=berlin) + dt.timedelta(days=n + 1),
        )
        for n in range(365)
    )
    assert year == days


def test_a_store_without_hours_fails_instead_of_looping(world):
    store = StoreFactory(dealer_group=world.group_a, name="Alpha Empty")
    with pytest.raises(DomainError) as caught:
        add_business_minutes(store, local(2025, 3, 7, 10), 30)
    assert caught.value.code == "store_has_no_business_hours"
    assert business_minutes_between(store, local(2025, 3, 7), local(2025, 3, 17)) == 0


def test_a_store_closed_beyond_the_horizon_fails(world):
    store = StoreFactory(
        dealer_group=world.group_a, name="Alpha Mondays", observes_statutory_holidays=False
    )
    org.set_business_hours(store, 0, SPLIT)
    first = dt.date(2025, 3, 10)
    Holiday.objects.bulk_create(
        Holiday(
            dealer_group=world.group_a,
            store=store,
            date=first + dt.timedelta(weeks=n),
            name="Closed",
        )
        for n in range(HORIZON_DAYS // 7 + 2)
    )
    with pytest.raises(DomainError) as caught:
        add_business_minutes(store, local(2025, 3, 8), 1)
    assert caught.value.code == "business_time_horizon"


def test_bad_arguments(shop):
    with pytest.raises(DomainError) as caught:
        add_business_minutes(shop.store_a, local(2025, 3, 7, 10), -1)
    assert caught.value.code == "negative_business_minutes"
    with pytest.raises(ValueError):
        add_business_minutes(shop.store_a, dt.datetime(2025, 3, 7, 10), 5)  # noqa: DTZ001
    with pytest.raises(ValueError):
        business_minutes_between(shop.store_a, dt.datetime(2025, 3, 7), local(2025, 3, 8))  # noqa: DTZ001


# --- batch use


def test_a_calendar_reads_once_for_its_window(shop, django_assert_num_queries):
    stores = [shop.store_a, shop.sister, shop.store_b]
    with django_assert_num_queries(3):
        calendars = BusinessCalendar.for_stores(stores, dt.date(2025, 9, 1), dt.date(2025, 10, 31))
    with django_assert_num_queries(0):
        for n in range(500):
            start = local(2025, 9, 1, 8) + dt.timedelta(minutes=97 * n)
            for store in stores:
                calendar = calendars[store.pk]
                due = calendar.add(start, 240)
                assert calendar.between(start, due) == 240
    # Outside its window a calendar reads the missing dates (once) and stays right.
    calendar = calendars[shop.store_a.pk]
    with django_assert_num_queries(2):
        assert calendar.add(local(2025, 10, 31, 17), 120) == local(2025, 11, 3, 9, 30)
        assert calendar.add(local(2025, 11, 7, 17), 90) == local(2025, 11, 10, 9)


def test_the_functions_and_the_calendar_agree(shop):
    calendar = BusinessCalendar.for_store(shop.store_a, dt.date(2025, 9, 1), dt.date(2025, 12, 31))
    for n in range(40):
        start = local(2025, 9, 20, 7, 13) + dt.timedelta(hours=11 * n)
        for minutes in (0, 1, 59, 210, 480, 2000):
            due = add_business_minutes(shop.store_a, start, minutes)
            assert due == calendar.add(start, minutes)
            assert business_minutes_between(shop.store_a, start, due) == minutes


# --- properties

base = dt.datetime(2025, 9, 1, tzinfo=dt.UTC)
moments = st.integers(min_value=0, max_value=120 * 24 * 60).map(
    lambda m: base + dt.timedelta(minutes=m)
)
spans = st.integers(min_value=0, max_value=6000)


@pytest.fixture
def calendar(shop):
    return BusinessCalendar.for_store(shop.store_a, dt.date(2025, 8, 30), dt.date(2026, 3, 31))


@HYPO
@given(start=moments, minutes=spans)
def test_adding_then_measuring_gives_the_minutes_back(calendar, start, minutes):
    due = calendar.add(start, minutes)
    assert due >= start
    assert calendar.between(start, due) == minutes
    if minutes:
        # The deadline is inside an open period or at its closing time.
        assert calendar.is_open(due - dt.timedelta(seconds=1))


@HYPO
@given(start=moments, later=st.integers(0, 3000), m1=spans, m2=spans)
def test_adding_is_monotonic(calendar, start, later, m1, m2):
    lo, hi = sorted((m1, m2))
    assert calendar.add(start, lo) <= calendar.add(start, hi)
    assert calendar.add(start, lo) <= calendar.add(start + dt.timedelta(minutes=later), lo)


@HYPO
@given(a=moments, b=moments, c=moments)
def test_measuring_is_additive(calendar, a, b, c):
    a, b, c = sorted((a, b, c))
    assert calendar.between(a, b) + calendar.between(b, c) == calendar.between(a, c)
    assert calendar.between(c, a) == 0 or a == c


# --- statutory days as data: the sync command and the back office


def test_sync_is_idempotent_and_keeps_back_office_edits(world):
    out = io.StringIO()
    call_command("sync_holidays", stdout=out)
    count = StatutoryDay.objects.count()
    assert count > 700  # 2004 onwards
    out = io.StringIO()
    call_command("sync_holidays", stdout=out)
    assert "0 created, 0 updated, 0 deleted" in out.getvalue()
    assert StatutoryDay.objects.count() == count
    # A day corrected in the back office is kept; a library day gone wrong is put right; a
    # library day the library does not publish goes; a year the library does not cover stays.
    edited = StatutoryDay.objects.get(date=dt.date(2025, 10, 8))
    edited.kind, edited.source = StatutoryKind.WORKDAY, StatutorySource.BACK_OFFICE
    edited.save()
    StatutoryDay.objects.filter(date=dt.date(2025, 10, 2)).update(kind=StatutoryKind.WORKDAY)
    StatutoryDay.objects.create(
        date=dt.date(2025, 7, 1), kind=StatutoryKind.HOLIDAY, source=StatutorySource.LIBRARY
    )
    StatutoryDay.objects.create(
        date=dt.date(2099, 1, 1), kind=StatutoryKind.HOLIDAY, source=StatutorySource.LIBRARY
    )
    result = org.sync_statutory_days()
    assert (result.created, result.updated, result.deleted, result.kept_edits) == (0, 1, 1, 1)
    assert StatutoryDay.objects.get(date=dt.date(2025, 10, 8)).kind == StatutoryKind.WORKDAY
    assert StatutoryDay.objects.get(date=dt.date(2025, 10, 2)).kind == StatutoryKind.HOLIDAY
    assert not StatutoryDay.objects.filter(date=dt.date(2025, 7, 1)).exists()
    assert StatutoryDay.objects.filter(date=dt.date(2099, 1, 1)).exists()
    again = org.sync_statutory_days()
    assert (again.created, again.updated, again.deleted) == (0, 0, 0)


def test_only_headquarters_edit_statutory_days(world, client):
    day = StatutoryDay.objects.create(
        date=dt.date(2030, 5, 1),
        kind=StatutoryKind.HOLIDAY,
        holiday=StatutoryHoliday.LABOUR_DAY,
        source=StatutorySource.LIBRARY,
    )
    client.force_login(world.admin_a)
    assert client.get("/admin/org/statutoryday/").status_code == 403
    assert client.get(f"/admin/org/statutoryday/{day.pk}/change/").status_code in (403, 404)
    r = client.post(
        "/admin/org/statutoryday/add/",
        {"date": "2030-05-04", "kind": "workday", "holiday": "labour_day"},
    )
    assert r.status_code == 403 and not StatutoryDay.objects.filter(date="2030-05-04").exists()
    client.force_login(world.hq)
    assert client.get("/admin/org/statutoryday/").status_code == 200
    r = client.post(
        "/admin/org/statutoryday/add/",
        {"date": "2030-05-04", "kind": "workday", "holiday": "labour_day"},
    )
    assert r.status_code == 302
    added = StatutoryDay.objects.get(date=dt.date(2030, 5, 4))
    assert added.kind == StatutoryKind.WORKDAY and added.source == StatutorySource.BACK_OFFICE
    # The sync leaves it as headquarters saved it.
    assert org.sync_statutory_days().deleted == 0
    assert StatutoryDay.objects.filter(date=dt.date(2030, 5, 4)).exists()
