"""Booking with one Idempotency-Key under eight concurrent retries (PostgreSQL): one booking,
every retry gets it, never a 500."""

import pytest

from m4s.core.tests.factories import owner_token, staff_token
from m4s.core.tests.parallel import post_in_parallel, skip_on_sqlite
from m4s.service.models import Appointment, CapacityUse

from .helpers import at


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("who", ["owner", "staff"])
def test_parallel_bookings_with_one_key_book_once(workshop, who):
    skip_on_sqlite()
    w = workshop
    body = {
        "vehicle_id": w.my_car.pk,
        "store_id": w.store_a.pk,
        "package_id": w.s10k.pk,
        "starts_at": at(w.day, 10, store=w.store_a).isoformat(),
    }
    if who == "owner":
        path, token = "/api/v1/me/appointments", owner_token(w.owner)
    else:
        path, token = "/api/v1/staff/appointments", staff_token(w.advisor_a)
        body |= {"customer_id": w.customer.pk, "channel": "phone"}
    results = post_in_parallel(
        path, body, HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_IDEMPOTENCY_KEY="book-8"
    )
    assert sorted(s for s, _ in results) == [200] * 7 + [201], results
    assert len({d["id"] for _, d in results}) == 1
    assert Appointment.objects.for_group(w.group_a).count() == 1
    assert CapacityUse.objects.for_group(w.group_a).values("appointment").distinct().count() == 1
