"""`m4s serve`: M4S behind a production WSGI server.

Granian (the default, measured against gunicorn in bench/bench_http.py: see README) or gunicorn
(`--server gunicorn`, installed with the dev extra), with WEB_WORKERS processes of WEB_THREADS
threads each, bound to WEB_BIND. Static files come from WhiteNoise inside the application;
database connections from the per-process pool (settings: DB_POOL_*). The processes share one
PROMETHEUS_MULTIPROC_DIR so /metrics adds them up."""

import os
import shutil
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

SERVERS = ("granian", "gunicorn")


def server_argv(server: str, bind: str, workers: int, threads: int) -> list[str]:
    host, _, port = bind.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if server == "granian":
        return [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "wsgi",
            "--host",
            host,
            "--port",
            port,
            "--workers",
            str(workers),
            "--blocking-threads",
            str(threads),
            "--backpressure",
            str(threads * 8),  # requests a process takes in before the rest wait in the kernel
            "--respawn-failed-workers",
            "--workers-kill-timeout",
            "10",  # a worker still held by an idle keep-alive client is stopped after this
            "--no-access-log",
            "m4s.wsgi:application",
        ]
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--worker-class",
        "gthread",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--bind",
        bind,
        "--graceful-timeout",
        "30",
        "--limit-request-line",
        "8190",
        "--limit-request-fields",
        "100",
        "m4s.wsgi:application",
    ]


def prepare_metrics_dir() -> None:
    """A fresh shared directory for prometheus-client's multi-process mode (per start)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    path = settings.DATA_DIR / "prometheus" / str(os.getpid())
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)


class Command(BaseCommand):
    help = "Serve M4S with a production server (granian by default, or gunicorn)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--server", choices=SERVERS, default="granian")
        parser.add_argument("--bind", default=None, help="host:port (default WEB_BIND)")
        parser.add_argument("--workers", type=int, default=None, help="default WEB_WORKERS")
        parser.add_argument("--threads", type=int, default=None, help="default WEB_THREADS")
        parser.add_argument(
            "--no-collectstatic", action="store_true", help="Do not collect static files first."
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        bind = opts["bind"] or settings.WEB_BIND
        if ":" not in bind:
            raise CommandError(f"--bind {bind!r} must be host:port")
        workers = opts["workers"] or settings.WEB_WORKERS
        threads = opts["threads"] or settings.WEB_THREADS
        if settings.IS_POSTGRES and threads > settings.DB_POOL_MAX_SIZE:
            self.stderr.write(
                f"WEB_THREADS={threads} is more than DB_POOL_MAX_SIZE={settings.DB_POOL_MAX_SIZE}: "
                "threads may wait for a connection."
            )
        if not opts["no_collectstatic"]:
            call_command("collectstatic", interactive=False, verbosity=0)
        prepare_metrics_dir()
        os.environ.setdefault("DB_POOL", "1")  # the server's processes borrow from a pool
        argv = server_argv(opts["server"], bind, workers, threads)
        self.stdout.write(
            f"M4S on http://{bind}/ ({opts['server']}, {workers} workers × {threads} threads)"
        )
        self.stdout.flush()
        sys.stderr.flush()
        os.execv(argv[0], argv)  # noqa: S606  the server takes over this process and its signals
