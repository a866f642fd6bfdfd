"""The `m4s` command: M4S's manage.py (`m4s demo`, `m4s worker`, `m4s migrate`, ...)."""

import os
import sys

# Verbs spelt with dashes on the command line; Django's command modules cannot have dashes.
ALIASES = {
    "import-customers": "import_customers",
    "export-customers": "export_customers",
    "loyalty-check": "loyalty_check",
    "ingest-mqtt": "ingest_mqtt",
    "sync-holidays": "sync_holidays",
    "rotate-keys": "rotate_keys",
    "vapid-keys": "vapid_keys",
    "forecast-eval": "forecast_eval",
}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "m4s.settings")
    from django.core.management import execute_from_command_line

    argv = sys.argv[1:]
    if argv and argv[0] in ALIASES:
        argv[0] = ALIASES[argv[0]]
    execute_from_command_line(["m4s", *argv])


if __name__ == "__main__":
    main()
