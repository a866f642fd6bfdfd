import datetime as dt

import pytest
from django.utils import timezone

from m4s.core.errors import DomainError
from m4s.core.tests.factories import PASSWORD, make_staff
from m4s.staff import services
from m4s.staff.choices import Role
from m4s.staff.models import Shift
from m4s.staff.selectors import on_duty


@pytest.mark.django_db
def test_on_duty_follows_the_roster_in_the_store_time_zone(world):
    day = dt.date(2026, 11, 23)
    second = make_staff("advisor-a3", Role.SERVICE_ADVISOR, world.group_a, [world.store_a])
    services.add_shift(
        world.admin_a,
        staff=world.advisor_a,
        store=world.store_a,
        date=day,
        starts_at=dt.time(8, 30),
        ends_at=dt.time(12),
    )
    services.add_shift(
        world.admin_a,
        staff=second,
        store=world.store_a,
        date=day,
        starts_at=dt.time(13, 30),
        ends_at=dt.time(18),
    )
    morning = dt.datetime(2026, 11, 23, 9, 0, tzinfo=world.store_a.tz)
    afternoon = dt.datetime(2026, 11, 23, 14, 0, tzinfo=world.store_a.tz)
    assert on_duty(world.store_a, Role.SERVICE_ADVISOR, morning) == [world.advisor_a]
    assert on_duty(world.store_a, Role.SERVICE_ADVISOR, afternoon.astimezone(dt.UTC)) == [second]
    assert (
        on_duty(world.store_a, Role.SERVICE_ADVISOR, morning.replace(hour=12, minute=30)) == []
    )  # lunch break
    assert on_duty(world.store_a, Role.SALES_CONSULTANT, morning) == []
    assert timezone.is_aware(morning)


@pytest.mark.django_db
def test_bad_shifts_are_refused(world):
    day = dt.date(2026, 11, 23)
    services.add_shift(
        world.admin_a,
        staff=world.advisor_a,
        store=world.store_a,
        date=day,
        starts_at=dt.time(8),
        ends_at=dt.time(12),
    )
    for kwargs, code in [
        (
            {
                "staff": world.advisor_a,
                "store": world.store_a,
                "starts_at": dt.time(11),
                "ends_at": dt.time(13),
            },
            "overlapping_shift",
        ),
        (
            {
                "staff": world.advisor_a,
                "store": world.store_a,
                "starts_at": dt.time(15),
                "ends_at": dt.time(14),
            },
            "invalid_hours",
        ),
        (
            {
                "staff": world.advisor_a,
                "store": world.store_b,
                "starts_at": dt.time(15),
                "ends_at": dt.time(16),
            },
            "invalid_staff",
        ),
    ]:
        with pytest.raises(DomainError) as e:
            services.add_shift(world.admin_a, date=day, **kwargs)
        assert e.value.code == code
    with pytest.raises(DomainError) as e:
        services.add_shift(
            world.advisor_a,
            staff=world.advisor_a,
            store=world.store_a,
            date=day,
            starts_at=dt.time(14),
            ends_at=dt.time(15),
        )
    assert e.value.status == 403
    assert Shift.objects.for_group(world.group_a).count() == 1


@pytest.mark.django_db
def test_roster_admin_is_scoped(client, world):
    mine = services.add_shift(
        world.admin_a,
        staff=world.advisor_a,
        store=world.store_a,
        date=dt.date(2026, 11, 23),
        starts_at=dt.time(8),
        ends_at=dt.time(12),
    )
    theirs = services.add_shift(
        world.admin_b,
        staff=world.advisor_b,
        store=world.store_b,
        date=dt.date(2026, 11, 23),
        starts_at=dt.time(8),
        ends_at=dt.time(12),
    )
    assert client.login(username="admin-a", password=PASSWORD)
    assert client.get(f"/admin/staff/shift/{mine.pk}/change/").status_code == 200
    assert client.get(f"/admin/staff/shift/{theirs.pk}/change/").status_code == 404
    r = client.post(
        "/admin/staff/shift/add/",
        {
            "staff": world.advisor_b.pk,
            "store": world.store_a.pk,
            "date": "2026-11-24",
            "starts_at": "08:00",
            "ends_at": "12:00",
        },
    )
    assert (
        r.status_code == 200 and Shift.objects.for_group(world.group_a).count() == 1
    )  # not a choice
    r = client.post(
        "/admin/staff/shift/add/",
        {
            "staff": world.advisor_a.pk,
            "store": world.store_a.pk,
            "date": "2026-11-24",
            "starts_at": "08:00",
            "ends_at": "12:00",
        },
    )
    assert r.status_code == 302 and Shift.objects.for_group(world.group_a).count() == 2


@pytest.mark.django_db
def test_roster_admin_refuses_overlaps(client, world):
    services.add_shift(
        world.admin_a,
        staff=world.advisor_a,
        store=world.store_a,
        date=dt.date(2026, 11, 23),
        starts_at=dt.time(8),
        ends_at=dt.time(12),
    )
    assert client.login(username="admin-a", password=PASSWORD)
    r = client.post(
        "/admin/staff/shift/add/",
        {
            "staff": world.advisor_a.pk,
            "store": world.store_a.pk,
            "date": "2026-11-23",
            "starts_at": "11:00",
            "ends_at": "13:00",
        },
    )
    assert r.status_code == 200 and "starts_at" in r.context["adminform"].form.errors
    assert Shift.objects.for_group(world.group_a).count() == 1
