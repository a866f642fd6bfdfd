"""`m4s vapid-keys`: the web-push (VAPID) key pair.

Without options: prints the public key in use (what the owner app subscribes with). With --new:
prints a new pair as environment lines (VAPID_PRIVATE_KEY=...) to keep with the other keys; a
new key makes every browser subscribe again, which the owner app does on its next visit."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from m4s.notify import webpush


class Command(BaseCommand):
    help = "Show the web-push (VAPID) public key, or make a new key pair with --new."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--new", action="store_true", help="Print a new key pair.")

    def handle(self, *args: Any, new: bool = False, **options: Any) -> None:
        if new:
            private, public = webpush.generate_key_pair()
            self.stdout.write(f"VAPID_PRIVATE_KEY={private}\n")
            self.stdout.write(f"# public key (the browser's applicationServerKey): {public}\n")
            return
        self.stdout.write(webpush.application_server_key() + "\n")
