"""Request ids, structured logs and the process's Prometheus metrics.

Every request gets an id (the client's `X-Request-ID` when it is a sane token, else a new one),
echoed in the response's `X-Request-ID` and written on every log line made while it runs. Logs
are one JSON object per line (`LOG_FORMAT=json`, the default with DEBUG off). Request latency
is a histogram per route pattern (never the raw path: ids would explode the label set). Under
`m4s serve` / `m4s up` the processes share PROMETHEUS_MULTIPROC_DIR, so `/metrics` adds up
every worker process."""

import contextvars
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from prometheus_client import Counter, Histogram

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("m4s_request_id", default="-")
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

REQUEST_LATENCY = Histogram(
    "m4s_http_request_duration_seconds",
    "Time to answer a request, by route pattern, method and status class.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
INGESTED = Counter(
    "m4s_ingest_messages_total",
    "Telemetry messages handled by the writer, by path and outcome.",
    ["via", "result"],
)


def current_request_id() -> str:
    return request_id_var.get()


class RequestMiddleware:
    """Request id in and out, and the request's latency by route."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.META.get("HTTP_X_REQUEST_ID", "")
        rid = given if _SANE_ID.match(given) else uuid.uuid4().hex
        token = request_id_var.set(rid)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        match = getattr(request, "resolver_match", None)
        route = (match.route or match.view_name or "?") if match else "unmatched"
        if request.path.startswith("/static/"):
            route = "static"
        REQUEST_LATENCY.labels(
            route=route[:80],
            method=request.method or "?",
            status=f"{response.status_code // 100}xx",
        ).observe(time.perf_counter() - started)
        response["X-Request-ID"] = rid
        return response


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record (`%(request_id)s`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, and any `extra`."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", request_id_var.get()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value if isinstance(value, int | float | bool | None) else str(value)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)
