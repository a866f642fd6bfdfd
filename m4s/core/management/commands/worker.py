"""`m4s worker`: runs background tasks and the periodic jobs declared in m4s/schedule.py."""

import threading
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections

from m4s.core.scheduler import enqueue_due_jobs


def _heartbeat_loop(name: str, stop: threading.Event) -> None:
    """Tells /health/ready that this worker is alive (a row per host:pid, removed at exit)."""
    from django.utils import timezone

    from m4s.core.models import WorkerHeartbeat

    started = timezone.now()
    while not stop.is_set():
        try:
            close_old_connections()
            WorkerHeartbeat.objects.update_or_create(
                name=name,
                defaults={
                    "backend": settings.TASK_BACKEND,
                    "started_at": started,
                    "beat_at": timezone.now(),
                },
            )
        except Exception:  # the database is away: the next beat tries again
            import logging

            logging.getLogger("m4s.worker").warning("Worker heartbeat failed", exc_info=True)
        finally:
            close_old_connections()
        stop.wait(settings.WORKER_HEARTBEAT_SECONDS)
    try:
        WorkerHeartbeat.objects.filter(name=name).delete()
    finally:
        close_old_connections()


def _scheduler_loop(tick: float, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            close_old_connections()
            enqueue_due_jobs()
        except Exception:  # a bad tick must not kill the worker; it is logged and retried
            import logging

            logging.getLogger("m4s.scheduler").exception("Periodic job tick failed")
        finally:
            close_old_connections()
        stop.wait(tick)


class Command(BaseCommand):
    help = "Run background tasks (and the periodic-job scheduler) until stopped."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch", action="store_true", help="Run what is queued (and due), then exit."
        )
        parser.add_argument(
            "--interval", type=float, default=1.0, help="Seconds between queue polls when idle."
        )
        parser.add_argument(
            "--no-scheduler", action="store_true", help="Do not run periodic jobs here."
        )
        parser.add_argument(
            "--tick", type=float, default=5.0, help="Seconds between periodic-job checks."
        )

    def handle(
        self,
        *args: Any,
        batch: bool = False,
        interval: float = 1.0,
        no_scheduler: bool = False,
        tick: float = 5.0,
        verbosity: int = 1,
        **options: Any,
    ) -> None:
        if settings.TASK_BACKEND == "immediate":
            raise CommandError(
                "TASK_BACKEND=immediate runs tasks in the web process; there is no queue to work."
            )
        if settings.TASK_BACKEND == "rq" and settings.IS_POSTGRES and settings.DB_POOL:
            raise CommandError(
                "DB_POOL is on: RQ forks a process per job, and a forked pool shares its "
                "connections with the parent. Run `m4s worker` without DB_POOL."
            )
        stop = threading.Event()
        beat = None
        if not batch:
            import os
            import socket

            beat = threading.Thread(
                target=_heartbeat_loop,
                args=(f"{socket.gethostname()}:{os.getpid()}", stop),
                daemon=True,
                name="m4s-heartbeat",
            )
            beat.start()
        if not no_scheduler:
            if batch:
                enqueue_due_jobs()
            else:
                threading.Thread(
                    target=_scheduler_loop, args=(tick, stop), daemon=True, name="m4s-scheduler"
                ).start()
        try:
            if settings.TASK_BACKEND == "rq":
                call_command(
                    "rqworker",
                    "default",
                    "notify",
                    burst=batch,
                    job_class="django_tasks_rq.Job",
                    verbosity=verbosity,
                )
            else:
                call_command(
                    "db_worker",
                    queue_name="*",
                    interval=interval,
                    batch=batch,
                    reload=False,
                    startup_delay=False,
                    verbosity=verbosity,
                )
        finally:
            stop.set()
            if beat is not None:
                beat.join(timeout=5)
