"""Fault rehearsal: M4S scaled out on one machine, with faults injected mid-stream.

    .venv/bin/python bench/rehearsal.py [--cars 20] [--phase-seconds 12] [--no-write]

Starts a PostgreSQL 15, a Redis and a Mosquitto OF ITS OWN (temporary folders, free ports;
never the machine's services), loads the demo data (`m4s demo --no-serve`), then runs under a
supervisor that starts any exited process again (what `m4s up` or systemd would do):

* 2 web processes (`m4s serve`, 1 worker × 4 threads each, on two ports),
* 2 RQ workers (`m4s worker --no-scheduler`, TASK_BACKEND=rq) and 1 scheduler,
* 2 MQTT ingest processes (`m4s ingest-mqtt`, one shared subscription, distinct client ids).

Traffic: `m4s simulate --via mqtt` drives --cars cars (QoS 1, busy schedule) for the whole run,
and 8 owner clients call `GET /api/v1/me` round-robin over the two web ports; a client whose
server does not answer tries the other one once, as a load balancer would (counted as
"retried"; "failed" is a request that failed on both).

Phases, each --phase-seconds long: baseline; kill -9 one web process; kill -9 one RQ worker;
kill -9 one ingest process; restart the broker (SIGTERM, start again on the same port and
persistence file); restart the database (`pg_ctl restart -m immediate`: a crash and recovery);
then drain until the telemetry count stops moving.

Reported: telemetry messages the simulator sent and the broker acknowledged, rows stored,
duplicates (rows of one device and seq more than once: an effect applied twice), dead letters;
requests per phase (ok, retried, failed); outbox messages not delivered at the end. The table
replaces the `bench:rehearsal` section of bench/RESULTS.md (unless --no-write).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
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
PG_BIN = Path("/usr/lib/postgresql/15/bin")
sys.path.insert(0, str(REPO))


def log(msg: str) -> None:
    print(
        f"[rehearsal {time.strftime('%H:%M:%S', time.gmtime())}Z] {msg}",
        file=sys.stderr,
        flush=True,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            s.settimeout(1)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"nothing listens on {port}")


class Services:
    """PostgreSQL, Redis and Mosquitto in a temporary folder, on free ports."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pg_port, self.redis_port, self.mqtt_port = free_port(), free_port(), free_port()
        self.pg_dir = root / "pg"
        self.procs: dict[str, subprocess.Popen] = {}

    def _as_postgres(self, *args: str) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)

    def start_pg(self) -> None:
        subprocess.run(
            self._as_postgres(
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(self.pg_dir / "data"),
                "-l",
                str(self.pg_dir / "log"),
                "-w",
                "-o",
                f"-p {self.pg_port} -k {self.pg_dir} -c listen_addresses=127.0.0.1 "
                "-c max_connections=200",
                "start",
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def start(self) -> None:
        self.pg_dir.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.pg_dir, "postgres", "postgres")
        subprocess.run(
            self._as_postgres(
                str(PG_BIN / "initdb"),
                "-D",
                str(self.pg_dir / "data"),
                "-U",
                "postgres",
                "-A",
                "trust",
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        self.start_pg()
        (self.root / "redis").mkdir()
        self.procs["redis"] = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--dir",
                str(self.root / "redis"),
            ],
            stdout=subprocess.DEVNULL,
        )
        (self.root / "mqtt").mkdir()
        conf = self.root / "mosquitto.conf"
        conf.write_text(
            f"listener {self.mqtt_port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
            f"persistence_location {self.root / 'mqtt'}/\nuser root\n"
            "max_queued_messages 100000\n"
        )
        self.start_broker()
        for port in (self.pg_port, self.redis_port, self.mqtt_port):
            wait_port(port)

    def start_broker(self) -> None:
        self.procs["mosquitto"] = subprocess.Popen(
            ["mosquitto", "-c", str(self.root / "mosquitto.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_port(self.mqtt_port)

    def restart_broker(self) -> None:
        p = self.procs["mosquitto"]
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=30)
        time.sleep(1)
        self.start_broker()

    def restart_db(self) -> None:
        subprocess.run(
            self._as_postgres(
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(self.pg_dir / "data"),
                "-m",
                "immediate",
                "-w",
                "stop",
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        time.sleep(1)
        self.start_pg()

    def stop(self) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
        subprocess.run(
            self._as_postgres(
                str(PG_BIN / "pg_ctl"), "-D", str(self.pg_dir / "data"), "-m", "fast", "-w", "stop"
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


class Owners:
    """Owner clients calling GET /api/v1/me over the web ports, counting per phase."""

    def __init__(self, ports: list[int], token: str, clients: int = 8) -> None:
        self.ports, self.token, self.clients = ports, token, clients
        self.phase = "baseline"
        self.counts: dict[str, dict[str, int]] = {}
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [
            threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(clients)
        ]

    def _get(self, port: int) -> bool:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            c.request("GET", "/api/v1/me", headers={"Authorization": f"Bearer {self.token}"})
            ok = c.getresponse().status == 200
            c.close()
            return ok
        except (OSError, http.client.HTTPException):
            return False

    def _run(self, i: int) -> None:
        n = i
        while not self.stop.is_set():
            port = self.ports[n % len(self.ports)]
            n += 1
            outcome = "ok"
            if not self._get(port):
                outcome = "retried" if self._get(self.ports[n % len(self.ports)]) else "failed"
            with self.lock:
                row = self.counts.setdefault(self.phase, {"ok": 0, "retried": 0, "failed": 0})
                row[outcome] += 1
            time.sleep(0.05)

    def start(self) -> None:
        for t in self.threads:
            t.start()


def main() -> int:  # noqa: C901
    ap = argparse.ArgumentParser()
    ap.add_argument("--cars", type=int, default=20)
    ap.add_argument("--phase-seconds", type=float, default=12)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()

    root = Path(tempfile.mkdtemp(prefix="m4s-rehearsal-"))
    os.chmod(root, 0o755)
    services = Services(root)
    supervisor = None
    sim = None
    try:
        log(
            f"private PostgreSQL :{services.pg_port}, Redis :{services.redis_port}, "
            f"Mosquitto :{services.mqtt_port} in {root}"
        )
        services.start()
        import psycopg

        pg = f"postgresql://postgres@127.0.0.1:{services.pg_port}"
        with psycopg.connect(f"{pg}/postgres", autocommit=True) as c:
            c.execute("CREATE DATABASE m4s")
        web_ports = [free_port(), free_port()]
        env = {
            **{k: v for k, v in os.environ.items() if k not in {"PROMETHEUS_MULTIPROC_DIR"}},
            "PYTHONPATH": str(REPO),
            "DJANGO_SETTINGS_MODULE": "m4s.settings",
            "DATABASE_URL": f"{pg}/m4s",
            "REDIS_URL": f"redis://127.0.0.1:{services.redis_port}/0",
            "TASK_BACKEND": "rq",
            "MQTT_URL": f"mqtt://127.0.0.1:{services.mqtt_port}",
            "M4S_DATA_DIR": str(root / "data"),
            "M4S_PLAIN_HTTP": "1",
            "DEBUG": "0",
            "WEB_WORKERS": "1",
            "WEB_THREADS": "4",
            "LOG_LEVEL": "WARNING",
            "SMS_BACKEND": "m4s.notify.sms.ConsoleSmsBackend",
            "DB_POOL_TIMEOUT": "5",
        }
        log("loading the demo data")
        subprocess.run(
            [sys.executable, "-m", "m4s", "demo", "--no-serve"],
            env=env,
            check=True,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
        )
        token = (
            subprocess.run(
                [
                    sys.executable,
                    "-c",
                    "import django; django.setup(); from m4s.identity.services import issue_token; "
                    "from m4s.owners.models import Owner; "
                    "print(issue_token(owner=Owner.objects.order_by('id').first()))",
                ],
                env=env,
                cwd=REPO,
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "m4s.settings")
        from m4s.ops.management.commands.up import Supervisor

        m4s = [sys.executable, "-m", "m4s"]
        table = {
            "web-1": [*m4s, "serve", "--bind", f"127.0.0.1:{web_ports[0]}", "--no-collectstatic"],
            "web-2": [*m4s, "serve", "--bind", f"127.0.0.1:{web_ports[1]}", "--no-collectstatic"],
            "worker-1": [*m4s, "worker", "--no-scheduler"],
            "worker-2": [*m4s, "worker", "--no-scheduler"],
            "scheduler": [*m4s, "scheduler"],
            "ingest-1": [*m4s, "ingest-mqtt", "--client-id", "rehearsal-ingest-1"],
            "ingest-2": [*m4s, "ingest-mqtt", "--client-id", "rehearsal-ingest-2"],
        }
        subprocess.run([*m4s, "collectstatic", "--noinput", "-v0"], env=env, cwd=REPO, check=True)
        out = open(root / "supervisor.log", "w")  # noqa: SIM115
        supervisor = Supervisor(table, env, out, child_output=out)
        sup_thread = threading.Thread(target=supervisor.run, daemon=True)
        sup_thread.start()
        for port in web_ports:
            wait_port(port, timeout=120)
        time.sleep(5)  # the ingest processes subscribe

        def counts() -> tuple[int, int, int]:
            with psycopg.connect(f"{pg}/m4s") as c:
                rows, distinct = c.execute(
                    "SELECT COUNT(*), COUNT(DISTINCT (device_id, seq)) FROM telematics_telemetry"
                ).fetchone()
                dead = c.execute("SELECT COUNT(*) FROM telematics_deadletter").fetchone()[0]
            return rows, distinct, dead

        before = counts()  # the demo's history
        owners = Owners(web_ports, token)
        owners.start()
        total_minutes = 12 * 60
        sim = subprocess.Popen(
            [
                *m4s,
                "simulate",
                "--via",
                "mqtt",
                "--vehicles",
                str(args.cars),
                "--minutes",
                str(total_minutes),
                "--speedup",
                str(total_minutes * 60 / (args.phase_seconds * 6)),
                "--schedule",
                "busy",
                "-v",
                "0",
            ],
            env=env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

        def pid_of(name: str) -> int:
            return supervisor.procs[name].pid

        phases = [
            ("baseline", None),
            ("kill -9 web-1", lambda: os.killpg(pid_of("web-1"), signal.SIGKILL)),
            ("kill -9 worker-1", lambda: os.killpg(pid_of("worker-1"), signal.SIGKILL)),
            ("kill -9 ingest-1", lambda: os.killpg(pid_of("ingest-1"), signal.SIGKILL)),
            ("restart the broker", services.restart_broker),
            ("restart the database (crash)", services.restart_db),
        ]
        for name, fault in phases:
            owners.phase = name
            log(f"phase: {name}")
            if fault:
                fault()
            time.sleep(args.phase_seconds)
        owners.phase = "after"
        log("waiting for the simulator to finish")
        sim_out, sim_err = sim.communicate(timeout=900)
        log(f"simulator: {sim_out.strip()[-300:]} {sim_err.strip()[-300:]}")
        owners.stop.set()

        last, stable_since = None, time.monotonic()
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            now = counts()
            if now != last:
                last, stable_since = now, time.monotonic()
            elif time.monotonic() - stable_since > 10:
                break
            time.sleep(1)
        rows, distinct, dead = (a - b for a, b in zip(last, before, strict=True))
        with psycopg.connect(f"{pg}/m4s") as c:
            undelivered = c.execute(
                "SELECT COUNT(*) FROM notify_message WHERE status NOT IN ('sent') "
                "AND next_attempt_at <= now()"
            ).fetchone()[0]
            waiting = c.execute(
                "SELECT COUNT(*) FROM notify_message WHERE status = 'retry' AND next_attempt_at > now()"
            ).fetchone()[0]
        sent = acked = errors = None
        for part in (sim_out + "," + sim_err).replace(";", ",").split(","):
            words = part.strip().split()
            if len(words) >= 2 and words[-1].isdigit():
                if words[-2] == "sent":
                    sent = int(words[-1])
                elif words[-2] == "acked":
                    acked = int(words[-1])
                elif words[-2] == "errors":
                    errors = int(words[-1])
        restarts = (root / "supervisor.log").read_text().count("exited with")
        result = {
            "sent": sent,
            "acked": acked,
            "sim_errors": errors,
            "stored": rows,
            "duplicates": rows - distinct,
            "dead_letters": dead,
            "undelivered": undelivered,
            "retry_later": waiting,
            "requests": owners.counts,
            "restarts": restarts,
        }
        print(json.dumps(result, indent=2))
    finally:
        if sim is not None and sim.poll() is None:
            sim.kill()
        if supervisor is not None:
            supervisor.stopping = True
            time.sleep(1)
            try:
                supervisor.stop()
            except Exception as e:  # noqa: BLE001
                log(f"stopping: {e}")
        services.stop()

    lines = [
        "<!-- bench:rehearsal -->",
        "### Fault rehearsal (bench/rehearsal.py)",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC on nproc {os.cpu_count()}; "
        f"private PostgreSQL 15, Redis and Mosquitto; 2 web (`m4s serve`), 2 RQ workers, 1 "
        f"scheduler, 2 `m4s ingest-mqtt` (shared subscription) under a restarting supervisor; "
        f"{args.cars} simulated cars over MQTT QoS 1; 8 owner clients on `GET /api/v1/me`; "
        f"{args.phase_seconds:.0f} s per phase; {restarts} process restarts by the supervisor.",
        "",
        "| telemetry | sent | acknowledged by the broker | stored | duplicated | dead letters |",
        "|---|---|---|---|---|---|",
        f"| messages | {sent} | {acked} | {rows} | {rows - distinct} | {dead} |",
        "",
        "| phase | requests ok | ok after a retry on the other web | failed |",
        "|---|---|---|---|",
    ]
    for name, row in owners.counts.items():
        lines.append(f"| {name} | {row['ok']} | {row['retried']} | {row['failed']} |")
    lines += [
        "",
        f"Outbox messages due and not delivered at the end: {undelivered}; waiting for their "
        f"next retry (backoff after the database restart): {waiting}. Simulator: {errors} "
        "messages without a PUBACK within 30 s (during the broker restart; a terminal sends "
        "those again, the simulator does not).",
        "<!-- /bench:rehearsal -->",
    ]
    block = "\n".join(lines)
    print(block)
    if not args.no_write:
        text = RESULTS.read_text()
        if "<!-- bench:rehearsal -->" in text:
            head, rest = text.split("<!-- bench:rehearsal -->", 1)
            text = head + block + rest.split("<!-- /bench:rehearsal -->", 1)[1]
        else:
            text = text.rstrip() + "\n\n" + block + "\n"
        RESULTS.write_text(text)
    shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
