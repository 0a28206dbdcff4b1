"""The exporter's import arrows point one way: app -> {config, scheduler, snapshot, webhooks} -> sources ->
base/upstream -> allim. Read from the source with `ast`, type-only imports included: a cycle closed through
`if TYPE_CHECKING:` is still an ownership mistake."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support import REPO

PACKAGES = ("allim", "exporter")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    """Each module of PACKAGES and every module (ours or not) it imports anywhere in its body."""
    graph: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            name = module_name(path)
            found: set[str] = set()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    found.update(alias.name for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    found.add(node.module)
                    found.update(f"{node.module}.{alias.name}" for alias in node.names)
            graph[name] = found
    return {name: {m for m in found if m in graph or not m.startswith(PACKAGES)} for name, found in graph.items()}


def ours(graph: dict[str, set[str]], name: str) -> set[str]:
    return {m for m in graph[name] if m in graph and m != name and not name.startswith(m + ".")}


def test_layering_has_no_import_cycle() -> None:
    graph = imports()
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = "open"
        for target in sorted(ours(graph, name)):
            if state.get(target) == "open":
                cycle = [*trail[trail.index(target) :], target] if target in trail else [name, target]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target, [*trail, target])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])


def test_layering_sources_never_import_the_app_or_starlette() -> None:
    graph = imports()
    for name, found in graph.items():
        if name.startswith("exporter.sources"):
            bad = {m for m in found if m.startswith(("starlette", "exporter.app", "exporter.webhooks", "uvicorn"))}
            assert not bad, f"{name} imports {sorted(bad)}"


def test_layering_allim_imports_nothing_of_the_services() -> None:
    graph = imports()
    for name, found in graph.items():
        if name.startswith("allim"):
            assert not {m for m in found if m.startswith(("exporter", "bridge"))}, name
