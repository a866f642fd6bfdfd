"""`m4s simulate`: drive demo cars and send what their terminals report (m4s/telematics/simulator.py).

m4s simulate --vehicles 20 --minutes 60 --via http --speedup 60
m4s simulate --vehicles 5 --minutes 10 --via mqtt --schedule busy
m4s simulate --vehicles 5 --minutes 30 --via jt808 --url tcp://127.0.0.1:7808
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from m4s.demo.telematics import backfill
from m4s.telematics import simulator


class Command(BaseCommand):
    help = (
        "Simulate connected cars (commutes, weekend trips, refuelling, faults, rare crashes and "
        "thefts around Beijing) on existing cars, registering terminals where they have none, "
        "and send their reports over HTTP, MQTT or JT/T 808."
    )

    def add_arguments(self, parser):
        parser.add_argument("--vehicles", type=int, default=10)
        parser.add_argument("--minutes", type=float, default=60, help="Simulated minutes.")
        parser.add_argument("--via", choices=["http", "mqtt", "jt808", "gb32960"], default="http")
        parser.add_argument(
            "--rate", type=float, default=2.0, help="Reports per simulated minute while driving."
        )
        parser.add_argument(
            "--url",
            default="",
            help="http://127.0.0.1:8000 (http), MQTT_URL or mqtt://127.0.0.1:1883 (mqtt), "
            "tcp://127.0.0.1:7808 (jt808).",
        )
        parser.add_argument(
            "--speedup",
            type=float,
            default=1.0,
            help="Simulated time per real time: 1 live, 60 a minute per second, 0 flat out.",
        )
        parser.add_argument("--group", default=None, help="Only this dealer group (id or slug).")
        parser.add_argument(
            "--schedule",
            choices=["realistic", "busy"],
            default="realistic",
            help="realistic: commutes and weekends by the clock; busy: always on the move.",
        )
        parser.add_argument("--crash-prob", type=float, default=0.0005, help="Per trip.")
        parser.add_argument("--theft-prob", type=float, default=0.0002, help="Per parked day.")
        parser.add_argument("--fault-prob", type=float, default=0.01, help="Per trip.")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--backfill",
            type=int,
            default=0,
            metavar="DAYS",
            help="First write this many days of history for the chosen cars.",
        )
        parser.add_argument("--mqtt-prefix", default="", help="Topic prefix (default m4s/v1).")
        parser.add_argument(
            "--tokens-file",
            default="",
            help="Where the simulated terminals' HTTP tokens are kept "
            "(default: DATA_DIR/simulator-terminals.json).",
        )

    def handle(self, *args, **o):
        notes: list[str] = []
        try:
            counts = simulator.simulate(
                o["vehicles"],
                o["minutes"],
                o["via"],
                rate=o["rate"],
                url=o["url"],
                speedup=o["speedup"],
                group=o["group"],
                schedule=o["schedule"],
                crash_prob=o["crash_prob"],
                theft_prob=o["theft_prob"],
                fault_prob=o["fault_prob"],
                seed=o["seed"],
                backfill_days=o["backfill"],
                backfill=backfill,
                tokens_path=Path(o["tokens_file"])
                if o["tokens_file"]
                else simulator.default_tokens_path(),
                mqtt_prefix=o["mqtt_prefix"],
                progress=o["verbosity"] >= 1,
                notes=notes,
            )
        except simulator.SimulationError as e:
            raise CommandError(str(e)) from None
        except KeyboardInterrupt:
            raise CommandError("interrupted") from None
        for note in notes:
            self.stdout.write(note)
        shown = ["sent", "acked", "errors"]
        if o["via"] == "http":  # only the HTTP ingest answers with what it stored
            shown[2:2] = ["accepted", "duplicates", "dead"]
        summary = ", ".join(f"{k} {getattr(counts, k)}" for k in shown)
        if counts.errors:
            self.stderr.write(f"{summary}; last error: {counts.last_error}")
        else:
            self.stdout.write(self.style.SUCCESS(summary))
