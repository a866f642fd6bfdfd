"""Where every area's personal data is declared: the modules `settings.PERSONAL_DATA` lists.

Each area that holds anything about an owner has a module `m4s/<area>/privacy.py` with:

* `PERSONAL_FIELDS = {"app.Model": {"field", ...}}`: the fields that hold an owner's personal
  data; erasure empties or deletes every one of them for the owner;
* `NOT_PERSONAL = {"app.Model": {"field": "why not"}}`: fields whose names look personal
  (name, phone, address, plate, position …) but hold no owner's data (a catalogue name, a
  store's address, a terminal's SIM number). `m4s/privacy/tests/test_registry.py` fails on a
  model field that looks personal and is declared neither way, so a new model cannot slip by;
* `export_owner(owner) -> {"rows": {kind: [JSON-able dict, ...]}, "files": [storage name, ...]}`;
* `erase_owner(owner) -> {what: count}`: erase or anonymise, keeping only what law or
  accounting requires; it runs in the erasure's transaction, in the order of the list;
* optionally `enforce_retention(days, now) -> {what: count}`: set-based deletes of what is
  older than `settings.RETENTION_DAYS[kind]`.

The privacy app reads the modules by name (import_string), never the areas themselves, so it
sits above them all and a new area only adds its module to the list.
"""

from functools import cache
from types import ModuleType

from django.conf import settings
from django.utils.module_loading import import_module


@cache
def _load(paths: tuple[str, ...]) -> tuple[ModuleType, ...]:
    return tuple(import_module(path) for path in paths)


def modules() -> tuple[ModuleType, ...]:
    return _load(tuple(settings.PERSONAL_DATA))


def area_of(module: ModuleType) -> str:
    """ "m4s.service.privacy" -> "service"."""
    parts = module.__name__.split(".")
    return parts[-2] if len(parts) >= 2 else module.__name__


def personal_fields() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for module in modules():
        for label, fields in getattr(module, "PERSONAL_FIELDS", {}).items():
            out.setdefault(label.lower(), set()).update(fields)
    return out


def not_personal_fields() -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for module in modules():
        for label, fields in getattr(module, "NOT_PERSONAL", {}).items():
            out.setdefault(label.lower(), {}).update(fields)
    return out
