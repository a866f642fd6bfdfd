"""Raw telemetry retention (configurable, default 180 days) and, on PostgreSQL, monthly
partitions created ahead of time.

On PostgreSQL `telematics_telemetry` is partitioned by month of `ts` (migration 0002): one
partition per calendar month (UTC) named `telematics_telemetry_YYYYMM`, and a DEFAULT partition
for anything outside them. Retention drops whole monthly partitions; a partition is made for a
month that already has rows in the DEFAULT one by moving those rows into it.
"""

import datetime as dt

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .models import Telemetry

TABLE = "telematics_telemetry"
DEFAULT_PARTITION = f"{TABLE}_default"


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _utc_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)


def is_partitioned() -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cur:
        cur.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [TABLE])
        row = cur.fetchone()
    return bool(row) and row[0] == "p"


def partition_name(month: dt.date) -> str:
    return f"{TABLE}_{month:%Y%m}"


def _make_partition(cur, start: dt.date) -> bool:
    """The partition of the month starting on `start`; False if it was there already."""
    name = partition_name(start)
    cur.execute("SELECT to_regclass(%s)", [name])
    if cur.fetchone()[0] is not None:
        return False
    low, high = _utc_midnight(start), _utc_midnight(_next_month(start))
    cur.execute(
        f"SELECT EXISTS (SELECT 1 FROM {DEFAULT_PARTITION} WHERE ts >= %s AND ts < %s)",  # noqa: S608 - our names
        [low, high],
    )
    if not cur.fetchone()[0]:
        cur.execute(
            f"CREATE TABLE {name} PARTITION OF {TABLE} FOR VALUES FROM (%s) TO (%s)",
            [low, high],
        )
        return True
    # Rows for this month already sit in the DEFAULT partition: PostgreSQL refuses to create
    # the partition over them, so move them into a new table and attach it.
    # the CHECK constraints too: ATTACH PARTITION needs every one of the parent's
    cur.execute(
        f"CREATE TABLE {name} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING STORAGE INCLUDING CONSTRAINTS)"
    )
    cur.execute(
        f"ALTER TABLE {name} ADD CONSTRAINT {name}_range CHECK (ts >= %s AND ts < %s)",
        [low, high],
    )
    cur.execute(
        f"WITH moved AS (DELETE FROM {DEFAULT_PARTITION} WHERE ts >= %s AND ts < %s "  # noqa: S608
        f"RETURNING *) INSERT INTO {name} SELECT * FROM moved",
        [low, high],
    )
    cur.execute(
        f"ALTER TABLE {TABLE} ATTACH PARTITION {name} FOR VALUES FROM (%s) TO (%s)", [low, high]
    )
    cur.execute(f"ALTER TABLE {name} DROP CONSTRAINT {name}_range")
    return True


def ensure_partitions(months_ahead: int = 3, *, today: dt.date | None = None) -> list[str]:
    """PostgreSQL: make sure the monthly partitions from last month to `months_ahead` months
    ahead exist. Returns the names of the partitions it made (nothing on SQLite, or while the
    table is not partitioned)."""
    if not is_partitioned():
        return []
    today = today or timezone.now().astimezone(dt.UTC).date()
    start = _month_start(_month_start(today) - dt.timedelta(days=1))
    made = []
    with transaction.atomic(), connection.cursor() as cur:
        for _ in range(months_ahead + 2):
            if _make_partition(cur, start):
                made.append(partition_name(start))
            start = _next_month(start)
    return made


def monthly_partitions() -> list[str]:
    """The monthly partitions of the telemetry table, oldest first (PostgreSQL)."""
    if not is_partitioned():
        return []
    with connection.cursor() as cur:
        cur.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass AND c.relname ~ %s ORDER BY c.relname",
            [TABLE, f"^{TABLE}_[0-9]{{6}}$"],
        )
        return [name for (name,) in cur.fetchall()]


def purge_old_telemetry(*, now: dt.datetime | None = None, days: int | None = None) -> int:
    """Delete raw telemetry older than TELEMETRY_RETENTION_DAYS. The daily odometer, alarms and
    cases are kept for ever. On PostgreSQL whole monthly partitions past the cutoff are dropped
    (each counts 1), the partitions ahead are made, and the rest is deleted row by row (the
    counted rows)."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=settings.TELEMETRY_RETENTION_DAYS if days is None else days)
    dropped = 0
    if connection.vendor == "postgresql":
        ensure_partitions()
        with transaction.atomic(), connection.cursor() as cur:
            for name in monthly_partitions():
                month = dt.date(int(name[-6:-2]), int(name[-2:]), 1)
                if _utc_midnight(_next_month(month)) <= cutoff:
                    cur.execute(f"DROP TABLE {name}")  # noqa: S608 - names from the catalogue
                    dropped += 1
    deleted, _ = Telemetry.objects.unscoped().filter(ts__lt=cutoff).delete()
    return deleted + dropped
