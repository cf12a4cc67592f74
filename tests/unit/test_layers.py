"""The house rules of ``bot/``, ``handlers/`` and ``storage/``, checked on the code itself.

1. ``bot.core`` and ``bot.chat`` are pure: importing any of their modules, each in
   a fresh interpreter, loads no aiohttp, slack_sdk, slack_bolt, aiosqlite or
   tomllib, and none of them reads the environment.
2. Imports point one way, down the layers of ``LAYERS``; a module imports no
   layer above its own, no sibling package of its own layer, and there are no cycles.
"""

from __future__ import annotations

import ast
import asyncio
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PURE_PACKAGES = ("bot.core", "bot.chat")
IMPURE = ("aiohttp", "slack_sdk", "slack_bolt", "aiosqlite", "tomllib")
# Lower first. A module may import its own package, and any package of a lower layer.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("bot.core",),
    ("bot.chat",),
    ("bot.config", "storage", "bot.ops"),
    ("bot.clients",),
    ("bot.services", "bot.oversight"),
    ("handlers", "bot.health"),
    ("bot.web", "bot.socket_mode"),
    ("bot.app",),
    ("bot.sandbox",),
    ("bot.cli",),
    ("bot.__main__",),
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for top in ("bot", "handlers", "storage"):
        for path in sorted((REPO / top).rglob("*.py")):
            found[module_name(path)] = path
    return found


MODULES = project_modules()


def layer_of(module: str) -> tuple[int, str]:
    """(layer index, package) of a project module."""
    if module in ("bot", "handlers", "storage"):  # package roots: nothing but a docstring
        return 0, module
    for index, packages in enumerate(LAYERS):
        for package in packages:
            if module == package or module.startswith(package + "."):
                return index, package
    raise AssertionError(f"{module} belongs to no layer: add it to LAYERS")


def imported_modules(path: Path) -> Iterator[str]:
    """Every project module that ``path`` imports, anywhere in it (lazy imports too)."""
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        else:
            continue
        for name in names:
            if name in MODULES:
                yield name


def test_every_module_has_a_layer() -> None:
    for module in MODULES:
        layer_of(module)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down(module: str) -> None:
    own_layer, own_package = layer_of(module)
    for imported in imported_modules(MODULES[module]):
        layer, package = layer_of(imported)
        assert layer < own_layer or package == own_package, (
            f"{module} (layer {own_layer}, {own_package}) imports {imported} "
            f"(layer {layer}, {package}): imports must point down"
        )


def test_there_are_no_import_cycles() -> None:
    graph = {module: set(imported_modules(path)) - {module} for module, path in MODULES.items()}
    state: dict[str, str] = {}

    def visit(module: str, trail: list[str]) -> None:
        state[module] = "open"
        for imported in sorted(graph[module]):
            if state.get(imported) == "open":
                cycle = [*trail[trail.index(imported) :], imported]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if imported not in state:
                visit(imported, [*trail, imported])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])


PURE_MODULES = sorted(m for m in MODULES if m.startswith(PURE_PACKAGES))

_PROBE = f"""
import importlib, json, sys
importlib.import_module(sys.argv[1])
print(json.dumps(sorted(m for m in {IMPURE!r} if m in sys.modules)))
"""


async def _impure_modules_loaded_by(module: str) -> list[str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _PROBE,
        module,
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    loaded: list[str] = json.loads(out)
    return loaded


async def test_the_pure_core_loads_no_io_library_in_a_fresh_interpreter() -> None:
    assert len(PURE_MODULES) > 10, PURE_MODULES
    results = await asyncio.gather(*(_impure_modules_loaded_by(m) for m in PURE_MODULES))
    loaded_by = zip(PURE_MODULES, results, strict=True)
    impure = {module: loaded for module, loaded in loaded_by if loaded}
    assert impure == {}, f"pure modules that load I/O libraries: {impure}"


@pytest.mark.parametrize("module", PURE_MODULES)
def test_the_pure_core_reads_no_environment(module: str) -> None:
    tree = ast.parse(MODULES[module].read_text())
    readers = [
        node.lineno
        for node in ast.walk(tree)
        if (isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb"))
        or (isinstance(node, ast.Name) and node.id in ("environ", "getenv"))
    ]
    assert readers == [], f"{module} reads the environment at line(s) {readers}"
