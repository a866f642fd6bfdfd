"""Benchmark: the insight area's nightly work and the KPI dashboard over CUSTOMERS customers with
two years of paid visits, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/m4s_bench_ins \\
        .venv/bin/python bench/bench_insights.py [--customers 1000000] [--stores 20] [--reuse]

Loads (COPY): one dealer group, STORES stores, CUSTOMERS customers each with a car, and their
repair orders + invoices over 24 months (0..6 paid visits each, some warranty visits), then times
- facts.build_days for the 24 months (reported on its own),
- facts.build_customers + rfm.score (+ churn.score_group when part B's churn model exists),
- the group dashboard (GET /console/insights/, the whole page) p95 over 30 requests,
- beside the baseline: the same month's KPIs computed from the raw rows on the request (the
  facts build's own queries for one month: that is what a dashboard without facts would run).
Prints a table; --reuse keeps an already loaded database."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/m4s_bench_ins"
os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "m4s.settings")


def ensure_db(url: str) -> None:
    from urllib.parse import urlparse

    import psycopg

    u = urlparse(url)
    name = u.path.lstrip("/")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as c:
        if not c.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            c.execute(f'CREATE DATABASE "{name}"')


def copy_rows(model, rows, extra_now=None) -> int:
    """COPY dict rows (attname → value, `id` included) into the model's table; other fields get
    their defaults."""
    from django.db import connection
    from django.db.models import DateTimeField, JSONField

    now = extra_now or dt.datetime.now(dt.UTC)
    fields = list(model._meta.concrete_fields)
    cols = ", ".join(f'"{f.column}"' for f in fields)
    defaults = {}
    for f in fields:
        d = f.get_default() if f.has_default() else None
        if d is None and not f.null and isinstance(f, DateTimeField):
            d = now
        if (
            d is None
            and not f.null
            and f.get_internal_type() in ("CharField", "TextField", "SlugField")
        ):
            d = ""
        defaults[f.attname] = d
    n = 0
    with connection.cursor() as cur:
        raw = cur.cursor
        with raw.copy(f"COPY {model._meta.db_table} ({cols}) FROM STDIN") as cp:
            for r in rows:
                out = []
                for f in fields:
                    v = r.get(f.attname, defaults[f.attname])
                    if isinstance(f, JSONField) and v is not None:
                        v = json.dumps(v)
                    out.append(v)
                cp.write_row(out)
                n += 1
    return n


def reset_sequences(*models) -> None:
    from django.db import connection

    with connection.cursor() as cur:
        for m in models:
            t = m._meta.db_table
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), COALESCE(MAX(id), 1)) FROM {t}"
            )


def load(customers: int, stores: int, today: dt.date):
    from django.db import connection

    from m4s.core.tests.factories import DealerGroupFactory, StoreFactory, make_staff
    from m4s.customers.models import Customer
    from m4s.service.models import Invoice, RepairOrder
    from m4s.staff.choices import Role
    from m4s.vehicles.models import Vehicle

    rng = random.Random(19)
    group = DealerGroupFactory(name="Bench Insights")
    store_objs = [
        StoreFactory(dealer_group=group, name=f"Store {i + 1:02d}") for i in range(stores)
    ]
    admin = make_staff("bench-ins-admin", Role.GROUP_ADMIN, group, store_objs)
    advisors = [
        make_staff(f"bench-ins-adv{i}", Role.SERVICE_ADVISOR, group, [s])
        for i, s in enumerate(store_objs)
    ]
    tz = dt.timezone(dt.timedelta(hours=8))
    start = today - dt.timedelta(days=730)
    base_c = (
        Customer.objects.unscoped().order_by("-id").values_list("id", flat=True).first() or 0
    ) + 1
    base_v = (
        Vehicle.objects.unscoped().order_by("-id").values_list("id", flat=True).first() or 0
    ) + 1
    base_r = (
        RepairOrder.objects.unscoped().order_by("-id").values_list("id", flat=True).first() or 0
    ) + 1
    t0 = time.perf_counter()
    store_of = [store_objs[i % stores] for i in range(customers)]
    copy_rows(
        Customer,
        (
            {
                "id": base_c + i,
                "dealer_group_id": group.pk,
                "store_id": store_of[i].pk,
                "name": f"Customer {i}",
                "phone": f"+86139{i:08d}",
                "phone_last4": f"{i % 10000:04d}",
                "service_advisor_id": advisors[i % stores].pk,
                "created_at": dt.datetime(2020, 1, 1, tzinfo=tz),
            }
            for i in range(customers)
        ),
    )
    copy_rows(
        Vehicle,
        (
            {
                "id": base_v + i,
                "dealer_group_id": group.pk,
                "vin": f"LBENCH{i:011d}",
                "plate": f"京B{i % 100000:05d}",
                "brand": "VW",
                "model": "Golf",
                "purchase_date": (p := start - dt.timedelta(days=rng.randint(0, 2500))),
                "warranty_end": p + dt.timedelta(days=3 * 365),
                "current_owner_id": base_c + i,
            }
            for i in range(customers)
        ),
    )
    visits = []
    for i in range(customers):
        k = rng.choice((0, 1, 1, 2, 2, 3, 3, 4, 5, 6))
        for _ in range(k):
            day = start + dt.timedelta(days=rng.randint(0, 729))
            visits.append((i, day, rng.random() < 0.12))
    ro_rows = []
    inv_rows = []
    for j, (i, day, warranty) in enumerate(visits):
        rid = base_r + j
        at = dt.datetime.combine(day, dt.time(9 + j % 8), tzinfo=tz)
        ro_rows.append(
            {
                "id": rid,
                "dealer_group_id": group.pk,
                "number": f"BRO{rid}",
                "store_id": store_of[i].pk,
                "customer_id": base_c + i,
                "vehicle_id": base_v + i,
                "advisor_id": advisors[i % stores].pk,
                "status": "delivered",
                "odometer_in": 10000,
                "fuel_pct": 50,
                "checked_in_at": at,
                "delivered_at": at + dt.timedelta(hours=6),
            }
        )
        pay = Decimal(0) if warranty else Decimal(rng.randint(300, 4000))
        inv_rows.append(
            {
                "id": rid,
                "dealer_group_id": group.pk,
                "repair_order_id": rid,
                "number": f"BINV{rid}",
                "issued_at": at + dt.timedelta(hours=5),
                "issued_by_id": advisors[i % stores].pk,
                "labour_total": pay,
                "parts_total": 0,
                "discount_total": 0,
                "net_total": pay,
                "tax_rate": Decimal("0.130"),
                "tax": 0,
                "total": pay,
                "customer_pay_net": pay,
                "customer_pay_total": pay,
                "by_payer": {},
            }
        )
    copy_rows(RepairOrder, ro_rows)
    copy_rows(Invoice, inv_rows)
    reset_sequences(Customer, Vehicle, RepairOrder, Invoice)
    with connection.cursor() as cur:
        for t in (
            "customers_customer",
            "vehicles_vehicle",
            "service_repairorder",
            "service_invoice",
        ):
            cur.execute(f"ANALYZE {t}")
    return group, admin, len(visits), time.perf_counter() - t0


def timed(fn, *a):
    t = time.perf_counter()
    out = fn(*a)
    return out, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--customers", type=int, default=int(os.environ.get("M4S_BENCH_CUSTOMERS", 1_000_000))
    )
    ap.add_argument("--stores", type=int, default=20)
    ap.add_argument("--requests", type=int, default=30)
    ap.add_argument("--reuse", action="store_true")
    ap.add_argument("--dashboard-only", action="store_true", help="with --reuse: skip builds")
    args = ap.parse_args()
    url = os.environ["DATABASE_URL"]
    assert url.startswith("postgres"), "PostgreSQL only"
    ensure_db(url)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    from m4s.core.dates import add_months
    from m4s.insights import facts, kpis, rfm
    from m4s.org.models import DealerGroup
    from m4s.staff.models import StaffUser  # noqa: F401

    today = dt.date.today()
    month = add_months(today.replace(day=1), -1)
    group = DealerGroup.objects.filter(name="Bench Insights").first() if args.reuse else None
    if group is None:
        group, admin, n_visits, t_load = load(args.customers, args.stores, today)
        print(
            f"loaded {args.customers:,} customers, {n_visits:,} visits in {t_load:.1f} s",
            flush=True,
        )
    else:
        from django.contrib.auth import get_user_model

        admin = get_user_model().objects.get(username="bench-ins-admin")
    rows = []
    if not args.dashboard_only:
        _n, t_days = timed(facts.build_days, group, today - dt.timedelta(days=730), today)
        rows.append(("facts.build_days (24 months)", t_days, f"{_n:,} store-days"))
        print(rows[-1], flush=True)
        n, t_cust = timed(facts.build_customers, group, today)
        rows.append(("facts.build_customers", t_cust, f"{n:,} customers"))
        print(rows[-1], flush=True)
        n, t_rfm = timed(rfm.score, group, today)
        rows.append(("rfm.score", t_rfm, f"{n:,} customers"))
        print(rows[-1], flush=True)
        t_churn = None
        try:
            from m4s.insights import churn

            if hasattr(churn, "score_group"):
                if churn.current_model(group) is None:
                    _m, t_train = timed(churn.train_group, group)
                    rows.append(("churn.train_group (not in the goal)", t_train, ""))
                n, t_churn = timed(churn.score_group, group)
                rows.append(("churn.score_group", t_churn, f"{n:,} customers"))
        except NotImplementedError:
            rows.append(("churn.score_group", None, "part B's churn not landed"))
        except Exception as exc:  # report, do not hide
            rows.append(("churn.score_group", None, f"failed: {type(exc).__name__}: {exc}"[:80]))
        nightly = t_cust + t_rfm + (t_churn or 0)
        rows.append(
            (
                "customers + RFM (+ churn) [goal ≤ 60 s]",
                nightly,
                "with churn" if t_churn else "without churn",
            )
        )

    c = Client()
    c.force_login(admin)
    times = []
    for _ in range(args.requests):
        t = time.perf_counter()
        r = c.get("/console/insights/", {"month": month.strftime("%Y-%m")}, secure=True)
        times.append(time.perf_counter() - t)
        assert r.status_code == 200, r.status_code
    p95 = sorted(times)[int(0.95 * (len(times) - 1))]
    rows.append(
        ("dashboard p95 (facts) [goal ≤ 0.3 s]", p95, f"median {statistics.median(times):.3f} s")
    )
    t = time.perf_counter()
    kpis.table(group, month, None)
    rows.append(("  KPI table from facts (one call)", time.perf_counter() - t, ""))
    base = []
    for _ in range(3):
        t = time.perf_counter()
        facts._day_rows(group.pk, month, add_months(month, 1) - dt.timedelta(days=1))
        facts._month_rows(group.pk, month)
        base.append(time.perf_counter() - t)
    rows.append(
        ("baseline: same KPIs from raw rows (max of 3)", max(base), f"min {min(base):.2f} s")
    )

    print()
    print(f"insights benchmark: {args.customers:,} customers, {args.stores} stores, PostgreSQL")
    print(f"{'step':<50} {'seconds':>9}  note")
    for name, secs, note in rows:
        print(f"{name:<50} {secs if secs is None else f'{secs:9.3f}':>9}  {note}")


if __name__ == "__main__":
    main()
