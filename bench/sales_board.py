"""The sales board and the weighted forecast on PostgreSQL: 100,000 leads in one dealer group.

    nice .venv/bin/python bench/sales_board.py [--leads 100000] [--calls 300] [--keep]

The database `m4s_bench_sales` is created on BENCH_PG_URL (default
postgresql://postgres@127.0.0.1:5432), migrated, loaded with COPY, measured and dropped at the
end, even on failure (`--keep` leaves it for EXPLAIN).

Data: the measured group with 8 stores and 48 consultants (6 per store) and `--leads` leads over
three years (about 2,100 per consultant, the realistic share of one of 48), plus a second group
with a quarter as many (rows the group filter must skip). Stages as a pipeline ages: 12 % new,
5 % contacted, 4 % test drive, 4 % negotiation, 20 % won, 55 % lost (with a reason); follow-up
dates around today for open leads, expected close dates over ±18 months, won dates over the three
years; values 80,000–450,000.

Measured, `--calls` times each: a consultant's board (`selectors.board`: counts and values per
stage in one aggregate query, up to 20 cards per stage by a window function, overdue first) and
the group manager's forecast of a month (`selectors.forecast`: one aggregate query per stage and
consultant, plus the group's probabilities); random consultants and months (this month ± 6);
p50/p95 and the number of SQL queries per call. Then the same after dropping the sales indexes
(board, forecast, won, phone) and VACUUM ANALYZE — the baseline in the same run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(BENCH_DIR.parent))

import run as harness  # noqa: E402  (bench/run.py: log, pg_create, pg_drop, percentile)
from content_feed import copy_model  # noqa: E402  (COPY rows into a model's table)

DB_NAME = "m4s_bench_sales"
STORES = 8
PER_STORE = 6
STAGES = [
    ("new", 12), ("contacted", 5), ("test_drive", 4), ("negotiation", 4), ("won", 20), ("lost", 55),
]  # fmt: skip
INDEXES = ("sales_lead_board", "sales_lead_forecast", "sales_lead_won", "sales_lead_phone")


def _stage(rng: random.Random) -> str:
    x = rng.uniform(0, 100)
    for stage, weight in STAGES:
        if x < weight:
            return stage
        x -= weight
    return "lost"


def _leads(group, stores, people, n, rng, now, phone_base):
    from m4s.sales.choices import LeadSource, LostReason

    today = now.date()
    sources, reasons = LeadSource.values, LostReason.values
    for i in range(n):
        store = rng.choice(stores)
        person = rng.choice(people[store.pk]) if rng.random() < 0.95 else None
        stage = _stage(rng)
        created = now - dt.timedelta(days=rng.uniform(0, 3 * 365))
        row = {
            "dealer_group_id": group.pk,
            "store_id": store.pk,
            "phone": f"+86138{phone_base + i:08d}",
            "name": f"Prospect {i}",
            "source": rng.choice(sources),
            "value": Decimal(rng.randrange(80_000, 450_000, 100)),
            "stage": stage,
            "assigned_to_id": person,
            "expected_close": today + dt.timedelta(days=rng.randint(-540, 540)),
            "created_at": created,
            "updated_at": created,
            "stage_changed_at": created,
        }
        if stage in ("won", "lost"):
            closed = min(now, created + dt.timedelta(days=rng.randint(1, 90)))
            row["won_at" if stage == "won" else "lost_at"] = closed
            if stage == "lost":
                row["lost_reason"] = rng.choice(reasons)
        else:
            row["next_follow_up"] = today + dt.timedelta(days=rng.randint(-20, 20))
        yield row


def load(args, rng: random.Random) -> dict:
    from django.db import connection
    from django.utils import timezone

    from m4s.org import services as org
    from m4s.org.models import DealerGroup, LocalOrganisation, Store
    from m4s.sales.models import Lead
    from m4s.staff.choices import Role
    from m4s.staff.models import StaffUser

    t0 = time.perf_counter()
    now = timezone.now()
    worlds = []
    city = LocalOrganisation.objects.create(
        headquarters=org.ensure_headquarters(), name="Beijing association", city="Beijing"
    )
    for k, share in ((0, 1.0), (1, 0.25)):
        group = DealerGroup.objects.create(
            local_org=city, name=f"Bench group {k}", slug=f"bench-sales-{k}"
        )
        stores = [
            Store.objects.create(dealer_group=group, name=f"Store {k}.{s}", code=f"s{k}{s}")
            for s in range(STORES)
        ]
        people: dict[int, list[int]] = {}
        # staff rows in bulk, without password hashing (nobody signs in here)
        users = StaffUser.objects.bulk_create(
            [
                StaffUser(
                    username=f"sales-{k}-{s.pk}-{j}",
                    password="!",
                    role=Role.SALES_CONSULTANT,
                    dealer_group=group,
                )
                for s in stores
                for j in range(PER_STORE)
            ]
        )
        Link = StaffUser.stores.through
        Link.objects.bulk_create(
            [
                Link(staffuser_id=u.pk, store_id=stores[i // PER_STORE].pk)
                for i, u in enumerate(users)
            ]
        )
        for i, s in enumerate(stores):
            people[s.pk] = [u.pk for u in users[i * PER_STORE : (i + 1) * PER_STORE]]
        manager = StaffUser.objects.create(
            username=f"admin-{k}", password="!", role=Role.GROUP_ADMIN, dealer_group=group
        )
        manager.stores.set(stores)
        n = int(args.leads * share)
        copy_model(Lead, _leads(group, stores, people, n, rng, now, k * 10_000_000))
        worlds.append((group, people, manager, n))
    with connection.cursor() as c:
        c.execute("VACUUM ANALYZE")
    group, people, manager, n = worlds[0]
    consultants = [pk for ids in people.values() for pk in ids]
    counts = dict(
        Lead.objects.unscoped()
        .filter(dealer_group=group)
        .values_list("assigned_to")
        .annotate(n=__import__("django.db.models", fromlist=["Count"]).Count("id"))
        .values_list("assigned_to", "n")
    )
    shares = sorted(v for k, v in counts.items() if k)
    return {
        "seconds": round(time.perf_counter() - t0, 1),
        "leads_in_group": n,
        "leads_other_group": worlds[1][3],
        "consultants": len(consultants),
        "leads_per_consultant_median": shares[len(shares) // 2],
        "consultant_ids": consultants,
        "manager_id": manager.pk,
    }


def measure(consultant_ids: list[int], manager_id: int, calls: int, rng) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from m4s.core.dates import add_months
    from m4s.sales import selectors
    from m4s.staff.models import StaffUser

    manager = StaffUser.objects.get(pk=manager_id)
    this_month = timezone.localdate().replace(day=1)
    board_t, forecast_t, board_q, forecast_q, cards = [], [], [], [], []
    for _ in range(calls):
        person = StaffUser.objects.get(pk=rng.choice(consultant_ids))
        person.store_ids()  # the session's user, as a page has it
        month = add_months(this_month, rng.randint(-6, 6))
        with CaptureQueriesContext(connection) as q1:
            t0 = time.perf_counter()
            b = selectors.board(person)
            t1 = time.perf_counter()
        with CaptureQueriesContext(connection) as q2:
            t2 = time.perf_counter()
            selectors.forecast(manager, month)
            t3 = time.perf_counter()
        board_t.append(t1 - t0)
        forecast_t.append(t3 - t2)
        board_q.append(len(q1))
        forecast_q.append(len(q2))
        cards.append(sum(len(c["cards"]) for c in b["columns"]))

    def ms(values, p):
        return round(harness.percentile(values, p) * 1000, 2)

    return {
        "calls": calls,
        "board_p50_ms": ms(board_t, 50),
        "board_p95_ms": ms(board_t, 95),
        "board_queries": max(board_q),
        "mean_cards": round(sum(cards) / len(cards), 1),
        "forecast_p50_ms": ms(forecast_t, 50),
        "forecast_p95_ms": ms(forecast_t, 95),
        "forecast_queries": max(forecast_q),
    }


def drop_indexes() -> None:
    from django.db import connection

    with connection.cursor() as c:
        for name in INDEXES:
            c.execute(f"DROP INDEX IF EXISTS {name}")
        c.execute("VACUUM ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--keep", action="store_true", help="leave the database for EXPLAIN")
    parser.add_argument("--no-baseline", action="store_true", help="keep the indexes")
    args = parser.parse_args()
    harness.pg_drop(DB_NAME)
    harness.pg_create(DB_NAME)
    try:
        os.environ["DATABASE_URL"] = f"{harness.PG_URL}/{DB_NAME}"
        os.environ["M4S_DATA_DIR"] = tempfile.mkdtemp(prefix="m4s-bench-")
        os.environ.setdefault("M4S_PLAIN_HTTP", "1")
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "m4s.settings")
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        facts = load(args, random.Random(15))
        consultant_ids = facts.pop("consultant_ids")
        manager_id = facts.pop("manager_id")
        harness.log(f"loaded: {facts}")
        with_idx = measure(consultant_ids, manager_id, args.calls, random.Random(1))
        harness.log(f"with indexes: {with_idx}")
        without = {}
        if not args.no_baseline:
            drop_indexes()
            without = measure(consultant_ids, manager_id, args.calls, random.Random(1))
        harness.log(f"without the indexes: {without}")
        print(
            json.dumps(
                {"data": facts, "with_indexes": with_idx, "without_indexes": without}, indent=2
            )
        )
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            harness.pg_drop(DB_NAME)


if __name__ == "__main__":
    main()
