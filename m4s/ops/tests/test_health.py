"""/health/live, /health/ready and /metrics."""

import json
import os
import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest
from django.utils import timezone

from m4s.core.models import WorkerHeartbeat


def _beat(seconds_ago=0):
    now = timezone.now() - timedelta(seconds=seconds_ago)
    WorkerHeartbeat.objects.update_or_create(
        name="host:1", defaults={"backend": "db", "started_at": now, "beat_at": now}
    )


@pytest.mark.django_db
def test_live_answers_without_the_database(client):
    r = client.get("/health/live")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    assert r["X-Request-ID"]


@pytest.mark.django_db
def test_ready_names_each_check_and_fails_without_a_worker(client, settings):
    settings.TASK_BACKEND = "db"
    settings.REDIS_URL = settings.MQTT_URL = ""
    r = client.get("/health/ready")
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "fail" and body["failed"] == ["worker"]
    assert body["checks"]["database"]["ok"] and body["checks"]["outbox"]["ok"]
    assert body["checks"]["worker"]["error"] == "no_worker"

    _beat()
    r = client.get("/health/ready")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    assert r.json()["checks"]["worker"]["workers"] == 1

    _beat(seconds_ago=settings.WORKER_HEARTBEAT_MAX_AGE + 5)  # the worker went quiet
    assert client.get("/health/ready").status_code == 503
    settings.HEALTH_READY_IGNORE = ["worker"]  # reported, not blocking
    r = client.get("/health/ready")
    assert r.status_code == 200 and r.json()["failed"] == ["worker"]


@pytest.mark.django_db
def test_ready_fails_on_outbox_lag_and_dead_letters(client, settings, world):
    from m4s.notify.models import Message
    from m4s.telematics.models import DeadLetter

    settings.TASK_BACKEND = "immediate"
    settings.REDIS_URL = settings.MQTT_URL = ""
    assert client.get("/health/ready").status_code == 200
    due = timezone.now() - timedelta(seconds=settings.OUTBOX_LAG_MAX_SECONDS + 60)
    Message.objects.create(
        owner=world.owner,
        channel="sms",
        to_address="+8613800000001",
        body="x",
        status="pending",
        next_attempt_at=due,
        created_at=due,
    )
    r = client.get("/health/ready")
    assert r.status_code == 503 and r.json()["failed"] == ["outbox"]
    assert (
        r.json()["checks"]["outbox"]["lag_seconds"]["messages"] >= settings.OUTBOX_LAG_MAX_SECONDS
    )
    Message.objects.update(status="sent")
    settings.DEAD_LETTERS_MAX = 2
    DeadLetter.objects.bulk_create(
        DeadLetter(received_at=timezone.now(), via="http", reason="bad", payload={})
        for _ in range(3)
    )
    r = client.get("/health/ready")
    assert r.status_code == 503 and r.json()["failed"] == ["dead_letters"]


@pytest.mark.django_db
def test_ready_checks_redis_and_broker_when_configured(client, settings):
    settings.TASK_BACKEND = "immediate"
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    settings.MQTT_URL = "mqtt://127.0.0.1:1"
    r = client.get("/health/ready")
    assert r.status_code == 503 and set(r.json()["failed"]) == {"redis", "broker"}


def test_ready_fails_when_the_database_is_unreachable_and_recovers(tmp_path):
    """A real outage: the SQLite database's folder disappears and comes back (a process of its
    own with a file database; nothing is mocked)."""
    env = {
        **os.environ,
        "M4S_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db' / 'm4s.sqlite3'}",
        "TASK_BACKEND": "immediate",
        "DEBUG": "0",
        "M4S_PLAIN_HTTP": "1",
        "ALLOWED_HOSTS": "testserver",
    }
    for name in ("REDIS_URL", "MQTT_URL", "REPLICA_DATABASE_URL", "PROMETHEUS_MULTIPROC_DIR"):
        env.pop(name, None)
    (tmp_path / "db").mkdir()
    script = textwrap.dedent(
        f"""
        import json, os, django
        django.setup()
        from django.core.management import call_command
        from django.db import close_old_connections
        from django.test import Client
        call_command("migrate", verbosity=0)
        c = Client()
        def ready():
            close_old_connections()  # what a server does at each request (the test client not)
            r = c.get("/health/ready")
            return {{"http": r.status_code, **r.json()}}
        out = [ready()]
        os.rename({str(tmp_path / "db")!r}, {str(tmp_path / "gone")!r})
        out.append(ready())
        out.append(c.get("/health/live").status_code)
        os.rename({str(tmp_path / "gone")!r}, {str(tmp_path / "db")!r})
        out.append(ready())
        print(json.dumps(out))
        """
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    before, down, live, after = json.loads(result.stdout.strip().splitlines()[-1])
    assert before["http"] == 200 and before["failed"] == []
    assert down["http"] == 503 and down["failed"][0] == "database"
    assert down["checks"]["database"]["error"] == "OperationalError"
    assert down["checks"]["outbox"]["error"] == "skipped"
    assert live == 200  # alive, just not ready
    assert after["http"] == 200 and after["failed"] == []


@pytest.mark.django_db
def test_metrics_by_network_or_token(client, settings):
    client.get("/app/login/")  # a request to be counted
    r = client.get("/metrics")  # the test client comes from 127.0.0.1: allowed by default
    assert r.status_code == 200
    text = r.content.decode()
    for name in (
        "m4s_http_request_duration_seconds_bucket",
        "m4s_outbox_messages",
        "m4s_hook_deliveries",
        "m4s_task_queue_depth",
        "m4s_dead_letters_last_hour",
        "m4s_outbox_lag_seconds",
    ):
        assert name in text, name
    assert 'route="app/login/"' in text
    assert "m4s_database_up 1.0" in text

    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    settings.METRICS_TOKEN = "s3cret-metrics-token"
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    ok = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-metrics-token")
    assert ok.status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200


@pytest.mark.django_db
def test_request_id_is_echoed_and_logged(client, caplog):
    import logging

    from m4s.core.observability import JsonFormatter, RequestIdFilter, request_id_var

    r = client.get("/health/live", HTTP_X_REQUEST_ID="abc-123")
    assert r["X-Request-ID"] == "abc-123"
    r = client.get("/health/live", HTTP_X_REQUEST_ID="bad id with spaces")
    assert r["X-Request-ID"] != "bad id with spaces" and len(r["X-Request-ID"]) == 32

    token = request_id_var.set("req-42")
    try:
        record = logging.makeLogRecord({"name": "m4s.x", "msg": "hello %s", "args": ("you",)})
        RequestIdFilter().filter(record)
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert line["request_id"] == "req-42" and line["message"] == "hello you"
    assert line["logger"] == "m4s.x"
