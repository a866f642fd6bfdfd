"""`m4s export-customers --group SLUG [--format csv|xlsx] [-o FILE]`: every customer and car of a
dealer group in the import's columns (ID numbers masked). Re-importing the file changes nothing."""

import io
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from m4s.customers.importing import export_rows, write_csv, write_xlsx
from m4s.org.models import DealerGroup


class Command(BaseCommand):
    help = "Export a dealer group's customers and cars as CSV or XLSX (the import's columns)."

    def add_arguments(self, parser):
        parser.add_argument("--group", required=True, help="The dealer group's slug.")
        parser.add_argument(
            "--format",
            choices=["csv", "xlsx"],
            help="Default: from the output file's extension, else csv.",
        )
        parser.add_argument(
            "-o", "--output", help="The file to write (CSV goes to standard output without it)."
        )

    def handle(self, *args, group, output=None, **options):
        dealer_group = DealerGroup.objects.filter(slug=group).first()
        if dealer_group is None:
            raise CommandError(f"No dealer group with the slug {group!r}.")
        kind = options.get("format") or (
            "xlsx" if output and output.lower().endswith(".xlsx") else "csv"
        )
        rows = export_rows(dealer_group.pk)
        if output is None:
            if kind == "xlsx":
                raise CommandError("Give -o FILE for an .xlsx export.")
            buffer = io.StringIO()
            write_csv(rows, buffer)
            self.stdout.write(buffer.getvalue(), ending="")
            return
        try:
            with Path(output).open("wb") as fh:
                count = (write_xlsx if kind == "xlsx" else write_csv)(rows, fh)
        except OSError as exc:
            raise CommandError(f"Cannot write {output}: {exc.strerror or exc}") from None
        self.stderr.write(f"Exported {count} row(s) to {output}.")
