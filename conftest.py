"""Test-wide set-up. The suite runs on SQLite by default and on PostgreSQL when DATABASE_URL
points at one (`.ci/run` does both)."""

import pytest

from m4s.notify.sms import MemorySmsBackend


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.SMS_BACKEND = "m4s.notify.sms.MemorySmsBackend"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default", "notify"]}}
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    MemorySmsBackend.outbox.clear()
    yield


@pytest.fixture
def sms_outbox():
    return MemorySmsBackend.outbox


@pytest.fixture
def world(db):
    """Two dealer groups with a store each, staff for the roles the tests need, one owner."""
    from m4s.core.tests.factories import build_world

    return build_world()


@pytest.fixture
def api_client():
    from m4s.core.tests.factories import ApiClient

    return ApiClient()
