"""settings.py is the only reader of the environment and fails loudly on bad values."""

import os
import subprocess
import sys

import pytest


def load_settings(**env):
    full = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "DEBUG", "TASK_BACKEND", "REDIS_URL"}
    }
    full.update(env)
    return subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-c",
            "import m4s.settings as s; print(s.DATABASES['default']['ENGINE'], s.DEBUG, s.TIME_ZONE)",
        ],
        env=full,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "env,message",
    [
        ({"DEBUG": "maybe"}, "DEBUG='maybe' is not a boolean"),
        ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL='mysql://x/y' has scheme 'mysql'"),
        ({"REDIS_URL": "http://localhost"}, "REDIS_URL"),
        ({"MQTT_URL": "mqtt://"}, "MQTT_URL='mqtt://' names no host"),
        ({"TIME_ZONE": "Mars/Olympus"}, "is not an IANA time zone"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY must be at least 32 characters"),
        ({"TASK_BACKEND": "rq"}, "TASK_BACKEND=rq needs REDIS_URL"),
        ({"TASK_BACKEND": "celery"}, "TASK_BACKEND='celery' is not one of"),
    ],
)
def test_bad_environment_fails_with_a_clear_message(tmp_path, env, message):
    result = load_settings(M4S_DATA_DIR=str(tmp_path), **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr


def test_good_environment_loads(tmp_path):
    result = load_settings(
        M4S_DATA_DIR=str(tmp_path),
        DEBUG="yes",
        TIME_ZONE="Asia/Seoul",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/m4s",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.postgresql", "True", "Asia/Seoul"]


def test_secret_key_is_generated_once_and_kept(tmp_path):
    load_settings(M4S_DATA_DIR=str(tmp_path))
    key = (tmp_path / "secret_key").read_text()
    load_settings(M4S_DATA_DIR=str(tmp_path))
    assert (tmp_path / "secret_key").read_text() == key and len(key) >= 48
    assert oct((tmp_path / "secret_key").stat().st_mode)[-3:] == "600"
