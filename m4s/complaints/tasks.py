"""Thin periodic tasks of the complaints area. Safe to run twice or on parallel workers."""

from django_tasks import task

from . import escalation


@task()
def scan_complaints_task() -> dict:
    return escalation.scan()


@task()
def tell_handlers_task(kind: str, stamp: str, counts: dict) -> int:
    return escalation.tell_handlers(kind, stamp, counts)
