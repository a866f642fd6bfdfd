"""Thin periodic tasks of the complaints area. Safe to run twice or on parallel workers."""

from django_tasks import task

from . import escalation


@task()
def scan_complaints_task() -> dict:
    return escalation.scan()
