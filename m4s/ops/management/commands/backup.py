"""`m4s backup`: database + uploaded files + manifest (see m4s/ops/backup.py)."""

import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from m4s.ops import backup


def passphrase_from(path: str | None) -> str | None:
    if path:
        return Path(path).read_text().strip()
    return os.environ.get("M4S_BACKUP_PASSPHRASE") or None


class Command(BaseCommand):
    help = "Back up the database, the uploaded files and a manifest (keys only with --with-keys)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("-o", "--output", default=".", help="Folder to write the backup in.")
        parser.add_argument(
            "--with-keys",
            action="store_true",
            help="Also store the encryption keys and SECRET_KEY, encrypted with a passphrase "
            "(--passphrase-file or M4S_BACKUP_PASSPHRASE).",
        )
        parser.add_argument("--passphrase-file", default=None)

    def handle(self, *args: Any, **opts: Any) -> None:
        passphrase = None
        if opts["with_keys"]:
            passphrase = passphrase_from(opts["passphrase_file"])
            if not passphrase or len(passphrase) < 12:
                raise CommandError(
                    "--with-keys needs a passphrase of 12+ characters "
                    "(--passphrase-file or M4S_BACKUP_PASSPHRASE)"
                )
        try:
            target = backup.backup(Path(opts["output"]), passphrase=passphrase)
        except backup.BackupError as e:
            raise CommandError(str(e)) from None
        self.stdout.write(self.style.SUCCESS(f"Backup written to {target}"))
