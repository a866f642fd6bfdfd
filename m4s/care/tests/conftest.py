"""The care tests' world: the workshop (group A's store, the test owner's Camry with a
maintenance schedule) with the owner's consents, and a car and customer in group B."""

import datetime as dt

import pytest
from django.utils import timezone

from m4s.care.rules import ensure_rules


@pytest.fixture
def care(workshop):
    from m4s.owners.models import Owner

    w = workshop
    Owner.objects.filter(pk=w.owner.pk).update(
        telematics_consent=True,
        marketing_consent=True,
        quiet_hours_start=None,
        quiet_hours_end=None,
    )
    w.owner.refresh_from_db()
    ensure_rules()
    w.today = timezone.localdate()
    w.now = timezone.now()
    return w


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)
