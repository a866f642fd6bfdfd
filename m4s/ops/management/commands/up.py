"""`m4s up`: every M4S process on one machine, for a small dealer group.

Migrates, then starts and watches: `web` (`m4s serve`), `worker` (`m4s worker --no-scheduler`),
`scheduler` (`m4s scheduler`), `ingest-mqtt` when MQTT_URL is set, `jt808` when JT808_PORT
is set and `gb32960` when GB32960_PORT is. A child that exits is started again (after 1 s,
doubling up to 30 s while it keeps failing within a minute); Ctrl-C or SIGTERM stops them all
(SIGTERM, then SIGKILL after 20 s). All children share one PROMETHEUS_MULTIPROC_DIR so /metrics adds them up."""

import os
import shutil
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

STOP_GRACE = 20.0


def process_table(bind: str | None = None) -> dict[str, list[str]]:
    m4s = [sys.executable, "-m", "m4s"]
    table = {
        "web": [*m4s, "serve", *(["--bind", bind] if bind else [])],
        "worker": [*m4s, "worker", "--no-scheduler"],
        "scheduler": [*m4s, "scheduler"],
    }
    if settings.MQTT_URL:
        table["ingest-mqtt"] = [*m4s, "ingest-mqtt"]
    if settings.JT808_PORT:
        table["jt808"] = [*m4s, "jt808", "--port", str(settings.JT808_PORT)]
    if settings.GB32960_PORT:
        table["gb32960"] = [*m4s, "gb32960", "--port", str(settings.GB32960_PORT)]
    if settings.TASK_BACKEND == "immediate":
        del table["worker"]  # tasks run inside the web process
    return table


class Supervisor:
    def __init__(
        self, table: dict[str, list[str]], env: dict[str, str], out: Any, child_output: Any = None
    ) -> None:
        self.table, self.env, self.out = table, env, out
        self.child_output = child_output  # a file for the children's output (default: ours)
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.started: dict[str, float] = {}
        self.delay: dict[str, float] = dict.fromkeys(table, 1.0)
        self.due: dict[str, float] = {}
        self.stopping = False

    def say(self, text: str) -> None:
        self.out.write(f"[m4s up {time.strftime('%H:%M:%S')}] {text}\n")
        self.out.flush()

    def start(self, name: str) -> None:
        self.procs[name] = subprocess.Popen(  # noqa: S603
            self.table[name],
            env=self.env,
            start_new_session=True,
            stdout=self.child_output,
            stderr=subprocess.STDOUT if self.child_output else None,
        )
        self.started[name] = time.monotonic()
        self.say(f"{name} started (pid {self.procs[name].pid})")

    def tick(self) -> None:
        now = time.monotonic()
        for name, proc in list(self.procs.items()):
            code = proc.poll()
            if code is None:
                continue
            del self.procs[name]
            ran = now - self.started[name]
            self.delay[name] = 1.0 if ran > 60 else min(self.delay[name] * 2, 30.0)
            self.due[name] = now + self.delay[name]
            self.say(
                f"{name} exited with {code} after {ran:.0f} s; restart in {self.delay[name]:.0f} s"
            )
        for name, at in list(self.due.items()):
            if now >= at:
                del self.due[name]
                self.start(name)

    def stop(self) -> None:
        self.stopping = True
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        for name, proc in self.procs.items():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            self.say(f"{name} stopped")

    def run(self) -> None:
        for name in self.table:
            self.start(name)
        try:
            while not self.stopping:
                self.tick()
                time.sleep(0.5)
        finally:
            self.stop()


class Command(BaseCommand):
    help = "Run web, worker, scheduler (and MQTT / JT/T 808 ingest when configured) together."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default=None, help="host:port of the web server")
        parser.add_argument("--no-migrate", action="store_true")

    def handle(
        self, *args: Any, bind: str | None = None, no_migrate: bool = False, **o: Any
    ) -> None:
        if not no_migrate:
            call_command("migrate", interactive=False, verbosity=0)
        env = dict(os.environ)
        metrics_dir = settings.DATA_DIR / "prometheus" / f"up-{os.getpid()}"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        env.setdefault("PROMETHEUS_MULTIPROC_DIR", str(metrics_dir))
        supervisor = Supervisor(process_table(bind), env, self.stdout)

        def on_signal(signum: int, frame: Any) -> None:
            supervisor.stopping = True

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        supervisor.run()
