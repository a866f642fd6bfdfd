"""The `m4s` command: M4S's manage.py (`m4s demo`, `m4s worker`, `m4s migrate`, ...)."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "m4s.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["m4s", *sys.argv[1:]])


if __name__ == "__main__":
    main()
