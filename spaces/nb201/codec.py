"""The pure NAS-Bench-201 cell space: ops, edges, the ``Arch`` value and its string codec.

Nothing here reads data or imports torch, so it is cheap to import from configs, the CLI
and worker processes. The official arch *index* is data (it is not the lexicographic
order), so it lives in :mod:`spaces.nb201.table`; here cells are numbered by their
*lexicographic* index ``sum(op_e * 5**(5-e))`` for enumeration only.
"""
from __future__ import annotations

import operator

from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

#: Candidate operations in the official order (ALGORITHMS.md, "NAS-Bench-201 space").
OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
#: Edges as (target, source) in the official order, which is also the order of the string.
EDGES: tuple[tuple[int, int], ...] = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
N_OPS = len(OPS)
N_EDGES = len(EDGES)
N_CELLS = N_OPS**N_EDGES  # 15,625
_OP_INDEX = {name: i for i, name in enumerate(OPS)}
_PLACE = tuple(N_OPS ** (N_EDGES - 1 - e) for e in range(N_EDGES))


@dataclass(frozen=True, slots=True)
class Arch:
    """One NAS-Bench-201 cell: the op index on each of the 6 edges, in :data:`EDGES` order.

    Frozen and hashable so it can key dicts and caches and be stored in run records.
    """

    ops: tuple[int, ...]
    lex_index: int = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        try:  # operator.index: ints and numpy integers pass; 0.5 or "3" is an error, not a silent op 0
            ops = tuple(operator.index(o) for o in self.ops)
        except TypeError:
            raise ValueError(f"an NB201 cell needs {N_EDGES} integer op indices in 0..{N_OPS - 1}, got {self.ops!r}") from None
        if len(ops) != N_EDGES or any(not 0 <= o < N_OPS for o in ops):
            raise ValueError(f"an NB201 cell needs {N_EDGES} op indices in 0..{N_OPS - 1}, got {self.ops!r}")
        object.__setattr__(self, "ops", ops)
        object.__setattr__(self, "lex_index", sum(o * p for o, p in zip(ops, _PLACE)))

    @classmethod
    def from_str(cls, text: str) -> "Arch":
        """Parse the official string ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``."""
        return cls(parse_arch_str(text))

    @classmethod
    def from_lex_index(cls, index: int) -> "Arch":
        if not 0 <= int(index) < N_CELLS:
            raise ValueError(f"lexicographic index {index} out of range 0..{N_CELLS - 1}")
        index = int(index)
        return cls(tuple((index // p) % N_OPS for p in _PLACE))

    def to_str(self) -> str:
        parts = []
        for node in (1, 2, 3):
            tokens = [f"{OPS[self.ops[e]]}~{src}" for e, (dst, src) in enumerate(EDGES) if dst == node]
            parts.append("|" + "|".join(tokens) + "|")
        return "+".join(parts)

    def op_names(self) -> tuple[str, ...]:
        return tuple(OPS[o] for o in self.ops)

    def count(self, op: str) -> int:
        """How many edges carry ``op`` (e.g. the skip-connection count the paper plots)."""
        return self.ops.count(_OP_INDEX[op])

    def __str__(self) -> str:
        return self.to_str()


def parse_arch_str(text: str) -> tuple[int, ...]:
    """Parse an arch string into op indices, or raise ``ValueError`` naming the bad token.

    The message gives the character position of the offending token so that a typo in a
    config file can be found without guessing.
    """
    if not isinstance(text, str):
        raise ValueError(f"arch string must be str, got {type(text).__name__}")
    groups = text.split("+")
    if len(groups) != 3:
        raise ValueError(
            f"malformed NB201 arch string {text!r}: expected 3 node groups joined by '+', found {len(groups)}"
        )
    ops: list[int] = []
    pos = 0
    for node, group in enumerate(groups, start=1):
        if len(group) < 2 or not group.startswith("|") or not group.endswith("|"):
            raise ValueError(
                f"malformed NB201 arch string {text!r}: node {node} group {group!r} at position {pos} "
                "must look like '|op~0|...|'"
            )
        tokens = group[1:-1].split("|")
        if len(tokens) != node:
            raise ValueError(
                f"malformed NB201 arch string {text!r}: node {node} group {group!r} at position {pos} "
                f"has {len(tokens)} inputs, expected {node}"
            )
        tpos = pos + 1
        for expected_src, token in enumerate(tokens):
            ops.append(_parse_token(text, token, tpos, expected_src))
            tpos += len(token) + 1
        pos += len(group) + 1
    return tuple(ops)


def _parse_token(text: str, token: str, pos: int, expected_src: int) -> int:
    name, sep, src = token.partition("~")
    if not sep:
        raise ValueError(f"malformed NB201 arch string {text!r}: token {token!r} at position {pos} lacks '~src'")
    if name not in _OP_INDEX:
        raise ValueError(
            f"malformed NB201 arch string {text!r}: unknown op {name!r} in token {token!r} at position {pos}; "
            f"expected one of {list(OPS)}"
        )
    if src != str(expected_src):
        raise ValueError(
            f"malformed NB201 arch string {text!r}: token {token!r} at position {pos} has source {src!r}, "
            f"expected {expected_src}"
        )
    return _OP_INDEX[name]


def all_archs() -> Iterator[Arch]:
    """Every cell, in lexicographic order."""
    return (Arch.from_lex_index(i) for i in range(N_CELLS))


def sample(rng: np.random.Generator) -> Arch:
    """A uniformly drawn cell."""
    return Arch(tuple(int(x) for x in rng.integers(0, N_OPS, size=N_EDGES)))


def neighbours(arch: Arch) -> list[Arch]:
    """All 24 cells that differ from ``arch`` on exactly one edge, in a fixed order."""
    out = []
    for e in range(N_EDGES):
        for op in range(N_OPS):
            if op != arch.ops[e]:
                out.append(Arch(arch.ops[:e] + (op,) + arch.ops[e + 1 :]))
    return out


def mutate(arch: Arch, rng: np.random.Generator) -> Arch:
    """One uniformly chosen edge gets a uniformly chosen *different* op (NB201's REA mutation)."""
    edge = int(rng.integers(N_EDGES))
    new_op = int(rng.integers(N_OPS - 1))
    if new_op >= arch.ops[edge]:
        new_op += 1
    return Arch(arch.ops[:edge] + (new_op,) + arch.ops[edge + 1 :])
