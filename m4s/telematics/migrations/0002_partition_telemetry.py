"""PostgreSQL: turn `telematics_telemetry` into a table partitioned by month of `ts`.

The new table has the same columns (built with LIKE, so types, NOT NULL, defaults and the `id`
identity are those 0001 made), the primary key (id, ts), the unique (device_id, seq, ts) the
writer dedupes on, the index (vehicle_id, ts) and the same foreign keys. Django's two
single-column FK indexes are not re-created: device_id is the leading column of the unique
index, and dealer_group_id alone is never how raw telemetry is read (every read also names a
car or a terminal). A DEFAULT partition catches rows outside the monthly ones; monthly
partitions are made for every month that holds data and around now (last month to three months
ahead; `storage.ensure_partitions` keeps making them ahead of time). Existing rows are copied
and the identity sequence carries on where it was.

Reversible: backwards, a plain table exactly as 0001 made it takes the rows back. SQLite: nothing
(a plain table is all it needs).
"""

import datetime as dt

from django.db import migrations
from django.utils import timezone

TABLE = "telematics_telemetry"
MONTHS_AHEAD = 3


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _utc_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)


def _relkind(cur, name: str):
    cur.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [name])
    row = cur.fetchone()
    return row[0] if row else None


def _sequence(cur, table: str) -> str | None:
    cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
    return cur.fetchone()[0]


def _sequence_state(cur, seq: str):
    cur.execute(f"SELECT last_value, is_called FROM {seq}")  # noqa: S608 - from the catalogue
    return cur.fetchone()


def partition(apps, schema_editor):
    conn = schema_editor.connection
    if conn.vendor != "postgresql":
        return
    with conn.cursor() as cur:
        if _relkind(cur, TABLE) == "p":  # already partitioned
            return
        cur.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname",
            [TABLE],
        )
        foreign_keys = cur.fetchall()
        old_seq = _sequence(cur, TABLE)
        last_value, is_called = _sequence_state(cur, old_seq)
        cur.execute(f"SELECT min(ts) FROM {TABLE}")  # noqa: S608
        oldest = cur.fetchone()[0]

        new = f"{TABLE}_new"
        cur.execute(
            f"CREATE TABLE {new} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING IDENTITY "
            "INCLUDING STORAGE INCLUDING COMMENTS) PARTITION BY RANGE (ts)"
        )
        cur.execute(f"CREATE TABLE {TABLE}_default PARTITION OF {new} DEFAULT")
        today = timezone.now().astimezone(dt.UTC).date()
        start = _month_start(today - dt.timedelta(days=31))
        if oldest is not None:
            start = min(start, _month_start(oldest.astimezone(dt.UTC).date()))
        stop = _month_start(today)
        for _ in range(MONTHS_AHEAD):
            stop = _next_month(stop)
        while start <= stop:
            end = _next_month(start)
            cur.execute(
                f"CREATE TABLE {TABLE}_{start:%Y%m} PARTITION OF {new} "
                "FOR VALUES FROM (%s) TO (%s)",
                [_utc_midnight(start), _utc_midnight(end)],
            )
            start = end
        cur.execute(f"INSERT INTO {new} SELECT * FROM {TABLE}")  # noqa: S608 - same columns
        cur.execute(f"DROP TABLE {TABLE}")
        cur.execute(f"ALTER TABLE {new} RENAME TO {TABLE}")
        cur.execute(f"ALTER SEQUENCE {_sequence(cur, TABLE)} RENAME TO {TABLE}_id_seq")
        cur.execute(f"SELECT setval('{TABLE}_id_seq', %s, %s)", [last_value, is_called])
        cur.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY (id, ts)")
        cur.execute(
            f"ALTER TABLE {TABLE} ADD CONSTRAINT telemetry_dedupe UNIQUE (device_id, seq, ts)"
        )
        cur.execute(f"CREATE INDEX telemetry_vehicle_ts ON {TABLE} (vehicle_id, ts)")
        for name, definition in foreign_keys:
            cur.execute(f'ALTER TABLE {TABLE} ADD CONSTRAINT "{name}" {definition}')


def unpartition(apps, schema_editor):
    conn = schema_editor.connection
    if conn.vendor != "postgresql":
        return
    with conn.cursor() as cur:
        if _relkind(cur, TABLE) != "p":
            return
        old = f"{TABLE}_partitioned"
        seq = _sequence(cur, TABLE)
        last_value, is_called = _sequence_state(cur, seq)
        # Free every name the plain table will take (index names are schema-wide).
        cur.execute(f"ALTER TABLE {TABLE} RENAME TO {old}")
        cur.execute(f"ALTER SEQUENCE {seq} RENAME TO {old}_id_seq")
        cur.execute(f"ALTER TABLE {old} RENAME CONSTRAINT {TABLE}_pkey TO {old}_pkey")
        cur.execute(f"ALTER TABLE {old} RENAME CONSTRAINT telemetry_dedupe TO {old}_dedupe")
        cur.execute(f"ALTER INDEX telemetry_vehicle_ts RENAME TO {old}_vehicle_ts")

        Telemetry = apps.get_model("telematics", "Telemetry")
        schema_editor.create_model(Telemetry)  # as 0001 made it (its indexes and FKs deferred)
        columns = ", ".join(f'"{f.column}"' for f in Telemetry._meta.concrete_fields)
        cur.execute(
            f"INSERT INTO {TABLE} ({columns}) SELECT {columns} FROM {old}"  # noqa: S608
        )
        cur.execute(f"DROP TABLE {old} CASCADE")  # its partitions with it
        cur.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, %s)",
            [TABLE, last_value, is_called],
        )


class Migration(migrations.Migration):
    dependencies = [("telematics", "0001_initial")]

    operations = [migrations.RunPython(partition, unpartition)]
