"""Configuration that every page reads and staff rarely change (a store's branding, a loyalty
programme and its tiers), kept in Django's cache under a version per scope.

    store = config_cache.get("branding", store_id, lambda: load(store_id))
    config_cache.changed("branding")  # by whatever wrote a store, its numbers or pictures

A write bumps the scope's version, so every process (the cache is Redis when REDIS_URL is set)
reads the new value on its next request: the invalidation is explicit, in the code that writes,
never a signal. Values also expire after `TTL` seconds, which bounds how stale a process can be
when the cache is the in-process one (no REDIS_URL, several web processes) or a write forgot to
say so. A scope's value is whatever `build` returns (None too); it must pickle.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Hashable
from typing import Any, ClassVar, TypeVar, cast

from django.core.cache import cache
from django.db import models, transaction

T = TypeVar("T")
TTL = 60  # seconds: the most a missed invalidation can cost
BRANDING = "branding"  # org: a store, its emergency numbers and splash pictures
LOYALTY = "loyalty"  # loyalty: a group's programme and tiers
_MISSING = object()
_namespace = ""  # tests give each test its own (isolate()); one shared by every process otherwise


def isolate() -> None:
    """Start a fresh namespace (tests: ids come round again in the next test's database, and
    parallel test processes may share one Redis)."""
    global _namespace
    _namespace = uuid.uuid4().hex[:8]


def _version_key(scope: str) -> str:
    return f"m4s:cfg-version:{_namespace}:{scope}"


def _version(scope: str) -> str:
    version = cache.get(_version_key(scope))
    if version is None:
        cache.add(_version_key(scope), uuid.uuid4().hex[:12], None)
        version = cache.get(_version_key(scope)) or "0"
    return str(version)


def get(scope: str, key: Hashable, build: Callable[[], T], ttl: int = TTL) -> T:
    """The cached value of `key` in `scope`, built (and stored) on a miss."""
    data_key = f"m4s:cfg:{_namespace}:{scope}:{_version(scope)}:{key}"
    found: Any = cache.get(data_key, _MISSING)
    if found is not _MISSING:
        return cast(T, found[0])
    value = build()
    cache.set(data_key, (value,), ttl)
    return value


def changed(*scopes: str) -> None:
    """Forget every cached value of these scopes: now (this transaction's own reads) and again
    when the write commits (a reader elsewhere may have cached the old row in between)."""

    def bump() -> None:
        for scope in scopes:
            cache.set(_version_key(scope), uuid.uuid4().hex[:12], None)

    bump()
    transaction.on_commit(bump)


class InvalidatesConfig(models.Model):
    """A model whose rows are part of cached configuration: saving or deleting one says so
    (`changed(*config_scopes)`). Bulk `update()`s bypass it and call `changed` themselves."""

    config_scopes: ClassVar[tuple[str, ...]] = ()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        changed(*self.config_scopes)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        result = super().delete(*args, **kwargs)
        changed(*self.config_scopes)
        return result
