"""The daily care scan on PostgreSQL: one day of every reminder kind over 1,000,000 cars and
owners, beside the per-car maintenance path it replaced.

    .venv/bin/python bench/care_scan.py [--cars 1000000] [--baseline-cars 10000] [--keep]

The database `m4s_bench_care` on BENCH_PG_URL (default postgresql://postgres@127.0.0.1:5432) is
dropped if it exists, created, migrated, bulk-loaded with COPY, measured and dropped again
(unless --keep), even on failure.

Data (`--cars` of each): owners with app accounts (30 % marketing consent, 60 % telematics
consent, birthdays over the year), one customer per owner in 10 dealer groups of 10 stores each,
one car per customer (a Toyota with the groups' maintenance schedule; registered 0-20 years ago;
insurance ending over the next year; 20 % with a main driver's licence date over the next 6
years), mileage forecasts for 20 % of the cars with their last services, a declined red or amber
brake-pad line on 5 % (declined over the last 60 days), 10,000 open traffic violations of the
last 30 days, and a rainstorm warning over one store's city (its 10,000 customers).

1. M4S, one day: yesterday's scan is taken as done (its reminders written by the same SQL passes
   and marked sent, untimed), then `m4s.care.scan` runs for today, timed in its parts: the SQL
   passes (one INSERT … SELECT … ON CONFLICT DO NOTHING per kind), and the hand-off of what they
   wrote to the contact policy (`notify.policy.contact_many`, batches of 500). Run again: it must
   write and send nothing (0 duplicate messages or decisions).
2. Baseline: `telematics.services.remind_due_maintenance` as it was on main (below, verbatim but
   for a car limit): three queries per car and a message each, timed on the first
   `--baseline-cars` cars with a forecast, extrapolated to all 1,000,000 cars.
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

DB_NAME = "m4s_bench_care"
GROUPS, STORES_PER_GROUP = 10, 10
BEIJING = (39.9042, 116.4074)


# --- COPY ---------------------------------------------------------------------------------------
def copy_rows(model, columns: list[str], rows) -> int:
    """COPY rows (tuples in `columns` order) into the model's table; other columns take their
    field's default (computed once)."""
    from django.db import connection
    from django.db.models import NOT_PROVIDED

    fields = [f for f in model._meta.concrete_fields if f.column not in columns]
    extra_cols, extra_vals = [], []
    for f in fields:
        if f.primary_key:
            continue
        if f.has_default() and f.default is not NOT_PROVIDED:
            value = f.get_default()
            if isinstance(value, dict | list):
                value = json.dumps(value)
        elif f.null:
            value = None
        elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            from django.utils import timezone

            value = timezone.now()
        else:
            value = ""
        extra_cols.append(f.column)
        extra_vals.append(value)
    cols = ", ".join([*columns, *extra_cols])
    n = 0
    sql = f"COPY {model._meta.db_table} ({cols}) FROM STDIN"
    with connection.cursor() as cur, cur.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row((*row, *extra_vals))
            n += 1
    return n


def reset_sequence(model) -> None:
    from django.db import connection

    table = model._meta.db_table
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT coalesce(max(id), 1) FROM {table}))"
        )


# --- the data -----------------------------------------------------------------------------------
def load(n: int, rng: random.Random) -> dict:
    from django.contrib.auth.hashers import make_password
    from django.db import connection
    from django.utils import timezone

    from m4s.care.models import Violation, WeatherWarning
    from m4s.customers.models import Customer
    from m4s.demo.starters import service as starter
    from m4s.org import services as org
    from m4s.org.models import DealerGroup, LocalOrganisation, Store
    from m4s.owners.models import Owner
    from m4s.service.models import (
        InspectionPoint,
        InspectionResult,
        InspectionTemplate,
        MaintenanceItem,
        MaintenanceRecord,
        RepairLine,
        RepairOrder,
    )
    from m4s.staff.choices import Role
    from m4s.staff.models import StaffUser
    from m4s.telematics.models import MileageForecast
    from m4s.vehicles.models import Vehicle

    t0 = time.perf_counter()
    now = timezone.now()
    today = timezone.localdate(now)
    city = LocalOrganisation.objects.create(
        headquarters=org.ensure_headquarters(), name="Bench city", city="Beijing"
    )
    groups, stores = [], []
    for g in range(GROUPS):
        group = DealerGroup.objects.create(local_org=city, name=f"Group {g}", slug=f"bench-{g}")
        groups.append(group)
        starter.install_catalogue(group)
        for s in range(STORES_PER_GROUP):
            lat, lon = BEIJING if g == 0 and s == 0 else (22 + g, 100 + s * 2)
            stores.append(
                Store.objects.create(
                    dealer_group=group,
                    name=f"Store {g}-{s}",
                    code=f"s{s}",
                    latitude=lat,
                    longitude=lon,
                )
            )
    password = make_password(None)
    advisors = {
        g.pk: StaffUser.objects.create(
            username=f"advisor-{g.pk}",
            role=Role.SERVICE_ADVISOR,
            dealer_group=g,
            password=password,
        )
        for g in groups
    }
    points, ops = {}, {}
    for g in groups:
        store = next(s for s in stores if s.dealer_group_id == g.pk)
        template = InspectionTemplate.objects.create(dealer_group=g, store=store, name="MPI")
        from m4s.service.models import LabourOperation

        ops[g.pk] = LabourOperation.objects.for_group(g).get(code="PADF")
        points[g.pk] = InspectionPoint.objects.create(
            dealer_group=g,
            template=template,
            name="Front brake pads",
            measure="pad_mm",
            operation=ops[g.pk],
        )
    harness.log(f"setup: {GROUPS} groups with catalogues, {len(stores)} stores")

    # owners, customers, cars: ids given explicitly (a fresh database)
    store_of = [stores[i % len(stores)] for i in range(n)]
    birthdays = [dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(40 * 365)) for _ in range(n)]
    copy_rows(
        Owner,
        [
            "id",
            "phone",
            "name",
            "birthday",
            "marketing_consent",
            "telematics_consent",
            "home_store_id",
            "created_at",
        ],
        (
            (
                i + 1,
                f"+86180{i:08d}",
                f"Owner {i}",
                birthdays[i],
                rng.random() < 0.3,
                rng.random() < 0.6,
                store_of[i].pk,
                now,
            )
            for i in range(n)
        ),
    )
    copy_rows(
        Customer,
        [
            "id",
            "dealer_group_id",
            "owner_id",
            "store_id",
            "name",
            "phone",
            "phone_last4",
            "created_at",
            "updated_at",
        ],
        (
            (
                i + 1,
                store_of[i].dealer_group_id,
                i + 1,
                store_of[i].pk,
                f"Owner {i}",
                f"+86180{i:08d}",
                f"{i:08d}"[-4:],
                now,
                now,
            )
            for i in range(n)
        ),
    )
    purchase = [today - dt.timedelta(days=rng.randrange(20 * 365)) for _ in range(n)]
    copy_rows(
        Vehicle,
        [
            "id",
            "dealer_group_id",
            "vin",
            "plate",
            "brand",
            "model",
            "purchase_date",
            "odometer_km",
            "insurance_expiry",
            "insurer",
            "driver_licence_expiry",
            "current_owner_id",
            "created_at",
            "updated_at",
        ],
        (
            (
                i + 1,
                store_of[i].dealer_group_id,
                f"LBENCH{i:011d}",
                "",
                "Toyota",
                "Camry",
                purchase[i],
                10_000 + rng.randrange(150_000),
                today + dt.timedelta(days=rng.randrange(365)),
                "PICC",
                today + dt.timedelta(days=rng.randrange(6 * 365)) if rng.random() < 0.2 else None,
                i + 1,
                now,
                now,
            )
            for i in range(n)
        ),
    )
    for model in (Owner, Customer, Vehicle):
        reset_sequence(model)
    harness.log(f"{n:,} owners, customers and cars copied in {time.perf_counter() - t0:.0f} s")

    # the mileage chain: forecasts for 20 % of the cars, with their last services
    connected = [i for i in range(n) if i % 5 == 0]
    odometer = {i: 10_000 + rng.randrange(150_000) for i in connected}
    copy_rows(
        MileageForecast,
        [
            "dealer_group_id",
            "vehicle_id",
            "km_per_day",
            "confidence",
            "days",
            "last_odometer_km",
            "last_date",
            "computed_at",
        ],
        (
            (
                store_of[i].dealer_group_id,
                i + 1,
                rng.uniform(10, 90),
                rng.uniform(0.3, 1.0),
                30,
                odometer[i],
                today - dt.timedelta(days=rng.randrange(3)),
                now,
            )
            for i in connected
        ),
    )
    items = {
        g: list(ids) for g, ids in _group_items(MaintenanceItem, [g.pk for g in groups]).items()
    }
    # every item served at some point of the last year (at most 12,000 km ago): most cars are
    # not due, some are, a few are overdue
    copy_rows(
        MaintenanceRecord,
        ["dealer_group_id", "vehicle_id", "item_id", "done_on", "done_km"],
        (
            (
                store_of[i].dealer_group_id,
                i + 1,
                item,
                today - dt.timedelta(days=rng.randrange(1, 365)),
                max(0, odometer[i] - rng.randrange(12_000)),
            )
            for i in connected
            for item in items[store_of[i].dealer_group_id]
        ),
    )

    # declined brake-pad lines on 5 % of the cars
    declined = [i for i in range(n) if i % 20 == 3]
    copy_rows(
        RepairOrder,
        [
            "id",
            "dealer_group_id",
            "number",
            "store_id",
            "customer_id",
            "vehicle_id",
            "advisor_id",
            "status",
            "odometer_in",
            "fuel_pct",
            "symptoms",
            "belongings",
            "checked_in_at",
        ],
        (
            (
                k + 1,
                store_of[i].dealer_group_id,
                f"RO{k:09d}",
                store_of[i].pk,
                i + 1,
                i + 1,
                advisors[store_of[i].dealer_group_id].pk,
                "delivered",
                50_000,
                50,
                "",
                "",
                now - dt.timedelta(days=rng.randrange(61)),
            )
            for k, i in enumerate(declined)
        ),
    )
    copy_rows(
        InspectionResult,
        [
            "id",
            "dealer_group_id",
            "repair_order_id",
            "point_id",
            "rating",
            "note",
            "measurement",
            "at",
        ],
        (
            (
                k + 1,
                store_of[i].dealer_group_id,
                k + 1,
                points[store_of[i].dealer_group_id].pk,
                "red" if k % 3 == 0 else "amber",
                "",
                2.5 if k % 3 == 0 else 4.0,
                now,
            )
            for k, i in enumerate(declined)
        ),
    )
    copy_rows(
        RepairLine,
        [
            "id",
            "dealer_group_id",
            "repair_order_id",
            "operation_id",
            "description",
            "description_i18n",
            "reason",
            "reason_i18n",
            "labour_list_price",
            "labour_price",
            "payer",
            "source",
            "result_id",
            "approval",
            "approval_channel",
            "approval_reason",
            "decided_at",
            "work_status",
            "created_at",
        ],
        (
            (
                k + 1,
                store_of[i].dealer_group_id,
                k + 1,
                ops[store_of[i].dealer_group_id].pk,
                "Front brake pads",
                "{}",
                "",
                "{}",
                260,
                260,
                "customer",
                "inspection",
                k + 1,
                "declined",
                "app",
                "",
                now - dt.timedelta(days=rng.randrange(61)),
                "todo",
                now,
            )
            for k, i in enumerate(declined)
        ),
    )
    for model in (RepairOrder, InspectionResult, RepairLine):
        reset_sequence(model)

    # open violations of the last 30 days
    copy_rows(
        Violation,
        [
            "dealer_group_id",
            "vehicle_id",
            "customer_id",
            "occurred_at",
            "place",
            "code",
            "description",
            "fine_cny",
            "points",
            "status",
            "source",
            "external_ref",
            "created_at",
        ],
        (
            (
                store_of[i].dealer_group_id,
                i + 1,
                i + 1,
                now - dt.timedelta(days=rng.randrange(31), minutes=rng.randrange(1440)),
                "Ring 3",
                "1352",
                "Speeding",
                200,
                3,
                "open",
                "api",
                f"V{i}",
                now - dt.timedelta(days=rng.randrange(31)),
            )
            for i in rng.sample(range(n), min(10_000, n))
        ),
    )
    WeatherWarning.objects.create(
        dealer_group=groups[0],
        city="Beijing",
        latitude=BEIJING[0],
        longitude=BEIJING[1],
        radius_km=30,
        kind="rainstorm",
        severity="orange",
        starts_at=now - dt.timedelta(hours=2),
        ends_at=now + dt.timedelta(hours=20),
        advice="Avoid underpasses.",
        created_at=now,
    )
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    seconds = time.perf_counter() - t0
    harness.log(f"loaded in {seconds:.0f} s")
    return {"load_seconds": seconds, "connected": len(connected), "declined": len(declined)}


def _group_items(model, group_ids):
    out: dict[int, list[int]] = {}
    for g, pk in (
        model.objects.unscoped()
        .filter(dealer_group_id__in=group_ids, schedule__brand="Toyota", schedule__model="")
        .values_list("dealer_group_id", "pk")
    ):
        out.setdefault(g, []).append(pk)
    return out


# --- the per-car path as it was on main -----------------------------------------------------------
def remind_due_maintenance_as_on_main(now=None, *, lead_days: int = 21, limit: int | None = None):
    """m4s/telematics/services.py remind_due_maintenance on main (before the care scan), verbatim
    but for `limit` (the first cars with a forecast) and the imports."""
    import functools

    from django.db import IntegrityError, transaction
    from django.utils import timezone
    from django.utils.translation import gettext_noop

    from m4s.core.i18n import name_of, text
    from m4s.notify.services import tell_customer
    from m4s.owners.selectors import in_quiet_hours
    from m4s.telematics.models import MaintenanceReminder, MileageForecast
    from m4s.telematics.services import projected_items

    _tell_owner = functools.partial(tell_customer, link="/app/cars/")
    now = now or timezone.now()
    today = timezone.localdate(now)
    sent = 0
    forecasts = MileageForecast.objects.unscoped().select_related("vehicle__current_owner__owner")
    if limit:
        forecasts = forecasts.order_by("id")[:limit]
    for forecast in forecasts:
        vehicle = forecast.vehicle
        customer = vehicle.current_owner
        if customer is None:
            continue
        for p in projected_items(vehicle, forecast, today=today):
            due = p["due"]
            if not p["projected_on"] or (p["projected_on"] - today).days > lead_days:
                continue
            cycle = str(due.last_on or due.last_km or "new")
            try:
                with transaction.atomic():
                    reminder = MaintenanceReminder.objects.create(
                        dealer_group_id=vehicle.dealer_group_id,
                        vehicle=vehicle,
                        item=due.item,
                        cycle=cycle,
                        due_on=p["projected_on"],
                        confidence=p["confidence"],
                        created_at=now,
                    )
            except IntegrityError:
                continue
            owner = customer.owner
            if owner is not None and in_quiet_hours(owner, now):
                continue  # the to-do shows it; the message goes out on a later run
            link = f"/app/service/book/?vehicle={vehicle.pk}" + (
                f"&package={due.item.package_id}" if due.item.package_id else ""
            )
            with transaction.atomic():  # today's contact policy locks the owner (caps)
                _tell_owner(
                    customer,
                    "care.maintenance",
                    lambda d=due, p=p: (
                        text(
                            gettext_noop("%(item)s is due around %(date)s"),
                            item=name_of(d.item),
                            date=p["projected_on"].isoformat(),
                        ),
                        text(gettext_noop("Book in one tap, at a time that suits you.")),
                    ),
                    dedupe=f"maint:{reminder.pk}",
                    link=link,
                )
            MaintenanceReminder.objects.for_group(vehicle.dealer_group_id).filter(
                pk=reminder.pk
            ).update(sent_at=now)
            sent += 1
    return sent


# --- measuring ----------------------------------------------------------------------------------
def duplicates() -> dict:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM (SELECT customer_id, kind, target_ref, cycle FROM care_reminder "
            "GROUP BY 1, 2, 3, 4 HAVING count(*) > 1) d"
        )
        reminders = cur.fetchone()[0]
        cur.execute(
            "SELECT count(*) FROM (SELECT owner_id, customer_id, reason, cycle, channel "
            "FROM notify_contactdecision WHERE outcome IN ('sent', 'held') "
            "GROUP BY 1, 2, 3, 4, 5 HAVING count(*) > 1) d"
        )
        decisions = cur.fetchone()[0]
    return {"reminders": reminders, "decisions": decisions}


def counts() -> dict:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM notify_message")
        messages = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM notify_contactdecision")
        decisions = cur.fetchone()[0]
    return {"messages": messages, "decisions": decisions}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cars", type=int, default=1_000_000)
    parser.add_argument("--baseline-cars", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    harness.pg_drop(DB_NAME)
    harness.pg_create(DB_NAME)
    try:
        os.environ["DATABASE_URL"] = f"{harness.PG_URL}/{DB_NAME}"
        os.environ["M4S_DATA_DIR"] = tempfile.mkdtemp(prefix="m4s-bench-")
        os.environ["TASK_BACKEND"] = "db"  # as deployed: deliveries are queued, not sent inline
        os.environ["SMS_BACKEND"] = "m4s.notify.sms.MemorySmsBackend"
        os.environ["WEBPUSH_ENABLED"] = "false"
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "m4s.settings")
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection, transaction
        from django.utils import timezone

        from m4s.care import handoff, scan
        from m4s.care.models import Reminder
        from m4s.telematics.models import MaintenanceReminder

        call_command("migrate", verbosity=0)
        facts = load(args.cars, random.Random(14))
        now = timezone.now()
        today = timezone.localdate(now)

        # yesterday's scan, taken as done (untimed): its reminders written and marked sent
        t0 = time.perf_counter()
        yesterday = scan.write_due(
            today=today - dt.timedelta(days=1), now=now - dt.timedelta(days=1)
        )
        Reminder.objects.unscoped().filter(sent_at__isnull=True).update(
            sent_at=now - dt.timedelta(days=1), status="sent"
        )
        MaintenanceReminder.objects.unscoped().filter(sent_at__isnull=True).update(
            sent_at=now - dt.timedelta(days=1)
        )
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE care_reminder")
            cur.execute("VACUUM ANALYZE telematics_maintenancereminder")
        harness.log(
            f"yesterday (a first-ever run, SQL only): {sum(yesterday.values()):,} reminders "
            f"{yesterday} in {time.perf_counter() - t0:.1f} s"
        )

        before = counts()
        t0 = time.perf_counter()
        written = scan.write_due(today=today, now=now)
        write_seconds = time.perf_counter() - t0
        t1 = time.perf_counter()
        woken = scan.wake_snoozed(today)
        if os.environ.get("BENCH_PROFILE"):
            import cProfile
            import pstats

            profile = cProfile.Profile()
            handed = profile.runcall(handoff.hand_off, now=now)
            pstats.Stats(profile, stream=sys.stderr).sort_stats("cumulative").print_stats(45)
        else:
            handed = handoff.hand_off(now=now)
        handoff_seconds = time.perf_counter() - t1
        scan_seconds = time.perf_counter() - t0
        after = counts()
        harness.log(
            f"today: wrote {sum(written.values()):,} {written} in {write_seconds:.1f} s; "
            f"handed {handed} in {handoff_seconds:.1f} s; total {scan_seconds:.1f} s"
        )
        t0 = time.perf_counter()
        again = scan.run_scan(today=today, now=now)
        rerun_seconds = time.perf_counter() - t0
        dup = duplicates()
        final = counts()
        harness.log(f"re-run: {again} in {rerun_seconds:.1f} s; duplicates {dup}")
        if sum(again["written"].values()) or again["handed"] or any(dup.values()):
            raise SystemExit("the re-run wrote or sent something again")
        if final != after:
            raise SystemExit("the re-run wrote messages or decisions")

        # the per-car path as on main, on the first cars with a forecast (its own reminders)
        with transaction.atomic():
            MaintenanceReminder.objects.unscoped().all().delete()
        t0 = time.perf_counter()
        sent = remind_due_maintenance_as_on_main(now=now, limit=args.baseline_cars)
        baseline_seconds = time.perf_counter() - t0
        per_car = baseline_seconds / args.baseline_cars
        harness.log(
            f"per-car path (as on main): {args.baseline_cars:,} cars in {baseline_seconds:.1f} s "
            f"({sent} reminded); {per_car * 1000:.1f} ms a car"
        )
        result = {
            "cars": args.cars,
            "connected_cars": facts["connected"],
            "declined_lines": facts["declined"],
            "load_seconds": round(facts["load_seconds"]),
            "yesterday_written": yesterday,
            "written": written,
            "write_seconds": round(write_seconds, 1),
            "woken": woken,
            "handed": handed,
            "handoff_seconds": round(handoff_seconds, 1),
            "scan_seconds": round(scan_seconds, 1),
            "messages_written": after["messages"] - before["messages"],
            "decisions_written": after["decisions"] - before["decisions"],
            "rerun": again,
            "rerun_seconds": round(rerun_seconds, 1),
            "duplicates": dup,
            "baseline_cars": args.baseline_cars,
            "baseline_seconds": round(baseline_seconds, 1),
            "baseline_reminded": sent,
            "baseline_ms_per_car": round(per_car * 1000, 2),
            "baseline_extrapolated_seconds_1m": round(per_car * 1_000_000),
            "load_average": os.getloadavg(),
            "postgres": connection.cursor().connection.info.server_version,
        }
        print(json.dumps(result, indent=1, default=str))
        connection.close()
    finally:
        if not args.keep:
            harness.pg_drop(DB_NAME)


if __name__ == "__main__":
    main()
