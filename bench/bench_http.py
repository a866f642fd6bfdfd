"""Benchmark: `m4s serve` under 50 concurrent clients, granian against gunicorn, on PostgreSQL.

    .venv/bin/python bench/bench_http.py [--seconds 30] [--clients 50] [--servers granian,gunicorn]
                                         [--workers 2 --threads 8] [--no-write]

Creates a database m4s_bench_http_<pid> on BENCH_PG_URL (default postgresql://postgres@127.0.0.1:5432)
and a temporary M4S_DATA_DIR, loads the demo data (`m4s demo --no-serve`), makes a signed-in owner
session and an owner API token, then for each server starts `m4s serve --server S` (DEBUG off,
M4S_PLAIN_HTTP=1, WEB_WORKERS × WEB_THREADS, the connection pool on) and drives three targets in
turn for --seconds each with --clients threads, each holding one keep-alive connection
(http.client) and sending the next request as soon as the last answer is read:

* the owner home page `GET /app/` (session cookie),
* `GET /api/v1/me` (bearer token),
* a static file `GET /static/m4s/css/m4s.css` (WhiteNoise, the same server).

and, with --all-targets, the owner's points page `GET /app/loyalty/` and `GET /api/v1/me/loyalty`.

Reported per target: requests/s, p50/p95/p99 latency, errors (any status other than 200, or a
broken connection), and the server's CPU per request: the user + system time of every process
of the server (read from /proc before and after the target's run) over the requests answered,
so the static file is the floor of what a request costs on that server. The load generator runs on the same 2-core machine and takes CPU from the
server, so absolute numbers are a floor. The result table replaces the `bench:http` section of
bench/RESULTS.md (unless --no-write). The database is dropped at the end, even on failure.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
RESULTS = BENCH_DIR / "RESULTS.md"
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432").rstrip("/")
TARGETS = (
    ("owner home `GET /app/`", "/app/", "session"),
    ("owner points `GET /app/loyalty/`", "/app/loyalty/", "session"),
    ("`GET /api/v1/me/loyalty`", "/api/v1/me/loyalty", "token"),
    ("`GET /api/v1/me`", "/api/v1/me", "token"),
    ("static file `GET /static/m4s/css/m4s.css`", "/static/m4s/css/m4s.css", None),
)

SETUP = """
import django, json
django.setup()
from django.contrib.sessions.backends.db import SessionStore
from m4s.identity.services import issue_token
from m4s.owners.middleware import SESSION_KEY
from m4s.owners.models import Owner
owner = Owner.objects.filter(is_active=True).order_by("id").first()
s = SessionStore(); s[SESSION_KEY] = owner.pk; s.create()
print(json.dumps({"session": s.session_key, "token": issue_token(owner=owner)}))
"""


def log(msg: str) -> None:
    print(
        f"[bench-http {time.strftime('%H:%M:%S', time.gmtime())}Z] {msg}",
        file=sys.stderr,
        flush=True,
    )


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int, path: str = "/health/live", timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", path)
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"server on {port} did not answer {path}")


def drive(port: int, path: str, headers: dict, clients: int, seconds: float) -> dict:
    """`clients` threads, one keep-alive connection each, for `seconds`."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    statuses: dict[int, int] = {}
    start = threading.Barrier(clients + 1)
    stop_at = [0.0]
    lock = threading.Lock()

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        start.wait()
        while time.monotonic() < stop_at[0]:
            t0 = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                r = conn.getresponse()
                r.read()
                if r.status != 200:
                    errors[i] += 1
                    with lock:
                        statuses[r.status] = statuses.get(r.status, 0) + 1
                latencies[i].append(time.perf_counter() - t0)
                if r.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            except (OSError, http.client.HTTPException):
                errors[i] += 1
                with lock:
                    statuses[-1] = statuses.get(-1, 0) + 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    stop_at[0] = time.monotonic() + seconds
    t0 = time.monotonic()
    start.wait()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    flat = [x for lst in latencies for x in lst]
    return {
        "requests": len(flat),
        "rps": len(flat) / wall,
        "p50": percentile(flat, 50),
        "p95": percentile(flat, 95),
        "p99": percentile(flat, 99),
        "errors": sum(errors),
        "statuses": {str(k): v for k, v in statuses.items()},
    }


def server_cpu(pgid: int) -> float:
    """CPU seconds (user + system) used so far by the processes of one process group."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields[2] is pgrp (the 5th field of stat)
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def pg(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_URL}/postgres", autocommit=True) as c:
        c.execute(sql)


def server_version() -> str:
    import psycopg

    with psycopg.connect(f"{PG_URL}/postgres") as c:
        return c.execute("SHOW server_version").fetchone()[0].split()[0]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--servers", default="granian,gunicorn")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--all-targets", action="store_true", help="also the loyalty page and API")
    ap.add_argument("--label", default="", help="a note for the table (e.g. 'before')")
    args = ap.parse_args()
    targets = [t for t in TARGETS if args.all_targets or "loyalty" not in t[1]]

    db = f"m4s_bench_http_{os.getpid()}"
    data = Path(tempfile.mkdtemp(prefix="m4s-bench-http-"))
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "DJANGO_SETTINGS_MODULE": "m4s.settings",
        "DATABASE_URL": f"{PG_URL}/{db}",
        "M4S_DATA_DIR": str(data),
        "DEBUG": "0",
        "M4S_PLAIN_HTTP": "1",
        "TASK_BACKEND": "db",
        "WEB_WORKERS": str(args.workers),
        "WEB_THREADS": str(args.threads),
        "LOG_LEVEL": "WARNING",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    pg(f"CREATE DATABASE {db}")
    rows = []
    try:
        log(f"database {db}: migrating and loading the demo data")
        subprocess.run(
            [sys.executable, "-m", "m4s", "demo", "--no-serve"],
            env=env,
            check=True,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
        )
        creds = json.loads(
            subprocess.run(
                [sys.executable, "-c", SETUP],
                env=env,
                check=True,
                cwd=REPO,
                capture_output=True,
                text=True,
            ).stdout
        )
        auth = {
            "session": {"Cookie": f"sessionid={creds['session']}"},
            "token": {"Authorization": f"Bearer {creds['token']}"},
            None: {},
        }
        for server in args.servers.split(","):
            port = free_port()
            log(f"{server}: {args.workers} workers × {args.threads} threads on port {port}")
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "m4s",
                    "serve",
                    "--server",
                    server,
                    "--bind",
                    f"127.0.0.1:{port}",
                ],
                env=env,
                cwd=REPO,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
            try:
                wait_for(port)
                for label, path, kind in targets:
                    drive(port, path, {**auth[kind], "Accept-Language": "zh-hans"}, 10, 2)  # warm
                    log(f"{server}: {path} for {args.seconds:.0f} s, {args.clients} clients")
                    cpu0 = server_cpu(proc.pid)
                    r = drive(
                        port,
                        path,
                        {**auth[kind], "Accept-Language": "zh-hans"},
                        args.clients,
                        args.seconds,
                    )
                    r["cpu_ms"] = (server_cpu(proc.pid) - cpu0) * 1000 / max(r["requests"], 1)
                    log(
                        f"  {r['rps']:.0f} req/s p50 {r['p50'] * 1000:.0f} ms p99 "
                        f"{r['p99'] * 1000:.0f} ms errors {r['errors']} {r['statuses']} "
                        f"server CPU {r['cpu_ms']:.2f} ms/request"
                    )
                    rows.append({"server": server, "target": label, **r})
            finally:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
        version = server_version()
    finally:
        pg(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        shutil.rmtree(data, ignore_errors=True)

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    lines = [
        "<!-- bench:http -->",
        f"### `m4s serve` under {args.clients} concurrent clients — PostgreSQL {version}"
        + (f" ({args.label})" if args.label else ""),
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC on nproc {os.cpu_count()}, "
        f"Python {platform.python_version()}; commit {commit}; {args.workers} workers × "
        f"{args.threads} threads, connection pool on, DEBUG off; {args.seconds:.0f} s per target; "
        f"the load generator (bench/bench_http.py, {args.clients} threads with keep-alive "
        f"connections) shares the 2 cores; load average at the end {load}.",
        "",
        "| server | target | requests/s | p50 | p95 | p99 | errors | server CPU per request |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['server']} | {r['target']} | {r['rps']:,.0f} | {r['p50'] * 1000:.1f} ms | "
            f"{r['p95'] * 1000:.1f} ms | {r['p99'] * 1000:.1f} ms | {r['errors']} of {r['requests']:,} | "
            f"{r['cpu_ms']:.2f} ms |"
        )
    lines.append("<!-- /bench:http -->")
    block = "\n".join(lines)
    print(block)
    if not args.no_write:
        text = RESULTS.read_text()
        if "<!-- bench:http -->" in text:
            head, rest = text.split("<!-- bench:http -->", 1)
            tail = rest.split("<!-- /bench:http -->", 1)[1]
            text = head + block + tail
        else:
            text = text.rstrip() + "\n\n" + block + "\n"
        RESULTS.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
