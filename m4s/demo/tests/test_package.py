"""The demo package: one home for the demo builders, starters and synthetic data, with imports
that only point down (no module of it imports, directly or not, a module that imports it)."""

import ast
import importlib
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _demo_imports(path: Path) -> set[str]:
    """The m4s.demo modules `path` imports, at any depth of the file (lazy imports count)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        found |= {t for t in targets if t == "m4s.demo" or t.startswith("m4s.demo.")}
    return found


def _graph() -> dict[str, set[str]]:
    files = [p for p in PACKAGE.rglob("*.py") if "tests" not in p.relative_to(PACKAGE).parts]
    modules = {_module_name(p): p for p in files}
    return {
        name: {t for t in _demo_imports(path) if t in modules and t != name}
        for name, path in modules.items()
    }


def test_the_demo_package_has_no_import_cycle():
    graph = _graph()
    assert {"m4s.demo.builder", "m4s.demo.service", "m4s.demo.synthetic"} <= set(graph)
    done, path = set(), []

    def visit(node):
        assert node not in path, "import cycle: " + " -> ".join([*path, node])
        if node in done:
            return
        path.append(node)
        for nxt in sorted(graph[node]):
            visit(nxt)
        path.pop()
        done.add(node)

    for node in sorted(graph):
        visit(node)


def test_every_demo_module_imports_on_its_own():
    for name in sorted(_graph()):
        importlib.import_module(name)
