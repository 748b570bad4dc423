"""The package's layers: every import points down, and no modules import each other in a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "tracker"

# Lowest first. A module may import its own layer and the layers below it.
LAYERS = [
    {"config", "schemas", "throttle"},
    {"storage"},
    {"enrich"},
    {"analytics"},
    {"ingest"},
    {"ops"},
    {"lifecycle"},
    {"cluster"},
    {"api"},
    {"middleware"},
    {"app", "cli", "server", "http_guard", "client_slots", "commands", "__main__"},
]


def layer_of(module: str) -> int:
    top = module.split(".")[1]
    return next(rank for rank, names in enumerate(LAYERS) if top in names)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("tracker.")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tracker"):
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                is_module = (PACKAGE.parent / (candidate.replace(".", "/") + ".py")).exists()
                found.add(candidate if is_module else node.module)
    return {name for name in found if name.count(".") >= 1}


def import_graph() -> dict[str, set[str]]:
    return {module_name(path): imports_of(path) for path in PACKAGE.rglob("*.py")}


def test_every_top_level_name_has_a_layer():
    tops = {path.stem if path.parent == PACKAGE else path.parent.name
            for path in PACKAGE.rglob("*.py") if path.name != "__init__.py" or path.parent != PACKAGE}
    assert tops <= set().union(*LAYERS)


def test_imports_point_down():
    upward = sorted(f"{importer} -> {imported}"
                    for importer, imported_set in import_graph().items()
                    for imported in imported_set
                    if layer_of(imported) > layer_of(importer))
    assert upward == []


def test_no_import_cycles():
    graph = import_graph()
    state: dict[str, str] = {}
    cycles = []

    def visit(module: str, trail: list[str]) -> None:
        state[module] = "open"
        for target in sorted(graph.get(module, ())):
            if state.get(target) == "open":
                cycles.append(trail[trail.index(target):] + [target])
            elif target not in state:
                visit(target, trail + [target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []
