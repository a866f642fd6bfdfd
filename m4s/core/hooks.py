"""Named hand-offs between areas, configured in one place (`settings.HOOKS`), called after commit.

An area that finishes something others may care about (a repair order settled, a survey
answered, a car bound) calls `after_commit(name, payload)`; the receivers are the dotted paths
listed under that name in settings. Nothing registers itself at import time, so what runs is
always visible in settings, and an area never imports the tables of another.
"""

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string


def receivers(name: str) -> list:
    return [import_string(path) for path in getattr(settings, "HOOKS", {}).get(name, [])]


def after_commit(name: str, payload) -> None:
    for receiver in receivers(name):
        transaction.on_commit(lambda r=receiver: r(payload))
