"""Reports read from the replica alias when one is configured (m4s/core/routers.py). A second
SQLite database plays the replica: a copy of the primary taken at one moment, as a streaming
replica that is behind would be. Writes always go to the primary."""

import json
import os
import subprocess
import sys
import textwrap

from m4s.core.routers import ReplicaRouter, replica_reads

SCRIPT = textwrap.dedent(
    """
    import json, sqlite3, django
    django.setup()
    from django.core.management import call_command
    from django.db import connections
    call_command("migrate", verbosity=0)  # the primary only: a replica is never migrated
    from m4s.core.routers import replica_reads
    from m4s.core.tests.factories import build_world
    from m4s.customers.services import get_or_create_customer_for_owner
    from m4s.demo.starters import loyalty as starter
    from m4s.loyalty import ledger, selectors, services
    from m4s.loyalty.models import LedgerEntry
    w = build_world()
    starter.install_programme(w.group_a)
    member = services.get_or_create_member(get_or_create_customer_for_owner(w.owner, w.store_a))
    ledger.credit(member, 100, reason="a", key="a", expires_at=None)

    # the replica: the primary as it is now
    connections["default"].ensure_connection()
    dest = sqlite3.connect(connections["replica"].settings_dict["NAME"])
    connections["default"].connection.backup(dest)
    dest.close()

    ledger.credit(member, 900, reason="b", key="b", expires_at=None)  # the replica is behind
    from django.db.models import Sum
    primary = LedgerEntry.objects.for_group(w.group_a.pk).aggregate(p=Sum("points"))["p"]
    out = {"primary": primary}
    with replica_reads():
        out["replica_block"] = selectors.programme_report(w.group_a.pk).issued
        out["read_db"] = LedgerEntry.objects.for_group(w.group_a.pk).all().db
        ledger.credit(member, 5, reason="c", key="c", expires_at=None)  # a write inside
    out["written_to_primary"] = LedgerEntry.objects.for_group(w.group_a.pk).filter(idempotency_key="c").exists()
    # the decorated selector itself reads the replica, the page and the API alike
    out["report"] = selectors.programme_report(w.group_a.pk).issued
    print(json.dumps(out))
    """
)


def test_reports_read_the_replica_and_writes_stay_on_the_primary(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"REDIS_URL", "MQTT_URL", "PROMETHEUS_MULTIPROC_DIR"}
    }
    env.update(
        M4S_DATA_DIR=str(tmp_path / "data"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'primary.sqlite3'}",
        REPLICA_DATABASE_URL=f"sqlite:///{tmp_path / 'replica.sqlite3'}",
        TASK_BACKEND="immediate",
        SMS_BACKEND="m4s.notify.sms.MemorySmsBackend",
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["read_db"] == "replica"
    assert out["written_to_primary"] is True
    # programme_report is @on_replica: it sees the replica's 100, not the primary's 1,005
    assert out["report"] == out["replica_block"] == 100
    assert out["primary"] == 1000  # an undecorated read outside the block: the primary


def test_without_a_replica_everything_uses_the_primary(settings):
    assert "replica" not in settings.DATABASES
    router = ReplicaRouter()
    with replica_reads():
        assert router.db_for_read(object) is None
    assert router.db_for_write(object) == "default"
    assert router.allow_migrate("replica", "core") is False
    assert router.allow_migrate("default", "core") is True
