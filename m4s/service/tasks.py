"""Thin periodic tasks: each calls one idempotent service function."""

from django_tasks import task

from . import booking, surveys


@task()
def send_appointment_reminders_task():
    return booking.send_appointment_reminders()


@task()
def mark_no_shows_task():
    return booking.mark_no_shows()


@task()
def open_due_surveys_task():
    return surveys.open_due_surveys()
