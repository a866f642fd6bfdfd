"""Thin tasks: each loads by id or scans and calls one idempotent service function."""

from django_tasks import task

from . import services


@task()
def forecast_task(vehicle_id: int):
    services.compute_forecast(vehicle_id)


@task()
def recompute_forecasts_task():
    return services.recompute_all_forecasts()


@task()
def purge_telemetry_task():
    from .storage import purge_old_telemetry

    return purge_old_telemetry()


@task()
def ev_task(vehicle_id: int):
    from . import ev

    ev.after_reports(vehicle_id)
