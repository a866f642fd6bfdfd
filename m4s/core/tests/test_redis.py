"""The at-scale path on a real Redis: the cache, and tasks on RQ run by `m4s worker`.

Runs when REDIS_URL is set (`.ci/run` sets it when Redis answers on 127.0.0.1:6379)."""

import os
import subprocess
import sys

import pytest

REDIS_URL = os.environ.get("REDIS_URL", "")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="REDIS_URL not set")


def test_cache_is_redis_and_round_trips(settings):
    from django.core.cache import caches

    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    cache = caches["default"]
    cache.set("m4s-test-key", {"n": 1}, 30)
    assert cache.get("m4s-test-key") == {"n": 1}
    cache.delete("m4s-test-key")


def test_outbox_delivered_through_rq_worker(tmp_path):
    redis_url = (
        REDIS_URL.rsplit("/", 1)[0] + "/14" if REDIS_URL.count("/") >= 3 else REDIS_URL + "/14"
    )
    env = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        "M4S_DATA_DIR": str(tmp_path),
        "TASK_BACKEND": "rq",
        "REDIS_URL": redis_url,
        "SMS_BACKEND": "m4s.notify.sms.ConsoleSmsBackend",
    }
    m4s = [sys.executable, "-m", "m4s"]

    def run(*args):
        result = subprocess.run([*m4s, *args], env=env, capture_output=True, text=True, timeout=600)  # noqa: S603
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout

    run("migrate", "-v0")
    run(
        "shell",
        "-c",
        (
            f"import redis; redis.Redis.from_url('{redis_url}').flushdb()\n"
            "from m4s.notify.services import send_message\n"
            "from m4s.owners.models import Owner\n"
            "o = Owner.objects.create(phone='+8613800000088')\n"
            "send_message(channel='sms', owner=o, kind='t', body='via rq')\n"
        ),
    )
    status = "from m4s.notify.models import Message; print('STATUS', Message.objects.get().status)"
    assert "STATUS pending" in run("shell", "-c", status)  # queued on Redis, not run in-process
    run("worker", "--batch", "--no-scheduler")
    assert "STATUS sent" in run("shell", "-c", status)
