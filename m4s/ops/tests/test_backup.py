"""`m4s backup` → wipe → `m4s restore`: identical row counts, a clean `m4s loyalty-check`,
readable encrypted fields, the uploaded files back, and the keys only with a passphrase. On
SQLite and on PostgreSQL (a database of its own, dropped afterwards). Real commands in a
process of their own; nothing mocked."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

REPO = Path(__file__).resolve().parents[3]
PG = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432")
ID_NUMBER = "11010519491231002X"

SETUP = textwrap.dedent(
    """
    import json, django
    django.setup()
    from pathlib import Path
    from django.conf import settings
    from django.core.management import call_command
    call_command("migrate", verbosity=0)
    from m4s.core.tests.factories import build_world
    from m4s.customers.services import get_or_create_customer_for_owner, set_id_number
    from m4s.demo.starters import loyalty as starter
    from m4s.loyalty import ledger, services
    from m4s.loyalty.choices import EntryKind
    from m4s.ops.backup import row_counts
    w = build_world()
    starter.install_programme(w.group_a)
    c = get_or_create_customer_for_owner(w.owner, w.store_a)
    set_id_number(c, "__ID_NUMBER__")
    c.save()
    m = services.get_or_create_member(c)
    ledger.credit(m, 500, reason="test", key="t1", expires_at=None)
    ledger.debit(m, 120, kind=EntryKind.REDEEM, reason="test", key="t2")
    photo = Path(settings.MEDIA_ROOT) / "service" / "photo.jpg"
    photo.parent.mkdir(parents=True, exist_ok=True)
    photo.write_bytes(b"not really a jpeg")
    print(json.dumps({"customer": c.pk, "counts": row_counts()}))
    """
).replace("__ID_NUMBER__", ID_NUMBER)

CHECK = textwrap.dedent(
    """
    import json, django
    django.setup()
    from django.conf import settings
    from pathlib import Path
    from m4s.customers.models import Customer
    from m4s.customers.services import id_number_for
    from m4s.core import crypto
    from m4s.ops.backup import row_counts
    c = Customer.objects.unscoped().get(pk=%d)
    photo = Path(settings.MEDIA_ROOT) / "service" / "photo.jpg"
    print(json.dumps({"id": crypto.decrypt(c.id_number_cipher), "counts": row_counts(),
                      "photo": photo.read_bytes().decode() if photo.exists() else None}))
    """
)


def _run(args, env, **kw):
    result = subprocess.run(  # noqa: S603
        args, env=env, cwd=REPO, capture_output=True, text=True, timeout=900, **kw
    )
    assert result.returncode == 0, (args, result.stdout[-2000:], result.stderr[-3000:])
    return result.stdout


def _round_trip(tmp_path, env, wipe):
    m4s = [sys.executable, "-m", "m4s"]
    made = json.loads(_run([sys.executable, "-c", SETUP], env).strip().splitlines()[-1])
    assert made["counts"]["customers_customer"] >= 1 and made["counts"]["loyalty_ledgerentry"] == 2

    _run([*m4s, "backup", "-o", str(tmp_path / "backups"), "--with-keys"], env)
    (folder,) = (tmp_path / "backups").iterdir()
    manifest = json.loads((folder / "manifest.json").read_text())
    key = env["FIELD_ENCRYPTION_KEYS"]
    assert manifest["field_key_fingerprints"] == [
        __import__("m4s.core.crypto", fromlist=["x"]).fingerprint(key)
    ]
    assert key not in (folder / "manifest.json").read_text()  # fingerprints, never keys
    assert key not in (folder / "keys.enc").read_text()  # sealed with the passphrase

    wipe()
    media = Path(env["M4S_DATA_DIR"]) / "media"
    if media.exists():
        import shutil

        shutil.rmtree(media)

    out = _run([*m4s, "restore", str(folder), "--yes", "--show-keys"], env)
    assert "as in the manifest" in out
    assert f"FIELD_ENCRYPTION_KEYS={key}" in (folder / "restored-keys.env").read_text()
    _run([*m4s, "loyalty-check"], env)
    after = json.loads(
        _run([sys.executable, "-c", CHECK % made["customer"]], env).strip().splitlines()[-1]
    )
    assert after["counts"] == made["counts"]
    assert after["id"] == ID_NUMBER
    assert after["photo"] == "not really a jpeg"

    wrong = {**env, "M4S_BACKUP_PASSPHRASE": "a different passphrase"}
    result = subprocess.run(  # noqa: S603
        [*m4s, "restore", str(folder), "--yes", "--show-keys"],
        env=wrong,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode != 0 and "wrong passphrase" in result.stderr

    # restoring over a database in use (not wiped) gives the same state again
    _run([*m4s, "restore", str(folder), "--yes"], env)
    again = json.loads(
        _run([sys.executable, "-c", CHECK % made["customer"]], env).strip().splitlines()[-1]
    )
    assert again["counts"] == made["counts"] and again["id"] == ID_NUMBER


def _env(tmp_path, database_url):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"REDIS_URL", "MQTT_URL", "PROMETHEUS_MULTIPROC_DIR", "FIELD_ENCRYPTION_KEY"}
    }
    env.update(
        M4S_DATA_DIR=str(tmp_path / "data"),
        DATABASE_URL=database_url,
        TASK_BACKEND="immediate",
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        M4S_BACKUP_PASSPHRASE="correct horse battery staple",
        SMS_BACKEND="m4s.notify.sms.MemorySmsBackend",
        DB_POOL="0",
    )
    return env


def test_backup_restore_round_trip_sqlite(tmp_path):
    db = tmp_path / "db" / "m4s.sqlite3"
    db.parent.mkdir()
    env = _env(tmp_path, f"sqlite:///{db}")

    def wipe():
        for p in db.parent.iterdir():
            p.unlink()

    _round_trip(tmp_path, env, wipe)


def _pg_admin(sql):
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True, connect_timeout=3) as c:
        c.execute(sql)


def test_backup_restore_round_trip_postgres(tmp_path):
    try:
        _pg_admin("SELECT 1")
    except Exception:
        pytest.skip("PostgreSQL is not reachable")
    name = f"m4s_ops_backup_{os.getpid()}"  # its own database, never another run's test DB
    _pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    _pg_admin(f"CREATE DATABASE {name}")
    env = _env(tmp_path, f"{PG}/{name}")

    def wipe():
        _pg_admin(f"DROP DATABASE {name} WITH (FORCE)")
        _pg_admin(f"CREATE DATABASE {name}")

    try:
        _round_trip(tmp_path, env, wipe)
    finally:
        _pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
