"""Thin periodic tasks: each calls one idempotent service function."""

from django_tasks import task

from . import services


@task()
def send_appointment_reminders_task():
    return services.send_appointment_reminders()


@task()
def mark_no_shows_task():
    return services.mark_no_shows()


@task()
def open_due_surveys_task():
    return services.open_due_surveys()
