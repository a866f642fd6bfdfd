"""The boundaries between business areas, checked on the source (ast), not by review.

An app (a top-level package of m4s/ other than core and web) never uses another app's private
names (`from m4s.x.y import _name`, `m4s.x.y._name`, `y._name` after `from m4s.x import y`), and
never imports another app's `api.py` (transport: share services and selectors instead). The rule
applies to every module under m4s/, tests and migrations included, and to core and web too as
importers: a name another package needs is made public by the app that owns it. The root modules
(m4s/api.py, m4s/urls.py) compose every app's routers and pages and may import their api.py."""

import ast
from pathlib import Path

import m4s

ROOT = Path(m4s.__file__).parent
SHELLS = {"core", "web"}
APPS = sorted(
    p.name
    for p in ROOT.iterdir()
    if p.is_dir() and (p / "__init__.py").exists() and p.name not in SHELLS
)


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _package_of(path: Path) -> str:
    parts = path.relative_to(ROOT).parts
    return parts[0] if len(parts) > 1 else ""


def _is_module(dotted: str) -> bool:
    rel = Path(*dotted.split(".")[1:])
    return (ROOT / rel).with_suffix(".py").exists() or (ROOT / rel / "__init__.py").exists()


def _app_of(dotted: str) -> str | None:
    parts = dotted.split(".")
    if len(parts) >= 2 and parts[0] == "m4s" and parts[1] in APPS:
        return parts[1]
    return None


def _dotted(node) -> str | None:
    names = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        names.append(node.id)
        return ".".join(reversed(names))
    return None


def _resolve(module: str | None, level: int, path: Path) -> str | None:
    """The absolute dotted name of a `from ... import` source."""
    if level == 0:
        return module
    package = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if path.name != "__init__.py":
        package = package[:-1]
    base = package[: len(package) - (level - 1)] if level > 1 else package
    return ".".join([*base, *([module] if module else [])])


def _violations(path: Path, source: str | None = None) -> list[str]:
    own = _package_of(path)
    if source is None:
        source = path.read_text(encoding="utf-8")
    tree = ast.parse(source, filename=str(path))
    found = []
    aliases: dict[str, str] = {}  # local name -> module of another app

    def foreign(dotted: str | None) -> str | None:
        app = _app_of(dotted or "")
        return app if app and app != own else None

    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            source = _resolve(node.module, node.level, path)
            if not foreign(source):
                continue
            if own and source.split(".")[-1] == "api" and len(source.split(".")) == 3:
                found.append(f"{node.lineno}: imports {source} (another app's transport)")
            for alias in node.names:
                target = f"{source}.{alias.name}"
                if _private(alias.name):
                    found.append(f"{node.lineno}: imports private {target}")
                elif _is_module(target):
                    if own and alias.name == "api" and len(source.split(".")) == 2:
                        found.append(f"{node.lineno}: imports {target} (another app's transport)")
                    aliases[alias.asname or alias.name] = target
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if not foreign(alias.name):
                    continue
                parts = alias.name.split(".")
                if own and len(parts) == 3 and parts[2] == "api":
                    found.append(f"{node.lineno}: imports {alias.name} (another app's transport)")
                if any(_private(p) for p in parts):
                    found.append(f"{node.lineno}: imports private {alias.name}")
                if alias.asname:
                    aliases[alias.asname] = alias.name
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            owner = _dotted(node.value)
            if owner is None:
                continue
            head, _sep, rest = owner.partition(".")
            module = aliases.get(head, owner if owner.startswith("m4s.") else None)
            if module is None:
                continue
            full = f"{module}.{rest}" if rest and head in aliases else module
            if foreign(full) and _is_module(full):
                found.append(f"{node.lineno}: uses private {full}.{node.attr}")
    return [f"{path.relative_to(ROOT.parent)}:{line}" for line in found]


def test_the_guard_sees_what_it_should():
    """The checker itself: each forbidden form is caught, the allowed ones are not (checked on a
    source text as if it were a module of the service app; nothing is written to disk)."""
    found = "\n".join(
        _violations(
            ROOT / "service" / "probe.py",
            "from m4s.customers.services import _bind, bind_at_desk\n"
            "from m4s.customers import services as cs\n"
            "import m4s.customers.selectors\n"
            "from m4s.customers.api import staff_router\n"
            "from m4s.customers import api\n"
            "from m4s.web.owner_views import _context\n"
            "from . import _own\n"
            "cs._hidden()\n"
            "m4s.customers.selectors._scope()\n"
            "cs.public()\n",
        )
    )
    assert "private m4s.customers.services._bind" in found
    assert "private m4s.customers.services._hidden" in found
    assert "private m4s.customers.selectors._scope" in found
    assert found.count("transport") == 2
    assert "web" not in found and "_own" not in found and "public" not in found
    assert "bind_at_desk" not in found


def test_apps_use_only_each_others_public_names_and_never_each_others_api():
    assert {"customers", "service", "loyalty", "org", "staff"} <= set(APPS)
    violations = []
    for path in sorted(ROOT.rglob("*.py")):
        violations += _violations(path)
    assert not violations, "\n".join(violations)
