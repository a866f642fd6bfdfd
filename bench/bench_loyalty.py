"""Benchmarks 7 and 8: loyalty earning under concurrency and reward redemption (run through
bench/run.py).

    .venv/bin/python bench/run.py --only earn,redeem --db sqlite|postgres|both

The child process of bench/run.py has a fresh, migrated database. Both benchmarks load one dealer
group with one store, the starter programme (`m4s.demo.starters.loyalty.install_programme`) and MEMBERS
members, each a customer of the store linked to an app owner (so every earn also writes the
owner's in-app "+N points" message, as in production).

* earn: CLIENTS worker processes, each with its own database connection, call
  `services.record_event(customer, Event.SERVICE_PAID, source=<unique>, amount=<random ¥100-5,000>)`
  for random members for EARN_SECONDS, all starting at the same instant; transactions/s over the
  window and p50/p95 per call. The same for the partner API (`POST /api/v1/partner/earn` through
  Django's test client with the partner's key and an Idempotency-Key). Then every member's ledger
  is checked with `ledger.check_member`. Before the runs, the queries of one earn are captured
  (counted and grouped by table), and one client earns alone for a few seconds with the time spent
  inside the database driver summed, to show where the time goes. Baseline: the same CLIENTS
  processes, each transaction being bare single-row INSERTs of a ledger-like row and UPDATEs of
  a balance column, as many writes as one `record_event` does, on plain tables created here.
* redeem: every member gets a few released lots (bulk-loaded, ¥-free), then `POST
  /api/v1/me/rewards/{car wash}/redeem` (300 points) with an owner bearer token and an
  Idempotency-Key, one call per member for REDEEM_CALLS members; `rewards.redeem_reward` called
  directly for as many other members; CLIENTS processes redeeming for one member at the same time
  (distinct keys: no overspend; then one shared key: one voucher); `ledger.check_member` on every
  member. Baseline: the bare `UPDATE loyalty_member SET balance = balance - 300 WHERE id = %s AND
  balance >= 300` for as many other members (run last: it leaves the ledger behind on purpose).
"""

from __future__ import annotations

import multiprocessing
import os
import random
import re
import time
from collections import Counter
from decimal import Decimal
from types import SimpleNamespace

import run as harness  # bench/run.py: the shared helpers (log, percentile, timed_loop, ...)

MEMBERS = 2000
CLIENTS = 8
EARN_SECONDS = 15
SOLO_SECONDS = 5  # one client alone, with the database time summed
TARGET_EARN_RATE = 1000.0  # earns/s with CLIENTS clients (the issue's goal)
REDEEM_CALLS = 600  # per variant (API, service, bare UPDATE), one per member
TARGET_REDEEM_P95_MS = 50.0
LOTS_PER_MEMBER = 4
RACE_ATTEMPTS = 6  # per process, on the one contested member


# --- data ----------------------------------------------------------------------------------------
def _load(scale: int) -> SimpleNamespace:
    from m4s.customers.models import Customer
    from m4s.demo.starters import loyalty as starter
    from m4s.loyalty.models import Member
    from m4s.org import services as org
    from m4s.owners.models import Owner

    t0 = time.perf_counter()
    n = MEMBERS // scale
    local = org.create_local_organisation(name="Bench", city="Beijing")
    group = org.create_dealer_group(local_org=local, name="Bench Motors", slug="bench")
    store = org.create_store(
        group=group, name="Bench Toyota 4S", code="bench", timezone="Asia/Shanghai"
    )
    club = starter.install_programme(group)
    harness._bulk_create(
        Owner, [Owner(phone=f"+86136{i:08d}", name=f"Owner {i}") for i in range(n)]
    )
    owners = list(Owner.objects.order_by("id"))
    harness._bulk_create(
        Customer,
        [
            Customer(
                dealer_group=group,
                store=store,
                owner=o,
                name=o.name,
                phone=o.phone,
                phone_last4=o.phone[-4:],
            )
            for o in owners
        ],
    )
    customers = list(Customer.objects.for_group(group).order_by("id"))
    harness._bulk_create(
        Member,
        [
            Member(
                dealer_group=group,
                customer=c,
                tier=club.tiers[0],
                code=f"BM{i:08d}",
                referral_code=f"BR{i:07d}",
            )
            for i, c in enumerate(customers)
        ],
    )
    members = list(Member.objects.for_group(group).order_by("id"))
    harness._analyze()
    load_seconds = time.perf_counter() - t0
    harness.log(f"loyalty: loaded {n:,} owners, customers and members in {load_seconds:.1f} s")
    return SimpleNamespace(
        group=group,
        store=store,
        club=club,
        owners=owners,
        customers=customers,
        members=members,
        load_seconds=load_seconds,
    )


# --- helpers -------------------------------------------------------------------------------------
def _https_client():
    """Django's test client, every request over https (the API redirects plain http unless
    M4S_PLAIN_HTTP)."""
    from django.test import Client

    class HttpsClient(Client):
        def request(self, **request):
            return super().request(**{**request, "wsgi.url_scheme": "https", "SERVER_PORT": "443"})

    return HttpsClient(SERVER_NAME="localhost")


_TABLE = re.compile(r'(?:FROM|INTO|UPDATE)\s+"?([a-z_0-9]+)"?', re.I)


def _shape(sql: str) -> str:
    """'SELECT loyalty_member', 'INSERT notify_message', 'SAVEPOINT', ... for one statement."""
    verb = sql.lstrip().split(None, 1)[0].upper()
    if verb in ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT"):
        return verb
    match = _TABLE.search(sql)
    lock = " FOR UPDATE" if "FOR UPDATE" in sql.upper() else ""
    return f"{verb} {match.group(1) if match else '?'}{lock}"


def _capture(fn) -> list[str]:
    """The statements `fn()` runs (including those run on commit), as shapes."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        fn()
    return [_shape(q["sql"]) for q in captured.captured_queries]


def _breakdown(shapes: list[str]) -> str:
    return ", ".join(f"{n}× {s}" for s, n in Counter(shapes).most_common())


def _writes(shapes: list[str]) -> int:
    return sum(1 for s in shapes if s.split()[0] in ("INSERT", "UPDATE", "DELETE"))


class _DbTimer:
    """connection.execute_wrapper: sums the wall time spent inside cursor.execute."""

    def __init__(self):
        self.seconds, self.queries = 0.0, 0

    def __call__(self, execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - t0
            self.queries += 1


def _start_gate(start_at: float) -> None:
    delay = start_at - time.time()
    if delay > 0:
        time.sleep(delay)


def _load_avg() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def _pool_run(fn, args: list) -> list:
    from django.db import connections

    connections.close_all()  # the children open their own
    with multiprocessing.get_context("fork").Pool(len(args)) as pool:
        return pool.map(fn, args)


# --- 7. earning ----------------------------------------------------------------------------------
def _earn_client(args) -> dict:
    """One client (a forked process, its own connection): earn for random members until the
    window closes. kind: 'service' (record_event), 'partner' (the partner API) or 'raw' (the
    baseline: `writes` bare statements per transaction)."""
    index, kind, group_id, customer_ids, start_at, seconds, extra = args
    from django.db import connection, transaction
    from django.utils import timezone

    from m4s.customers.models import Customer
    from m4s.loyalty import services
    from m4s.loyalty.choices import Event

    connection.close()  # never reuse the parent's connection
    rng = random.Random(7000 + index)
    customers = list(Customer.objects.for_group(group_id).filter(pk__in=customer_ids))
    client = _https_client()
    outcome: Counter = Counter()
    latencies: list[float] = []
    n = 0

    def service_earn(customer) -> None:
        services.record_event(
            customer,
            Event.SERVICE_PAID,
            source=f"bench:{index}:{n}",
            amount=Decimal(rng.randint(100, 5000)),
            store_id=customer.store_id,
        )

    def partner_earn(customer) -> None:
        r = client.post(
            "/api/v1/partner/earn",
            {
                "member_code": extra["codes"][customer.pk],
                "amount": str(rng.randint(20, 400)),
                "reference": f"p{index}-{n}",
            },
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {extra['api_key']}",
            HTTP_IDEMPOTENCY_KEY=f"bench-{index}-{n}",
        )
        if r.status_code != 201:
            raise RuntimeError(f"partner earn: {r.status_code} {r.content[:200]!r}")

    def raw_earn(customer) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            for w in range(extra["writes"]):
                if w % 2 == 0:
                    cursor.execute(
                        "INSERT INTO bench_ledger (member_id, points, reason, key, created_at) "
                        "VALUES (%s, %s, %s, %s, %s)",
                        [
                            customer.pk,
                            rng.randint(100, 5000),
                            "Paid service",
                            f"raw{extra['writes']}:{index}:{n}:{w}",
                            timezone.now(),
                        ],
                    )
                else:
                    cursor.execute(
                        "UPDATE bench_balance SET balance = balance + %s WHERE member_id = %s",
                        [rng.randint(100, 5000), customer.pk],
                    )

    earn = {"service": service_earn, "partner": partner_earn, "raw": raw_earn}[kind]
    earn(customers[index])  # warm-up: connection, imports, first-request setup (before the gate)
    outcome["warm-up"] += 1
    _start_gate(start_at)
    end = start_at + seconds
    last_end = start_at
    while time.time() < end:
        customer = rng.choice(customers)
        n += 1
        t0 = time.perf_counter()
        try:
            earn(customer)
            outcome["ok"] += 1
        except Exception as exc:  # a database error under contention: counted, not hidden
            outcome[f"error:{type(exc).__name__}: {str(exc)[:80]}"] += 1
            connection.close()
        latencies.append(time.perf_counter() - t0)
        last_end = time.time()
    connection.close()
    return {"outcome": dict(outcome), "latencies": latencies, "last_end": last_end}


def _run_earners(w, kind: str, seconds: int, extra: dict | None = None) -> dict:
    ids = [c.pk for c in w.customers]
    start_at = time.time() + 3.0  # time for the children to connect and warm up
    args = [(i, kind, w.group.pk, ids, start_at, seconds, extra or {}) for i in range(CLIENTS)]
    results = _pool_run(_earn_client, args)
    outcome: Counter = Counter()
    latencies: list[float] = []
    for r in results:
        outcome.update(r["outcome"])
        latencies += r["latencies"]
    window = max(r["last_end"] for r in results) - start_at
    errors = {k: v for k, v in outcome.items() if k.startswith("error:")}
    return {
        "ok": outcome["ok"],
        "warm_up": outcome["warm-up"],
        "errors": errors,
        "latencies": latencies,
        "window": window,
        "rate": outcome["ok"] / window,
        "load": _load_avg(),
    }


def _describe_rate(r: dict, unit: str = "earns") -> str:
    text = (
        f"**{r['rate']:,.0f} {unit}/s** ({r['ok']:,} in {r['window']:.1f} s; per call "
        f"{harness.latency_summary(r['latencies'])})"
    )
    if r["errors"]:
        text += f"; {sum(r['errors'].values())} errors {r['errors']}"
    return text


# The steps of record_event, timed by wrapping them for the solo run (the code is not changed).
PHASES = [
    ("m4s.loyalty.earning", "lock_member"),
    ("m4s.loyalty.services", "get_or_create_member"),
    ("m4s.loyalty.earning", "rules_for"),
    ("m4s.loyalty.earning", "insert_event"),
    ("m4s.loyalty.earning", "capped_totals"),
    ("m4s.loyalty.services", "_draw_budget"),
    ("m4s.loyalty.ledger", "credit_lots"),
    ("m4s.loyalty.earning", "schedule_follow_up"),  # on commit: at most one deferred task per 0.4 s
]


class _Phases:
    """Wall time (inclusive) and statements (exclusive: charged to the innermost step) per step;
    statements outside every step go to `rest` (the call's own: events, rules, savepoints, commit)."""

    def __init__(self):
        self.stack, self.wall, self.queries, self.db = ["rest"], Counter(), Counter(), Counter()
        self.saved = []

    def __enter__(self):
        import functools
        import importlib

        for module_name, name in PHASES:
            module = importlib.import_module(module_name)
            original = getattr(module, name)

            def wrapper(*args, _original=original, _name=name, **kwargs):
                self.stack.append(_name)
                t0 = time.perf_counter()
                try:
                    return _original(*args, **kwargs)
                finally:
                    self.wall[_name] += time.perf_counter() - t0
                    self.stack.pop()

            self.saved.append((module, name, original))
            setattr(module, name, functools.wraps(original)(wrapper))
        return self

    def __exit__(self, *exc):
        for module, name, original in self.saved:
            setattr(module, name, original)

    def __call__(self, execute, sql, params, many, context):  # connection.execute_wrapper
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.queries[self.stack[-1]] += 1
            self.db[self.stack[-1]] += time.perf_counter() - t0

    def summary(self, calls: int, total: float) -> str:
        steps = sorted(self.wall, key=lambda k: -self.wall[k])
        parts = [
            f"{name} {1000 * self.wall[name] / calls:.1f} ms / {self.queries[name] / calls:.1f} q"
            for name in steps
            if 1000 * self.wall[name] / calls >= 0.05
        ]
        parts.append(f"rest {self.queries['rest'] / calls:.1f} q")
        return (
            f"per earn {1000 * total / calls:.1f} ms, {sum(self.queries.values()) / calls:.1f} statements, "
            f"{1000 * sum(self.db.values()) / calls:.1f} ms inside the driver; by step (inclusive time / "
            f"own statements): " + "; ".join(parts)
        )


def _solo(fn, items, seconds: float, phases: bool = False) -> dict:
    """fn(item) in this process alone for `seconds`, with the database driver's time summed."""
    from contextlib import nullcontext

    from django.db import connection

    timer = _Phases()
    with timer if phases else nullcontext(), connection.execute_wrapper(timer):
        latencies, total = harness.timed_loop(items, fn, budget=seconds)
    return {
        "n": len(latencies),
        "rate": len(latencies) / total,
        "db_share": sum(timer.db.values()) / total,
        "queries": sum(timer.queries.values()) / len(latencies),
        "latencies": latencies,
        "phases": timer.summary(len(latencies), total) if phases else "",
    }


def bench_earn(scale: int) -> dict:
    from django.db import connection

    from m4s.customers.models import Customer
    from m4s.loyalty import ledger, services
    from m4s.loyalty.choices import Event
    from m4s.loyalty.models import LedgerEntry, MemberEvent
    from m4s.notify.models import Message

    w = _load(scale)
    seconds = max(4, EARN_SECONDS // scale)
    rng = random.Random(77)

    # The statements of one earn (a member who has earned before: the steady state).
    def one_earn(customer, tag: str) -> None:
        services.record_event(
            customer,
            Event.SERVICE_PAID,
            source=f"probe:{tag}",
            amount=Decimal("860"),
            store_id=customer.store_id,
        )

    probe = w.customers[-1]
    one_earn(probe, "warm")
    earn_shapes = _capture(lambda: one_earn(probe, "count"))
    writes = _writes(earn_shapes)
    # Writes after the COMMIT: the on-commit delivery of the in-app message, each its own transaction.
    commit_at = max(i for i, shape in enumerate(earn_shapes) if shape == "COMMIT")
    delivery_writes = _writes(earn_shapes[commit_at:])
    harness.log(
        f"earn: {len(earn_shapes)} statements per record_event ({writes} writes): {_breakdown(earn_shapes)}"
    )

    client = _https_client()
    codes = {m.customer_id: m.code for m in w.members}

    def partner_call(tag: str) -> None:
        r = client.post(
            "/api/v1/partner/earn",
            {"member_code": codes[probe.pk], "amount": "120", "reference": tag},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {w.club.api_key}",
            HTTP_IDEMPOTENCY_KEY=tag,
        )
        if r.status_code != 201:
            raise RuntimeError(f"partner earn: {r.status_code} {r.content[:200]!r}")

    partner_call("probe-warm")
    partner_shapes = _capture(lambda: partner_call("probe-count"))
    harness.log(
        f"earn: {len(partner_shapes)} statements per partner earn: {_breakdown(partner_shapes)}"
    )

    # One client alone: the rate without contention and the database driver's share of the time.
    counter = iter(range(10**9))
    solo = _solo(
        lambda c: one_earn(c, f"solo:{next(counter)}"),
        [rng.choice(w.customers) for _ in range(20_000)],
        SOLO_SECONDS,
        phases=True,
    )
    harness.log(
        f"earn, 1 client: {solo['rate']:,.0f}/s, {harness.latency_summary(solo['latencies'])}, "
        f"{100 * solo['db_share']:.0f} % of the time inside the database driver"
    )
    harness.log(f"earn, 1 client: {solo['phases']}")

    # 8 clients: record_event, then the partner API.
    harness.log(f"earn: {CLIENTS} clients × {seconds} s, record_event (load {_load_avg()})")
    service = _run_earners(w, "service", seconds)
    harness.log(f"earn: {_describe_rate(service)}; load {service['load']}")
    harness.log(f"earn: {CLIENTS} clients × {seconds} s, POST /api/v1/partner/earn")
    partner = _run_earners(w, "partner", seconds, {"api_key": w.club.api_key, "codes": codes})
    harness.log(f"earn partner API: {_describe_rate(partner)}; load {partner['load']}")

    # The batched follow-up ("+N points" messages, tiers, missions) that a worker runs after the
    # earns: here in this process, timed, until every event is done.
    from m4s.loyalty import earning

    t0 = time.perf_counter()
    followed = earning.follow_up_pending()
    follow_seconds = time.perf_counter() - t0
    harness.log(
        f"earn: follow-up of {followed:,} events in {follow_seconds:.1f} s "
        f"({followed / max(follow_seconds, 1e-9):,.0f} events/s, 1 process)"
    )

    # Every member's ledger against its balance.
    t0 = time.perf_counter()
    problems = {m.pk: p for m in w.members if (p := ledger.check_member(m))}
    check_seconds = time.perf_counter() - t0
    events = MemberEvent.objects.for_group(w.group).count()
    entries = LedgerEntry.objects.for_group(w.group).count()
    messages = Message.objects.filter(kind="loyalty.earned").count()
    expected = (
        service["ok"] + service["warm_up"] + partner["ok"] + partner["warm_up"] + solo["n"] + 4
    )
    harness.log(
        f"earn: check_member on {len(w.members):,} members in {check_seconds:.1f} s: "
        f"{len(problems)} inconsistent; {events:,} events, {entries:,} ledger entries, "
        f"{messages:,} earned messages (expected {expected:,})"
    )
    if problems:
        raise RuntimeError(
            f"earn: ledger check failed for {len(problems)} members: {list(problems.items())[:3]}"
        )
    if not events == entries == messages == expected:
        raise RuntimeError(
            f"earn: {events} events, {entries} entries, {messages} messages, {expected} calls"
        )

    # Baseline: the same number of writes per transaction, bare SQL on plain tables.
    with connection.cursor() as cursor:
        serial = "bigserial" if connection.vendor == "postgresql" else "integer"
        now_type = "timestamptz" if connection.vendor == "postgresql" else "timestamp"
        cursor.execute(
            f"CREATE TABLE bench_ledger (id {serial} PRIMARY KEY, member_id integer NOT NULL, "
            f"points integer NOT NULL, reason varchar(200) NOT NULL, key varchar(100) NOT NULL UNIQUE, "
            f"created_at {now_type} NOT NULL)"
        )
        cursor.execute("CREATE INDEX bench_ledger_member ON bench_ledger (member_id)")
        cursor.execute(
            "CREATE TABLE bench_balance (member_id integer PRIMARY KEY, balance integer NOT NULL)"
        )
        cursor.execute(
            "INSERT INTO bench_balance (member_id, balance) "
            f"SELECT id, 0 FROM {Customer._meta.db_table}"
        )
    harness._analyze()
    harness.log(
        f"earn baseline: {CLIENTS} clients × {seconds} s, {writes} bare writes per transaction"
    )
    raw = _run_earners(w, "raw", seconds, {"writes": writes})
    harness.log(f"earn baseline: {_describe_rate(raw, 'transactions')}; load {raw['load']}")
    harness.log(f"earn baseline: {CLIENTS} clients × {seconds} s, 2 bare writes per transaction")
    raw2 = _run_earners(w, "raw", seconds, {"writes": 2})
    harness.log(
        f"earn baseline, 2 writes: {_describe_rate(raw2, 'transactions')}; load {raw2['load']}"
    )

    db = connection.vendor
    short = service["rate"] < TARGET_EARN_RATE
    return {
        "rows": [
            {
                "benchmark": f"7. Earn throughput, {CLIENTS} clients (`services.record_event(SERVICE_PAID)`, {db})",
                "data": (
                    f"{len(w.members):,} members in 1 group, starter programme; {CLIENTS} processes × "
                    f"{seconds} s, random members and amounts; goal ≥ {TARGET_EARN_RATE:,.0f}/s"
                ),
                "m4s": (
                    f"{_describe_rate(service)}; {len(earn_shapes)} statements incl. BEGIN/COMMIT ({writes} writes) per earn"
                    + (" — **below the goal**" if short else "")
                    + f"; ledger check: {len(w.members):,} members consistent"
                ),
                "baseline": (
                    f"same {CLIENTS} processes, bare SQL on plain tables: {writes} writes per transaction "
                    "(single-row INSERT of a ledger-like row / UPDATE of a balance column, alternating), "
                    f"as many as one earn writes ({writes - delivery_writes} in its transaction, "
                    f"{delivery_writes} after the commit: the enqueue of the batched follow-up, at most "
                    "one per process per 0.4 s)"
                ),
                "baseline_result": _describe_rate(raw, "transactions"),
            },
            {
                "benchmark": f"7b. Partner earn API, {CLIENTS} clients (`POST /api/v1/partner/earn`, {db})",
                "data": f"same members; Bearer partner key + Idempotency-Key; {CLIENTS} processes × {seconds} s",
                "m4s": f"{_describe_rate(partner)}; {len(partner_shapes)} statements incl. BEGIN/COMMIT per call",
                "baseline": (
                    f"same {CLIENTS} processes, bare SQL: 1 INSERT of a ledger-like row + 1 UPDATE of a "
                    "balance column per transaction (the least an earn can write)"
                ),
                "baseline_result": _describe_rate(raw2, "transactions"),
            },
        ],
        "notes": {
            "lines": [
                f"Earn, statements of one `record_event` (SERVICE_PAID, a member who earned before, "
                f"the '+N points' message, tier and missions follow in a batch): {len(earn_shapes)} — {_breakdown(earn_shapes)}.",
                f"Earn, statements of one partner API earn: {len(partner_shapes)} — {_breakdown(partner_shapes)}.",
                f"Earn with 1 client alone ({SOLO_SECONDS} s): {solo['rate']:,.0f} earns/s, "
                f"{harness.latency_summary(solo['latencies'])}; {100 * solo['db_share']:.0f} % of the wall "
                f"time inside the database driver (round trips and server work), "
                f"{100 * (1 - solo['db_share']):.0f} % in Python (ORM, rules, Django).",
                f"Earn, where the time goes (1 client, steps of `record_event` timed by wrapping them): "
                f"{solo['phases']}.",
                f"Earn load average at the end of each run: record_event {service['load']}; partner API "
                f"{partner['load']}; baselines {raw['load']} ({writes} writes), {raw2['load']} (2 writes).",
                f"Earn: after the runs {events:,} member events = {entries:,} ledger entries = {messages:,} "
                f"'+N points' messages; `check_member` on all {len(w.members):,} members: no problem "
                f"({check_seconds:.1f} s).",
                f"Earn follow-up (the '+N points' message, tier, missions; batched after commit, "
                f"{earning.FOLLOW_UP_BATCH} events per transaction): {followed:,} events in "
                f"{follow_seconds:.1f} s = {followed / max(follow_seconds, 1e-9):,.0f} events/s in 1 process.",
                f"Earn load: {len(w.members):,} owners/customers/members in {w.load_seconds:.1f} s.",
            ]
        },
    }


# --- 8. redemption -------------------------------------------------------------------------------
def _seed_lots(w) -> dict[int, int]:
    """LOTS_PER_MEMBER released lots per member, bulk-loaded the way the ledger writes them;
    returns {member id: balance}."""
    import datetime as dt

    from django.utils import timezone

    from m4s.loyalty.choices import EntryKind
    from m4s.loyalty.models import LedgerEntry, Member

    rng = random.Random(88)
    now = timezone.now()
    lots, balances = [], {}
    for m in w.members:
        total = 0
        for j in range(LOTS_PER_MEMBER):
            points = rng.randint(200, 900)
            created = now - dt.timedelta(days=rng.randint(30, 600))
            lots.append(
                LedgerEntry(
                    dealer_group_id=w.group.pk,
                    member=m,
                    kind=EntryKind.EARN,
                    points=points,
                    remaining=points,
                    reason="Paid service",
                    source_type="service_paid",
                    source_id=f"seed:{m.pk}:{j}",
                    idempotency_key=f"seed:{m.pk}:{j}",
                    qualifying=True,
                    created_at=created,
                    available_at=created,
                    expires_at=created + dt.timedelta(days=730),
                    is_pending=False,
                    rule=w.club.rules["paid"],
                )
            )
            total += points
        balances[m.pk] = total
        m.balance = total
    harness._bulk_create(LedgerEntry, lots)
    Member.objects.for_group(w.group).bulk_update(w.members, ["balance"], batch_size=1000)
    harness._analyze()
    return balances


def _race_client(args) -> dict:
    """One of CLIENTS processes redeeming for the same member at the same instant."""
    index, token, reward_id, start_at, keys = args
    from django.db import connection

    connection.close()
    client = _https_client()
    statuses: Counter = Counter()
    _start_gate(start_at)
    for key in keys:
        r = client.post(
            f"/api/v1/me/rewards/{reward_id}/redeem",
            HTTP_AUTHORIZATION=f"Bearer {token}",
            HTTP_IDEMPOTENCY_KEY=key,
        )
        code = r.json().get("code", "") if r.status_code >= 400 else ""
        statuses[f"{r.status_code} {code}".strip()] += 1
    connection.close()
    return dict(statuses)


def bench_redeem(scale: int) -> dict:
    import datetime as dt

    from django.db import connection
    from django.utils import timezone

    from m4s.identity.models import ApiToken
    from m4s.identity.services import issue_token
    from m4s.loyalty import ledger, rewards
    from m4s.loyalty.models import Member, Voucher

    w = _load(scale)
    balances = _seed_lots(w)
    wash = w.club.rewards["wash"]
    calls = min(REDEEM_CALLS, (len(w.members) - 6) // 3)
    rng = random.Random(99)
    order = list(w.members)
    rng.shuffle(order)
    contested, warm, order = order[0], order[1:6], order[6:]  # warm: warm-up and query counts
    api_members, service_members, bare_members = (
        order[:calls],
        order[calls : 2 * calls],
        order[2 * calls : 3 * calls],
    )
    owner_of = {c.pk: c.owner for c in w.customers}
    tokens = {
        m.pk: issue_token(owner=owner_of[m.customer_id]) for m in [contested, *warm, *api_members]
    }
    ApiToken.objects.update(last_used_at=timezone.now())  # steady state: no throttled write
    client = _https_client()

    def api_redeem(member, key: str = "") -> dict:
        r = client.post(
            f"/api/v1/me/rewards/{wash.pk}/redeem",
            HTTP_AUTHORIZATION=f"Bearer {tokens[member.pk]}",
            HTTP_IDEMPOTENCY_KEY=key or f"bench-{member.pk}",
        )
        if r.status_code != 201:
            raise RuntimeError(f"redeem: {r.status_code} {r.content[:300]!r}")
        return r.json()

    # Warm-up and the statements of one redeem (API, and the service alone).
    for m in warm:
        api_redeem(m, key=f"warm-{m.pk}")
    api_shapes = _capture(lambda: api_redeem(warm[0], key="count"))
    svc_shapes = _capture(lambda: rewards.redeem_reward(warm[1], wash.pk, key="count"))
    harness.log(f"redeem: {len(api_shapes)} statements per API redeem: {_breakdown(api_shapes)}")
    harness.log(f"redeem: {len(svc_shapes)} statements per redeem_reward: {_breakdown(svc_shapes)}")

    load_before = _load_avg()
    timer = _DbTimer()
    with connection.execute_wrapper(timer):
        api_lat, api_total = harness.timed_loop(api_members, api_redeem, budget=60)
    api_db_share = timer.seconds / api_total
    harness.log(
        f"redeem API: {len(api_lat)} calls, {harness.latency_summary(api_lat)}, "
        f"{100 * api_db_share:.0f} % inside the database driver; load {_load_avg()}"
    )
    api_queries = timer.queries / len(api_lat)
    svc_timer = _DbTimer()
    with connection.execute_wrapper(svc_timer):
        svc_lat, _total = harness.timed_loop(
            service_members,
            lambda m: rewards.redeem_reward(m, wash.pk, key=f"svc-{m.pk}"),
            budget=60,
        )
    svc_queries = svc_timer.queries / len(svc_lat)
    harness.log(f"redeem_reward: {len(svc_lat)} calls, {harness.latency_summary(svc_lat)}")

    # CLIENTS processes, one member, at the same instant: distinct keys, then one shared key.
    before = Member.objects.for_group(w.group).get(pk=contested.pk).balance
    vouchers_before = Voucher.objects.for_group(w.group).filter(member=contested).count()
    start_at = time.time() + 3.0
    race = Counter()
    for r in _pool_run(
        _race_client,
        [
            (
                i,
                tokens[contested.pk],
                wash.pk,
                start_at,
                [f"race-{i}-{k}" for k in range(RACE_ATTEMPTS)],
            )
            for i in range(CLIENTS)
        ],
    ):
        race.update(r)
    after = Member.objects.for_group(w.group).get(pk=contested.pk).balance
    won = race["201"]
    vouchers = Voucher.objects.for_group(w.group).filter(member=contested).count() - vouchers_before
    attempts = CLIENTS * RACE_ATTEMPTS
    race_problems = ledger.check_member(contested)
    harness.log(
        f"redeem race: {attempts} attempts on one member with {before} points: {dict(race)}; "
        f"balance after {after}; {vouchers} vouchers; ledger check {race_problems or 'ok'}"
    )
    expected_wins = min(attempts, before // wash.cost)
    if (
        after < 0
        or after != before - won * wash.cost
        or won != expected_wins
        or vouchers != won
        or race_problems
    ):
        raise RuntimeError(
            f"redeem race: overspend or lost redemption: {dict(race)}, {before} -> {after}"
        )

    # Top the member up, then CLIENTS processes send the same request (one Idempotency-Key).
    ledger.credit(
        contested,
        3000,
        reason="Bench top-up",
        key="bench-top-up",
        expires_at=timezone.now() + dt.timedelta(days=365),
    )
    topped = Member.objects.for_group(w.group).get(pk=contested.pk).balance
    start_at = time.time() + 3.0
    same = Counter()
    for r in _pool_run(
        _race_client,
        [(i, tokens[contested.pk], wash.pk, start_at, ["race-shared"]) for i in range(CLIENTS)],
    ):
        same.update(r)
    after_same = Member.objects.for_group(w.group).get(pk=contested.pk).balance
    shared_vouchers = (
        Voucher.objects.for_group(w.group).filter(member=contested).count()
        - vouchers_before
        - vouchers
    )
    harness.log(
        f"redeem race, one shared key: {dict(same)}; {shared_vouchers} voucher(s); balance {after_same}"
    )
    if shared_vouchers != 1 or after_same != topped - wash.cost or ledger.check_member(contested):
        raise RuntimeError(
            f"redeem race (shared key): {shared_vouchers} vouchers, {topped} -> {after_same}"
        )

    # Every member's ledger.
    t0 = time.perf_counter()
    problems = {m.pk: p for m in w.members if (p := ledger.check_member(m))}
    check_seconds = time.perf_counter() - t0
    negative = Member.objects.for_group(w.group).filter(balance__lt=0).count()
    harness.log(
        f"redeem: check_member on {len(w.members):,} members: {len(problems)} inconsistent ({check_seconds:.1f} s)"
    )
    if problems or negative:
        raise RuntimeError(
            f"redeem: ledger check failed: {list(problems.items())[:3]}, {negative} negative"
        )

    # Baseline, last: the bare conditional UPDATE (autocommit), leaving the ledger behind.
    table = Member._meta.db_table

    def bare(member) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET balance = balance - %s WHERE id = %s AND balance >= %s",
                [wash.cost, member.pk, wash.cost],
            )
            if cursor.rowcount != 1:
                raise RuntimeError(f"redeem baseline: member {member.pk} not updated")

    bare_lat, _total = harness.timed_loop(bare_members, bare, budget=60)
    harness.log(
        f"redeem baseline: {len(bare_lat)} bare UPDATEs, {harness.latency_summary(bare_lat)}"
    )
    load_after = _load_avg()

    db = connection.vendor
    api_p95 = harness.percentile(api_lat, 95) * 1000
    mean_balance = sum(balances.values()) / len(balances)
    verdict = "meets" if api_p95 <= TARGET_REDEEM_P95_MS else "**misses**"
    return {
        "rows": [
            {
                "benchmark": f"8. Reward redemption latency (`POST /api/v1/me/rewards/{{id}}/redeem`, {db})",
                "data": (
                    f"{len(w.members):,} members × {LOTS_PER_MEMBER} released lots (mean {mean_balance:,.0f} points); "
                    f"car wash (300 points), {len(api_lat)} calls, one per member, owner bearer token + "
                    f"Idempotency-Key; goal p95 ≤ {TARGET_REDEEM_P95_MS:.0f} ms"
                ),
                "m4s": (
                    f"**{harness.latency_summary(api_lat)}** ({verdict} the goal); {api_queries:.1f} queries per "
                    f"call (+ BEGIN/COMMIT); `rewards.redeem_reward` alone ({len(svc_lat)} other members): "
                    f"{harness.latency_summary(svc_lat)}, {svc_queries:.1f} queries"
                ),
                "baseline": (
                    f"bare `UPDATE {table} SET balance = balance - 300 WHERE id = %s AND balance >= 300` "
                    f"(autocommit), {len(bare_lat)} other members"
                ),
                "baseline_result": harness.latency_summary(bare_lat),
            },
            {
                "benchmark": f"8b. {CLIENTS} processes redeeming for one member at once ({db})",
                "data": (
                    f"1 member with {before:,} points ({before // wash.cost} washes); {CLIENTS} × "
                    f"{RACE_ATTEMPTS} API calls, distinct Idempotency-Keys"
                ),
                "m4s": (
                    f"{_statuses(race)}; balance {before:,} → {after:,} (= {before:,} − {won} × 300), "
                    f"{vouchers} vouchers; `check_member` ok — no overspend"
                ),
                "baseline": f"then, topped up by 3,000, {CLIENTS} processes sending one request (one shared Idempotency-Key)",
                "baseline_result": (
                    f"{_statuses(same)}; {shared_vouchers} voucher, balance {topped:,} → {after_same:,}; "
                    "`check_member` ok"
                ),
            },
        ],
        "notes": {
            "lines": [
                f"Redeem, statements of one API call (incl. BEGIN/COMMIT; one UPDATE of a lot per lot the "
                f"300 points come from): {len(api_shapes)} — {_breakdown(api_shapes)}.",
                f"Redeem, statements of one `rewards.redeem_reward`: {len(svc_shapes)} — {_breakdown(svc_shapes)}.",
                f"Redeem API: {100 * api_db_share:.0f} % of the wall time inside the database driver.",
                f"Redeem load average before the timed calls {load_before}, after the baseline {load_after}.",
                f"Redeem: `check_member` on all {len(w.members):,} members after the runs: no problem "
                f"({check_seconds:.1f} s); no negative balance.",
            ]
        },
    }


def _statuses(c: Counter) -> str:
    names = {"201": "201 created", "200": "200 replay"}
    return ", ".join(f"{n} × {names.get(k, k)}" for k, n in sorted(c.items()))
