"""Two workers run the first-response scan at the same moment on PostgreSQL (separate
connections): every overdue conversation moves exactly one stage, recorded once. Also the owner's
retried message with one Idempotency-Key, sent from several threads at once: stored once, every
retry answered."""

import datetime as dt
import threading

import pytest
from django.db import connection

from m4s.conversations import scan, services
from m4s.conversations.choices import Stage
from m4s.conversations.models import Conversation, Handover, Message
from m4s.core.tests.factories import owner_token
from m4s.core.tests.parallel import post_in_parallel, skip_on_sqlite
from m4s.customers.models import Customer

from .conftest import T0

N = 240


def _waiting(w, n: int) -> list[int]:
    """n conversations of n customers, each waiting with its consultant, due at T0 + i % 50 min."""
    customers = Customer.objects.bulk_create(
        [
            Customer(
                dealer_group=w.group_a,
                store=w.store_a,
                name=f"Par {i}",
                phone=f"+861370000{i:04d}",
                phone_last4=f"{i:04d}",
                service_advisor=w.advisor_a,
            )
            for i in range(n)
        ]
    )
    rows = Conversation.objects.bulk_create(
        [
            Conversation(
                dealer_group=w.group_a,
                store=w.store_a,
                customer=c,
                topic="service",
                assignee=w.advisor_a,
                stage=Stage.CONSULTANT,
                waiting_since=T0,
                wait_round=1,
                first_response_due_at=T0 + dt.timedelta(minutes=i % 50),
                last_message_at=T0,
                created_at=T0,
                opened_at=T0,
            )
            for i, c in enumerate(customers)
        ]
    )
    return [r.pk for r in rows]


@pytest.mark.django_db(transaction=True)
def test_two_workers_scan_at_once_move_each_conversation_once(talk):
    skip_on_sqlite()
    ids = _waiting(talk, N)
    now = T0 + dt.timedelta(hours=2)
    barrier, results, errors = threading.Barrier(2), [], []

    def worker():
        try:
            barrier.wait()
            results.append(scan.offer_overdue(now=now, batch_size=37))
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
    assert sum(results) == N
    moves = Handover.objects.unscoped().filter(conversation_id__in=ids, reason="overdue")
    assert moves.count() == N
    assert set(moves.values_list("stage", flat=True)) == {Stage.TEAM}
    assert Conversation.objects.unscoped().filter(pk__in=ids, stage=Stage.TEAM).count() == N
    assert (
        Message.objects.unscoped().filter(conversation_id__in=ids, author_kind="system").count()
        == N
    )
    # a re-run at the same moment finds nothing; later, the team's clock runs out: the queue, once
    assert scan.offer_overdue(now=now) == 0
    later = now + dt.timedelta(days=1)
    assert scan.offer_overdue(now=later) == N
    assert scan.offer_overdue(now=later) == 0
    assert moves.count() == 2 * N


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_of_one_message_store_it_once(talk):
    skip_on_sqlite()
    w = talk
    conv = services.start_conversation(w.owner, customer=w.customer, topic="service", body="Hello")
    token = owner_token(w.owner)
    results = post_in_parallel(
        f"/api/v1/me/conversations/{conv.pk}/messages",
        {"body": "Are you there?"},
        n=6,
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_IDEMPOTENCY_KEY="retry-1",
    )
    assert sorted(r[0] for r in results) == [201] * 6
    assert len({r[1]["id"] for r in results}) == 1
    assert Message.objects.unscoped().filter(conversation=conv, body="Are you there?").count() == 1
