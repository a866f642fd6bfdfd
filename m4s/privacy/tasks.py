"""Thin tasks: each loads by id or scans and calls one idempotent service function."""

from django_tasks import task

from . import services


@task()
def build_export_task(export_id: int):
    return services.build_export(export_id)


@task()
def erase_due_task():
    """Hourly: erasures past their cooling-off period, and exports whose build was lost."""
    return {"erased": services.erase_due(), "exports resumed": services.resume_exports()}


@task()
def enforce_retention_task():
    return services.enforce_retention()
