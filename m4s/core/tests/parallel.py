"""Run one HTTP call from N threads at once (each with its own database connection and test
client), for races that only PostgreSQL shows."""

import json
import threading

import pytest
from django.db import connection
from django.test import Client


def skip_on_sqlite():
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the race is meaningful on PostgreSQL")


def post_in_parallel(path, body, *, n=8, **headers) -> list:
    """POST the same JSON body from `n` threads released together; returns the responses
    (status code, parsed JSON or None), in no particular order."""
    barrier, results, lock = threading.Barrier(n), [], threading.Lock()

    def call():
        client = Client(raise_request_exception=False)
        barrier.wait()
        try:
            r = client.post(
                path,
                "" if body is None else json.dumps(body),
                content_type="application/json",
                **headers,
            )
            data = (
                r.json() if r["Content-Type"].startswith("application/json") and r.content else None
            )
            with lock:
                results.append((r.status_code, data))
        finally:
            connection.close()

    threads = [threading.Thread(target=call) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results
