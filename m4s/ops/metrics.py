"""What /metrics reports beyond the per-process counters of m4s.core.observability: figures read
from the database (and Redis) when Prometheus scrapes, so every web process answers the same."""

import os
from collections.abc import Iterator

from django.conf import settings
from django.db.models import Count
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from . import health


class DatabaseCollector:
    def collect(self) -> Iterator[Metric]:
        """The database's figures; when it cannot be read, m4s_database_up 0 instead of a 500
        (the process's own counters are still worth scraping)."""
        try:
            metrics = list(self._collect())
        except Exception:
            from django.db import connections

            connections["default"].close()
            metrics = []
        yield GaugeMetricFamily(
            "m4s_database_up",
            "Whether the database figures could be read.",
            value=int(bool(metrics)),
        )
        yield from metrics

    def _collect(self) -> Iterator[Metric]:
        from m4s.core.models import HookDelivery, WorkerHeartbeat
        from m4s.notify.models import Message

        outbox = GaugeMetricFamily(
            "m4s_outbox_messages",
            "Outbox messages by status (not yet sent, failed).",
            labels=["status"],
        )
        counts = dict(
            Message.objects.filter(status__in=("pending", "sending", "retry", "failed"))
            .values_list("status")
            .annotate(n=Count("id"))
        )
        for status in ("pending", "sending", "retry", "failed"):
            outbox.add_metric([status], counts.get(status, 0))
        yield outbox

        hooks = GaugeMetricFamily(
            "m4s_hook_deliveries",
            "Hand-offs between areas not done yet, by status.",
            labels=["status"],
        )
        counts = dict(
            HookDelivery.objects.exclude(status="done")
            .values_list("status")
            .annotate(n=Count("id"))
        )
        for status in ("pending", "running", "retry", "failed"):
            hooks.add_metric([status], counts.get(status, 0))
        yield hooks

        lag = health.outbox_lag()
        g = GaugeMetricFamily(
            "m4s_outbox_lag_seconds", "Age of the oldest due message / hand-off.", labels=["kind"]
        )
        for kind, seconds in lag.items():
            g.add_metric([kind], seconds)
        yield g

        queue = GaugeMetricFamily(
            "m4s_task_queue_depth", "Tasks waiting to run, by queue.", labels=["queue"]
        )
        for name, depth in task_queue_depth().items():
            queue.add_metric([name], depth)
        yield queue

        yield GaugeMetricFamily(
            "m4s_dead_letters_last_hour",
            "Telemetry messages dead-lettered in the last hour.",
            value=health.dead_letters_last_hour(),
        )
        yield GaugeMetricFamily(
            "m4s_workers_alive",
            "Workers that reported recently.",
            value=WorkerHeartbeat.objects.count(),
        )


def task_queue_depth() -> dict[str, int]:
    if settings.TASK_BACKEND == "rq":
        import django_rq

        return {name: django_rq.get_queue(name).count for name in settings.RQ_QUEUES}
    if settings.TASK_BACKEND == "db":
        from django_tasks_db.models import DBTaskResult

        counts = dict(
            DBTaskResult.objects.ready().values_list("queue_name").annotate(n=Count("id"))
        )
        return {name: counts.get(name, 0) for name in settings.TASKS["default"]["QUEUES"]}
    return {}


def render() -> bytes:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)  # every worker process of this host
    else:
        for collector in list(REGISTRY._collector_to_names):  # this process's own counters
            registry.register(collector)
    registry.register(DatabaseCollector())
    return generate_latest(registry)
