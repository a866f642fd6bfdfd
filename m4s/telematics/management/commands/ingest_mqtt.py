"""`m4s ingest-mqtt`: store what terminals publish over MQTT (see m4s/telematics/mqtt_ingest.py)."""

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from m4s.telematics import mqtt_ingest


class Command(BaseCommand):
    help = (
        "Subscribe (MQTT v5, QoS 1, shared subscription, persistent session) to terminals' "
        "m4s/v1/{key}/up/{telemetry|event} and store the messages, acknowledging each only "
        "after it is committed. Run several processes with distinct --client-id to share the load."
    )

    def add_arguments(self, parser):
        parser.add_argument("--url", default="", help="mqtt://host:port (default: MQTT_URL).")
        parser.add_argument(
            "--client-id",
            default="",
            help="Stable id of this process; its session survives restarts "
            "(default: m4s-ingest-<hostname>).",
        )
        parser.add_argument("--prefix", default=mqtt_ingest.DEFAULT_PREFIX)
        parser.add_argument(
            "--share-group",
            default=mqtt_ingest.DEFAULT_SHARE_GROUP,
            help="Shared-subscription group; '' subscribes without sharing.",
        )
        parser.add_argument("--max-batch", type=int, default=1000, help="Messages per write.")
        parser.add_argument(
            "--max-wait-ms", type=int, default=200, help="How long a batch may wait to fill."
        )
        parser.add_argument("--session-expiry", type=int, default=86_400, help="Seconds.")
        parser.add_argument(
            "--receive-maximum",
            type=int,
            default=10_000,
            help="Unacknowledged messages in flight to this process (bounds batch sizes).",
        )
        parser.add_argument("--max-seconds", type=float, default=None, help="Stop after this.")
        parser.add_argument(
            "--once", action="store_true", help="Stop once the backlog is stored (idle 2 s)."
        )

    def handle(self, *args, **o):
        url = o["url"] or settings.MQTT_URL
        if not url:
            raise CommandError("No broker: set MQTT_URL (mqtt://host:port) or pass --url.")
        try:
            ingest = mqtt_ingest.MqttIngest(
                mqtt_ingest.Options(
                    url=url,
                    client_id=o["client_id"],
                    prefix=o["prefix"].strip("/"),
                    share_group=o["share_group"],
                    max_batch=o["max_batch"],
                    max_wait_ms=o["max_wait_ms"],
                    session_expiry=o["session_expiry"],
                    receive_maximum=o["receive_maximum"],
                    max_seconds=o["max_seconds"],
                    once=o["once"],
                )
            )
        except ValueError as e:
            raise CommandError(str(e)) from None
        previous = {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):  # graceful: store, acknowledge, leave
                previous[sig] = signal.signal(sig, lambda *_: ingest.stop())
        self.stdout.write(
            f"ingest-mqtt: {ingest.broker.host}:{ingest.broker.port} as {ingest.client_id}, "
            f"{ingest.subscription}"
        )
        try:
            stats = ingest.run()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write(
            self.style.SUCCESS(
                "stopped: " + ", ".join(f"{k} {v}" for k, v in stats.as_dict().items())
            )
        )
