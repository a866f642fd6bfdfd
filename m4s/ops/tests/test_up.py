"""`m4s up` starts the processes, starts a dead one again, and stops them all on Ctrl-C.
A real run in its own data folder (SQLite, the database queue) on a free port."""

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0): read its state
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_up_runs_restarts_and_stops_everything(tmp_path):
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "MQTT_URL", "PROMETHEUS_MULTIPROC_DIR"}
    }
    env.update(
        M4S_DATA_DIR=str(tmp_path),
        TASK_BACKEND="db",
        M4S_PLAIN_HTTP="1",
        WEB_WORKERS="1",
        WEB_THREADS="2",
        JT808_PORT="0",
        PYTHONUNBUFFERED="1",
    )
    up = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "m4s", "up", "--bind", f"127.0.0.1:{port}"],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    reader = threading.Thread(
        target=lambda: lines.extend(iter(up.stdout.readline, "")), daemon=True
    )
    reader.start()

    def wait_for(pattern, timeout=300):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(lines):
                m = re.search(pattern, line)
                if m:
                    return m
            time.sleep(0.2)
        raise AssertionError(f"no {pattern!r} in:\n{''.join(lines)}")

    try:
        pids = {
            name: int(wait_for(rf"{name} started \(pid (\d+)\)").group(1))
            for name in ("web", "worker", "scheduler")
        }
        deadline = time.monotonic() + 120
        status = None
        while time.monotonic() < deadline and status != 200:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                c.request("GET", "/health/live")
                status = c.getresponse().status
            except OSError:
                time.sleep(0.5)
        assert status == 200

        os.kill(pids["worker"], signal.SIGKILL)
        wait_for(r"worker exited with -9")
        again = int(wait_for(rf"worker started \(pid (?!{pids['worker']}\))(\d+)\)").group(1))
        assert again != pids["worker"] and _alive(again)

        os.killpg(up.pid, signal.SIGINT)  # Ctrl-C in the terminal reaches the whole group
        assert up.wait(timeout=60) == 0 or up.returncode is not None
        for pid in (pids["web"], pids["scheduler"], again):
            assert not _alive(pid), pid
    finally:
        if up.poll() is None:
            os.killpg(up.pid, signal.SIGKILL)
            up.wait()
