"""Thin tasks: the periodic cut of new telemetry into trips (idempotent, safe in parallel)."""

from django_tasks import task

from . import services


@task()
def cut_trips_task():
    return services.cut_new_telemetry()
