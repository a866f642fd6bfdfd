"""`m4s gb32960 --port 32960 [--host 0.0.0.0]`: the GB/T 32960 TCP server for new-energy vehicles.

Stops gracefully on SIGTERM or SIGINT: no new connections, frames being handled finish (acks
of committed writes still go out), then the process exits."""

import asyncio
import signal

from django.core.management.base import BaseCommand

from m4s.telematics.gb32960_server import Gb32960Server


class Command(BaseCommand):
    help = "Run the GB/T 32960 TCP server for new-energy vehicles until stopped."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=32960)
        parser.add_argument("--host", default="0.0.0.0")  # noqa: S104 terminals connect from anywhere
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="Threads writing to the database (default: 1 on SQLite, 4 on PostgreSQL).",
        )
        parser.add_argument(
            "--idle-timeout",
            type=float,
            default=300.0,
            help="Seconds without a frame (heartbeats count) before a connection is closed.",
        )
        parser.add_argument(
            "--grace", type=float, default=10.0, help="Seconds to finish work on shutdown."
        )

    def handle(self, *args, port, host, workers, idle_timeout, grace, **options):
        server = Gb32960Server(host, port, workers=workers, idle_timeout=idle_timeout, grace=grace)
        asyncio.run(self._serve(server))

    async def _serve(self, server: Gb32960Server):
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, server.request_stop)
        await server.start()
        self.stdout.write(f"GB/T 32960 server on {server.host}:{server.port} (Ctrl-C to stop)")
        await server.serve_until_stopped()
        self.stdout.write("GB/T 32960 server stopped")
