"""Thin tasks of the events area; each safe to run twice (dedupe keys, claimed rows, the loyalty
ledger's unique source)."""

from django_tasks import task

from . import services


@task()
def tell_signups_task(signup_ids: list[int], what: str) -> int:
    return services.tell_signups(signup_ids, what)


@task()
def checkin_points_task(signup_id: int) -> bool:
    return services.earn_checkin_points(signup_id)


@task()
def event_reminders_task() -> dict:
    """Periodic (m4s/schedule.py): the day-before reminders, and ended events marked done."""
    return {"reminded": services.send_reminders(), "closed": services.close_ended_events()}
