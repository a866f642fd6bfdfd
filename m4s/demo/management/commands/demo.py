"""`m4s demo`: migrate, load demo data, print the logins, and serve M4S with a worker (through
`m4s serve`, the production server, so the demo holds up under load)."""

import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from m4s.demo.builder import LOGINS, build_demo


class Command(BaseCommand):
    help = (
        "Set up the demo (migrate + demo data) and serve it at http://127.0.0.1:8000 with a worker."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-serve", action="store_true", help="Only migrate and load the demo data."
        )
        parser.add_argument("--addrport", default="127.0.0.1:8000")

    def handle(
        self, *args: Any, no_serve: bool = False, addrport: str = "127.0.0.1:8000", **options: Any
    ) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        created = build_demo()
        self.stdout.write(
            self.style.SUCCESS("Demo data loaded." if created else "Demo data already present.")
        )
        self.stdout.write(LOGINS)
        if not settings.DEBUG:
            self.stdout.write(
                self.style.WARNING(
                    "DEBUG is off: sign-in codes go to the SMS backend (the log), not the screen."
                )
            )
        if no_serve:
            return
        worker = subprocess.Popen([sys.executable, "-m", "m4s", "worker"])  # noqa: S603
        # A few simulated cars keep reporting over HTTP while the demo runs (a week of live time).
        cars = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "m4s",
                "simulate",
                "--via",
                "http",
                "--vehicles",
                "5",
                "--minutes",
                "10080",
                "--speedup",
                "1",
                "--schedule",
                "busy",
                "--url",
                f"http://{addrport}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        server = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "m4s", "serve", "--bind", addrport]
        )
        try:
            server.wait()
        except KeyboardInterrupt:
            pass
        finally:
            for child in (server, cars, worker):
                child.terminate()
                child.wait(timeout=30)
