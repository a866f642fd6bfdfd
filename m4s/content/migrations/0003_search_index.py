"""Full-text search over `SearchEntry.tokens` (m4s/content/search.py): on SQLite an FTS5 table
keyed by the entry's id, on PostgreSQL a GIN index on `to_tsvector('simple', tokens)`."""

from django.db import migrations

SQLITE_UP = "CREATE VIRTUAL TABLE IF NOT EXISTS content_search_fts USING fts5(tokens)"
SQLITE_DOWN = "DROP TABLE IF EXISTS content_search_fts"
PG_UP = (
    "CREATE INDEX IF NOT EXISTS content_search_tsv ON content_searchentry "
    "USING gin (to_tsvector('simple', tokens))"
)
PG_DOWN = "DROP INDEX IF EXISTS content_search_tsv"


def up(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_UP)
    elif vendor == "postgresql":
        schema_editor.execute(PG_UP)


def down(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_DOWN)
    elif vendor == "postgresql":
        schema_editor.execute(PG_DOWN)


class Migration(migrations.Migration):
    dependencies = [("content", "0002_default_module_rights")]

    operations = [migrations.RunPython(up, down, elidable=False)]
