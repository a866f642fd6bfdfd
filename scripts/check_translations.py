#!/usr/bin/env python3
"""Fail if any message in the project's .po catalogues is untranslated or fuzzy.

Usage: python scripts/check_translations.py [PO_FILE ...]
Without arguments it checks every m4s/locale/*/LC_MESSAGES/*.po file. It parses the .po format
with plain Python (no dependencies) and exits 1, listing the offending msgids, if any entry has
an empty msgstr (or an empty msgstr[n]) or carries the "fuzzy" flag. The header entry (empty
msgid) is checked for the fuzzy flag only. Obsolete entries (#~) are ignored.
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_GLOB = "m4s/locale/*/LC_MESSAGES/*.po"

_ESCAPES = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    '"': '"',
    "\\": "\\",
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "v": "\v",
}
_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(".*")\s*$')


def _unquote(token: str) -> str:
    token = token.strip()
    if len(token) < 2 or not (token.startswith('"') and token.endswith('"')):
        raise ValueError(f"not a quoted string: {token!r}")
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), token[1:-1])


def parse_po(path: Path) -> list[dict]:
    """Return the entries of a .po file: {'line', 'flags', 'msgctxt', 'msgid', 'msgid_plural', 'msgstr': {key: text}}."""
    entries: list[dict] = []
    entry: dict | None = None
    field: str | None = None

    def start(lineno: int) -> dict:
        e = {
            "line": lineno,
            "flags": set(),
            "msgctxt": None,
            "msgid": None,
            "msgid_plural": None,
            "msgstr": {},
        }
        entries.append(e)
        return e

    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line:
            entry, field = None, None
            continue
        if line.startswith("#~"):  # obsolete entry
            field = None
            continue
        if line.startswith("#"):
            if entry is not None and entry["msgid"] is not None:
                entry, field = None, None  # comments begin a new entry
            if entry is None:
                entry = start(lineno)
            if line.startswith("#,"):
                entry["flags"].update(f.strip() for f in line[2:].split(",") if f.strip())
            continue
        m = _KEYWORD.match(line)
        if m:
            keyword, value = m.group(1), _unquote(m.group(2))
            if entry is None or (keyword in ("msgid", "msgctxt") and entry["msgid"] is not None):
                entry = start(lineno)
            if keyword.startswith("msgstr"):
                entry["msgstr"][keyword] = value
            else:
                entry[keyword] = value
            field = keyword
            continue
        if line.startswith('"') and entry is not None and field is not None:
            if field.startswith("msgstr"):
                entry["msgstr"][field] += _unquote(line)
            else:
                entry[field] += _unquote(line)
            continue
        raise ValueError(f"{path}:{lineno}: cannot parse line: {raw!r}")
    return [e for e in entries if e["msgid"] is not None]


def _display(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def problems(path: Path) -> list[str]:
    found = []
    for e in parse_po(path):
        label = e["msgid"] if e["msgctxt"] is None else f"{e['msgctxt']}|{e['msgid']}"
        where = f"{_display(path)}:{e['line']}"
        if "fuzzy" in e["flags"]:
            found.append(f"{where}: fuzzy: {label!r}" if label else f"{where}: fuzzy header entry")
        if e["msgid"] == "":
            continue  # header: its msgstr is metadata
        if not e["msgstr"]:
            found.append(f"{where}: no msgstr: {label!r}")
        for key, text in sorted(e["msgstr"].items()):
            if not text:
                found.append(f"{where}: empty {key}: {label!r}")
    return found


def main(argv: list[str]) -> int:
    paths = [Path(a).resolve() for a in argv] if argv else sorted(ROOT.glob(DEFAULT_GLOB))
    if not paths:
        print(f"No .po files found ({DEFAULT_GLOB}).", file=sys.stderr)
        return 1
    all_problems = []
    for path in paths:
        entries = parse_po(path)
        found = problems(path)
        all_problems += found
        status = "OK" if not found else f"{len(found)} problem(s)"
        count = sum(1 for e in entries if e["msgid"])
        print(f"{_display(path)}: {count} messages, {status}")
    if all_problems:
        print("\nUntranslated or fuzzy messages:", file=sys.stderr)
        for p in all_problems:
            print(f"  {p}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
