"""`m4s restore FOLDER`: put a backup back (see m4s/ops/backup.py) and check its row counts."""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from m4s.ops import backup

from .backup import passphrase_from


class Command(BaseCommand):
    help = "Restore a backup made by `m4s backup` over the configured database and media."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder")
        parser.add_argument("--yes", action="store_true", help="Do not ask before overwriting.")
        parser.add_argument(
            "--show-keys",
            action="store_true",
            help="Decrypt keys.enc (passphrase from --passphrase-file or M4S_BACKUP_PASSPHRASE) "
            "and write them to FOLDER/restored-keys.env.",
        )
        parser.add_argument("--passphrase-file", default=None)

    def handle(self, *args: Any, **opts: Any) -> None:
        source = Path(opts["folder"])
        try:
            manifest = backup.read_manifest(source)
        except backup.BackupError as e:
            raise CommandError(str(e)) from None
        if not opts["yes"]:
            answer = input(
                f"Replace the database and uploaded files with the backup of "
                f"{manifest['created_at']}? [y/N] "
            )
            if answer.strip().lower() not in ("y", "yes"):
                raise CommandError("Nothing restored.")
        keys = None
        if opts["show_keys"]:  # the passphrase is checked before anything is touched
            sealed = source / "keys.enc"
            if not sealed.exists():
                raise CommandError("this backup holds no keys (made without --with-keys)")
            try:
                keys = backup.open_keys(
                    json.loads(sealed.read_text()), passphrase_from(opts["passphrase_file"]) or ""
                )
            except backup.BackupError as e:
                raise CommandError(str(e)) from None
        try:
            result = backup.restore(source)
        except backup.BackupError as e:
            raise CommandError(str(e)) from None
        if keys is not None:
            env = source / "restored-keys.env"
            env.write_text(
                f"FIELD_ENCRYPTION_KEYS={','.join(keys['FIELD_ENCRYPTION_KEYS'])}\n"
                f"SECRET_KEY={keys['SECRET_KEY']}\n"
                + (
                    f"VAPID_PRIVATE_KEY={keys['VAPID_PRIVATE_KEY']}\n"
                    if keys.get("VAPID_PRIVATE_KEY")
                    else ""
                )
            )
            env.chmod(0o600)
            self.stdout.write(
                f"Keys written to {env} (set them in the environment, then delete it)"
            )
        if result["mismatches"]:
            raise CommandError(f"Row counts differ from the manifest: {result['mismatches']}")
        total = sum(result["manifest"]["row_counts"].values())
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored {len(result['manifest']['row_counts'])} tables, {total} rows (as in the manifest)."
            )
        )
        if result["missing_keys"]:
            self.stdout.write(
                self.style.WARNING(
                    "Encrypted fields were written with keys not configured here (fingerprints "
                    f"{', '.join(result['missing_keys'])}): add them to FIELD_ENCRYPTION_KEYS "
                    "(restore --show-keys with the passphrase, if the backup holds them)."
                )
            )
