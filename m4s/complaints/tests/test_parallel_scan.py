"""Two workers run the breach scan at the same moment on PostgreSQL (separate connections):
every breached complaint climbs exactly one level, recorded once."""

import datetime as dt
import threading

import pytest
from django.db import connection

from m4s.complaints import escalation
from m4s.complaints.choices import Level
from m4s.complaints.models import Complaint, ComplaintEvent, Escalation
from m4s.core.tests.parallel import skip_on_sqlite

from .conftest import T0

N = 240


def _breached(w, n: int) -> list[int]:
    from m4s.complaints import services

    c = services.file_complaint(w.owner, description="noise", now=T0)
    rows = []
    for i in range(n):
        rows.append(
            Complaint(
                dealer_group_id=c.dealer_group_id,
                reference=f"C-PAR{i:06d}",
                store=c.store,
                customer=c.customer,
                channel=c.channel,
                category=c.category,
                severity=c.severity,
                description="noise",
                level=Level.STORE_CS,
                created_at=T0,
                first_response_due_at=T0 + dt.timedelta(days=30),
                resolution_due_at=T0 + dt.timedelta(days=30),
                level_due_at=T0 + dt.timedelta(minutes=i % 50),
            )
        )
    Complaint.objects.bulk_create(rows)
    Complaint.objects.unscoped().filter(pk=c.pk).update(
        first_response_due_at=T0 + dt.timedelta(days=30), level_due_at=T0 + dt.timedelta(hours=1)
    )
    return [r.pk for r in rows]


@pytest.mark.django_db(transaction=True)
def test_two_workers_scan_at_once_escalate_each_complaint_once(desk):
    skip_on_sqlite()
    ids = _breached(desk, N)
    now = T0 + dt.timedelta(hours=2)
    barrier, results, errors = threading.Barrier(2), [], []

    def worker():
        try:
            barrier.wait()
            results.append(escalation.scan(now=now, batch_size=37))
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sum(r["escalated"] for r in results) == N + 1
    escalations = Escalation.objects.unscoped().filter(complaint_id__in=ids)
    assert escalations.count() == N
    assert set(escalations.values_list("to_level", flat=True)) == {2}
    assert Complaint.objects.unscoped().filter(pk__in=ids, level=2).count() == N
    assert (
        ComplaintEvent.objects.unscoped().filter(complaint_id__in=ids, kind="escalated").count()
        == N
    )
    # and a re-run finds nothing
    assert escalation.scan(now=now)["escalated"] == 0
