"""Benchmark 4: staff customer search at scale (run through bench/run.py, not on its own).

    .venv/bin/python bench/run.py --only search --db postgres [--customers 1000000]

The child process of bench/run.py has a fresh, migrated database. Here: build_demo(), then
`m4s seed --customers N` into the demo group 'jingcheng' (timed: the seed rows of the table),
then 300 random look-ups of each kind through the real API, `GET /api/v1/staff/customers?q=...`
with a bearer token of the demo service advisor 'advisor':

* phone: a customer's full mobile number (+86...), found by equality on phone / phone2;
* plate: a full plate (京A12345), found by equality on the car's plate, then its owner;
* last4: the last four digits of a phone, matched on phone_last4 / phone2_last4.

The customers are picked at random in SQL. The baseline is the same requests after dropping the
indexes that serve these searches (the unique constraints on (dealer_group, phone) and
(dealer_group, plate), and customer_phone2, customer_last4, customer_phone2_last4), with fresh
statistics. For every kind the queries of one request are captured and the search query is
EXPLAIN ANALYZEd, with and without the indexes; they go to the notes of bench/RESULTS.md.
"""

from __future__ import annotations

import io
import signal
import time

import run as harness  # bench/run.py: the shared helpers (log, percentile, timed_loop, ...)

SAMPLES = 300  # look-ups per kind
KINDS = ("phone", "plate", "last4")
SEED_BUDGET = 900  # seconds: seeding that takes longer is stopped and reported as a failure
TARGET_P95_MS = 20.0
SQLITE_MAX_CUSTOMERS = 100_000
LABELS = {
    "phone": (
        "4. Customer search by full phone (`GET /api/v1/staff/customers?q=+86…`)",
        "+86 mobile",
    ),
    "plate": ("4b. Customer search by full plate (`?q=京A12345`)", "full plate"),
    "last4": ("4c. Customer search by last 4 phone digits (`?q=5678`)", "last 4 digits"),
}


def _search_constraints():
    """(table, name, what it serves) of the indexes and constraints the baseline drops."""
    from m4s.customers.models import Customer
    from m4s.vehicles.models import Vehicle

    customers, vehicles = Customer._meta.db_table, Vehicle._meta.db_table
    return [
        (customers, "customer_phone_unique_per_group", "phone"),
        (customers, "customer_phone2", "phone"),
        (customers, "customer_last4", "last4"),
        (customers, "customer_phone2_last4", "last4"),
        (vehicles, "vehicle_plate_unique_per_group", "plate"),
    ]


def _drop_search_indexes() -> dict[str, list[str]]:
    """Drop them; return the statements run, per kind. A unique constraint is a table constraint
    on PostgreSQL (ALTER TABLE ... DROP CONSTRAINT), a partial one (the plate's) a unique index."""
    from django.db import connection

    qn = connection.ops.quote_name
    done: dict[str, list[str]] = {kind: [] for kind in KINDS}
    with connection.cursor() as cursor:
        for table, name, kind in _search_constraints():
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT 1 FROM pg_constraint WHERE conname = %s AND conrelid = %s::regclass",
                    [name, table],
                )
                is_constraint = cursor.fetchone() is not None
            else:
                cursor.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = %s", [name]
                )
                is_constraint = cursor.fetchone() is None
                if is_constraint:  # part of SQLite's CREATE TABLE: cannot be dropped on its own
                    done[kind].append(f"(kept {name}: SQLite table constraint)")
                    continue
            sql = (
                f"ALTER TABLE {qn(table)} DROP CONSTRAINT {qn(name)}"
                if is_constraint
                else f"DROP INDEX {qn(name)}"
            )
            cursor.execute(sql)
            done[kind].append(sql.replace('"', ""))
    return done


def _seed(n: int) -> tuple[float, str]:
    """`m4s seed --customers n` into jingcheng; stopped after SEED_BUDGET seconds."""
    from django.core.management import call_command

    def expired(_signum, _frame):
        raise TimeoutError(
            f"seeding {n:,} customers took longer than {SEED_BUDGET} s and was stopped"
        )

    out = io.StringIO()
    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(SEED_BUDGET)
    t0 = time.perf_counter()
    try:
        call_command("seed", customers=n, group="jingcheng", batch=10_000, stdout=out)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    return time.perf_counter() - t0, out.getvalue().strip()


def _samples(group_id: int) -> dict[str, list[tuple[str, int]]]:
    """SAMPLES (query, customer id) per kind, from distinct customers picked at random in SQL."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT setseed(0.42)")  # the same customers on every run
        cursor.execute(
            """
            SELECT c.id, c.phone, c.phone_last4, v.plate
            FROM (SELECT id, phone, phone_last4 FROM customers_customer WHERE dealer_group_id = %s
                  ORDER BY random() LIMIT %s) AS c
            JOIN vehicles_vehicle v ON v.current_owner_id = c.id AND v.plate <> ''
            """,
            [group_id, 4 * SAMPLES],
        )
        rows = list({row[0]: row for row in cursor.fetchall()}.values())
    if len(rows) < 3 * SAMPLES:
        raise RuntimeError(f"search: only {len(rows)} customers with a car to sample from")
    return {
        "phone": [(r[1], r[0]) for r in rows[:SAMPLES]],
        "plate": [(r[3], r[0]) for r in rows[SAMPLES : 2 * SAMPLES]],
        "last4": [(r[2], r[0]) for r in rows[2 * SAMPLES : 3 * SAMPLES]],
    }


def bench_search(scale: int, customers: int = 1_000_000) -> dict:
    from django.db import connection
    from django.test import Client

    from m4s.customers import selectors
    from m4s.demo.builder import build_demo
    from m4s.identity.services import issue_token
    from m4s.org.models import DealerGroup
    from m4s.staff.models import StaffUser

    n = customers // scale
    if connection.vendor != "postgresql" and n > SQLITE_MAX_CUSTOMERS:
        raise RuntimeError(
            f"search: {n:,} customers is PostgreSQL-only (at most {SQLITE_MAX_CUSTOMERS:,} on SQLite)"
        )
    build_demo()
    group = DealerGroup.objects.get(slug="jingcheng")
    seed_seconds, seed_output = _seed(n)
    harness.log(f"search: {seed_output}")
    harness.log(
        f"search: seeding {n:,} customers took {seed_seconds:.1f} s ({n / seed_seconds:,.0f} customers/s)"
    )

    advisor = StaffUser.objects.get(username="advisor")
    token = issue_token(staff=advisor)
    client = Client(SERVER_NAME="localhost")
    samples = _samples(group.pk)

    def get(q: str) -> list[dict]:
        response = client.get(
            "/api/v1/staff/customers", {"q": q}, HTTP_AUTHORIZATION=f"Bearer {token}"
        )
        if response.status_code != 200:
            raise RuntimeError(
                f"search: {q!r} gave {response.status_code} {response.content[:300]!r}"
            )
        return response.json()

    def lookup(kind: str):
        def call(item: tuple[str, int]) -> None:
            q, customer_id = item
            found = get(q)
            if kind != "last4" and customer_id not in {c["id"] for c in found}:
                raise RuntimeError(
                    f"search: {kind} {q!r} did not find customer {customer_id}: {found!r:.300}"
                )
            if kind == "last4" and not found:
                raise RuntimeError(f"search: last4 {q!r} found nobody")

        return call

    # The search query alone, compiled once per sample and executed raw: the database's share.
    def sql_of(q: str):
        return selectors.search_customers(advisor, q).query.sql_with_params()

    def run_sql(statement) -> None:
        with connection.cursor() as cursor:
            cursor.execute(*statement)
            cursor.fetchall()

    def request_queries(q: str) -> list[str]:
        """Every query of one request with its time (execute + fetch), and the request's total."""
        timings: list[tuple[float, str]] = []

        def timer(execute, sql, params, many, context):
            t0 = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                timings.append((time.perf_counter() - t0, sql))

        t0 = time.perf_counter()
        with connection.execute_wrapper(timer):
            get(q)
        total = time.perf_counter() - t0
        in_db = sum(seconds for seconds, _sql in timings)
        lines = [f"{seconds * 1000:8.2f} ms  {sql[:220]}" for seconds, sql in timings]
        lines.append(
            f"{total * 1000:8.2f} ms  the whole request: {len(timings)} queries, {in_db * 1000:.2f} ms of it in them"
        )
        return lines

    def measure(label: str, budget: float) -> dict:
        harness._analyze()
        for kind in KINDS:  # warm-up: connection, caches, first-request imports, token last_used_at
            for q, _id in samples[kind][:20]:
                get(q)
        # The floor: the same endpoint with an empty q (token auth, routing, permission check and
        # an empty list; no search query), i.e. what a request costs before any searching.
        floor, _total = harness.timed_loop([""] * SAMPLES, get, budget=60)
        out = {"floor": harness.latency_summary(floor)}
        harness.log(f"search [{label}] floor (empty q): {len(floor)} GETs, {out['floor']}")
        for kind in KINDS:
            latencies, _total = harness.timed_loop(samples[kind], lookup(kind), budget=budget)
            statements = [sql_of(q) for q, _id in samples[kind]]
            sql_latencies, _total = harness.timed_loop(statements, run_sql, budget=budget / 2)
            q = samples[kind][0][0]
            summary = harness.latency_summary(latencies)
            if len(latencies) < len(samples[kind]):
                summary += f" ({len(latencies)} of {len(samples[kind])} GETs, {budget:g} s budget)"
            out[kind] = {
                "latencies": latencies,
                "summary": summary,
                "p95_ms": harness.percentile(latencies, 95) * 1000,
                "sql": harness.latency_summary(sql_latencies),
                "n": len(latencies),
                "plan": selectors.search_customers(advisor, q).explain(
                    **(
                        {"analyze": True, "buffers": True}
                        if connection.vendor == "postgresql"
                        else {}
                    )
                ),
                "queries": request_queries(q),
                "q": q,
            }
            harness.log(
                f"search [{label}] {kind}: {len(latencies)} GETs, {out[kind]['summary']}; SQL only {out[kind]['sql']}"
            )
        return out

    indexed = measure("with indexes", budget=120)
    dropped = _drop_search_indexes()
    connection.close()  # SQLite: no statement prepared with a dropped index lives on
    baseline = measure(
        "search indexes dropped", budget=60
    )  # a full scan per request: fewer of them

    data = f"{n:,} customers + {n:,} cars in one group; {SAMPLES} GETs as `advisor`"
    rows = []
    for kind in KINDS:
        title, _what = LABELS[kind]
        statements = "; ".join(s if s.startswith("(") else f"`{s}`" for s in dropped[kind])
        rows.append(
            {
                "benchmark": title,
                "data": data if kind == "phone" else f"same; {indexed[kind]['n']} GETs",
                "m4s": indexed[kind]["summary"],
                "baseline": f"same requests after {statements} (all five search indexes dropped)",
                "baseline_result": baseline[kind]["summary"],
            }
        )
    rows.append(
        {
            "benchmark": "4d. Seed (`m4s seed --customers N`: COPY on PostgreSQL, bulk_create on SQLite)",
            "data": f"{n:,} customers + {n:,} cars + {n:,} ownerships"
            + (", then ANALYZE" if connection.vendor == "postgresql" else ""),
            "m4s": f"{seed_seconds:,.0f} s · {n / seed_seconds:,.0f} customers/s ({3 * n / seed_seconds:,.0f} rows/s)",
            "baseline": "goal: 1,000,000 customers in under 10 minutes",
            "baseline_result": "600 s · 1,667 customers/s",
        }
    )
    verdicts = [
        f"{kind} p95 {harness.fmt_ms(indexed[kind]['p95_ms'] / 1000)} ms "
        f"({'meets' if indexed[kind]['p95_ms'] <= TARGET_P95_MS else 'MISSES'} the {TARGET_P95_MS:g} ms target)"
        for kind in KINDS
    ]
    lines = [
        f"Search seed: {seed_output}",
        "Search target, p95 with indexes: " + "; ".join(verdicts) + ".",
        f"Search request floor (same endpoint, empty `q`: auth, routing, an empty list, no search query): "
        f"{indexed['floor']} with indexes, {baseline['floor']} without.",
        "Search SQL only (the search query compiled by `selectors.search_customers`, raw cursor): "
        + "; ".join(
            f"{kind}: {indexed[kind]['sql']} with indexes, {baseline[kind]['sql']} without"
            for kind in KINDS
        )
        + ".",
    ]
    plans = {}
    for kind in KINDS:
        for label, result in (("with indexes", indexed), ("search indexes dropped", baseline)):
            r = result[kind]
            plans[f"{kind} `{r['q']}`, {label}: EXPLAIN ANALYZE of the search query"] = r["plan"]
            plans[f"{kind} `{r['q']}`, {label}: every query of one request"] = "\n".join(
                r["queries"]
            )
    return {
        "rows": rows,
        "notes": {
            "lines": lines,
            "plans": plans,
            "plans_title": "Query plans of the customer searches",
        },
    }
