import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone

from m4s.notify import services
from m4s.notify.choices import Channel, Status
from m4s.notify.models import Message
from m4s.notify.sms import MemorySmsBackend
from m4s.notify.tasks import deliver_message_task


class FlakySms(MemorySmsBackend):
    """A gateway that fails the first `failures` sends."""

    failures = 0

    def send(self, **kw):
        if FlakySms.failures > 0:
            FlakySms.failures -= 1
            raise ConnectionError("gateway timeout")
        return super().send(**kw)


@pytest.mark.django_db
def test_message_is_written_in_the_business_transaction_and_sent_after_commit(
    world, sms_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        msg = services.send_message(
            channel=Channel.SMS, owner=world.owner, kind="test", body="hello"
        )
        assert Message.objects.get(pk=msg.pk).status == Status.PENDING
        assert sms_outbox == []  # nothing leaves before commit
    assert len(callbacks) == 1
    msg.refresh_from_db()
    assert msg.status == Status.SENT and msg.attempts == 1 and msg.sent_at is not None
    assert sms_outbox == [
        {"to": world.owner.phone, "body": "hello", "reference": f"m4s-msg-{msg.pk}"}
    ]


@pytest.mark.django_db
def test_rolled_back_business_change_sends_nothing(
    world, sms_outbox, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.send_message(channel=Channel.SMS, owner=world.owner, kind="test", body="never")
        raise RuntimeError("business change failed")
    assert not Message.objects.exists() and sms_outbox == []


@pytest.mark.django_db
def test_retried_task_delivers_exactly_once(world, sms_outbox):
    msg = services.send_message(channel=Channel.SMS, owner=world.owner, kind="test", body="once")
    # the task queue redelivers the same job three times (at-least-once queues do this)
    results = [deliver_message_task.call(msg.pk) for _ in range(3)]
    assert results == ["sent", "skipped", "skipped"]
    assert len(sms_outbox) == 1
    msg.refresh_from_db()
    assert msg.attempts == 1


@pytest.mark.django_db
def test_email_channel_uses_django_mail(world):
    world.owner.email = "owner@example.com"
    world.owner.save()
    msg = services.send_message(
        channel=Channel.EMAIL, owner=world.owner, kind="test", subject="Hi", body="Body"
    )
    assert deliver_message_task.call(msg.pk) == "sent"
    assert deliver_message_task.call(msg.pk) == "skipped"
    assert (
        len(mail.outbox) == 1
        and mail.outbox[0].to == ["owner@example.com"]
        and mail.outbox[0].subject == "Hi"
    )


@pytest.mark.django_db
def test_failed_send_backs_off_and_retries_until_it_works(world, settings):
    settings.SMS_BACKEND = "m4s.notify.tests.test_outbox.FlakySms"
    FlakySms.failures = 2
    msg = services.send_message(
        channel=Channel.SMS, owner=world.owner, kind="test", body="retry me"
    )
    assert services.deliver_message(msg.pk) == "retry"
    msg.refresh_from_db()
    assert msg.status == Status.RETRY and "gateway timeout" in msg.last_error
    first_wait = msg.next_attempt_at - timezone.now()
    assert timedelta(seconds=25) < first_wait <= timedelta(seconds=30)
    assert services.deliver_message(msg.pk) == "skipped"  # not due yet
    Message.objects.filter(pk=msg.pk).update(next_attempt_at=timezone.now())
    assert services.deliver_message(msg.pk) == "retry"
    msg.refresh_from_db()
    assert msg.next_attempt_at - timezone.now() > timedelta(seconds=55)  # backoff doubled
    Message.objects.filter(pk=msg.pk).update(next_attempt_at=timezone.now())
    assert services.deliver_message(msg.pk) == "sent"
    msg.refresh_from_db()
    assert msg.attempts == 3 and msg.status == Status.SENT
    assert [m["body"] for m in FlakySms.outbox] == ["retry me"]


@pytest.mark.django_db
def test_gives_up_after_max_attempts(world, settings):
    settings.SMS_BACKEND = "m4s.notify.tests.test_outbox.FlakySms"
    FlakySms.failures = 100
    msg = services.send_message(channel=Channel.SMS, owner=world.owner, kind="test", body="doomed")
    outcomes = []
    for _ in range(services.MAX_ATTEMPTS):
        Message.objects.filter(pk=msg.pk).update(next_attempt_at=timezone.now())
        outcomes.append(services.deliver_message(msg.pk))
    assert outcomes[-1] == "failed" and outcomes[:-1] == ["retry"] * (services.MAX_ATTEMPTS - 1)
    msg.refresh_from_db()
    assert msg.status == Status.FAILED
    FlakySms.failures = 0


@pytest.mark.django_db
def test_dedupe_key_writes_one_message(world, sms_outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        a = services.send_message(
            channel=Channel.SMS,
            owner=world.owner,
            kind="t",
            body="x",
            dedupe_key="booking:1:confirm",
        )
        b = services.send_message(
            channel=Channel.SMS,
            owner=world.owner,
            kind="t",
            body="x",
            dedupe_key="booking:1:confirm",
        )
    assert a.pk == b.pk
    assert Message.objects.count() == 1 and len(sms_outbox) == 1


@pytest.mark.django_db
def test_sweep_requeues_lost_and_stale_messages(world, sms_outbox):
    lost = services.send_message(
        channel=Channel.SMS, owner=world.owner, kind="t", body="lost"
    )  # never enqueued
    Message.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(minutes=2))
    stale = services.send_message(channel=Channel.SMS, owner=world.owner, kind="t", body="stale")
    Message.objects.filter(pk=stale.pk).update(
        status=Status.SENDING, claimed_at=timezone.now() - timedelta(hours=1)
    )
    fresh = services.send_message(
        channel=Channel.SMS, owner=world.owner, kind="t", body="fresh"
    )  # its task is on its way
    assert services.sweep_outbox() == 2
    assert {m["body"] for m in sms_outbox} == {"lost", "stale"}
    assert Message.objects.get(pk=fresh.pk).status == Status.PENDING


@pytest.mark.django_db
def test_bad_messages_are_refused(world):
    from m4s.core.errors import DomainError

    with pytest.raises(DomainError) as e:
        services.send_message(channel=Channel.INAPP, kind="t", body="to nobody")
    assert e.value.code == "no_recipient"
    with pytest.raises(DomainError) as e:
        services.send_message(channel=Channel.EMAIL, owner=world.owner, kind="t", body="no address")
    assert e.value.code == "no_address"
    with pytest.raises(DomainError):
        services.send_message(channel="pigeon", owner=world.owner, kind="t", body="x")
    assert not Message.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_parallel_deliveries_of_one_message_send_once(world, sms_outbox, settings):
    """Four workers pick up the same job at the same moment: one sends, the others skip."""
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the race is meaningful on PostgreSQL")
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "notify"]}
    }
    msg = services.send_message(channel=Channel.SMS, owner=world.owner, kind="t", body="race")
    barrier, results = threading.Barrier(4), []

    def worker():
        barrier.wait()
        try:
            results.append(services.deliver_message(msg.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["sent", "skipped", "skipped", "skipped"]
    assert len(sms_outbox) == 1
