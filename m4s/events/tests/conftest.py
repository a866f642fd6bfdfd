"""The events tests' world: group A's open event (2 places, starts in 3 days) and a draft,
group B's open event; three more owners of group A's store; loyalty programmes in both groups
(check-in points)."""

import datetime as dt

import pytest
from django.utils import timezone

from m4s.core.tests.factories import OwnerFactory, make_staff
from m4s.events import services
from m4s.events.choices import EventStatus
from m4s.staff.choices import Role


def make_event(actor, *, days=3, capacity=2, status=EventStatus.OPEN, deadline_days=None, **kw):
    start = timezone.now() + dt.timedelta(days=days)
    deadline = (
        start - dt.timedelta(hours=1)
        if deadline_days is None
        else timezone.now() + dt.timedelta(days=deadline_days)
    )
    data = {
        "title": "Spring drive",
        "title_i18n": {"zh-hans": "春季自驾", "ko": "봄 드라이브"},
        "place_name": "Olympic Park",
        "address": "1 Park Road",
        "starts_at": start,
        "ends_at": start + dt.timedelta(hours=3),
        "signup_deadline": deadline,
        "capacity": capacity,
        "status": status,
        **kw,
    }
    return services.create_event(actor, **data)


@pytest.fixture
def ev(club):
    w = club
    w.manager_a = make_staff("manager-a", Role.STORE_MANAGER, w.group_a, [w.store_a])
    w.cs_b = make_staff("cs-b", Role.CUSTOMER_SERVICE, w.group_b, [w.store_b])
    w.event = make_event(w.admin_a)
    w.draft = make_event(w.admin_a, status=EventStatus.DRAFT)
    w.event_b = make_event(w.admin_b)
    w.others = [OwnerFactory(home_store=w.store_a) for _ in range(3)]
    return w
