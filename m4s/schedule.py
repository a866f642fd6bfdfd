"""Every periodic job of M4S, declared in one place. `m4s worker` runs them when due.

A job is a django_tasks task (dotted path) and an interval. Later areas add their jobs here.
"""

from datetime import timedelta

PERIODIC_JOBS: dict[str, tuple[timedelta, str]] = {
    "notify.sweep_outbox": (timedelta(minutes=1), "m4s.notify.tasks.sweep_outbox_task"),
    "identity.purge_expired_otps": (
        timedelta(hours=1),
        "m4s.identity.tasks.purge_expired_otps_task",
    ),
}
