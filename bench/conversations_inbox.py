"""Conversations on PostgreSQL: how fast an owner's message shows up in the staff inbox, and how
fast the inbox and a conversation answer with 100,000 conversations and 1,000,000 messages.

    .venv/bin/python bench/conversations_inbox.py [--conversations 100000] [--messages 1000000]
        [--stores 20] [--sends 200] [--calls 300] [--poll SECONDS] [--keep]

The database `m4s_bench_conv` is created on BENCH_PG_URL (default
postgresql://postgres@127.0.0.1:5432), migrated, loaded with COPY, measured and dropped at the
end, even on failure (`--keep` leaves it for EXPLAIN).

Data: one dealer group with `--stores` stores (opening hours every day), per store 4 service
advisors, 2 sales consultants, 2 CS agents and a manager, all on the roster today; one customer
per conversation; `--conversations` conversations (topics service 60 %, sales 25 %, customer
service 10 %, the store 5 %; 10 % open, half of those waiting on the store; the rest closed,
70 % of them rated) with `--messages` messages between them (owner and staff in turn, 5 % internal
notes, read receipts on both sides).

(a) Owner message → visible in the staff inbox through the console's own update mechanism: a
    threaded WSGI server runs the app on PostgreSQL; one service advisor's console polls its
    "mine" rows partial (`GET /console/conversations/rows/?box=mine`, the URL the inbox page's
    htmx poller asks) every INBOX_POLL_SECONDS of m4s.conversations.views.common (`--poll`
    overrides); owners of that advisor send `--sends` first messages through the API
    (`POST /api/v1/me/conversations`) at random moments. Latency = from the start of the send to
    the end of the first poll whose rows show the message. p50/p99 (goal p99 ≤ 2 s).
(b) p95 of the inbox (API `GET /api/v1/staff/conversations?box=mine|waiting`, the console's rows
    partial) and of a conversation (API thread `GET …/{id}/messages`, the console page
    `/console/conversations/{id}/`), `--calls` calls each, as that advisor (goal ≤ 50 ms); then
    the same calls after dropping the area's indexes (and VACUUM ANALYZE).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(BENCH_DIR.parent))

import run as harness  # noqa: E402  (bench/run.py: log, pg_create, pg_drop, percentile)

DB_NAME = "m4s_bench_conv"
SIG = re.compile(r"sig=[\"']?([A-Za-z0-9_-]{6,128})")
INDEXES = (
    "conv_customer",
    "conv_mine",
    "conv_store_open",
    "conv_waiting",
    "conv_closed",
    "conv_message_thread",
)
TOPICS = [("service", 60), ("sales", 25), ("cs", 10), ("store", 5)]
WORDS = [
    *[
        "brake",
        "noise",
        "oil",
        "change",
        "tyre",
        "pressure",
        "appointment",
        "tomorrow",
        "quote",
        "invoice",
        "warranty",
    ],
    *[
        "recall",
        "battery",
        "wipers",
        "service",
        "booked",
        "thanks",
        "ok",
        "please",
        "call",
        "when",
        "ready",
        "pick",
        "up",
    ],
]


# --- loading ------------------------------------------------------------------------------------
def _copy(table: str, columns: list[str], rows) -> int:
    from django.db import connection

    n = 0
    cols = ", ".join(columns)
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                n += 1
    return n


def load(args, rng: random.Random) -> dict:
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from django.utils import timezone

    from m4s.conversations.models import Conversation, Message
    from m4s.customers.models import Customer
    from m4s.org import services as org
    from m4s.org.models import DealerGroup, LocalOrganisation, Store
    from m4s.owners.models import Owner
    from m4s.staff.choices import Role
    from m4s.staff.models import Shift, StaffUser

    t0 = time.perf_counter()
    now = timezone.now()
    city = LocalOrganisation.objects.create(
        headquarters=org.ensure_headquarters(), name="Bench city", city="Beijing"
    )
    group = DealerGroup.objects.create(local_org=city, name="Bench group", slug="bench-conv")
    stores = [
        Store.objects.create(dealer_group=group, name=f"Store {i}", code=f"s{i}")
        for i in range(args.stores)
    ]
    for store in stores:
        for wd in range(7):
            org.set_business_hours(store, wd, [(dt.time(8, 30), dt.time(18))])
    password = make_password("bench-password")
    plan = [
        (Role.SERVICE_ADVISOR, "adv", 4),
        (Role.SALES_CONSULTANT, "sales", 2),
        (Role.CUSTOMER_SERVICE, "cs", 2),
        (Role.STORE_MANAGER, "mgr", 1),
    ]
    StaffUser.objects.bulk_create(
        [
            StaffUser(
                username=f"{prefix}-{s.pk}-{k}",
                role=role,
                dealer_group=group,
                password=password,
                language="en",
            )
            for s in stores
            for role, prefix, n in plan
            for k in range(n)
        ]
    )
    people = {u.username: u for u in StaffUser.objects.filter(dealer_group=group)}
    Through = StaffUser.stores.through
    Through.objects.bulk_create(
        [
            Through(staffuser_id=people[f"{prefix}-{s.pk}-{k}"].pk, store_id=s.pk)
            for s in stores
            for _role, prefix, n in plan
            for k in range(n)
        ]
    )
    today = timezone.localdate()
    Shift.objects.bulk_create(
        [
            Shift(
                dealer_group=group,
                staff=people[f"{prefix}-{s.pk}-{k}"],
                store=s,
                date=day,
                starts_at=dt.time(0, 0),
                ends_at=dt.time(23, 59, 59),
            )
            for s in stores
            for _role, prefix, n in plan
            for k in range(n)
            for day in (today - dt.timedelta(days=1), today, today + dt.timedelta(days=1))
        ]
    )

    def who(store, prefix, i):
        n = {"adv": 4, "sales": 2, "cs": 2, "mgr": 1}[prefix]
        return people[f"{prefix}-{store.pk}-{i % n}"]

    # customers: one per conversation
    customers = []
    for i in range(args.conversations):
        store = stores[i % len(stores)]
        phone = f"+86136{i:08d}"
        customers.append(
            Customer(
                dealer_group=group,
                store=store,
                name=f"Customer {i}",
                phone=phone,
                phone_last4=phone[-4:],
                service_advisor=who(store, "adv", i // len(stores)),
                sales_consultant=who(store, "sales", i // len(stores)),
                cs_agent=who(store, "cs", i // len(stores)),
            )
        )
    with transaction.atomic():
        Customer.objects.bulk_create(customers, batch_size=10_000)
    harness.log(f"{len(customers):,} customers in {time.perf_counter() - t0:.1f} s")
    cust = list(
        Customer.objects.unscoped()
        .filter(dealer_group=group)
        .order_by("id")
        .values_list("id", "store_id", "service_advisor_id", "sales_consultant_id", "cs_agent_id")
    )
    topic_pool = [t for t, w in TOPICS for _ in range(w)]
    convs = []
    for cid, sid, adv, sales, cs in cust:
        topic = rng.choice(topic_pool)
        assignee = {"service": adv, "sales": sales, "cs": cs, "store": cs}[topic]
        created = now - dt.timedelta(minutes=rng.randint(60, 365 * 24 * 60))
        last = min(now, created + dt.timedelta(minutes=rng.randint(1, 7 * 24 * 60)))
        is_open = rng.random() < 0.10
        waiting = is_open and rng.random() < 0.5
        closed = None if is_open else last + dt.timedelta(minutes=rng.randint(5, 600))
        rated = (not is_open) and rng.random() < 0.7
        convs.append(
            (
                group.pk,
                sid,
                cid,
                topic,
                assignee,
                "consultant",
                "open" if is_open else "closed",
                last if waiting else None,
                last + dt.timedelta(minutes=30) if waiting else None,
                1,
                last,
                " ".join(rng.choice(WORDS) for _ in range(8)),
                0,
                1 if waiting else 0,
                created,
                created,
                closed,
                assignee if closed else None,
                rng.randint(5, 3000) if closed else None,
                rng.randint(1, 5) if rated else None,
                "",
                closed if rated else None,
            )
        )
    t1 = time.perf_counter()
    with transaction.atomic():
        _copy(
            Conversation._meta.db_table,
            [
                "dealer_group_id",
                "store_id",
                "customer_id",
                "topic",
                "assignee_id",
                "stage",
                "status",
                "waiting_since",
                "first_response_due_at",
                "wait_round",
                "last_message_at",
                "last_message_preview",
                "owner_unread",
                "staff_unread",
                "created_at",
                "opened_at",
                "closed_at",
                "closed_by_id",
                "resolution_minutes",
                "rating",
                "rating_comment",
                "rated_at",
            ],
            convs,
        )
    harness.log(f"{len(convs):,} conversations by COPY in {time.perf_counter() - t1:.1f} s")
    conv_rows = list(
        Conversation.objects.unscoped()
        .order_by("id")
        .values_list("id", "assignee_id", "created_at", "last_message_at")
    )
    # messages: spread args.messages over the conversations (at least 2 each)
    weights = [rng.random() ** 2 + 0.05 for _ in conv_rows]
    total_w = sum(weights)
    counts = [max(2, round(args.messages * w / total_w)) for w in weights]
    drift = sum(counts) - args.messages
    k = 0
    while drift > 0:
        if counts[k % len(counts)] > 2:
            counts[k % len(counts)] -= 1
            drift -= 1
        k += 1

    def message_rows():
        for (conv_id, assignee, created, last), n in zip(conv_rows, counts, strict=True):
            span = max((last - created).total_seconds(), n)
            for j in range(n):
                at = created + dt.timedelta(seconds=span * j / n)
                owner = j % 2 == 0
                note = (not owner) and rng.random() < 0.1
                yield (
                    group.pk,
                    conv_id,
                    "owner" if owner else "staff",
                    None if owner else assignee,
                    "note" if note else "message",
                    " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 14))),
                    "{}",
                    "",
                    None,
                    at,
                    at + dt.timedelta(seconds=2),
                    at + dt.timedelta(minutes=3),
                    rng.randint(1, 90) if (j == 1 and not note) else None,
                )

    t2 = time.perf_counter()
    with transaction.atomic():
        n_messages = _copy(
            Message._meta.db_table,
            [
                "dealer_group_id",
                "conversation_id",
                "author_kind",
                "author_staff_id",
                "kind",
                "body",
                "text",
                "card_kind",
                "card_id",
                "created_at",
                "delivered_at",
                "read_at",
                "response_minutes",
            ],
            message_rows(),
        )
    harness.log(f"{n_messages:,} messages by COPY in {time.perf_counter() - t2:.1f} s")
    # the measured advisor, and owners of theirs for (a)
    advisor = people[f"adv-{stores[0].pk}-0"]
    owners = Owner.objects.bulk_create(
        [
            Owner(phone=f"+86135{i:08d}", name=f"Sender {i}", home_store=stores[0])
            for i in range(args.sends)
        ]
    )
    senders = Customer.objects.bulk_create(
        [
            Customer(
                dealer_group=group,
                store=stores[0],
                owner=o,
                name=o.name,
                phone=o.phone,
                phone_last4=o.phone[-4:],
                service_advisor=advisor,
            )
            for o in owners
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    thread = (
        Conversation.objects.unscoped()
        .filter(assignee=advisor, status="open")
        .order_by("-last_message_at")
        .values_list("id", flat=True)
    )
    mine_open = set(thread)
    sizes = {cid: n for (cid, *_rest), n in zip(conv_rows, counts, strict=True) if cid in mine_open}
    thread_id = max(sizes, key=lambda c: (sizes[c] >= 10, -abs(sizes[c] - 20))) if sizes else None
    return {
        "seconds": round(time.perf_counter() - t0, 1),
        "conversations": len(convs),
        "messages": n_messages,
        "open": sum(1 for c in convs if c[6] == "open"),
        "advisor": advisor,
        "owners": owners,
        "senders": senders,
        "thread": thread_id,
        "thread_messages": sizes.get(thread_id),
        "mine": Conversation.objects.unscoped().filter(assignee=advisor, status="open").count(),
    }


def reuse_facts(args) -> dict:
    """The facts of a kept database (`--keep`), to measure it again with `--reuse`."""
    from django.db.models import Count

    from m4s.conversations.models import Conversation, Message
    from m4s.org.models import Store
    from m4s.owners.models import Owner
    from m4s.staff.models import StaffUser

    store = Store.objects.unscoped().order_by("id").first()
    advisor = StaffUser.objects.get(username=f"adv-{store.pk}-0")
    mine = Conversation.objects.unscoped().filter(assignee=advisor, status="open")
    sizes = dict(
        Message.objects.unscoped()
        .filter(conversation__in=mine)
        .values_list("conversation_id")
        .annotate(n=Count("id"))
    )
    thread = max(sizes, key=lambda c: (sizes[c] >= 10, -abs(sizes[c] - 20)))
    owners = list(Owner.objects.filter(name__startswith="Sender ").order_by("id"))
    return {
        "seconds": 0,
        "conversations": Conversation.objects.unscoped().count(),
        "messages": Message.objects.unscoped().count(),
        "open": Conversation.objects.unscoped().filter(status="open").count(),
        "advisor": advisor,
        "owners": owners,
        "senders": [],
        "thread": thread,
        "thread_messages": sizes[thread],
        "mine": mine.count(),
    }


# --- (a) message → inbox ------------------------------------------------------------------------
class _Server:
    """The app under a threaded WSGI server (each request in its own thread and connection)."""

    def __init__(self):
        from django.core.handlers.wsgi import WSGIHandler
        from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

        class Quiet(WSGIRequestHandler):
            def log_message(self, *args):
                pass

        self.httpd = ThreadedWSGIServer(("127.0.0.1", 0), Quiet, allow_reuse_address=True)
        self.httpd.set_app(WSGIHandler())
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def _session_cookie(user) -> str:
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def message_to_inbox(facts: dict, poll: float, sends: int, rng: random.Random) -> dict:
    from django.db import connection

    from m4s.identity.services import issue_token

    advisor = facts["advisor"]
    tokens = [issue_token(owner=o) for o in facts["owners"][:sends]]
    cookie = _session_cookie(advisor)
    connection.close()
    server = _Server()
    rows_url = server.url("/console/conversations/rows/?box=mine")
    pending: dict[str, float] = {}
    seen: dict[str, float] = {}
    lock = threading.Lock()
    stop = threading.Event()
    polls: list[float] = []
    errors: list[str] = []

    sig = {"value": ""}
    unchanged = [0]

    def poller():
        while not stop.is_set():
            started = time.perf_counter()
            url = rows_url + (f"&sig={sig['value']}" if sig["value"] else "")
            req = urllib.request.Request(url, headers={"Cookie": cookie, "HX-Request": "true"})
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    body = r.read().decode() if r.status == 200 else ""
                    if r.status == 204:
                        unchanged[0] += 1
            except Exception as exc:  # reported
                errors.append(f"poll: {exc}")
                body = ""
            done = time.perf_counter()
            polls.append(done - started)
            found = SIG.search(body)
            if found:  # the console's poller sends back the signature of what it shows
                sig["value"] = found.group(1)
            with lock:
                for marker, sent in list(pending.items()):
                    if marker in body:
                        seen[marker] = done - sent
                        del pending[marker]
            stop.wait(max(0.0, poll - (time.perf_counter() - started)))

    def send(token: str, marker: str) -> None:
        body = json.dumps({"topic": "service", "body": f"Question {marker}"}).encode()
        req = urllib.request.Request(
            server.url("/api/v1/me/conversations"),
            data=body,
            method="POST",
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                "Idempotency-Key": marker,
            },
        )
        with lock:
            pending[marker] = time.perf_counter()
        with urllib.request.urlopen(req, timeout=30) as r:
            if r.status != 201:
                errors.append(f"send {r.status}")

    t = threading.Thread(target=poller, daemon=True)
    t.start()
    try:
        for i, token in enumerate(tokens):
            time.sleep(rng.uniform(0.2, 1.2))
            try:
                send(token, f"m{i:04d}x{rng.randint(10**5, 10**6)}")
            except Exception as exc:  # reported
                errors.append(f"send: {exc}")
        deadline = time.perf_counter() + poll * 3 + 10
        while pending and time.perf_counter() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        t.join(timeout=poll + 30)
        server.stop()
    latencies = sorted(seen.values())
    return {
        "poll_seconds": poll,
        "sent": len(tokens),
        "seen": len(latencies),
        "missing": len(pending),
        "p50_s": round(harness.percentile(latencies, 50), 3) if latencies else None,
        "p99_s": round(harness.percentile(latencies, 99), 3) if latencies else None,
        "max_s": round(latencies[-1], 3) if latencies else None,
        "polls": len(polls),
        "polls_unchanged_204": unchanged[0],
        "poll_p50_ms": round(harness.percentile(polls, 50) * 1000, 1) if polls else None,
        "poll_p95_ms": round(harness.percentile(polls, 95) * 1000, 1) if polls else None,
        "errors": errors[:5],
    }


# --- (b) inbox and conversation latency ---------------------------------------------------------
def _timed(client, path: str, calls: int, **headers) -> dict:
    for _ in range(10):
        r = client.get(path, **headers)
        assert r.status_code == 200, (path, r.status_code, r.content[:300])
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        r = client.get(path, **headers)
        times.append(time.perf_counter() - t0)
        assert r.status_code == 200
    return {
        "p50_ms": round(harness.percentile(times, 50) * 1000, 1),
        "p95_ms": round(harness.percentile(times, 95) * 1000, 1),
    }


def latencies(facts: dict, calls: int) -> dict:
    from django.test import Client

    from m4s.identity.services import issue_token

    advisor = facts["advisor"]
    api = Client()
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {issue_token(staff=advisor)}"}
    console = Client()
    console.force_login(advisor)
    cid = facts["thread"]
    out = {
        "api_mine": _timed(api, "/api/v1/staff/conversations?box=mine", calls, **bearer),
        "api_waiting": _timed(api, "/api/v1/staff/conversations?box=waiting", calls, **bearer),
        "console_rows_mine": _timed(console, "/console/conversations/rows/?box=mine", calls),
        "api_thread": _timed(api, f"/api/v1/staff/conversations/{cid}/messages", calls, **bearer),
        "console_conversation": _timed(console, f"/console/conversations/{cid}/", calls),
    }
    return out


def drop_indexes() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for name in INDEXES:
            cursor.execute(f"DROP INDEX IF EXISTS {connection.ops.quote_name(name)}")
        cursor.execute("VACUUM ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--stores", type=int, default=20)
    parser.add_argument("--sends", type=int, default=200)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--poll", type=float, default=None)
    parser.add_argument("--keep", action="store_true", help="leave the database for EXPLAIN")
    parser.add_argument("--reuse", action="store_true", help="measure a kept database again")
    parser.add_argument("--no-baseline", action="store_true", help="keep the indexes")
    args = parser.parse_args()
    if not args.reuse:
        harness.pg_drop(DB_NAME)
        harness.pg_create(DB_NAME)
    try:
        os.environ["DATABASE_URL"] = f"{harness.PG_URL}/{DB_NAME}"
        os.environ["M4S_DATA_DIR"] = tempfile.mkdtemp(prefix="m4s-bench-")
        os.environ["TASK_BACKEND"] = "db"  # as deployed: notifications are queued
        os.environ["SMS_BACKEND"] = "m4s.notify.sms.MemorySmsBackend"
        os.environ.setdefault("M4S_PLAIN_HTTP", "1")
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "m4s.settings")
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        settings.ALLOWED_HOSTS = ["*"]
        rng = random.Random(13)
        if args.reuse:
            facts = reuse_facts(args)
        else:
            call_command("migrate", verbosity=0)
            facts = load(args, rng)
        harness.log(
            f"loaded in {facts['seconds']} s: {facts['conversations']:,} conversations "
            f"({facts['open']:,} open), {facts['messages']:,} messages; the advisor has "
            f"{facts['mine']} open, thread #{facts['thread']} has {facts['thread_messages']} messages"
        )
        try:
            from m4s.conversations.views.common import INBOX_POLL_SECONDS

            poll = float(args.poll or INBOX_POLL_SECONDS)
        except ImportError:
            poll = float(args.poll or 5)
        a = message_to_inbox(facts, poll, args.sends, rng) if args.sends else {}
        harness.log(f"(a) message → inbox: {a}")
        with_idx = latencies(facts, args.calls)
        harness.log(f"(b) with indexes: {with_idx}")
        without = {}
        if not args.no_baseline:
            drop_indexes()
            without = latencies(facts, max(30, args.calls // 10))
        harness.log(f"(b) without the indexes: {without}")
        print(
            json.dumps(
                {
                    "data": {k: facts[k] for k in ("conversations", "messages", "open", "mine")},
                    "thread_messages": facts["thread_messages"],
                    "message_to_inbox": a,
                    "with_indexes": with_idx,
                    "without_indexes": without,
                },
                indent=2,
            )
        )
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep and not args.reuse:
            harness.pg_drop(DB_NAME)


if __name__ == "__main__":
    main()
