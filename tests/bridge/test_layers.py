"""The bridge's import graph, read from the source with ast: no circle, and arrows pointing one way only.

Layers, lowest first (a module may import only from lower layers, and `allim` or third-party packages):
notification, messages → config, where → view, channels/<name>/config → templates → channels (the contract),
channels/<name>/format → channels/<name>/channel, channels/log → channels/registry → load, receivers → the intakes
(alertmanager, legacy) → app and the rest. Every layer works with the Notification type; only the HTTP routes
(app, actions) import an intake, so no channel, view or store depends on a wire format.
Imports inside functions and under `if TYPE_CHECKING:` count like any other.
"""

from __future__ import annotations

import ast
import fnmatch
from pathlib import Path

from tests.support import REPO

PACKAGE = REPO / "bridge"
LAYERS = [
    ["bridge.notification", "bridge.messages"],
    ["bridge.config", "bridge.where"],
    ["bridge.view", "bridge.channels.*.config"],
    ["bridge.templates"],
    ["bridge.channels", "bridge.channels.*.format"],
    ["bridge.channels.*.channel", "bridge.channels.log"],
    ["bridge.channels.registry"],
    ["bridge.load", "bridge.receivers"],
    ["bridge.alertmanager", "bridge.legacy"],
]
INTAKES = {"bridge.alertmanager", "bridge.legacy"}
INTAKE_USERS = {"bridge.app", "bridge.actions"}  # the routes that take a webhook, a legacy push or a send test
UNLAYERED = len(LAYERS)  # app, dispatch, outbox, __main__ ...: above every layer


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports(path: Path, known: set[str]) -> set[str]:
    """The bridge modules `path` imports (`from a import b` is module a.b when that is a module)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {
                f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in known else node.module for a in node.names
            }
    return {name for name in found if name in known}


def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports(path, set(found)) for name, path in found.items()}


def layer(name: str) -> int:
    return next((i for i, patterns in enumerate(LAYERS) if any(fnmatch.fnmatch(name, p) for p in patterns)), UNLAYERED)


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (or a module importing itself): Tarjan."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(edges[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in edges[node]:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_layers_bridge_has_no_import_circle() -> None:
    assert cycles(graph()) == []


def test_layers_every_import_points_down() -> None:
    upward = [
        f"{source} (layer {layer(source)}) imports {target} (layer {layer(target)})"
        for source, targets in graph().items()
        for target in targets
        if layer(target) >= layer(source) and layer(source) != UNLAYERED
    ]
    assert upward == []


def test_layers_config_imports_only_allim_and_the_standard_library() -> None:
    tree = ast.parse((PACKAGE / "config.py").read_text(encoding="utf-8"))
    roots = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    roots |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert roots <= {"__future__", "allim", "dataclasses", "pathlib", "typing", "urllib"}


def test_layers_channels_do_not_import_each_other() -> None:
    def folder(name: str) -> str | None:
        parts = name.split(".")
        return parts[2] if len(parts) > 3 and parts[1] == "channels" else None

    crossing = [(s, t) for s, ts in graph().items() for t in ts if folder(s) and folder(t) and folder(s) != folder(t)]
    assert crossing == []


def test_layers_only_the_routes_import_an_intake() -> None:
    users = {source for source, targets in graph().items() if targets & INTAKES and source not in INTAKES}
    assert users <= INTAKE_USERS, f"{sorted(users - INTAKE_USERS)} import an intake: import bridge.notification"


def test_layers_no_type_checking_imports() -> None:
    assert [name for name, path in modules().items() if "TYPE_CHECKING" in path.read_text(encoding="utf-8")] == []


def test_layers_checker_sees_a_circle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
