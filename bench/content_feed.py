"""The owner's content feed with targeting on PostgreSQL: 20,000 items and 1,000,000 owners.

    nice .venv/bin/python bench/content_feed.py [--items 20000] [--owners 1000000] [--calls 300]
        [--keep]

The database `m4s_bench_content` is created on BENCH_PG_URL (default
postgresql://postgres@127.0.0.1:5432), migrated, loaded with COPY, measured and dropped at the
end, even on failure (`--keep` leaves it for EXPLAIN).

Data: 10 local organisations (10 cities), 50 dealer groups (5 per city) with 4 stores each, a
loyalty programme with 3 tiers per group; `--owners` owners, each a customer of one group at one
of its stores, 70 % with a bound car (one of 12 brand/model pairs), 40 % members with a tier.
`--items` items: 10 % headquarters, 30 % local organisations, 60 % dealer groups (a tenth of them
for one store); modules by the default rights; 85 % published (5 % of those scheduled in the
future, 5 % past their expiry), the rest drafts, in review or expired; 2 % pinned; a Chinese and
an English text each; the implicit targets the services write (a local item's city, a dealer
item's group) and, on 30 % of the items, criteria of their own (cities, stores, brands, models,
tiers, bound car or not).

Measured, for `--calls` random owners each: the owner's profile (`selectors.owner_profile`) and
the feed query (`selectors.feed_for_owner`: one query, 20 items, titles in the reader's
language), once over all modules and once for one module; p50/p95. Then the same after dropping
the content indexes (feed, pinned, group/status, target lookup and the target/translation unique
and foreign-key indexes) and VACUUM ANALYZE.
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

import run as harness  # noqa: E402  (bench/run.py: log, pg_create, pg_drop, percentile)

DB_NAME = "m4s_bench_content"
CITIES = [
    "Beijing", "Shanghai", "Guangzhou", "Shenzhen", "Chengdu",
    "Hangzhou", "Wuhan", "Xi'an", "Nanjing", "Tianjin",
]  # fmt: skip
CARS = [
    ("Toyota", "Camry"), ("Toyota", "RAV4"), ("Honda", "Accord"), ("Honda", "CR-V"),
    ("Volkswagen", "Passat"), ("Volkswagen", "Tiguan"), ("BYD", "Han"), ("BYD", "Seal"),
    ("BMW", "3 Series"), ("Audi", "A6L"), ("Nissan", "Sylphy"), ("Buick", "GL8"),
]  # fmt: skip
TIERS = ["Silver", "Gold", "Platinum"]
DROP = (
    "DROP INDEX IF EXISTS content_feed",
    "DROP INDEX IF EXISTS content_pinned",
    "DROP INDEX IF EXISTS content_group_status",
    "DROP INDEX IF EXISTS content_target_lookup",
    "ALTER TABLE content_contenttarget DROP CONSTRAINT IF EXISTS content_target_once",
    "ALTER TABLE content_contenttranslation DROP CONSTRAINT IF EXISTS content_translation_once",
)


# --- loading ------------------------------------------------------------------------------------
def copy_model(model, rows) -> int:
    """COPY rows (dicts of attname → value) into the model's table; fields not given take their
    default (auto_now fields: now)."""
    from django.db import connection
    from django.utils import timezone

    now = timezone.now()
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    cols = ", ".join(connection.ops.quote_name(f.column) for f in fields)

    def value(f, row):
        if f.attname in row:
            v = row[f.attname]
        elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            v = now
        elif f.has_default():
            v = f.get_default()
        elif f.null:
            v = None
        else:
            v = ""
        return f.get_db_prep_save(v, connection)

    n = 0
    sql = f"COPY {model._meta.db_table} ({cols}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row([value(f, row) for f in fields])
            n += 1
    return n


def insert_select(model, exprs: dict[str, str], source: str, params=()) -> None:
    """INSERT INTO the model's table SELECT the given SQL expressions (by attname) FROM
    `source`; every other field takes its default (auto_now fields: now())."""
    from django.db import connection

    cols, values, defaults = [], [], []
    for f in model._meta.concrete_fields:
        if f.primary_key:
            continue
        cols.append(connection.ops.quote_name(f.column))
        if f.attname in exprs:
            values.append(exprs[f.attname])
        elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            values.append("now()")
        else:
            v = f.get_default() if f.has_default() else (None if f.null else "")
            values.append("%s")
            defaults.append(f.get_db_prep_save(v, connection))
    # parameters in the order they appear: the expressions' own (given in `params`, which
    # belong to expressions placed before the defaults) and the defaults'
    ordered = []
    expr_params = iter(list(params))
    default_params = iter(defaults)
    for f in model._meta.concrete_fields:
        if f.primary_key:
            continue
        if f.attname in exprs:
            for _ in range(exprs[f.attname].count("%s")):
                ordered.append(next(expr_params))
        elif not (getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)):
            ordered.append(next(default_params))
    ordered += list(expr_params)  # the source's own parameters come last
    sql = (
        f"INSERT INTO {model._meta.db_table} ({', '.join(cols)}) "
        f"SELECT {', '.join(values)} FROM {source}"
    )
    t0 = time.perf_counter()
    with connection.cursor() as c:
        c.execute(sql, ordered)
        count = c.rowcount
    harness.log(f"{model._meta.db_table}: {count:,} rows in {time.perf_counter() - t0:.1f} s")


def _ids(model, **filters) -> list[int]:
    manager = model._default_manager
    qs = manager.unscoped() if hasattr(manager, "unscoped") else manager.all()
    return list(qs.filter(**filters).order_by("pk").values_list("pk", flat=True))


def load(args, rng: random.Random) -> dict:
    from django.db import connection
    from django.utils import timezone

    from m4s.content.choices import DEFAULT_RIGHTS, HAS_TARGET_FIELD, Level, Status, TargetKind
    from m4s.content.models import ContentItem, ContentTarget, ContentTranslation
    from m4s.customers.models import Binding, Customer
    from m4s.loyalty.models import Member, Programme, Tier
    from m4s.org import services as org
    from m4s.org.models import DealerGroup, LocalOrganisation, Store
    from m4s.owners.models import Owner
    from m4s.vehicles.models import Vehicle

    t0 = time.perf_counter()
    now = timezone.now()
    hq = org.ensure_headquarters()
    local_orgs = [
        LocalOrganisation.objects.create(headquarters=hq, name=f"{c} association", city=c)
        for c in CITIES
    ]
    groups = [
        DealerGroup.objects.create(local_org=lo, name=f"Group {lo.city} {k}", slug=f"g-{i}-{k}")
        for i, lo in enumerate(local_orgs)
        for k in range(5)
    ]
    stores = [
        Store.objects.create(dealer_group=g, name=f"{g.name} store {s}", code=f"s{s}")
        for g in groups
        for s in range(4)
    ]
    store_group = {s.pk: s.dealer_group_id for s in stores}
    tiers: dict[int, list[int]] = {}
    for g in groups:
        Programme.objects.create(dealer_group=g, name="Club")
        tiers[g.pk] = [
            Tier.objects.create(dealer_group=g, name=name, threshold=1000 * k).pk
            for k, name in enumerate(TIERS)
        ]

    # owners, one customer record each (at a store of one group), cars, members: generated by
    # the database (INSERT ... SELECT over generate_series), pseudo-random by id
    n = args.owners
    store_ids = [s.pk for s in stores]
    insert_select(
        Owner,
        {
            "phone": "'+86135' || lpad(g::text, 8, '0')",
            "name": "'Owner ' || g",
            "language": "'zh-hans'",
            "home_store_id": f"(%s::bigint[])[1 + (g::bigint * 7919) %% {len(store_ids)}]",
        },
        "generate_series(1, %s) AS g",
        [store_ids, n],
    )
    insert_select(
        Customer,
        {
            "dealer_group_id": "s.dealer_group_id",
            "store_id": "o.home_store_id",
            "owner_id": "o.id",
            "name": "o.name",
            "phone": "o.phone",
            "phone_last4": "right(o.phone, 4)",
            "source": "'app'",
        },
        "owners_owner o JOIN org_store s ON s.id = o.home_store_id",
    )
    brands = [b for b, _m in CARS]
    models = [m for _b, m in CARS]
    insert_select(
        Vehicle,
        {
            "dealer_group_id": "c.dealer_group_id",
            "vin": "'LBENCH' || lpad(c.id::text, 11, '0')",
            "brand": f"(%s::text[])[1 + (c.id * 104729) %% {len(CARS)}]",
            "model": f"(%s::text[])[1 + (c.id * 104729) %% {len(CARS)}]",
            "current_owner_id": "c.id",
        },
        "customers_customer c WHERE (c.id * 2654435761) %% 10 < 7",
        [brands, models],
    )
    insert_select(
        Binding,
        {
            "dealer_group_id": "c.dealer_group_id",
            "customer_id": "c.id",
            "vehicle_id": "v.id",
            "owner_id": "c.owner_id",
            "via": "'app'",
            "store_id": "c.store_id",
            "created_at": "now()",
        },
        "vehicles_vehicle v JOIN customers_customer c ON c.id = v.current_owner_id",
    )
    insert_select(
        Member,
        {
            "dealer_group_id": "c.dealer_group_id",
            "customer_id": "c.id",
            "code": "'M' || lpad(c.id::text, 11, '0')",
            "referral_code": "'R' || lpad(c.id::text, 9, '0')",
            "tier_id": (
                "(SELECT t.id FROM loyalty_tier t WHERE t.dealer_group_id = c.dealer_group_id "
                "ORDER BY t.id OFFSET (c.id * 31) %% 3 LIMIT 1)"
            ),
        },
        "customers_customer c WHERE (c.id * 40503) %% 10 < 4",
    )
    owner_ids = _ids(Owner)
    with_car = Binding.objects.unscoped().count()
    members = Member.objects.unscoped().count()
    del tiers, store_group
    harness.log(f"owners loaded in {time.perf_counter() - t0:.0f} s")

    # items
    modules = {level: list(mods) for level, mods in DEFAULT_RIGHTS.items()}
    items, targets = [], []
    for _ in range(args.items):
        r = rng.random()
        level = Level.HEADQUARTERS if r < 0.1 else Level.LOCAL_ORG if r < 0.4 else Level.DEALER
        row = {
            "level": level,
            "module": rng.choice(modules[level]),
            "source_language": "zh-hans",
            "pinned": rng.random() < 0.02,
            "publish_at": now - dt.timedelta(minutes=rng.randrange(1, 525_600)),
            "published_at": now,
            "action_kind": "none",
        }
        s = rng.random()
        row["status"] = (
            Status.PUBLISHED
            if s < 0.85
            else rng.choice([Status.DRAFT, Status.REVIEW, Status.EXPIRED, Status.REJECTED])
        )
        if row["status"] == Status.PUBLISHED and rng.random() < 0.05:
            row["publish_at"] = now + dt.timedelta(days=rng.randrange(1, 30))
        elif row["status"] == Status.PUBLISHED and rng.random() < 0.05:
            row["expire_at"] = now - dt.timedelta(days=rng.randrange(1, 30))
        kinds: dict[str, list[str]] = {}
        if level == Level.HEADQUARTERS:
            row["headquarters_id"] = hq.pk
        elif level == Level.LOCAL_ORG:
            lo = rng.choice(local_orgs)
            row["local_org_id"] = lo.pk
            kinds[TargetKind.CITY] = [lo.city]
        else:
            g = rng.choice(groups)
            row["dealer_group_id"] = g.pk
            kinds[TargetKind.GROUP] = [str(g.pk)]
            if rng.random() < 0.1:
                store = rng.choice([s for s in stores if s.dealer_group_id == g.pk])
                row["store_id"] = store.pk
                kinds[TargetKind.STORE] = [str(store.pk)]
        if rng.random() < 0.3:
            pick = rng.random()
            if pick < 0.25:
                kinds[TargetKind.BRAND] = [b.lower() for b in {rng.choice(CARS)[0]}]
            elif pick < 0.45:
                kinds[TargetKind.MODEL] = sorted({rng.choice(CARS)[1].lower() for _ in range(2)})
            elif pick < 0.65:
                kinds[TargetKind.TIER] = sorted({rng.choice(TIERS).lower() for _ in range(2)})
            elif pick < 0.8 and level == Level.HEADQUARTERS:
                kinds[TargetKind.CITY] = sorted({rng.choice(CITIES) for _ in range(3)})
            else:
                row["target_bound_car"] = rng.random() < 0.7
        for kind in kinds:
            row[HAS_TARGET_FIELD[kind]] = True
        items.append(row)
        targets.append(kinds)
    copy_model(ContentItem, items)
    item_ids = _ids(ContentItem)
    copy_model(
        ContentTarget,
        (
            {"item_id": pk, "kind": kind, "value": v}
            for pk, kinds in zip(item_ids, targets, strict=True)
            for kind, values in kinds.items()
            for v in values
        ),
    )
    copy_model(
        ContentTranslation,
        (
            {"item_id": pk, "language": lang, "title": f"{lang} title {pk}", "summary": "s"}
            for pk in item_ids
            for lang in ("zh-hans", "en")
        ),
    )
    with connection.cursor() as c:
        c.execute("VACUUM ANALYZE")
    return {
        "seconds": round(time.perf_counter() - t0, 1),
        "owners": len(owner_ids),
        "with_car": with_car,
        "members": members,
        "items": len(item_ids),
        "targets": ContentTarget.objects.count(),
        "owner_ids": owner_ids,
    }


# --- measuring ----------------------------------------------------------------------------------
def measure(owner_ids: list[int], calls: int, rng: random.Random) -> dict:
    from m4s.content import selectors
    from m4s.content.choices import Module
    from m4s.owners.models import Owner

    sample = rng.sample(owner_ids, calls)
    modules = list(Module.values)
    profile_t, feed_t, module_t, sizes = [], [], [], []
    for pk in sample:
        owner = Owner.objects.get(pk=pk)
        t0 = time.perf_counter()
        profile = selectors.owner_profile(owner)
        t1 = time.perf_counter()
        items = selectors.feed_for_owner(owner, profile=profile, language="en")
        t2 = time.perf_counter()
        selectors.feed_for_owner(owner, profile=profile, module=rng.choice(modules), language="en")
        t3 = time.perf_counter()
        profile_t.append(t1 - t0)
        feed_t.append(t2 - t1)
        module_t.append(t3 - t2)
        sizes.append(len(items))

    def ms(values, p):
        return round(harness.percentile(values, p) * 1000, 2)

    return {
        "calls": calls,
        "profile_p50_ms": ms(profile_t, 50),
        "profile_p95_ms": ms(profile_t, 95),
        "feed_p50_ms": ms(feed_t, 50),
        "feed_p95_ms": ms(feed_t, 95),
        "module_feed_p50_ms": ms(module_t, 50),
        "module_feed_p95_ms": ms(module_t, 95),
        "profile_plus_feed_p95_ms": ms([a + b for a, b in zip(profile_t, feed_t, strict=True)], 95),
        "mean_items": round(sum(sizes) / len(sizes), 1),
    }


def drop_indexes() -> None:
    from django.db import connection

    with connection.cursor() as c:
        for sql in DROP:
            c.execute(sql)
        # the foreign-key indexes of the feed's tables
        c.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename IN "
            "('content_contentitem', 'content_contenttarget', 'content_contenttranslation') "
            "AND indexname NOT LIKE '%%_pkey'"
        )
        for (name,) in c.fetchall():
            c.execute(f"DROP INDEX IF EXISTS {connection.ops.quote_name(name)}")
        c.execute("VACUUM ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--owners", type=int, default=1_000_000)
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

        rng = random.Random(16)
        call_command("migrate", verbosity=0)
        facts = load(args, rng)
        owner_ids = facts.pop("owner_ids")
        harness.log(f"loaded: {facts}")
        with_idx = measure(owner_ids, args.calls, random.Random(1))
        harness.log(f"with indexes: {with_idx}")
        without = {}
        if not args.no_baseline:
            drop_indexes()
            without = measure(owner_ids, max(30, args.calls // 3), random.Random(1))
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
