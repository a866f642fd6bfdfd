"""The readiness checks behind /health/ready. Each returns (ok, details); a check that does not
apply to this install (no Redis, no broker, tasks run in-process) is left out."""

import datetime as dt
import socket
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.db import connections
from django.utils import timezone

Check = Callable[[], tuple[bool, dict[str, Any]]]


def _database(alias: str) -> Check:
    def check() -> tuple[bool, dict[str, Any]]:
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
        except Exception as e:
            # a pooled or persistent connection that broke must not be handed out again
            connections[alias].close()
            return False, {"error": type(e).__name__, "detail": str(e)[:200]}
        return True, {}

    return check


def redis_check() -> tuple[bool, dict[str, Any]]:
    import redis

    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2
        )
        client.ping()
    except Exception as e:
        return False, {"error": type(e).__name__, "detail": str(e)[:200]}
    return True, {}


def broker_check() -> tuple[bool, dict[str, Any]]:
    url = urlparse(settings.MQTT_URL)
    port = url.port or (8883 if url.scheme in ("mqtts", "ssl") else 1883)
    try:
        with socket.create_connection((url.hostname or "127.0.0.1", port), timeout=2):
            pass
    except OSError as e:
        return False, {"error": type(e).__name__, "detail": str(e)[:200]}
    return True, {}


def worker_check() -> tuple[bool, dict[str, Any]]:
    from m4s.core.models import WorkerHeartbeat

    latest = WorkerHeartbeat.objects.order_by("-beat_at").values_list("beat_at", flat=True).first()
    if latest is None:
        return False, {"error": "no_worker", "detail": "no worker has reported"}
    age = (timezone.now() - latest).total_seconds()
    alive = WorkerHeartbeat.objects.filter(
        beat_at__gte=timezone.now() - dt.timedelta(seconds=settings.WORKER_HEARTBEAT_MAX_AGE)
    ).count()
    return age <= settings.WORKER_HEARTBEAT_MAX_AGE, {
        "last_beat_seconds": round(age, 1),
        "workers": alive,
    }


def outbox_lag() -> dict[str, float]:
    """Seconds the oldest due message and the oldest due hand-off have been waiting."""
    from m4s.core.models import HookDelivery
    from m4s.notify.choices import Status
    from m4s.notify.models import Message

    now = timezone.now()
    waiting = (Status.PENDING, Status.RETRY)
    oldest_msg = (
        Message.objects.filter(status__in=waiting, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )
    oldest_hook = (
        HookDelivery.objects.filter(
            status__in=(HookDelivery.Status.PENDING, HookDelivery.Status.RETRY),
            next_attempt_at__lte=now,
        )
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )
    return {
        "messages": (now - oldest_msg).total_seconds() if oldest_msg else 0.0,
        "hooks": (now - oldest_hook).total_seconds() if oldest_hook else 0.0,
    }


def outbox_check() -> tuple[bool, dict[str, Any]]:
    lag = outbox_lag()
    worst = max(lag.values())
    return worst <= settings.OUTBOX_LAG_MAX_SECONDS, {
        "lag_seconds": {k: round(v, 1) for k, v in lag.items()},
        "max_seconds": settings.OUTBOX_LAG_MAX_SECONDS,
    }


def dead_letters_last_hour() -> int:
    from m4s.telematics.models import DeadLetter

    return DeadLetter.objects.filter(
        received_at__gte=timezone.now() - dt.timedelta(hours=1)
    ).count()


def dead_letter_check() -> tuple[bool, dict[str, Any]]:
    n = dead_letters_last_hour()
    return n <= settings.DEAD_LETTERS_MAX, {"last_hour": n, "max": settings.DEAD_LETTERS_MAX}


def checks() -> dict[str, Check]:
    out: dict[str, Check] = {}
    for alias in settings.DATABASES:
        out["database" if alias == "default" else f"database:{alias}"] = _database(alias)
    if settings.REDIS_URL:
        out["redis"] = redis_check
    if settings.MQTT_URL:
        out["broker"] = broker_check
    if settings.TASK_BACKEND != "immediate":
        out["worker"] = worker_check
    out["outbox"] = outbox_check
    out["dead_letters"] = dead_letter_check
    return out


def run_checks() -> tuple[bool, dict[str, Any]]:
    """(ready, body). The database checks run first; when the primary is down, the checks that
    read it are reported as skipped (failed), not as a second error."""
    results: dict[str, Any] = {}
    database_up = True
    for name, check in checks().items():
        if not database_up and not name.startswith(("database", "redis", "broker")):
            results[name] = {"ok": False, "error": "skipped", "detail": "database unreachable"}
            continue
        try:
            ok, details = check()
        except Exception as e:  # a check that breaks is a failed check, never a 500
            ok, details = False, {"error": type(e).__name__, "detail": str(e)[:200]}
        results[name] = {"ok": ok, **details}
        if name == "database" and not ok:
            database_up = False
    failed = [n for n, r in results.items() if not r["ok"]]
    blocking = [n for n in failed if n not in settings.HEALTH_READY_IGNORE]
    return not blocking, {
        "status": "fail" if blocking else "ok",
        "failed": failed,
        "checks": results,
    }
