"""Hand-offs between areas are durable: recorded with the change, run after commit, retried
when a receiver fails, applied once however often they run."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import transaction
from django.test import TestCase
from django.utils import timezone

from m4s.core import hooks
from m4s.core.models import HookDelivery

CALLS: list = []
FAILURES_LEFT = {"n": 0}


@dataclass(frozen=True)
class Paid:
    order_id: int
    amount: Decimal
    at: dt.datetime
    note: str | None = None


def flaky_receiver(payload: Paid) -> None:
    if FAILURES_LEFT["n"] > 0:
        FAILURES_LEFT["n"] -= 1
        raise ConnectionError("loyalty database went away")
    # idempotent per source, as every real receiver is
    if payload.order_id not in [p.order_id for p in CALLS]:
        CALLS.append(payload)


@pytest.fixture
def flaky(settings):
    settings.HOOKS = {"test.paid": ["m4s.core.tests.test_hooks.flaky_receiver"]}
    CALLS.clear()
    FAILURES_LEFT["n"] = 0
    return settings


PAID = Paid(7, Decimal("926.60"), dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC))


@pytest.mark.django_db
def test_delivery_is_recorded_with_the_change_and_rolls_back_with_it(flaky):
    with pytest.raises(RuntimeError), transaction.atomic():
        hooks.after_commit("test.paid", PAID)
        raise RuntimeError("the settlement failed")
    assert HookDelivery.objects.count() == 0 and CALLS == []
    with TestCase.captureOnCommitCallbacks(execute=True), transaction.atomic():
        hooks.after_commit("test.paid", PAID)
        assert CALLS == []  # nothing runs before commit
    assert CALLS == [PAID]  # the payload comes back with its Decimal and datetime
    assert isinstance(CALLS[0].amount, Decimal) and CALLS[0].at.tzinfo is not None
    assert HookDelivery.objects.get().status == HookDelivery.Status.DONE


@pytest.mark.django_db
def test_a_failing_receiver_is_retried_and_applies_once(flaky):
    FAILURES_LEFT["n"] = 2
    with TestCase.captureOnCommitCallbacks(execute=True):
        (delivery_id,) = hooks.after_commit("test.paid", PAID)
    delivery = HookDelivery.objects.get(pk=delivery_id)
    assert delivery.status == HookDelivery.Status.RETRY and delivery.attempts == 1
    assert "loyalty database went away" in delivery.last_error and CALLS == []
    # not due yet: a sweep or a second task does nothing
    assert hooks.sweep() == 0 and hooks.run_delivery(delivery_id) == "skipped"
    HookDelivery.objects.filter(pk=delivery_id).update(next_attempt_at=timezone.now())
    assert hooks.run_delivery(delivery_id) == "retry"  # second failure, backs off further
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and delivery.next_attempt_at > timezone.now()
    HookDelivery.objects.filter(pk=delivery_id).update(next_attempt_at=timezone.now())
    assert hooks.sweep() == 1  # the sweep runs it (immediate backend): third time succeeds
    delivery.refresh_from_db()
    assert delivery.status == HookDelivery.Status.DONE and CALLS == [PAID]
    assert hooks.run_delivery(delivery_id) == "skipped" and CALLS == [PAID]


@pytest.mark.django_db
def test_gives_up_after_max_attempts_and_keeps_the_error(flaky):
    FAILURES_LEFT["n"] = 100
    with TestCase.captureOnCommitCallbacks(execute=True):
        (delivery_id,) = hooks.after_commit("test.paid", PAID)
    for _ in range(hooks.MAX_ATTEMPTS):
        HookDelivery.objects.filter(pk=delivery_id).update(next_attempt_at=timezone.now())
        hooks.run_delivery(delivery_id)
    delivery = HookDelivery.objects.get(pk=delivery_id)
    assert delivery.status == HookDelivery.Status.FAILED
    assert delivery.attempts == hooks.MAX_ATTEMPTS and CALLS == []


@pytest.mark.django_db
def test_sweep_picks_up_a_lost_enqueue_and_a_dead_worker(flaky):
    # committed, but the process died before enqueueing: no on-commit callbacks ran
    (lost,) = hooks.after_commit("test.paid", PAID)
    (stuck,) = hooks.after_commit("test.paid", Paid(8, Decimal("1"), PAID.at))
    long_ago = timezone.now() - dt.timedelta(hours=1)
    HookDelivery.objects.filter(pk=lost).update(created_at=long_ago)
    HookDelivery.objects.filter(pk=stuck).update(
        status=HookDelivery.Status.RUNNING, claimed_at=long_ago, attempts=1
    )
    assert hooks.sweep() == 2
    assert sorted(p.order_id for p in CALLS) == [7, 8]
    assert set(HookDelivery.objects.values_list("status", flat=True)) == {"done"}


@pytest.mark.django_db
def test_loyalty_points_survive_a_failing_first_run_after_settlement(workshop, monkeypatch):
    """The real hand-off: a settlement commits while the loyalty receiver fails once; the
    points arrive on the retry, exactly once."""
    from m4s.loyalty import services as loyalty
    from m4s.loyalty.models import LedgerEntry
    from m4s.service.tests.helpers import ready_order

    w = workshop
    original = loyalty.on_service_settled
    failures = {"n": 1}

    def once_broken(settlement):
        if failures["n"]:
            failures["n"] -= 1
            raise ConnectionError("down")
        return original(settlement)

    monkeypatch.setattr(loyalty, "on_service_settled", once_broken)
    from m4s.demo.starters import loyalty as starter

    starter.install_programme(w.group_a)
    with TestCase.captureOnCommitCallbacks(execute=True):
        ready_order(w, settle=True)
    delivery = HookDelivery.objects.get(hook="service.settled")
    assert delivery.status == HookDelivery.Status.RETRY
    before = LedgerEntry.objects.unscoped().count()
    HookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    hooks.sweep()
    after = LedgerEntry.objects.unscoped().count()
    assert after > before
    HookDelivery.objects.filter(pk=delivery.pk).update(
        status=HookDelivery.Status.RETRY, next_attempt_at=timezone.now()
    )
    hooks.run_delivery(delivery.pk)  # a duplicate run (a crash after the receiver) ...
    assert LedgerEntry.objects.unscoped().count() == after  # ... earns nothing twice
