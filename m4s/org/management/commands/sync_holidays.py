"""`m4s sync-holidays`: load China's statutory holidays and make-up working days (调休) from the
chinesecalendar library into `StatutoryDay`. Idempotent; run it after upgrading the library
(the State Council publishes the next year's calendar each November)."""

from django.core.management.base import BaseCommand

from m4s.org.services import sync_statutory_days


class Command(BaseCommand):
    help = (
        "Load China's statutory holidays and make-up working days from the chinesecalendar library."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--until-year", type=int, default=None, help="Load no year after this one."
        )

    def handle(self, *args, **options):
        r = sync_statutory_days(until_year=options["until_year"])
        self.stdout.write(
            self.style.SUCCESS(
                f"statutory days: {r.created} created, {r.updated} updated, {r.deleted} deleted, "
                f"{r.unchanged} unchanged, {r.kept_edits} kept as edited in the back office"
            )
        )
