"""Two workers run the daily care scan at the same moment on PostgreSQL (separate connections):
every reminder is written once and handed to the contact policy once."""

import threading

import pytest
from django.db import connection
from django.utils import timezone

from m4s.care import scan
from m4s.care.models import Reminder
from m4s.core.tests.parallel import skip_on_sqlite
from m4s.customers.models import Customer
from m4s.notify.models import ContactDecision, Message
from m4s.vehicles.models import Vehicle

from .conftest import days

N = 150


@pytest.mark.django_db(transaction=True)
def test_two_workers_scan_at_once_and_nothing_is_written_or_sent_twice(care):
    skip_on_sqlite()
    w = care
    today = timezone.localdate()
    customers = Customer.objects.bulk_create(
        Customer(
            dealer_group=w.group_a,
            store=w.store_a,
            name=f"Owner {i}",
            phone=f"+86137{i:08d}",
            birthday=today.replace(year=1980),
        )
        for i in range(N)
    )
    Vehicle.objects.bulk_create(
        Vehicle(
            dealer_group=w.group_a,
            vin=f"LPARALLEL{i:08d}",
            plate="",
            brand="Toyota",
            model="Camry",
            current_owner=c,
            insurance_expiry=today + days(10),
        )
        for i, c in enumerate(customers)
    )
    barrier, results, errors = threading.Barrier(2), [], []

    def worker():
        try:
            barrier.wait()
            results.append(scan.run_scan(["insurance", "birthday"], batch_size=17))
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    written = sum(r["written"]["insurance"] + r["written"]["birthday"] for r in results)
    assert written == 2 * N
    assert sum(r["handed"] for r in results) == 2 * N
    assert Reminder.objects.unscoped().filter(customer__in=customers).count() == 2 * N
    assert Reminder.objects.unscoped().filter(sent_at__isnull=True).count() == 0
    reasons = list(
        ContactDecision.objects.filter(customer_id__in=[c.pk for c in customers])
        .exclude(outcome="dropped")
        .values_list("reason", "cycle", "channel")
    )
    assert len(reasons) == len(set(reasons)) >= N
    keys = list(Message.objects.exclude(dedupe_key="").values_list("dedupe_key", flat=True))
    assert len(keys) == len(set(keys))
    # and a third run finds nothing
    again = scan.run_scan(["insurance", "birthday"])
    assert sum(again["written"].values()) == 0 and again["handed"] == 0
