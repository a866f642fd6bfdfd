"""Dashboard and report reads on a read replica.

With REPLICA_DATABASE_URL set, settings add a "replica" database alias. Code that only reads
and can live with a replica's lag of a second or two (a manager's figures, the loyalty report)
runs inside `replica_reads()` (or a view is wrapped in `@on_replica`), and this router sends
its reads there; every write, and every read outside such a block, goes to the primary.
Without a replica alias nothing changes."""

import contextlib
import contextvars
import functools
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from django.conf import settings

REPLICA = "replica"
_reading_replica: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "m4s_replica_reads", default=False
)
F = TypeVar("F", bound=Callable[..., Any])


@contextlib.contextmanager
def replica_reads() -> Iterator[None]:
    token = _reading_replica.set(True)
    try:
        yield
    finally:
        _reading_replica.reset(token)


def on_replica(view: F) -> F:
    """A view (or function) whose reads may go to the replica."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        with replica_reads():
            return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


class ReplicaRouter:
    def db_for_read(self, model: type, **hints: Any) -> str | None:
        if _reading_replica.get() and REPLICA in settings.DATABASES:
            return REPLICA
        return None

    def db_for_write(self, model: type, **hints: Any) -> str | None:
        return "default"

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        return True  # the replica is a copy of the primary: the same rows

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return db != REPLICA  # a replica follows its primary; it is never migrated itself
