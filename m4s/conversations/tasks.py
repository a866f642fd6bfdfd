"""Thin periodic tasks of the conversations area. Safe to run twice or on parallel workers."""

from django_tasks import task

from . import scan


@task()
def offer_overdue_task() -> int:
    return scan.offer_overdue()


@task()
def tell_offered_task(stamp: str, offers: list, at: str = "") -> int:
    return scan.tell_offered(stamp, offers, at)
