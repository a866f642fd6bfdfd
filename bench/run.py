"""M4S benchmarks (not part of the test suite).

    .venv/bin/python bench/run.py [--db sqlite|postgres|both] [--quick] [--only inbox,outbox,signin]

Each benchmark runs in a child process of this script with its own throwaway database (SQLite:
a file in a temporary M4S_DATA_DIR; PostgreSQL: a database m4s_bench_<child pid> created on the
'postgres' database and dropped at the end, even on failure), so settings are imported fresh for
every run. The child migrates, bulk-loads its data, measures, and hands its result back as JSON;
this process prints one Markdown table per database and (unless --quick) writes it to
bench/RESULTS.md, replacing only the section of the database(s) just run.

Extra benchmarks run only when named: `--only search [--customers 1000000]` (bench/bench_search.py)
seeds that many customers with cars and times the staff customer search; it is PostgreSQL-only above
100,000 customers and records its own section of bench/RESULTS.md. `--only slots,booking`
(bench/bench_service.py): the service slot search and 8 parallel booking clients on a busy
workshop, each in its own section too. `--only earn,redeem` (bench/bench_loyalty.py): loyalty earning
with 8 parallel clients and reward redemption latency (plus 8 processes redeeming for one member),
each in its own section. `--only ingest,crash,mileage --db postgres` (bench/bench_telematics.py,
PostgreSQL-only): telemetry ingest over HTTP and MQTT against a COPY baseline, crash alarm to
console latency under normal traffic, and the mileage-forecast recompute for many cars; each in
its own section.

PostgreSQL is reached at BENCH_PG_URL (default postgresql://postgres@127.0.0.1:5432).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
RESULTS = BENCH_DIR / "RESULTS.md"
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432").rstrip("/")
BENCHMARKS = ("inbox", "outbox", "signin")
CHILD_TIMEOUT = 240  # seconds; a hard stop on top of each benchmark's own time budgets
EXTRA_BENCHMARKS = (
    "search",
    "slots",
    "booking",
    "earn",
    "redeem",
    "ingest",
    "crash",
    "mileage",
    "gb32960",
)  # run only when named in --only
CHILD_TIMEOUTS = {
    "search": 2700,
    "slots": 600,
    "booking": 600,
    "earn": 1500,  # the migration alone took 440 s on the shared, loaded machine
    "redeem": 600,
    "ingest": 1800,
    "crash": 900,
    "mileage": 3600,
    "gb32960": 1200,
}  # seconds, where CHILD_TIMEOUT is too short
POSTGRES_ONLY = ("ingest", "crash", "mileage", "gb32960")
PRODUCTION_TASK_BACKEND = (
    "ingest",
    "gb32960",
    "crash",
    "earn",  # the earn's follow-up is a deferred batch task, run by the bench after the earns
)  # the database queue, as deployed, not "immediate"
SEARCH_SQLITE_MAX = 100_000  # customers; more is PostgreSQL-only
DB_LABELS = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


# --- small helpers ---------------------------------------------------------------------------


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S', time.gmtime())}Z] {msg}", file=sys.stderr, flush=True)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def timed_loop(items, fn, budget: float) -> tuple[list[float], float]:
    """Call fn(item) for each item, timing each call; stop early once `budget` seconds pass.

    Returns (per-call seconds, total seconds)."""
    latencies: list[float] = []
    start = time.perf_counter()
    for item in items:
        t0 = time.perf_counter()
        fn(item)
        latencies.append(time.perf_counter() - t0)
        if t0 - start > budget:
            break
    return latencies, time.perf_counter() - start


def fmt_ms(seconds: float) -> str:
    ms = seconds * 1000
    return f"{ms:,.2f}" if ms < 100 else f"{ms:,.0f}"


def fmt_rate(per_second: float) -> str:
    return f"{per_second:,.1f}" if per_second < 100 else f"{per_second:,.0f}"


def latency_summary(latencies: list[float]) -> str:
    return (
        f"p50 {fmt_ms(percentile(latencies, 50))} ms · p95 {fmt_ms(percentile(latencies, 95))} ms"
    )


def pg_admin_connect():
    import psycopg

    return psycopg.connect(f"{PG_URL}/postgres", autocommit=True, connect_timeout=10)


def pg_create(name: str) -> None:
    from psycopg import sql

    with pg_admin_connect() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def pg_drop(name: str) -> None:
    from psycopg import sql

    with pg_admin_connect() as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


# --- the benchmarks (run inside a child, after django.setup() and migrate) -----------------------


def _analyze() -> None:
    """On PostgreSQL, VACUUM ANALYZE after a bulk load or an index change: fresh planner
    statistics and visibility map, and no autovacuum competing with the measurement. SQLite is
    left as Django leaves it: no ANALYZE, so its planner uses its built-in heuristics."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def _drop_index(name: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")


def _owner_fk_index() -> str:
    """The plain index Django creates for Message.owner (a ForeignKey gets one by default)."""
    from django.db import connection

    from m4s.notify.models import Message

    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Message._meta.db_table)
    for name, info in constraints.items():
        if (
            info["index"]
            and not info["unique"]
            and not info["primary_key"]
            and info["columns"] == ["owner_id"]
        ):
            return name
    raise RuntimeError("no index on notify_message.owner_id found")


def _bulk_create(model, objs, batch_size: int = 5000) -> None:
    from django.db import transaction

    with transaction.atomic():
        for i in range(0, len(objs), batch_size):
            model.objects.bulk_create(objs[i : i + batch_size], batch_size=batch_size)


def bench_inbox(scale: int) -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from m4s.identity.models import ApiToken
    from m4s.identity.services import issue_token
    from m4s.notify import selectors
    from m4s.notify.choices import Channel, Status
    from m4s.notify.models import Message
    from m4s.owners.models import Owner

    n_owners, per_owner, n_requests = 2000 // scale, 100, 300 // scale
    n_messages = n_owners * per_owner
    t0 = time.perf_counter()
    _bulk_create(Owner, [Owner(phone=f"+86138{i:08d}", name=f"Owner {i}") for i in range(n_owners)])
    owner_ids = list(Owner.objects.order_by("id").values_list("id", flat=True))
    base = timezone.now() - dt.timedelta(days=30)
    rows = []
    for i in range(n_messages):  # round-robin, so one owner's rows are spread over the whole table
        at = base + dt.timedelta(seconds=10 * i)
        rows.append(
            Message(
                channel=Channel.INAPP,
                owner_id=owner_ids[i % n_owners],
                kind="system",
                subject=f"Notice {i}",
                body=f"Your car's service reminder number {i}.",
                link="/app/",
                status=Status.SENT,
                attempts=1,
                next_attempt_at=at,
                created_at=at,
                sent_at=at,
                read_at=at if i % 10 < 7 else None,  # 70 % read
            )
        )
    _bulk_create(Message, rows)
    del rows
    load_seconds = time.perf_counter() - t0
    log(f"inbox: loaded {n_messages:,} messages for {n_owners:,} owners in {load_seconds:.1f} s")

    rng = random.Random(4242)
    sample = rng.sample(owner_ids, n_requests)
    owners = Owner.objects.in_bulk(sample)
    tokens = [issue_token(owner=owners[pk]) for pk in sample]
    # Steady state: a token's throttled last_used_at write has already happened.
    ApiToken.objects.update(last_used_at=timezone.now())
    client = Client(SERVER_NAME="localhost")

    def get_page(token: str) -> None:
        response = client.get(
            "/api/v1/me/inbox", {"limit": 20}, HTTP_AUTHORIZATION=f"Bearer {token}"
        )
        if response.status_code != 200 or len(response.json()["items"]) != 20:
            raise RuntimeError(
                f"inbox: unexpected response {response.status_code} {response.content[:300]!r}"
            )

    # The exact SQL of the two queries the page runs (its page of 21 and the unread count), as
    # executed for each sampled owner; replayed raw below to time the database's share of a
    # request without HTTP, auth and ORM overhead.
    raw_queries = []
    for pk in sample:
        with CaptureQueriesContext(connection) as captured:
            list(selectors.list_inbox(owner=owners[pk]).order_by("-id")[:21])
            selectors.count_unread(owner=owners[pk])
        raw_queries.append([q["sql"] for q in captured.captured_queries])

    def run_sql(queries) -> None:
        with connection.cursor() as cursor:
            for sql in queries:
                cursor.execute(sql)
                cursor.fetchall()

    def plan() -> str:
        # A new connection: SQLite computes EXPLAIN output when the statement is prepared, and a
        # statement cached before DROP INDEX would still show the dropped index.
        connection.close()
        explain = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
        out = []
        with connection.cursor() as cursor:
            for title, sql in zip(("page query", "unread count"), raw_queries[0], strict=True):
                cursor.execute(explain + sql)
                lines = [" ".join(str(c) for c in row) for row in cursor.fetchall()]
                out.append(f"-- {title}\n" + "\n".join(lines))
        return "\n".join(out)

    def measure(label: str) -> dict:
        _analyze()
        for token in tokens[:5]:  # warm-up: connection, caches, first-request imports
            get_page(token)
        latencies, total = timed_loop(tokens, get_page, budget=15)
        log(f"inbox [{label}]: {len(latencies)} requests, {latency_summary(latencies)}")
        sql_latencies, _total = timed_loop(raw_queries, run_sql, budget=5)
        log(f"inbox [{label}]: SQL only, {latency_summary(sql_latencies)}")
        summary = latency_summary(latencies)
        if len(latencies) < len(tokens):
            summary += f" ({len(latencies)} of {len(tokens)} GETs, 15 s budget)"
        return {
            "summary": summary,
            "n": len(latencies),
            "plan": plan(),
            "sql": f"{label}: {latency_summary(sql_latencies)} ({len(sql_latencies)} owners)",
        }

    index = next(i for i in Message._meta.indexes if i.name == "msg_owner_inbox")
    index_def = ", ".join(("-" if order else "") + f for f, order in index.fields_orders)
    with_index = measure("with msg_owner_inbox")
    _drop_index("msg_owner_inbox")
    without_composite = measure("msg_owner_inbox dropped")
    fk_index = _owner_fk_index()
    _drop_index(fk_index)
    without_any = measure("no owner index at all")

    data = f"{n_messages:,} in-app msgs / {n_owners:,} owners; {len(tokens)} GETs (limit=20)"
    return {
        "rows": [
            {
                "benchmark": "1. Owner inbox page (`GET /api/v1/me/inbox?limit=20`)",
                "data": data,
                "m4s": with_index["summary"],
                "baseline": "same requests after `DROP INDEX msg_owner_inbox`",
                "baseline_result": without_composite["summary"],
            },
            {
                "benchmark": "1b. Owner inbox page, no owner index at all",
                "data": data,
                "m4s": with_index["summary"],
                "baseline": f"also drop Django's FK index on owner_id (`{fk_index}`)",
                "baseline_result": without_any["summary"],
            },
        ],
        "notes": {
            "lines": [
                f"Inbox: msg_owner_inbox is ({index_def}); the page orders by -id.",
                f"Inbox bulk load: {n_messages:,} messages in {load_seconds:.1f} s.",
                "Inbox SQL only (page + unread count, raw cursor): "
                + "; ".join(v["sql"] for v in (with_index, without_composite, without_any))
                + ".",
            ],
            "plans": {
                "with msg_owner_inbox": with_index["plan"],
                "msg_owner_inbox dropped": without_composite["plan"],
                "no owner index at all": without_any["plan"],
            },
        },
    }


def bench_outbox(scale: int) -> dict:
    from django.conf import settings
    from django.utils import timezone
    from django.utils.module_loading import import_string

    from m4s.notify import services
    from m4s.notify.choices import Channel, Status
    from m4s.notify.models import Message
    from m4s.notify.sms import MemorySmsBackend

    n = 5000 // scale
    now = timezone.now() - dt.timedelta(seconds=1)
    rows = [
        Message(
            channel=Channel.SMS,
            to_address=f"+86137{i:08d}",
            kind="system",
            body=f"M4S: your car is ready for pick-up at Alpha North (job {i}).",
            status=Status.PENDING,
            next_attempt_at=now,
            created_at=now,
        )
        for i in range(n)
    ]
    _bulk_create(Message, rows)
    ids = list(Message.objects.order_by("id").values_list("id", flat=True))
    _analyze()
    MemorySmsBackend.outbox.clear()

    outcomes: list[str] = []
    latencies, total = timed_loop(
        ids, lambda pk: outcomes.append(services.deliver_message(pk)), budget=90
    )
    sent = Message.objects.filter(status=Status.SENT).count()
    if (
        set(outcomes) != {"sent"}
        or sent != len(latencies)
        or len(MemorySmsBackend.outbox) != len(latencies)
    ):
        raise RuntimeError(
            f"outbox: outcomes {set(outcomes)}, {sent} sent rows, {len(MemorySmsBackend.outbox)} texts"
        )
    m4s_rate = len(latencies) / total
    log(
        f"outbox: {len(latencies)} delivered, {m4s_rate:,.0f}/s, p95 {fmt_ms(percentile(latencies, 95))} ms"
    )

    MemorySmsBackend.outbox.clear()
    backend = import_string(settings.SMS_BACKEND)()
    base_lat, base_total = timed_loop(
        [(r.to_address, r.body, f"fire-{i}") for i, r in enumerate(rows)],
        lambda item: backend.send(to=item[0], body=item[1], reference=item[2]),
        budget=30,
    )
    base_rate = len(base_lat) / base_total
    log(f"outbox baseline: {len(base_lat)} direct sends, {base_rate:,.0f}/s")
    return {
        "rows": [
            {
                "benchmark": "2. Outbox delivery (`services.deliver_message`, SMS)",
                "data": f"{len(latencies):,} pending SMS rows",
                "m4s": f"{fmt_rate(m4s_rate)} msg/s (p95 {fmt_ms(percentile(latencies, 95))} ms)",
                "baseline": "`SmsBackend.send()` called directly, no outbox bookkeeping",
                "baseline_result": f"{fmt_rate(base_rate)} msg/s",
            }
        ],
        "notes": {"lines": [f"Outbox delivery through {settings.SMS_BACKEND}."]},
    }


def bench_signin(scale: int) -> dict:
    from django.contrib.auth import authenticate
    from django.contrib.auth.hashers import get_hasher

    from m4s.identity.services import issue_token, request_otp, verify_otp
    from m4s.notify.choices import Status
    from m4s.notify.models import Message
    from m4s.notify.sms import MemorySmsBackend
    from m4s.owners.models import Owner
    from m4s.staff.choices import Role
    from m4s.staff.services import create_staff

    n = 500 // scale
    MemorySmsBackend.outbox.clear()

    def sign_in(i: int) -> None:
        phone = f"+86139{i:08d}"
        issued = request_otp(phone, ip=f"10.0.{i // 250}.{i % 250}")
        owner = verify_otp(phone, issued.code)
        issue_token(owner=owner)

    sign_in(n + 1)  # warm-up (first-use imports, phone metadata), not counted
    latencies, total = timed_loop(range(n), sign_in, budget=90)
    owners = Owner.objects.count() - 1
    texts = len(MemorySmsBackend.outbox) - 1
    sent = Message.objects.filter(kind="otp", status=Status.SENT).count() - 1
    if not owners == texts == sent == len(latencies):
        raise RuntimeError(
            f"signin: {len(latencies)} sign-ins but {owners} owners, {texts} texts, {sent} sent rows"
        )
    m4s_rate = len(latencies) / total
    log(
        f"signin: {len(latencies)} sign-ins, {m4s_rate:,.1f}/s, p95 {fmt_ms(percentile(latencies, 95))} ms"
    )

    password = "correct-horse-battery"
    user = create_staff(username="bench-staff", password=password, role=Role.PLATFORM_ADMIN)
    hasher = get_hasher()

    def staff_sign_in(_i: int) -> None:
        if authenticate(username=user.username, password=password) is None:
            raise RuntimeError("signin baseline: authenticate() failed")

    budget = 60 if scale == 1 else 8
    base_lat, base_total = timed_loop(range(n), staff_sign_in, budget=budget)
    base_rate = len(base_lat) / base_total
    capped = len(base_lat) < n
    log(f"signin baseline: {len(base_lat)} authenticate() calls, {base_rate:,.2f}/s")
    iterations = getattr(hasher, "iterations", None)
    hasher_label = (
        f"{hasher.algorithm}, {iterations:,} iterations" if iterations else hasher.algorithm
    )
    baseline_data = (
        f"{len(base_lat)} of {n} calls (stopped at the {budget} s budget)"
        if capped
        else f"{n} calls"
    )
    return {
        "rows": [
            {
                "benchmark": "3. Owner sign-in (`request_otp` → `verify_otp` → `issue_token`)",
                "data": f"{len(latencies):,} distinct phones & IPs",
                "m4s": f"{fmt_rate(m4s_rate)} sign-ins/s ({latency_summary(latencies)})",
                "baseline": f"Django `authenticate()` staff username/password ({hasher_label}); {baseline_data}",
                "baseline_result": f"{base_rate:,.2f} sign-ins/s ({latency_summary(base_lat)})",
            }
        ],
        "notes": {
            "lines": [f"Sign-in: {owners} owners created, {texts} OTP texts delivered at commit."]
        },
    }


def bench_search(scale: int) -> dict:
    """Benchmark 4 (bench/bench_search.py): customer search over M4S_BENCH_CUSTOMERS seeded customers."""
    from bench_search import bench_search as search

    return search(scale, customers=int(os.environ.get("M4S_BENCH_CUSTOMERS", "1000000")))


def bench_slots(scale: int) -> dict:
    """Benchmark 5 (bench/bench_service.py): the service slot search against a naive one."""
    from bench_service import bench_slots as slots

    return slots(scale)


def bench_booking(scale: int) -> dict:
    """Benchmark 6 (bench/bench_service.py): 8 parallel booking clients, with and without the lock."""
    from bench_service import bench_booking as booking

    return booking(scale)


def bench_earn(scale: int) -> dict:
    """Benchmark 7 (bench/bench_loyalty.py): loyalty earning with 8 parallel clients."""
    from bench_loyalty import bench_earn as earn

    return earn(scale)


def bench_redeem(scale: int) -> dict:
    """Benchmark 8 (bench/bench_loyalty.py): reward redemption latency and a parallel race."""
    from bench_loyalty import bench_redeem as redeem

    return redeem(scale)


def bench_ingest(scale: int) -> dict:
    """Benchmark 9 (bench/bench_telematics.py): telemetry ingest over HTTP and MQTT vs COPY."""
    from bench_telematics import bench_ingest as ingest

    return ingest(scale)


def bench_crash(scale: int) -> dict:
    """Benchmark 10 (bench/bench_telematics.py): crash alarm → console under normal traffic."""
    from bench_telematics import bench_crash as crash

    return crash(scale)


def bench_mileage(scale: int) -> dict:
    """Benchmark 11 (bench/bench_telematics.py): mileage forecasts for every car, set-based."""
    from bench_forecast import bench_mileage as mileage

    return mileage(scale)


def bench_gb32960(scale: int) -> dict:
    """GB/T 32960 ingest over TCP vs COPY (bench/bench_gb32960.py)."""
    from bench_gb32960 import bench_gb32960 as gb32960

    return gb32960(scale)


BENCH_FUNCS = {
    "inbox": bench_inbox,
    "outbox": bench_outbox,
    "signin": bench_signin,
    "search": bench_search,
    "slots": bench_slots,
    "booking": bench_booking,
    "earn": bench_earn,
    "redeem": bench_redeem,
    "ingest": bench_ingest,
    "crash": bench_crash,
    "mileage": bench_mileage,
    "gb32960": bench_gb32960,
}


def child_main(args) -> int:
    """Run one benchmark against a fresh database; write the result as JSON to args.out."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so `finally` drops the database
    data_dir = tempfile.mkdtemp(prefix="m4s-bench-")
    pg_name = f"m4s_bench_{os.getpid()}" if args.db == "postgres" else None
    django_ready = False
    try:
        if pg_name:
            pg_create(pg_name)
            os.environ["DATABASE_URL"] = f"{PG_URL}/{pg_name}"
        else:
            os.environ["DATABASE_URL"] = f"sqlite:///{data_dir}/bench.sqlite3"
        os.environ.update(
            DJANGO_SETTINGS_MODULE="m4s.settings",
            M4S_DATA_DIR=data_dir,
            DEBUG="0",
            TASK_BACKEND="db" if args.bench in PRODUCTION_TASK_BACKEND else "immediate",
            SMS_BACKEND="m4s.notify.sms.MemorySmsBackend",
            LOG_LEVEL="WARNING",
        )
        os.environ.pop(
            "REDIS_URL", None
        )  # local-memory cache: nothing shared with a real deployment
        import django

        django.setup()
        django_ready = True
        from django.core.management import call_command
        from django.db import connection

        t0 = time.perf_counter()
        call_command("migrate", verbosity=0)
        log(f"{args.bench} on {args.db}: migrated in {time.perf_counter() - t0:.1f} s")
        result = BENCH_FUNCS[args.bench](10 if args.quick else 1)
        with connection.cursor():
            pass
        if connection.vendor == "postgresql":
            major, minor = divmod(connection.pg_version, 10000)
            result["db_version"] = f"PostgreSQL {major}.{minor}"
        else:
            import sqlite3

            result["db_version"] = f"SQLite {sqlite3.sqlite_version}"
        Path(args.out).write_text(json.dumps(result))
        return 0
    finally:
        if django_ready:
            from django.db import connections

            connections.close_all()
        if pg_name:
            pg_drop(pg_name)
        shutil.rmtree(data_dir, ignore_errors=True)


# --- the parent: runs children, prints and records the tables -----------------------------------


def run_child(bench: str, db: str, quick: bool) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        out_path = out.name
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        bench,
        "--db",
        db,
        "--out",
        out_path,
    ]
    if quick:
        cmd.append("--quick")
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO)  # noqa: S603 (our own script)
    try:
        try:
            code = proc.wait(timeout=CHILD_TIMEOUTS.get(bench, CHILD_TIMEOUT))
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            limit = CHILD_TIMEOUTS.get(bench, CHILD_TIMEOUT)
            raise RuntimeError(
                f"{bench} on {db} took longer than {limit} s and was stopped"
            ) from None
        if code != 0:
            raise RuntimeError(f"{bench} on {db} failed (exit {code})")
        result = json.loads(Path(out_path).read_text())
        result["seconds"] = round(time.perf_counter() - started, 1)
        result["name"] = bench
        log(f"{bench} on {db}: done in {result['seconds']} s")
        return result
    finally:
        if db == "postgres":
            pg_drop(f"m4s_bench_{proc.pid}")  # in case the child died before its own cleanup
        Path(out_path).unlink(missing_ok=True)


def source_version() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "m4s"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown commit"
    return f"commit {head}" + (" + uncommitted changes under m4s/" if dirty else "")


def machine() -> str:
    cpu = ""
    try:
        match = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        cpu = f" ({match.group(1).strip()})" if match else ""
    except OSError:
        pass
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"nproc {nproc}{cpu}, Python {platform.python_version()}, {platform.system()} {platform.machine()}"


def table(rows: list[dict]) -> str:
    lines = [
        "| benchmark | data | M4S result | baseline | baseline result |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        cells = [r["benchmark"], r["data"], r["m4s"], r["baseline"], r["baseline_result"]]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def section(db: str, results: list[dict], quick: bool, title: str = "") -> str:
    rows = [row for r in results for row in r["rows"]]
    version = results[0]["db_version"] if results else DB_LABELS[db]
    when = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    head = f"{DB_LABELS[db]} — {version}{title}{' (quick run: data / 10)' if quick else ''}"
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    meta = f"Run {when} on {machine()}; database {version}; {source_version()}; load average at the end {load}."
    return f"### {head}\n\n{meta}\n\n{table(rows)}\n"


def notes_block(results: list[dict]) -> str:
    lines = [f"- {line}" for r in results for line in r.get("notes", {}).get("lines", [])]
    lines += [
        f"- {r['name']}: {r['seconds']} s wall-clock including migrate and load." for r in results
    ]
    return "Notes:\n\n" + "\n".join(lines) + "\n"


def plans_block(results: list[dict]) -> str:
    out = []
    for r in results:
        for label, plan in r.get("notes", {}).get("plans", {}).items():
            out.append(f"{label}:\n\n```\n{plan}\n```\n")
    if not out:
        return ""
    titles = [r["notes"]["plans_title"] for r in results if r.get("notes", {}).get("plans_title")]
    summary = titles[0] if titles else "Query plans of the inbox page's two queries"
    return f"<details><summary>{summary}</summary>\n\n" + "\n".join(out) + "\n</details>\n"


HEADER = """# M4S benchmarks

Produced by `.venv/bin/python bench/run.py` (see its docstring). Every benchmark runs against a
fresh throwaway database with DEBUG off, TASK_BACKEND=immediate and the in-memory SMS backend;
latencies are wall-clock per call in one process (no network, no concurrency).
"""


def write_results(sections: dict[str, str]) -> None:
    """Replace the sections of the databases just run; keep the others."""
    text = RESULTS.read_text() if RESULTS.exists() else HEADER
    for db, body in sections.items():
        block = f"<!-- bench:{db} -->\n{body}<!-- /bench:{db} -->\n"
        pattern = re.compile(rf"<!-- bench:{db} -->\n.*?<!-- /bench:{db} -->\n", re.S)
        text = (
            pattern.sub(lambda _m, b=block: b, text)
            if pattern.search(text)
            else text.rstrip("\n") + "\n\n" + block
        )
    RESULTS.write_text(text)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Run the M4S benchmarks.")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument(
        "--quick", action="store_true", help="data sizes / 10 (smoke run; RESULTS.md is left alone)"
    )
    parser.add_argument(
        "--only",
        default=",".join(BENCHMARKS),
        help="comma-separated subset of " + ",".join(BENCHMARKS + EXTRA_BENCHMARKS),
    )
    parser.add_argument(
        "--customers",
        type=int,
        default=1_000_000,
        help="search benchmark: customers to seed (default 1,000,000; at most 100,000 on SQLite)",
    )
    parser.add_argument("--child", choices=BENCHMARKS + EXTRA_BENCHMARKS, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        args.bench = args.child
        return child_main(args)

    benches = [b.strip() for b in args.only.split(",") if b.strip()]
    unknown = set(benches) - set(BENCHMARKS) - set(EXTRA_BENCHMARKS)
    os.environ["M4S_BENCH_CUSTOMERS"] = str(args.customers)  # read by the search child
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    sections, failures = {}, []
    for db in dbs:
        results = []
        for bench in benches:
            customers = args.customers // (10 if args.quick else 1)
            if bench in POSTGRES_ONLY and db != "postgres":
                log(f"{bench} on {db}: skipped, PostgreSQL-only")
                continue
            if bench == "search" and db == "sqlite" and customers > SEARCH_SQLITE_MAX:
                log(
                    f"search on sqlite: skipped, {customers:,} customers is PostgreSQL-only "
                    f"(use --customers {SEARCH_SQLITE_MAX} or fewer for SQLite)"
                )
                continue
            log(f"running {bench} on {db}{' (quick)' if args.quick else ''}")
            try:
                results.append(run_child(bench, db, args.quick))
            except Exception as exc:  # report, carry on with the other benchmarks
                log(f"FAILED: {exc}")
                failures.append(str(exc))
        extra = [r for r in results if r["name"] in EXTRA_BENCHMARKS]  # each in its own section
        results = [r for r in results if r["name"] not in EXTRA_BENCHMARKS]
        if results:
            body = section(db, results, args.quick)
            print("\n" + body, flush=True)
            sections[db] = body + "\n" + notes_block(results) + "\n" + plans_block(results)
        for r in extra:
            body = section(db, [r], args.quick, title=f" · {r['name']}")
            print("\n" + body, flush=True)
            sections[f"{db}-{r['name']}"] = body + "\n" + notes_block([r]) + "\n" + plans_block([r])
    if sections and not args.quick:
        write_results(sections)
        log(f"wrote {RESULTS}")
    if failures:
        log("failures: " + "; ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
