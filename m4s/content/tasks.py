"""Thin tasks of the content area. Safe to run twice: expiry is a set-based status change."""

from django_tasks import task

from . import services


@task()
def expire_due_task() -> int:
    """Published items whose expiry has passed → expired (m4s/schedule.py)."""
    return services.expire_due()
