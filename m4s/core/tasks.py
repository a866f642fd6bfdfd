"""Thin tasks of the framework layer: load by id, call a function. Safe to run twice."""

from django_tasks import task

from . import hooks


@task()
def run_hook_task(delivery_id: int) -> str:
    return hooks.run_delivery(delivery_id)


@task()
def sweep_hooks_task() -> int:
    return hooks.sweep()
