"""`m4s import-customers FILE --group SLUG [--dry-run]`: customers and cars from a CSV or XLSX file.

Runs as the system (no staff actor). Exit code 1 when any row has an error; then nothing is
written. See m4s.customers.importing for the columns and the rules.
"""

import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from m4s.core.errors import DomainError
from m4s.customers.importing import ImportReport, read_rows, run_import
from m4s.org.models import DealerGroup

ERRORS_SHOWN = 50


class Command(BaseCommand):
    help = "Import customers and their cars from a .csv or .xlsx file into one dealer group."

    def add_arguments(self, parser):
        parser.add_argument(
            "file", help="A .csv or .xlsx file with a header row (see the export for the columns)."
        )
        parser.add_argument("--group", required=True, help="The dealer group's slug.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check the file and report what would change; write nothing.",
        )

    def handle(self, *args, file, group, dry_run=False, **options):
        dealer_group = DealerGroup.objects.filter(slug=group).first()
        if dealer_group is None:
            raise CommandError(f"No dealer group with the slug {group!r}.")
        try:
            with open(file, "rb") as fh:
                rows = read_rows(fh, file)
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror or exc}") from None
        except DomainError as exc:
            raise CommandError(exc.message) from None

        bar = None

        def progress(done: int) -> None:
            nonlocal bar
            if bar is None:
                bar = tqdm(total=len(rows), unit="rows", desc="Importing", file=sys.stderr)
            bar.update(done - bar.n)

        try:
            report = run_import(None, dealer_group.pk, rows, dry_run=dry_run, progress=progress)
        except DomainError as exc:
            report = getattr(exc, "report", None)
            if report is None:
                raise CommandError(exc.message) from None
        finally:
            if bar is not None:
                bar.close()
        self._print_report(report)
        if report.errors:
            raise CommandError(
                f"{len(report.errors)} error(s) in {file}; nothing was imported.", returncode=1
            )
        if dry_run:
            self.stdout.write("Dry run: nothing was written.")
        else:
            self.stdout.write(self.style.SUCCESS("Import finished."))

    def _print_report(self, report: ImportReport) -> None:
        self.stdout.write(f"Rows: {report.rows_total}")
        self.stdout.write(
            f"Customers: {report.customers_created} created, {report.customers_updated} updated, "
            f"{report.customers_unchanged} unchanged"
        )
        self.stdout.write(
            f"Vehicles:  {report.vehicles_created} created, {report.vehicles_updated} updated, "
            f"{report.vehicles_unchanged} unchanged"
        )
        if not report.errors:
            return
        self.stdout.write(self.style.ERROR(f"Errors: {len(report.errors)}"))
        shown = report.errors[:ERRORS_SHOWN]
        field_width = max(len("field"), *(len(e.field) for e in shown))
        self.stdout.write(f"{'row':>6}  {'field':<{field_width}}  message")
        for error in shown:
            self.stdout.write(f"{error.row:>6}  {error.field:<{field_width}}  {error.message}")
        if len(report.errors) > ERRORS_SHOWN:
            self.stdout.write(f"... and {len(report.errors) - ERRORS_SHOWN} more.")
