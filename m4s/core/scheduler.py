"""Runs the periodic jobs declared in m4s.schedule when they fall due."""

import contextlib
import logging
from datetime import datetime, timedelta

from django.db import IntegrityError
from django.utils import timezone
from django.utils.module_loading import import_string

from m4s.schedule import PERIODIC_JOBS

from .models import PeriodicJobState

logger = logging.getLogger("m4s.scheduler")


def enqueue_due_jobs(
    now: datetime | None = None, jobs: dict[str, tuple[timedelta, str]] | None = None
) -> list[str]:
    """Enqueue every job whose time has come; return their names. Safe with many workers:
    a run is claimed by moving next_run_at forward with a conditional update."""
    now = now or timezone.now()
    jobs = PERIODIC_JOBS if jobs is None else jobs
    states = {s.name: s for s in PeriodicJobState.objects.filter(name__in=list(jobs))}
    enqueued = []
    for name, (every, task_path) in jobs.items():
        state = states.get(name)
        if state is None:
            with contextlib.suppress(IntegrityError):  # another worker created it first
                PeriodicJobState.objects.create(name=name, next_run_at=now)
            due_at = now
        else:
            due_at = state.next_run_at
        if due_at > now:
            continue
        claimed = PeriodicJobState.objects.filter(name=name, next_run_at=due_at).update(
            next_run_at=now + every, last_enqueued_at=now
        )
        if claimed:
            import_string(task_path).enqueue()
            enqueued.append(name)
            logger.info("Enqueued periodic job %s", name)
    return enqueued
