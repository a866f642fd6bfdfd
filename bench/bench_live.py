"""Benchmark: a crash received → visible on an open console page, measured in the browser, while
normal traffic flows; the live channel (server-sent events) against the polling it replaced.

    .venv/bin/python bench/bench_live.py [--crashes 100] [--rate 5000] [--modes push,poll]
                                         [--normal 200] [--no-write]

Creates a database m4s_bench_live_<pid> on BENCH_PG_URL (default postgresql://postgres@127.0.0.1:5432)
and a temporary M4S_DATA_DIR, migrates, and loads one dealer group with one store, an advisor, and
--normal + --crashes cars each with an HTTP terminal that has reported once (bench_telematics'
`make_fleet`). For each mode it starts `m4s serve` (granian, 2 workers × 8 threads, Redis for the
live channel's wake-ups, DEBUG off) and:

* normal traffic: --threads threads (4) post batches of 100 samples (4 s of a car at 25 Hz) of the normal cars to
  `POST /api/v1/telematics/ingest`, paced to --rate msgs/s (what they reach is reported);
* headless Chromium (Debian's) signs the advisor in to the console and opens the home page; a
  MutationObserver on the rescue banner notes `Date.now()` when the awaited plate appears;
* --crashes times (after WARM_UP crashes not counted): a crash message of another car is posted to the same ingest endpoint; the time
  from just before the POST until the browser shows the plate is one sample; the case is then
  closed in the database (so the banner stays short) and the next crash follows 0.3 s later.

Modes: `push` (the live channel: the banner reloads on the `rescue` event) and `poll`
(LIVE_MAX_STREAMS=0: every stream is refused, so the page polls every 2 s as the console did
before the live channel). Reported: p50/p99/max per mode, the normal traffic reached, the load.
The result replaces the `bench:live` section of bench/RESULTS.md (unless --no-write). The
database is dropped at the end, even on failure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from bench_http import free_port, log, percentile, pg, wait_for  # noqa: E402

REPO = BENCH_DIR.parent
RESULTS = BENCH_DIR / "RESULTS.md"
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432").rstrip("/")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
PASSWORD = "x-bench-password-1"
BATCH = 100
GOAL_P99 = 1.0
WARM_UP = 3  # crashes not counted: the first requests of each server process are slower

SETUP = """
import datetime as dt, json, sys
sys.path.insert(0, {bench!r})
import django
django.setup()
from django.utils import timezone
import bench_telematics as bt
from m4s.telematics import writer
w = bt.make_fleet({normal}, tag="normal", slug="live")
crash = bt.make_fleet({crashes}, tag="crash", group=w.group, store=w.store)
t0 = timezone.now() - dt.timedelta(hours=2)
for i, d in enumerate(w.devices + crash.devices):
    writer.write_batch(d, bt.messages(d.device_id, i, 0, 2, t0), via="http")
print(json.dumps({{
    "advisor": w.advisor.username,
    "normal": [d.device_id for d in w.devices],
    "crash": [[d.device_id, p] for d, p in zip(crash.devices, crash.plates)],
    "t0": t0.isoformat(),
}}))
"""

OBSERVE = """
() => {
  window.__seen = {};
  window.__want = null;
  const banner = document.getElementById("rescue-alerts");
  new MutationObserver(() => {
    const want = window.__want;
    if (want && !(want in window.__seen) && banner.textContent.includes(want)) {
      window.__seen[want] = Date.now();
    }
  }).observe(banner, { childList: true, subtree: true, characterData: true });
}
"""


def samples(device_id: str, index: int, first_seq: int, t0: float) -> bytes:
    out = []
    for k in range(BATCH):
        seq = first_seq + k
        out.append(
            {
                "device_id": device_id,
                "seq": seq,
                "ts": dt.datetime.fromtimestamp(t0 + seq * 0.04, dt.UTC).isoformat(),
                "lat": round(39.8 + (index % 100) / 500 + seq * 1e-6, 6),
                "lon": round(116.3 + seq * 1e-6, 6),
                "speed_kmh": 50.0,
                "odometer_km": round(10_000 + index + seq * 0.0005, 4),
                "odometer_source": "can",
                "ignition": True,
            }
        )
    return json.dumps(out, separators=(",", ":")).encode()


def post_ingest(conn: http.client.HTTPConnection, device_id: str, data: bytes) -> int:
    """POST a batch to the HTTP ingest as the terminal (bench_telematics' secret); the status."""
    conn.request(
        "POST",
        "/api/v1/telematics/ingest",
        body=data,
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {device_id}.bench-secret",
        },
    )
    r = conn.getresponse()
    r.read()
    return r.status


class Traffic:
    """Threads posting normal batches, paced to `rate` msgs/s in all."""

    def __init__(self, port: int, devices: list[str], rate: float, threads: int = 2):
        self.port, self.devices, self.rate = port, devices, rate
        self.stop = threading.Event()
        self.sent = 0
        self.errors = 0
        self.lock = threading.Lock()
        self.t0 = time.time() - 60  # a batch is 4 s of 25 Hz samples: about real time
        share = len(devices) // threads
        self.threads = [
            threading.Thread(
                target=self._run, args=(devices[i * share : (i + 1) * share], rate / threads)
            )
            for i in range(threads)
        ]

    def _run(self, devices: list[str], rate: float) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        seqs = dict.fromkeys(devices, 10)
        gap = BATCH / rate
        next_at, k = time.perf_counter(), 0
        while not self.stop.is_set():
            device = devices[k % len(devices)]
            k += 1
            data = samples(device, k, seqs[device], self.t0)
            seqs[device] += BATCH
            try:
                ok = post_ingest(conn, device, data) == 200
            except (OSError, http.client.HTTPException):
                ok = False
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            with self.lock:
                if ok:
                    self.sent += BATCH
                else:
                    self.errors += 1
            next_at += gap
            time.sleep(max(0.0, next_at - time.perf_counter()))

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def finish(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(30)


def crash_body(device_id: str) -> bytes:
    return json.dumps(
        [
            {
                "device_id": device_id,
                "seq": 100_000,
                "ts": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
                "lat": 39.91,
                "lon": 116.39,
                "speed_kmh": 62.0,
                "alarm": "crash",
            }
        ]
    ).encode()


def wait_in_page(page, script: str, arg, timeout: float):
    """Poll `script(arg)` in the page until it is not null (the console's CSP forbids eval, which
    Playwright's wait_for_function needs). Reading a value the page noted itself keeps the
    polling out of the measurement."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = page.evaluate(script, arg)
        if value is not None:
            return value
        time.sleep(0.02)
    raise RuntimeError(f"timed out waiting for {script}({arg!r})")


def close_cases(db: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_URL}/{db}", autocommit=True) as c:
        c.execute(
            "UPDATE telematics_rescuecase SET status = 'closed', closed_at = now() "
            "WHERE status <> 'closed'"
        )


def run_mode(mode: str, offset: int, args, env: dict, world: dict, db: str, browser) -> dict:
    port = free_port()
    mode_env = {**env, "LIVE_MAX_STREAMS": "0" if mode == "poll" else "8"}
    log(f"{mode}: m4s serve on port {port}")
    proc = subprocess.Popen(
        [sys.executable, "-m", "m4s", "serve", "--bind", f"127.0.0.1:{port}"],
        env=mode_env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    crashes = world["crash"][offset : offset + args.crashes + WARM_UP]
    latencies: list[float] = []
    try:
        wait_for(port)
        base = f"http://127.0.0.1:{port}"
        context = browser.new_context(locale="en-US")
        page = context.new_page()
        page.goto(f"{base}/console/login/")
        page.fill("input[name=username]", world["advisor"])
        page.fill("input[name=password]", PASSWORD)
        page.click("form:not(.lang-switch) button[type=submit]")
        page.wait_for_url(f"{base}/console/**")
        page.goto(f"{base}/console/")
        if mode == "push":
            wait_in_page(page, "() => document.body.dataset.live === 'up' || null", None, 15)
        page.evaluate(OBSERVE)
        traffic = Traffic(port, world["normal"], args.rate, threads=args.threads)
        traffic.start()
        time.sleep(3)  # traffic settles
        sent0, window0 = traffic.sent, time.perf_counter()
        crash_conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for n, (device_id, plate) in enumerate(crashes):
            page.evaluate("(p) => { window.__want = p; }", plate)
            data = crash_body(device_id)
            sent_at = time.time() * 1000
            status = post_ingest(crash_conn, device_id, data)
            if status != 200:
                raise RuntimeError(f"crash POST: {status}")
            seen = wait_in_page(page, "(p) => window.__seen[p] || null", plate, 30)
            if n >= WARM_UP:  # the first ones warm both server processes up
                latencies.append((seen - sent_at) / 1000)
            close_cases(db)
            time.sleep(0.3)
        window = time.perf_counter() - window0
        rate = (traffic.sent - sent0) / window
        traffic.finish()
        live_state = page.evaluate("document.body.dataset.live")
        context.close()
        load = os.getloadavg()
        log(
            f"{mode}: p50 {percentile(latencies, 50):.3f} s p99 {percentile(latencies, 99):.3f} s "
            f"max {max(latencies):.3f} s; traffic {rate:,.0f} msgs/s, {traffic.errors} errors; "
            f"channel {live_state}; load {load[0]:.1f}"
        )
        return {
            "mode": mode,
            "p50": percentile(latencies, 50),
            "p99": percentile(latencies, 99),
            "max": max(latencies),
            "n": len(latencies),
            "rate": rate,
            "errors": traffic.errors,
            "load": f"{load[0]:.1f}",
        }
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def write_results(rows: list[dict], args) -> str:
    by = {r["mode"]: r for r in rows}
    lines = [
        "<!-- bench:live -->",
        f"### Crash → open console page, in the browser ({time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, "
        f"{platform.machine()}, {os.cpu_count()} cores)",
        "",
        "| mode | crashes | p50 | p99 | max | normal traffic reached | load |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        label = (
            "live channel (SSE, Redis wake-up)"
            if r["mode"] == "push"
            else "polling every 2 s (stream refused)"
        )
        lines.append(
            f"| {label} | {r['n']} | {r['p50']:.2f} s | {r['p99']:.2f} s | {r['max']:.2f} s | "
            f"{r['rate']:,.0f} msgs/s (goal {args.rate:,}; {r['errors']} errors) | {r['load']} |"
        )
    if "push" in by and "poll" in by:
        lines.append("")
        lines.append(
            f"p99 {by['push']['p99']:.2f} s with the live channel against {by['poll']['p99']:.2f} s "
            f"polling (goal p99 ≤ {GOAL_P99:.0f} s)."
        )
    lines.append("<!-- /bench:live -->")
    section = "\n".join(lines)
    if not args.no_write:
        text = RESULTS.read_text() if RESULTS.exists() else ""
        start, end = text.find("<!-- bench:live -->"), text.find("<!-- /bench:live -->")
        if start >= 0 and end > start:
            text = text[:start] + section + text[end + len("<!-- /bench:live -->") :]
        else:
            text = text.rstrip() + "\n\n" + section + "\n"
        RESULTS.write_text(text)
    return section


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--crashes", type=int, default=100)
    ap.add_argument("--rate", type=int, default=5000)
    ap.add_argument("--normal", type=int, default=200)
    ap.add_argument("--modes", default="push,poll")
    ap.add_argument("--threads", type=int, default=4, help="normal traffic senders")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    modes = args.modes.split(",")

    db = f"m4s_bench_live_{os.getpid()}"
    data = Path(tempfile.mkdtemp(prefix="m4s-bench-live-"))
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "DJANGO_SETTINGS_MODULE": "m4s.settings",
        "DATABASE_URL": f"{PG_URL}/{db}",
        "REDIS_URL": REDIS_URL,
        "M4S_DATA_DIR": str(data),
        "DEBUG": "0",
        "M4S_PLAIN_HTTP": "1",
        "TASK_BACKEND": "db",
        "WEB_WORKERS": "2",
        "WEB_THREADS": "8",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    pg(f"CREATE DATABASE {db}")
    try:
        log(f"database {db}: migrating")
        subprocess.run(
            [sys.executable, "-m", "m4s", "migrate", "--noinput"],
            env=env,
            check=True,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
        )
        log(f"{args.normal} normal cars, {args.crashes * len(modes)} crash cars")
        world = json.loads(
            subprocess.run(
                [
                    sys.executable,
                    "-c",
                    SETUP.format(
                        bench=str(BENCH_DIR),
                        normal=args.normal,
                        crashes=(args.crashes + WARM_UP) * len(modes),
                    ),
                ],
                env=env,
                check=True,
                cwd=REPO,
                capture_output=True,
                text=True,
            ).stdout.splitlines()[-1]
        )
        from playwright.sync_api import sync_playwright

        rows = []
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=[
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                ],
            )
            for i, mode in enumerate(modes):
                offset = i * (args.crashes + WARM_UP)
                rows.append(run_mode(mode, offset, args, env, world, db, browser))
            browser.close()
        print(write_results(rows, args))
    finally:
        subprocess.run(["rm", "-rf", str(data)], check=False)
        pg(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
