"""Backup and restore: the database, the uploaded files and a manifest.

A backup is a folder `m4s-backup-<UTC time>/` holding
- `database.dump` (PostgreSQL, `pg_dump --format=custom`) or `database.sqlite3` (SQLite's online
  backup API: a consistent copy while M4S runs),
- `media.tar.gz` (MEDIA_ROOT),
- `manifest.json`: when, which engine and server version, the row count of every table, the
  SHA-256 of each file and the fingerprints of the field-encryption keys (never the keys),
- `keys.enc` only with --with-keys: FIELD_ENCRYPTION_KEYS, SECRET_KEY and VAPID_PRIVATE_KEY
  encrypted with a key derived from a passphrase (scrypt + Fernet).

Restore puts the database and the files back (PostgreSQL: `pg_restore --clean --if-exists`),
then compares every table's row count with the manifest."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from django.conf import settings
from django.db import connection, connections

from m4s.core import crypto

FORMAT = 1


class BackupError(Exception):
    pass


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def row_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        tables = sorted(connection.introspection.table_names(cursor))
        out = {}
        for table in tables:
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            out[table] = cursor.fetchone()[0]
    return out


def _pg_url() -> str:
    db = settings.DATABASES["default"]
    user = db.get("USER") or ""
    password = db.get("PASSWORD") or ""
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = db.get("HOST") or ""
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgresql://{auth}{host}{port}/{db['NAME']}"


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise BackupError(f"{name} is not installed (PostgreSQL client tools, same major version)")
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=True).stdout  # noqa: S603
    found = re.search(r"\)\s*(\d+)", out) or re.search(r"(\d+)", out)
    if not found:
        raise BackupError(f"cannot tell the version of {name}: {out!r}")
    tool_major = int(found.group(1))
    server_major = connection.pg_version // 10000  # type: ignore[attr-defined]
    if tool_major < server_major:
        raise BackupError(
            f"{name} {tool_major} is older than the server ({server_major}): install "
            f"postgresql-client-{server_major}"
        )
    return path


def _key_from(passphrase: str, salt: bytes) -> Fernet:
    kdf = Scrypt(salt=salt, length=32, n=2**15, r=8, p=1)
    return Fernet(base64.urlsafe_b64encode(kdf.derive(passphrase.encode())))


def seal_keys(passphrase: str) -> dict[str, str]:
    salt = os.urandom(16)
    secret = json.dumps(
        {
            "FIELD_ENCRYPTION_KEYS": crypto.all_keys(),
            "SECRET_KEY": settings.SECRET_KEY,
            # the owners' browsers are subscribed to web push under this key
            "VAPID_PRIVATE_KEY": settings.VAPID_PRIVATE_KEY,
        }
    ).encode()
    return {
        "kdf": "scrypt-n32768-r8-p1",
        "salt": base64.b64encode(salt).decode(),
        "token": _key_from(passphrase, salt).encrypt(secret).decode(),
    }


def open_keys(sealed: dict[str, str], passphrase: str) -> dict[str, Any]:
    try:
        data = _key_from(passphrase, base64.b64decode(sealed["salt"])).decrypt(
            sealed["token"].encode()
        )
    except InvalidToken:
        raise BackupError("wrong passphrase for keys.enc") from None
    result: dict[str, Any] = json.loads(data)
    return result


def backup(out_dir: Path, *, passphrase: str | None = None) -> Path:
    now = dt.datetime.now(dt.UTC)
    target = out_dir / f"m4s-backup-{now:%Y%m%d-%H%M%S}"
    target.mkdir(parents=True, exist_ok=False)
    files: dict[str, str] = {}
    counts = row_counts()
    if settings.IS_POSTGRES:
        dump = target / "database.dump"
        subprocess.run(  # noqa: S603
            [_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(dump), _pg_url()],
            check=True,
        )
        engine = f"postgresql {connection.pg_version // 10000}"  # type: ignore[attr-defined]
    else:
        dump = target / "database.sqlite3"
        connection.ensure_connection()
        dest = sqlite3.connect(dump)
        try:
            connection.connection.backup(dest)  # online: consistent while others write
        finally:
            dest.close()
        engine = "sqlite"
    files[dump.name] = _sha256(dump)
    media = Path(settings.MEDIA_ROOT)
    with tarfile.open(target / "media.tar.gz", "w:gz") as tar:
        if media.exists():
            tar.add(media, arcname="media")
    files["media.tar.gz"] = _sha256(target / "media.tar.gz")
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "created_at": now.isoformat(),
        "engine": engine,
        "row_counts": counts,
        "files": files,
        "field_key_fingerprints": [crypto.fingerprint(k) for k in crypto.all_keys()],
        "secret_key_fingerprint": crypto.fingerprint(settings.SECRET_KEY),
        "keys_included": passphrase is not None,
    }
    if passphrase is not None:
        (target / "keys.enc").write_text(json.dumps(seal_keys(passphrase)))
        (target / "keys.enc").chmod(0o600)
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return target


def read_manifest(source: Path) -> dict[str, Any]:
    path = source / "manifest.json"
    if not path.exists():
        raise BackupError(f"{source} has no manifest.json: not an M4S backup")
    manifest: dict[str, Any] = json.loads(path.read_text())
    for name, digest in manifest["files"].items():
        if _sha256(source / name) != digest:
            raise BackupError(f"{name} does not match its checksum in the manifest")
    return manifest


def restore(source: Path) -> dict[str, Any]:
    """Puts the backup in `source` back; returns {"manifest", "mismatches", "missing_keys"}."""
    manifest = read_manifest(source)
    is_pg_backup = manifest["engine"].startswith("postgresql")
    if is_pg_backup != settings.IS_POSTGRES:
        raise BackupError(f"this backup is {manifest['engine']}; the configured database is not")
    connections.close_all()
    if settings.IS_POSTGRES:
        # One transaction: empty the schema, then load the dump (pg_restore's own --clean drops
        # object by object and trips over the telemetry partitions' inherited constraints).
        # A failure leaves the database as it was.
        script = subprocess.Popen(  # noqa: S603
            [_pg_tool("pg_restore"), "--no-owner", "--file", "-", str(source / "database.dump")],
            stdout=subprocess.PIPE,
        )
        loaded = subprocess.run(  # noqa: S603
            [
                _pg_tool("psql"),
                "--quiet",
                "--no-psqlrc",
                "--set",
                "ON_ERROR_STOP=1",
                "--single-transaction",
                "--command",
                "DROP SCHEMA public CASCADE; CREATE SCHEMA public;",
                "--file",
                "-",
                _pg_url(),
            ],
            stdin=script.stdout,
            stdout=subprocess.DEVNULL,
        )
        assert script.stdout is not None
        script.stdout.close()
        if script.wait() or loaded.returncode:
            raise BackupError(
                "the database could not be restored (see the errors above); nothing changed"
            )
    else:
        connection.ensure_connection()
        src = sqlite3.connect(source / "database.sqlite3")
        try:
            src.backup(connection.connection)
        finally:
            src.close()
    connections.close_all()
    media = Path(settings.MEDIA_ROOT)
    if media.exists():
        shutil.rmtree(media)
    media.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(source / "media.tar.gz", "r:gz") as tar:
        tar.extractall(media.parent, filter="data")
        if media.name != "media" and (media.parent / "media").exists():
            (media.parent / "media").rename(media)
    counts = row_counts()
    mismatches = {
        t: (n, counts.get(t)) for t, n in manifest["row_counts"].items() if counts.get(t) != n
    }
    configured = {crypto.fingerprint(k) for k in crypto.all_keys()}
    missing = [f for f in manifest["field_key_fingerprints"] if f not in configured]
    return {"manifest": manifest, "mismatches": mismatches, "missing_keys": missing}
