"""Layers point one way (shared/STYLE.md): what a module of image_gateway/ may import.

From the bottom: the types (errors, ids, settings, wire schemas, image formats); the seams
(upstream HTTP, input-image fetch, the SQL database, image blobs, observability); providers;
resilience, access and billing; generation; jobs; the API; the entry points (app factory, CLI,
uvicorn protocol). A module may import its own layer and those below, including inside
functions and under `TYPE_CHECKING`; folders of one layer may import each other, but never in a
cycle. Every module must belong to a layer: a new top-level module or folder is placed here.

`KNOWN` lists the imports that break these rules today, each with the change that removes it.
The test fails on a new violation and on a listed one that is gone, so the list only shrinks.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "image_gateway"

# Units: a folder of image_gateway/, or a module at its top. Lower numbers are lower layers.
LAYERS: dict[str, int] = {
    "image_gateway": 0,  # __init__: the version
    "errors": 0,
    "ids": 0,
    "settings": 0,
    "provider declarations": 0,  # see DECLARATIONS
    "schemas": 0,
    "validation": 0,
    "image_format": 0,
    "upstream": 1,
    "fetch": 1,
    "db": 1,
    "blobs": 1,
    "observability": 1,
    "providers": 2,
    "resilience": 3,
    "access": 3,
    "billing": 3,
    "generation": 4,
    "jobs": 5,
    "api": 6,
    "app": 7,
    "cli": 7,
    "server": 7,
    "served_by": 6,  # the lifespan-state keys and check that app and server share
    "__main__": 7,
}

# What the providers declare about themselves is configuration, beside `settings` (which merges
# it): the registry, each provider's definition (its folder's `__init__`) and `config.py`, and
# the kit's `definition` and `config`. They import nothing above layer 0, adapters included
# (a definition names its adapter by import path).
DECLARATIONS = ("registry", "kit.definition", "kit.config", "kit")


def _declaration(module: str) -> bool:
    parts = module.split(".")
    if parts[:2] != ["image_gateway", "providers"]:
        return False
    rest = parts[2:]
    return (
        not rest  # the package
        or (len(rest) == 1 and (PACKAGE / "providers" / rest[0]).is_dir())  # its definition
        or ".".join(rest) in DECLARATIONS
        or (len(rest) == 2 and rest[1] == "config")
    )


# (importer, imported) module pairs that break the rules today, and why they still do.
KNOWN: dict[tuple[str, str], str] = {
    # Settings check trusted origins and DATABASE_URL with the code of those layers; the origin
    # and URL parsers are pure and can sit beside settings.
    ("image_gateway.providers.kit.config", "image_gateway.upstream.origins"): "settings",
    ("image_gateway.settings", "image_gateway.db.database_url"): "settings",
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _unit(module: str) -> str:
    if _declaration(module):
        return "provider declarations"
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _imports() -> dict[str, set[str]]:
    """Every module of the package and the package modules it imports (anywhere in it)."""
    graph: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue  # Alembic's scripts, run by Alembic, not imported by the gateway
        module = _module_name(path)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                found.add(target)
                # `from pkg import module` imports the module too.
                found.update(f"{target}.{a.name}" for a in node.names)
        graph[module] = {m for m in found if m.split(".")[0] == "image_gateway"}
    modules = set(graph)
    for module, targets in graph.items():
        graph[module] = {t for t in targets if t in modules and t != module}
    return graph


def test_every_module_has_a_layer() -> None:
    unplaced = sorted({_unit(m) for m in _imports()} - set(LAYERS))
    assert not unplaced, f"place these in LAYERS (tests/test_layers.py): {unplaced}"


def _violations() -> dict[tuple[str, str], str]:
    graph = _imports()
    found: dict[tuple[str, str], str] = {}
    units: dict[str, set[str]] = defaultdict(set)
    for module, targets in graph.items():
        for target in targets:
            a, b = _unit(module), _unit(target)
            if a == b:
                continue
            if LAYERS.get(b, -1) > LAYERS.get(a, -1):
                found[(module, target)] = (
                    f"{a} (layer {LAYERS.get(a)}) imports {b} (layer {LAYERS.get(b)})"
                )
            elif (module, target) not in KNOWN:
                units[a].add(b)
    # Cycles between units, over the imports that point down or sideways.
    for cycle in _cycles(units):
        for module, targets in graph.items():
            for target in targets:
                a, b = _unit(module), _unit(target)
                if a in cycle and b in cycle and a != b:
                    found[(module, target)] = f"cycle between {sorted(cycle)}"
    return found


def _cycles(edges: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components of more than one unit (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(component)

    for v in list(edges):
        if v not in index:
            visit(v)
    return out


def test_layers_point_one_way() -> None:
    found = _violations()
    new = {edge: why for edge, why in found.items() if edge not in KNOWN}
    assert not new, "imports against the layers:\n" + "\n".join(
        f"  {a} -> {b}: {why}" for (a, b), why in sorted(new.items())
    )


def test_known_violations_still_exist() -> None:
    """A fixed violation leaves KNOWN, so the list tells the truth."""
    graph = _imports()
    gone = [edge for edge in KNOWN if edge[1] not in graph.get(edge[0], set())]
    assert not gone, f"no longer imported; remove from KNOWN: {gone}"
