"""The real background path: django-tasks-db queue, `m4s worker`, periodic jobs."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from m4s.core.models import PeriodicJobState
from m4s.core.scheduler import enqueue_due_jobs
from m4s.notify import services
from m4s.notify.choices import Channel, Status
from m4s.notify.models import Message
from m4s.schedule import PERIODIC_JOBS

DB_TASKS = {
    "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "notify"]}
}


@pytest.fixture
def db_queue(settings):
    settings.TASKS = DB_TASKS


@pytest.mark.django_db(transaction=True)
def test_worker_delivers_outbox_messages_from_the_database_queue(db_queue, world, sms_outbox):
    msg = services.send_message(
        channel=Channel.SMS, owner=world.owner, kind="t", body="via the queue"
    )
    queued = DBTaskResult.objects.filter(task_path="m4s.notify.tasks.deliver_message_task")
    assert queued.count() == 1 and sms_outbox == []
    call_command("worker", batch=True, no_scheduler=True, verbosity=0)
    assert Message.objects.get(pk=msg.pk).status == Status.SENT
    assert [m["body"] for m in sms_outbox] == ["via the queue"]
    assert queued.get().status == "SUCCESSFUL"


@pytest.mark.django_db(transaction=True)
def test_worker_runs_due_periodic_jobs(db_queue, world, sms_outbox):
    lost = services.send_message(
        channel=Channel.SMS, owner=world.owner, kind="t", body="lost enqueue"
    )
    DBTaskResult.objects.all().delete()  # simulate a crash between commit and enqueue
    Message.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    call_command(
        "worker", batch=True, verbosity=0
    )  # scheduler enqueues the sweep, which requeues the message
    call_command("worker", batch=True, no_scheduler=True, verbosity=0)
    assert Message.objects.get(pk=lost.pk).status == Status.SENT
    assert set(PeriodicJobState.objects.values_list("name", flat=True)) == set(PERIODIC_JOBS)


@pytest.mark.django_db
def test_each_periodic_run_is_enqueued_once(db_queue):
    now = timezone.now()
    assert sorted(enqueue_due_jobs(now)) == sorted(PERIODIC_JOBS)
    assert enqueue_due_jobs(now) == []  # a second worker at the same moment enqueues nothing
    every_minute = sorted(
        n for n, (every, _p) in PERIODIC_JOBS.items() if every.total_seconds() <= 60
    )
    assert every_minute and sorted(enqueue_due_jobs(now + timedelta(seconds=61))) == every_minute
    longest = max(every for every, _path in PERIODIC_JOBS.values())
    assert sorted(enqueue_due_jobs(now + longest + timedelta(seconds=1))) == sorted(PERIODIC_JOBS)
    assert DBTaskResult.objects.count() == 2 * len(PERIODIC_JOBS) + len(every_minute)


@pytest.mark.django_db
def test_demo_builds_once_with_isolated_groups(capsys):
    from m4s.demo.builder import build_demo
    from m4s.org.models import DealerGroup, Store
    from m4s.staff.models import StaffUser

    call_command("demo", no_serve=True)
    assert "groupadmin" in capsys.readouterr().out
    assert build_demo() is False  # idempotent
    assert DealerGroup.objects.count() == 2 and Store.objects.unscoped().count() == 4
    other = StaffUser.objects.get(username="other-advisor")
    assert {s.dealer_group_id for s in Store.objects.for_actor(other)} == {other.dealer_group_id}
    assert set(StaffUser.objects.values_list("username", flat=True)) >= {
        "hq",
        "groupadmin",
        "manager",
        "sales",
        "advisor",
        "cs",
        "tech",
        "other-advisor",
    }
    # the insight demo: two years of facts, every customer profiled and scored, each group's
    # churn model (it learned something), a finished campaign with both arms, last month's
    # service report per store, training attempts
    from m4s.insights.models import (
        Campaign,
        ChurnModel,
        CustomerInsight,
        ServiceReport,
        StoreDay,
        StoreMonth,
    )
    from m4s.training.models import Attempt

    days = StoreDay.objects.unscoped()
    first, last = days.order_by("day").first().day, days.order_by("-day").first().day
    assert (last - first).days >= 700 and StoreMonth.objects.unscoped().count() >= 4 * 24
    scored = CustomerInsight.objects.unscoped().exclude(churn_risk=None)
    assert scored.count() > 500 and scored.exclude(reasons=[]).exists()
    assert CustomerInsight.objects.unscoped().exclude(segment="never").exists()
    models = ChurnModel.objects.unscoped().filter(active=True)
    assert models.count() == 2 and all(m.auc > 0.6 for m in models)
    campaign = Campaign.objects.unscoped().get(status="finished")
    arms = set(campaign.members.values_list("arm", flat=True))
    assert arms == {"treated", "control"}
    assert ServiceReport.objects.unscoped().values("store").distinct().count() == 4
    assert Attempt.objects.unscoped().exists()
