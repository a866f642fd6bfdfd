"""Secure by default: with DEBUG off and a production-like environment Django's deployment
checks are clean; M4S_PLAIN_HTTP=1 is the explicit way out (and the checks say so). The
Dockerfile and the Makefile install through the same script."""

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def deploy_check(tmp_path, **extra):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "M4S_PLAIN_HTTP", "DATABASE_URL", "REDIS_URL", "TASK_BACKEND"}
    }
    env.update(
        M4S_DATA_DIR=str(tmp_path),
        SECRET_KEY="k" * 10 + "-production-like-secret-key-0123456789-abcdefghij",
        ALLOWED_HOSTS="m4s.example.com",
        **extra,
    )
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "m4s", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )


def test_deploy_checks_are_clean_with_debug_off(tmp_path):
    result = deploy_check(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_plain_http_is_explicit_and_the_checks_notice(tmp_path):
    result = deploy_check(tmp_path, M4S_PLAIN_HTTP="1")
    assert result.returncode != 0
    out = result.stdout + result.stderr
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in out, check


def test_settings_turn_https_on_without_debug(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "M4S_PLAIN_HTTP"}}
    env["M4S_DATA_DIR"] = str(tmp_path)
    code = (
        "import m4s.settings as s; print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0, s.SECURE_REDIRECT_EXEMPT)"
    )
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, cwd=REPO
    )
    assert out.stdout.startswith("True True True True"), out.stderr
    assert "health/" in out.stdout and "metrics" in out.stdout  # probes stay on plain HTTP


def test_one_install_script_for_the_image_the_makefile_and_ci():
    dockerfile = (REPO / "Dockerfile").read_text()
    makefile = (REPO / "Makefile").read_text()
    assert (REPO / "scripts" / "install.sh").exists()
    assert re.search(r"RUN .*scripts/install\.sh", dockerfile)
    assert "scripts/install.sh" in makefile
    assert re.search(r"^USER (?!root)\S+", dockerfile, re.M), "the image runs as a non-root user"
    assert dockerfile.count("FROM ") >= 2, "multi-stage"
