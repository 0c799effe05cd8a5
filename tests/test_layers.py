"""Imports point one way: harness -> strategies / reports -> spaces -> nas_core (parsed, not imported)."""
from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from nas_core.streams import Streams, purpose_word

ROOT = Path(__file__).resolve().parent.parent
PROJECT = {"nas_core", "harness", "strategies", "spaces", "reports"}


def imported_packages(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & PROJECT


def test_no_import_runs_back_up_the_layers():
    allowed = {"nas_core": {"nas_core"}, "spaces": {"nas_core", "spaces"},
               "strategies": {"nas_core", "spaces", "strategies"}, "reports": {"nas_core", "spaces", "strategies", "reports"}}
    offences = []
    for package, ok in allowed.items():
        for path in sorted((ROOT / package).rglob("*.py")):
            bad = imported_packages(path) - ok
            if bad:
                offences.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert not offences, offences


def test_streams_are_per_purpose_and_per_epoch():
    streams = Streams(42)
    seeds = {(p, e): streams.seed(p, e) for p in ("split", "batches", "arch_noise") for e in (None, 0, 1)}
    assert len(set(seeds.values())) == len(seeds)
    assert Streams(42).seed("batches", 3) == streams.seed("batches", 3)  # nothing depends on call order
    assert Streams(43).seed("batches", 3) != streams.seed("batches", 3)
    assert purpose_word("batches") == purpose_word("batches") != purpose_word("arch_noise")
    a = streams.numpy("split").random(3)
    assert np.array_equal(a, Streams(42).numpy("split").random(3))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Every project module ``path`` imports, at any depth (lazy and TYPE_CHECKING imports included:
    a cycle through them is still a cycle of the design)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in found if name.split(".")[0] in PROJECT}


def project_modules() -> dict[str, Path]:
    return {module_name(path): path for package in PROJECT for path in sorted((ROOT / package).rglob("*.py"))}


def test_the_import_graph_has_no_cycle():
    """Module-level graph over every project import (``from a import b`` counts ``a.b`` when it
    is a module, else ``a``); a package's ``__init__`` is its own node."""
    modules = project_modules()
    graph = {name: {m for m in imported_modules(path) if m in modules and m != name} for name, path in modules.items()}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)
    assert not cycles, cycles


#: modules outside spaces/<x>/ allowed to name a space, and why
NAMES_A_SPACE = {
    "harness/config.py": "DEFAULT_SPACE, the space of a config that names none",
}


def _names_a_space(path: Path) -> bool:
    return path.relative_to(ROOT).as_posix() in NAMES_A_SPACE


@pytest.mark.parametrize("package", ["strategies", "reports", "harness"])
def test_no_module_outside_spaces_imports_a_concrete_space_or_names_one(package):
    """A strategy or a report reaches a space through ``spaces.base`` (and its capabilities) or the
    registry, never a space package, and no string in its code is a space's name: per-space code
    is a capability the space provides, and which space a paper table is about is data
    (``reports/paper_tables.toml``)."""
    from spaces import BUILTIN_SPACES

    concrete = {spec.split(":")[0].rsplit(".", 1)[0] for spec in BUILTIN_SPACES.values()} | {"spaces.nb101"}
    names = set(BUILTIN_SPACES)
    offences = []
    for path in sorted((ROOT / package).rglob("*.py")):
        if _names_a_space(path):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for module in imported_modules(path):
            if any(module == pkg or module.startswith(pkg + ".") for pkg in concrete):
                offences.append(f"{path.relative_to(ROOT)} imports {module}")
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in names:
                offences.append(f"{path.relative_to(ROOT)}:{node.lineno} names the space {node.value!r}")
    assert not offences, offences


def test_library_code_has_no_implicit_default_space():
    """No function of strategies/ or spaces/base.py falls back to a particular space."""
    offences = []
    for path in [*sorted((ROOT / "strategies").rglob("*.py")), ROOT / "spaces" / "base.py", ROOT / "spaces" / "capabilities.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "get_space":
                offences.append(f"{path.relative_to(ROOT)}:{node.lineno} calls get_space")
    assert not offences, offences
