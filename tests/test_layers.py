"""Imports point one way: harness -> strategies / reports -> spaces -> nas_core (parsed, not imported)."""
from __future__ import annotations

import ast
from pathlib import Path

import numpy as np

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
               "strategies": {"nas_core", "spaces", "strategies"}}
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
