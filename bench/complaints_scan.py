"""Complaints breach/escalation scan on PostgreSQL: set-based vs a per-row Python loop.

    .venv/bin/python bench/complaints_scan.py [--complaints 100000] [--stores 200] [--budget 60]

A throwaway database `m4s_bench_complaints_<pid>` is created on BENCH_PG_URL (default
postgresql://postgres@127.0.0.1:5432), migrated, loaded, measured and dropped (even on failure).

Data: `--stores` stores in 10 dealer groups (Asia/Shanghai, split shifts every day), a store
manager per store and a group admin per group, 50 customers per store, and `--complaints` open
complaints at level 1 spread over the stores: 90 % with their level clock run out (breached),
10 % still in time, 5 % of all waiting for the customer (paused: never escalated), 20 % without a
first response and past its due time.

1. M4S: `m4s.complaints.escalation.scan()` — batches read with FOR UPDATE SKIP LOCKED, one
   conditional UPDATE … RETURNING per batch, due moments per (store, minutes) and assignees per
   (store, level) computed once, Escalation/ComplaintEvent/timeline rows bulk-inserted, one
   console notification per new handler. Run twice: the second run must escalate nothing, and
   no complaint may have two escalations to one level.
2. Baseline: the same breached complaints, one at a time in Python, the way a first version
   would: lock the row, look up its SLA policy, compute the new due time with
   `add_business_minutes`, route with `routing.route`, and climb through `handling.climb` (its
   own Escalation, event, timeline line and notifications), one transaction per complaint —
   stopped after `--budget` seconds and reported as a rate with the extrapolated total.
   Between the two, the database is put back exactly as loaded.
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
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(BENCH_DIR.parent))

import run as harness  # noqa: E402  (bench/run.py: log, pg_create, pg_drop)


def load(n_complaints: int, n_stores: int, rng: random.Random) -> dict:
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from m4s.complaints import services
    from m4s.complaints.models import Complaint, ComplaintCategory
    from m4s.customers.models import Customer
    from m4s.org import services as org
    from m4s.org.models import DealerGroup, LocalOrganisation, Store
    from m4s.staff.choices import Role
    from m4s.staff.models import StaffUser

    t0 = time.perf_counter()
    city = LocalOrganisation.objects.create(
        headquarters=org.ensure_headquarters(), name="Bench city", city="Beijing"
    )
    groups = []
    for g in range(10):
        groups.append(
            DealerGroup.objects.create(local_org=city, name=f"Bench group {g}", slug=f"bench-{g}")
        )
    stores = []
    for i in range(n_stores):
        group = groups[i % len(groups)]
        stores.append(Store.objects.create(dealer_group=group, name=f"Store {i}", code=f"s{i}"))
    hours = [(dt.time(8, 30), dt.time(12)), (dt.time(13, 30), dt.time(18))]
    for store in stores:
        for wd in range(7):
            org.set_business_hours(store, wd, hours)
    password = make_password(None)
    staff = [
        StaffUser(
            username=f"manager-{s.pk}",
            role=Role.STORE_MANAGER,
            dealer_group_id=s.dealer_group_id,
            password=password,
        )
        for s in stores
    ] + [
        StaffUser(
            username=f"admin-{g.pk}", role=Role.GROUP_ADMIN, dealer_group=g, password=password
        )
        for g in groups
    ]
    StaffUser.objects.bulk_create(staff)
    managers = {u.username: u for u in StaffUser.objects.filter(role=Role.STORE_MANAGER)}
    Through = StaffUser.stores.through
    Through.objects.bulk_create(
        [Through(staffuser_id=managers[f"manager-{s.pk}"].pk, store_id=s.pk) for s in stores]
    )
    for g in groups:
        services.ensure_defaults(g.pk)
    category = {
        c.dealer_group_id: c.pk for c in ComplaintCategory.objects.unscoped().filter(code="other")
    }
    customers = []
    for s in stores:
        for k in range(50):
            customers.append(
                Customer(
                    dealer_group_id=s.dealer_group_id,
                    store=s,
                    name=f"Customer {s.pk}-{k}",
                    phone=f"+86137{s.pk:04d}{k:04d}",
                )
            )
    Customer.objects.bulk_create(customers, batch_size=5000)
    by_store: dict[int, list[int]] = {}
    for pk, store_id in Customer.objects.unscoped().values_list("id", "store_id"):
        by_store.setdefault(store_id, []).append(pk)
    now = timezone.now()
    severities = ["low", "normal", "normal", "normal", "high", "critical"]
    rows = []
    breached = 0
    for i in range(n_complaints):
        store = stores[i % n_stores]
        late = rng.random() < 0.9
        paused = rng.random() < 0.05
        no_answer = rng.random() < 0.2
        breached += late and not paused
        created = now - dt.timedelta(hours=rng.randint(30, 200))
        rows.append(
            Complaint(
                dealer_group_id=store.dealer_group_id,
                reference=f"C-B{i:09d}",
                store_id=store.pk,
                customer_id=rng.choice(by_store[store.pk]),
                channel="phone",
                category_id=category[store.dealer_group_id],
                severity=rng.choice(severities),
                description="Bench complaint",
                status="waiting_customer" if paused else "in_progress",
                level=1,
                created_at=created,
                first_response_due_at=now - dt.timedelta(minutes=rng.randint(1, 600))
                if no_answer
                else created + dt.timedelta(hours=4),
                first_responded_at=None if no_answer else created + dt.timedelta(hours=1),
                resolution_due_at=now + dt.timedelta(days=3),
                level_due_at=now - dt.timedelta(minutes=rng.randint(1, 3000))
                if late
                else now + dt.timedelta(minutes=rng.randint(60, 3000)),
                level_started_at=created,
                paused_at=now - dt.timedelta(hours=1) if paused else None,
            )
        )
        if len(rows) == 10_000:
            with transaction.atomic():
                Complaint.objects.bulk_create(rows, batch_size=5000)
            rows = []
    if rows:
        Complaint.objects.bulk_create(rows, batch_size=5000)
    seconds = time.perf_counter() - t0
    harness.log(f"loaded {n_complaints:,} complaints over {n_stores} stores in {seconds:.1f} s")
    return {"breached": breached, "load_seconds": seconds}


def snapshot_state() -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_orig")
        cur.execute(
            "CREATE TABLE bench_orig AS SELECT id, level, level_due_at, level_started_at, "
            "assignee_id, first_response_breached_at FROM complaints_complaint"
        )
        for table in (
            "complaints_escalation",
            "complaints_complaintevent",
            "customers_timelineevent",
            "notify_message",
        ):
            cur.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS bench_mark_{table} AS SELECT {cur.fetchone()[0]} AS id"
            )
        cur.execute("VACUUM ANALYZE")


def restore_state() -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "UPDATE complaints_complaint c SET level = o.level, level_due_at = o.level_due_at, "
            "level_started_at = o.level_started_at, assignee_id = o.assignee_id, "
            "first_response_breached_at = o.first_response_breached_at "
            "FROM bench_orig o WHERE c.id = o.id"
        )
        for table in (
            "complaints_escalation",
            "complaints_complaintevent",
            "customers_timelineevent",
            "notify_message",
        ):
            cur.execute(f"DELETE FROM {table} WHERE id > (SELECT id FROM bench_mark_{table})")
        cur.execute("VACUUM ANALYZE")


def per_row_loop(now, budget: float) -> dict:
    """The baseline: one breached complaint at a time."""
    from django.db import transaction

    from m4s.complaints import clocks, routing
    from m4s.complaints.choices import RUNNING_STATUSES, EscalationReason
    from m4s.complaints.handling import climb
    from m4s.complaints.models import Complaint

    ids = list(
        Complaint.objects.unscoped()
        .filter(
            status__in=RUNNING_STATUSES, paused_at__isnull=True, level_due_at__lt=now, level__lt=3
        )
        .order_by("level_due_at", "id")
        .values_list("id", flat=True)
    )
    done = 0
    start = time.perf_counter()
    for pk in ids:
        with transaction.atomic():
            c = (
                Complaint.objects.unscoped()
                .select_for_update(of=("self",))
                .select_related("store", "customer", "category__parent")
                .get(pk=pk)
            )
            if c.level_due_at >= now or c.paused_at is not None:
                continue
            t = clocks.targets_for(c.dealer_group_id, c.severity, c.category)
            clocks.add_minutes(c.store, now, t.level_minutes(c.level + 1))
            routing.route(c.store, c.customer, c.level + 1, now)
            climb(c, c.level + 1, EscalationReason.BREACH, now=now)
        done += 1
        if time.perf_counter() - start > budget:
            break
    seconds = time.perf_counter() - start
    return {"done": done, "of": len(ids), "seconds": seconds, "rate": done / seconds}


def sql_floor(now) -> float:
    """What the database alone needs for the same writes: one UPDATE of every breached row and
    one INSERT … SELECT each for the escalations, events and timeline lines (no routing, no
    business calendar, no batching, no locks beyond the statement's own)."""
    from django.db import connection, transaction

    cond = (
        "status IN ('new', 'acknowledged', 'in_progress', 'reopened') AND paused_at IS NULL "
        "AND level < 3 AND level_due_at < %s"
    )
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE moved AS SELECT id FROM complaints_complaint WHERE " + cond, [now]
        )
        cur.execute(
            "UPDATE complaints_complaint SET level = level + 1, level_due_at = %s, "
            "level_started_at = %s WHERE id IN (SELECT id FROM moved)",
            [now + dt.timedelta(hours=4), now],
        )
        cur.execute(
            "INSERT INTO complaints_escalation (dealer_group_id, complaint_id, from_level, to_level,"
            " reason, note, by_id, to_staff_id, at) SELECT dealer_group_id, id, 1, 2, 'breach', '',"
            " NULL, assignee_id, %s FROM complaints_complaint WHERE id IN (SELECT id FROM moved)",
            [now],
        )
        cur.execute(
            "INSERT INTO complaints_complaintevent (dealer_group_id, complaint_id, kind, at, "
            "author_staff_id, author_owner_id, text, body, owner_visible, call_direction, "
            "call_minutes, data) SELECT dealer_group_id, id, 'escalated', %s, NULL, NULL, '{}', '',"
            " true, '', NULL, '{}' FROM complaints_complaint WHERE id IN (SELECT id FROM moved)",
            [now],
        )
        cur.execute(
            "INSERT INTO customers_timelineevent (dealer_group_id, customer_id, kind, at, title, "
            "data, actor_id) SELECT dealer_group_id, customer_id, 'complaint', %s, 'x', '{}', NULL"
            " FROM complaints_complaint WHERE id IN (SELECT id FROM moved)",
            [now],
        )
        cur.execute("DROP TABLE moved")
    return time.perf_counter() - start


def duplicates() -> int:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM (SELECT complaint_id, to_level FROM complaints_escalation "
            "GROUP BY complaint_id, to_level HAVING count(*) > 1) d"
        )
        return cur.fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--complaints", type=int, default=100_000)
    parser.add_argument("--stores", type=int, default=200)
    parser.add_argument("--budget", type=float, default=60.0)
    args = parser.parse_args()
    name = f"m4s_bench_complaints_{os.getpid()}"
    harness.pg_create(name)
    try:
        os.environ["DATABASE_URL"] = f"{harness.PG_URL}/{name}"
        os.environ["M4S_DATA_DIR"] = tempfile.mkdtemp(prefix="m4s-bench-")
        os.environ["TASK_BACKEND"] = "db"  # as deployed: notifications are queued, not sent inline
        os.environ["SMS_BACKEND"] = "m4s.notify.sms.MemorySmsBackend"
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "m4s.settings")
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection
        from django.utils import timezone

        from m4s.complaints import escalation
        from m4s.complaints.models import Complaint, Escalation

        call_command("migrate", verbosity=0)
        facts = load(args.complaints, args.stores, random.Random(12))
        now = timezone.now()
        snapshot_state()

        t0 = time.perf_counter()
        if os.environ.get("BENCH_PROFILE"):
            import cProfile
            import pstats

            profile = cProfile.Profile()
            first = profile.runcall(escalation.scan, now=now)
            pstats.Stats(profile, stream=sys.stderr).sort_stats("cumulative").print_stats(30)
        else:
            first = escalation.scan(now=now)
        scan_seconds = time.perf_counter() - t0
        t0 = time.perf_counter()
        second = escalation.scan(now=now)
        rerun_seconds = time.perf_counter() - t0
        dup = duplicates()
        climbed = Complaint.objects.unscoped().filter(level=2).count()
        escalations = Escalation.objects.unscoped().count()
        harness.log(
            f"scan: {first} in {scan_seconds:.2f} s; re-run {second} in {rerun_seconds:.2f} s; "
            f"{climbed:,} at level 2, {escalations:,} escalation rows, {dup} duplicates"
        )
        if first["escalated"] != facts["breached"] or second["escalated"] or dup:
            raise SystemExit("the scan did not escalate each breached complaint exactly once")

        restore_state()
        floor_seconds = sql_floor(now)
        harness.log(f"SQL floor (escalations only): {floor_seconds:.2f} s")
        restore_state()
        baseline = per_row_loop(now, args.budget)
        harness.log(
            f"per-row loop: {baseline['done']:,} of {baseline['of']:,} in "
            f"{baseline['seconds']:.1f} s ({baseline['rate']:.1f}/s)"
        )
        result = {
            "complaints": args.complaints,
            "stores": args.stores,
            "breached": facts["breached"],
            "load_seconds": round(facts["load_seconds"], 1),
            "scan": first,
            "scan_seconds": round(scan_seconds, 2),
            "rerun": second,
            "rerun_seconds": round(rerun_seconds, 2),
            "duplicates": dup,
            "sql_floor_seconds": round(floor_seconds, 2),
            "load_average": os.getloadavg(),
            "baseline_done": baseline["done"],
            "baseline_seconds": round(baseline["seconds"], 1),
            "baseline_rate": round(baseline["rate"], 1),
            "baseline_extrapolated_seconds": round(facts["breached"] / baseline["rate"]),
            "postgres": connection.cursor().connection.info.server_version,
        }
        print(json.dumps(result, indent=1))
        connection.close()
    finally:
        harness.pg_drop(name)


if __name__ == "__main__":
    main()
