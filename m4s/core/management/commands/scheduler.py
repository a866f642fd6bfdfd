"""`m4s scheduler`: only the periodic-job scheduler (m4s/schedule.py), for a process model where
workers run with --no-scheduler (`m4s up`, compose.yaml). Any number may run: each run of a job
is claimed once (core/scheduler.py)."""

import contextlib
import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from .worker import _scheduler_loop


class Command(BaseCommand):
    help = "Enqueue the periodic jobs when they fall due, until stopped."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tick", type=float, default=5.0, help="Seconds between checks.")

    def handle(self, *args: Any, tick: float = 5.0, **options: Any) -> None:
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        with contextlib.suppress(KeyboardInterrupt):
            _scheduler_loop(tick, stop)
