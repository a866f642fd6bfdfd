"""`m4s rotate-keys`: re-encrypt every encrypted column with the newest field key.

Walks each column of settings.ENCRYPTED_FIELDS in primary-key order, --batch rows at a time:
reads the batch's (id, value) pairs, re-encrypts those not already under the newest key, and
writes them back with one bulk UPDATE per batch inside a transaction (a row changed since it
was read is left for the next run: the UPDATE matches on the old value). Safe to stop and
rerun; a value no configured key can read stops the run with the key fingerprints."""

from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import Case, Q, Value, When
from tqdm import tqdm

from m4s.core import crypto


def rotate_column(label: str, batch: int = 1000, progress: bool = False) -> tuple[int, int]:
    """(rows looked at, rows re-encrypted) for one "app.Model.field" column."""
    app_label, model_name, field = label.split(".")
    model = apps.get_model(app_label, model_name)
    manager = model._base_manager  # every group's rows: this is maintenance, not a tenant read
    base = manager.exclude(**{field: ""}).exclude(**{f"{field}__isnull": True})
    seen = changed = 0
    last = 0
    bar = tqdm(total=base.count(), desc=label, unit="row", disable=not progress)
    while True:
        rows = list(base.filter(pk__gt=last).order_by("pk").values_list("pk", field)[:batch])
        if not rows:
            break
        last = rows[-1][0]
        seen += len(rows)
        stale = [(pk, old, crypto.rotate(old)) for pk, old in rows if not crypto.is_current(old)]
        if stale:
            with transaction.atomic():
                changed += manager.filter(
                    Q(*[Q(pk=pk, **{field: old}) for pk, old, _ in stale], _connector=Q.OR)
                ).update(**{field: Case(*[When(pk=pk, then=Value(new)) for pk, _, new in stale])})
        bar.update(len(rows))
    bar.close()
    return seen, changed


class Command(BaseCommand):
    help = "Re-encrypt every encrypted field with the newest key of FIELD_ENCRYPTION_KEYS."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, default=1000, help="Rows per UPDATE.")

    def handle(self, *args: Any, batch: int = 1000, verbosity: int = 1, **options: Any) -> None:
        newest = crypto.fingerprint(crypto.all_keys()[0])
        total = 0
        for label in settings.ENCRYPTED_FIELDS:
            try:
                seen, changed = rotate_column(label, batch=batch, progress=verbosity > 0)
            except crypto.WrongKeyError as e:
                raise CommandError(str(e)) from None
            total += changed
            self.stdout.write(f"{label}: {seen} values, {changed} re-encrypted with key {newest}")
        self.stdout.write(self.style.SUCCESS(f"Done: {total} values re-encrypted."))
