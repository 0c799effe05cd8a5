"""The DARTS CNN cell space: ops, the genotype value, its DARTS-repository text form, sampling,
mutation and the standard derivation (ALGORITHMS.md, "DARTS space and NAS-Bench-301").

A cell has two inputs (nodes 0 and 1, the outputs of the previous two cells), four intermediate
nodes 2..5 and an output that concatenates nodes 2..5. Every intermediate node takes exactly
two edges from *distinct* earlier nodes, each carrying one op; ``none`` exists only in the search
supernet, never in a genotype. A genotype has a normal and a reduction cell.

The text form is the DARTS repository's ``Genotype(normal=[('sep_conv_3x3', 0), ...],
normal_concat=[2, 3, 4, 5], reduce=[...], reduce_concat=[2, 3, 4, 5])``: it is parsed with
``ast.literal_eval`` on the literal parts (never ``eval``), and ``range(2, 6)`` -- what the
repository's search model prints -- is accepted for the concat lists.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Iterable

import numpy as np

#: the supernet's candidate ops, ``none`` first (ALGORITHMS.md)
OPS: tuple[str, ...] = ("none", "max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3", "sep_conv_5x5",
                        "dil_conv_3x3", "dil_conv_5x5")
#: ops a genotype (and NAS-Bench-301) may use
GENOTYPE_OPS: tuple[str, ...] = OPS[1:]
N_NODES = 4
#: edges of the supernet cell: (target node, source node) for targets 2..5, sources 0..target-1 (14)
EDGES: tuple[tuple[int, int], ...] = tuple((node, src) for node in range(2, 2 + N_NODES) for src in range(node))
CONCAT = (2, 3, 4, 5)
Cell = tuple[tuple[str, int], ...]  # 8 (op, input) pairs, two per intermediate node in node order


def check_cell(cell: Iterable, kind: str) -> Cell:
    """A normalised cell, or a ``ValueError`` saying what is wrong with it."""
    try:
        pairs = tuple((str(op), int(src)) for op, src in cell)
    except (TypeError, ValueError):
        raise ValueError(f"{kind} cell must be a list of (op, input) pairs, got {cell!r}") from None
    if len(pairs) != 2 * N_NODES:
        raise ValueError(f"{kind} cell needs {2 * N_NODES} (op, input) pairs (2 per node), got {len(pairs)}")
    for k in range(N_NODES):
        node = 2 + k
        (op_a, a), (op_b, b) = pairs[2 * k], pairs[2 * k + 1]
        for op in (op_a, op_b):
            if op not in GENOTYPE_OPS:
                raise ValueError(f"{kind} cell, node {node}: unknown op {op!r}; valid: {list(GENOTYPE_OPS)}")
        for src in (a, b):
            if not 0 <= src < node:
                raise ValueError(f"{kind} cell, node {node}: input {src} is not an earlier node (0..{node - 1})")
        if a == b:
            raise ValueError(f"{kind} cell, node {node}: its two inputs must be distinct, got {a} twice")
    return pairs


@dataclass(frozen=True)
class Genotype:
    """A DARTS-space architecture: the normal and the reduction cell."""

    normal: Cell
    reduce: Cell

    def __post_init__(self) -> None:
        object.__setattr__(self, "normal", check_cell(self.normal, "normal"))
        object.__setattr__(self, "reduce", check_cell(self.reduce, "reduce"))

    # ---- text -------------------------------------------------------------------------------------
    def to_str(self) -> str:
        """The DARTS repository's text form (concat lists written out)."""
        def cell(pairs: Cell) -> str:
            return "[" + ", ".join(f"({op!r}, {src})" for op, src in pairs) + "]"

        concat = "[2, 3, 4, 5]"
        return f"Genotype(normal={cell(self.normal)}, normal_concat={concat}, reduce={cell(self.reduce)}, reduce_concat={concat})"

    @classmethod
    def from_str(cls, text: str) -> Genotype:
        """Parse the DARTS repository's text form (or this class's own)."""
        match = re.fullmatch(r"\s*Genotype\((.*)\)\s*", text, flags=re.S)
        if not match:
            raise ValueError(f"not a DARTS genotype text: {text[:80]!r}")
        fields: dict[str, object] = {}
        for name, value in re.findall(r"(\w+)\s*=\s*(\[.*?\]|range\([^)]*\))\s*(?:,|$)", match.group(1), flags=re.S):
            if value.startswith("range("):
                fields[name] = list(range(*(int(v) for v in value[6:-1].split(","))))
            else:
                try:
                    fields[name] = ast.literal_eval(value)
                except (ValueError, SyntaxError):
                    raise ValueError(f"genotype field {name} is not a literal list: {value[:60]!r}") from None
        missing = {"normal", "reduce"} - set(fields)
        if missing:
            raise ValueError(f"genotype text lacks {sorted(missing)}")
        for name in ("normal_concat", "reduce_concat"):
            if name in fields and list(fields[name]) != list(CONCAT):  # type: ignore[arg-type]
                raise ValueError(f"{name} must be [2, 3, 4, 5] (the DARTS cell output), got {fields[name]!r}")
        return cls(tuple(fields["normal"]), tuple(fields["reduce"]))  # type: ignore[arg-type]

    def __str__(self) -> str:
        return self.to_str()

    # ---- structure ----------------------------------------------------------------------------
    def node_inputs(self, kind: str) -> list[tuple[int, int]]:
        """The two (sorted) inputs of each intermediate node of the ``kind`` cell."""
        pairs = self.normal if kind == "normal" else self.reduce
        return [tuple(sorted((pairs[2 * k][1], pairs[2 * k + 1][1]))) for k in range(N_NODES)]  # type: ignore[misc]

    def count(self, op: str) -> int:
        return sum(o == op for o, _ in self.normal + self.reduce)


def _sample_cell(rng: np.random.Generator) -> Cell:
    pairs = []
    for k in range(N_NODES):
        a, b = rng.choice(2 + k, size=2, replace=False)
        pairs += [(GENOTYPE_OPS[int(rng.integers(len(GENOTYPE_OPS)))], int(a)),
                  (GENOTYPE_OPS[int(rng.integers(len(GENOTYPE_OPS)))], int(b))]
    return tuple(pairs)


def sample(rng: np.random.Generator) -> Genotype:
    """A uniformly drawn valid genotype (ops and input pairs uniform per node)."""
    return Genotype(_sample_cell(rng), _sample_cell(rng))


def mutate(genotype: Genotype, rng: np.random.Generator) -> Genotype:
    """One change in one cell: an edge's op (to a different op) or an edge's input (to a different
    earlier node that the node does not already use); always a different valid genotype."""
    cells = {"normal": list(genotype.normal), "reduce": list(genotype.reduce)}
    kind = "normal" if rng.random() < 0.5 else "reduce"
    cell = cells[kind]
    slot = int(rng.integers(len(cell)))
    op, src = cell[slot]
    node = 2 + slot // 2
    other = cell[slot ^ 1][1]
    free_inputs = [i for i in range(node) if i not in (src, other)]
    if free_inputs and rng.random() < 0.5:
        cell[slot] = (op, int(free_inputs[int(rng.integers(len(free_inputs)))]))
    else:
        choices = [o for o in GENOTYPE_OPS if o != op]
        cell[slot] = (choices[int(rng.integers(len(choices)))], src)
    return Genotype(tuple(cells["normal"]), tuple(cells["reduce"]))


def neighbours(genotype: Genotype) -> list[Genotype]:
    """Every genotype one :func:`mutate` step away: one edge's op changed, or one edge's input
    moved to an earlier node its node does not use yet (in a fixed order, no duplicates)."""
    found: dict[Genotype, None] = {}
    for kind in ("normal", "reduce"):
        cell = genotype.normal if kind == "normal" else genotype.reduce
        for slot, (op, src) in enumerate(cell):
            node, other = 2 + slot // 2, cell[slot ^ 1][1]
            changed = [(o, src) for o in GENOTYPE_OPS if o != op]
            changed += [(op, i) for i in range(node) if i not in (src, other)]
            for pair in changed:
                new = list(cell)
                new[slot] = pair
                cells = {"normal": genotype.normal, "reduce": genotype.reduce, kind: tuple(new)}
                found.setdefault(Genotype(cells["normal"], cells["reduce"]), None)
    return list(found)


def canonical(genotype: Genotype) -> Genotype:
    """The two (op, input) pairs of each node in input order: the order within a node is no
    part of the architecture (it computes the same sum, and NAS-Bench-301 encodes it the same)."""
    def cell(pairs: Cell) -> Cell:
        return tuple(p for k in range(N_NODES) for p in sorted(pairs[2 * k: 2 * k + 2], key=lambda p: (p[1], p[0])))

    return Genotype(cell(genotype.normal), cell(genotype.reduce))


def derive_cell(weights: np.ndarray) -> Cell:
    """The standard DARTS derivation from edge weights [14, 8] (``none`` first): per node, the 2
    incoming edges with the largest weight of a non-``none`` op, each with that op (ties: lower index)."""
    weights = np.asarray(weights, dtype=float)
    if weights.shape != (len(EDGES), len(OPS)):
        raise ValueError(f"DARTS edge weights must have shape {(len(EDGES), len(OPS))}, got {weights.shape}")
    pairs: list[tuple[str, int]] = []
    start = 0
    for k in range(N_NODES):
        node = 2 + k
        rows = weights[start : start + node, 1:]
        strength = rows.max(axis=1)
        best_two = sorted(sorted(range(node), key=lambda i: (-strength[i], i))[:2])
        pairs += [(GENOTYPE_OPS[int(np.argmax(rows[i]))], i) for i in best_two]
        start += node
    return tuple(pairs)


def derive(normal_weights: np.ndarray, reduce_weights: np.ndarray) -> Genotype:
    return Genotype(derive_cell(normal_weights), derive_cell(reduce_weights))


#: DARTS (2nd order)'s published genotype (Liu et al., 2019; the repository's ``DARTS_V2``)
DARTS_V2 = Genotype(
    normal=(("sep_conv_3x3", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("sep_conv_3x3", 1),
            ("sep_conv_3x3", 1), ("skip_connect", 0), ("skip_connect", 0), ("dil_conv_3x3", 2)),
    reduce=(("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2), ("max_pool_3x3", 1),
            ("max_pool_3x3", 0), ("skip_connect", 2), ("skip_connect", 2), ("max_pool_3x3", 1)),
)


def uniform(op: str) -> Genotype:
    """Every edge the same op, inputs (0, 1), (0, 1), (0, 1), (0, 1): e.g. the all-skip genotype."""
    cell = tuple((op, src) for _ in range(N_NODES) for src in (0, 1))
    return Genotype(cell, cell)
