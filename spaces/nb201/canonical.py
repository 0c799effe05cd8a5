"""Canonical form of NB201 cells under cell isomorphism.

Two conventions, both exposed because they answer different questions:

``nb201`` (default) -- the NAS-Bench-201 authors' convention (``to_unique_str`` with
    ``consider_zero=True`` in their ``CellStructure``), re-implemented here: every node is a
    symbolic sum of its incoming terms; ``none`` edges and edges leaving an all-zero node are
    zero terms ``#``; ``skip_connect`` copies its input's expression; summands are sorted.
    Over the 15,625 cells it gives **6,466** classes, the count the NAS-Bench-201 paper states.
    Zero terms stay in the sums, so e.g. ``a`` and ``a + 0`` are still told apart.

``functional`` -- a stricter equivalence: zero terms are dropped, and a skip connection
    splices its input's summands into the target sum (addition is associative). Nodes not
    feeding the output vanish. It gives **4,930** classes. Equivalent cells then have the same
    forward function and the same gradient-based proxy scores (dead parameters get zero
    gradients), though not the same parameter count.

Both treat a convolution fed by an all-zero node as zero. With an affine BN after it such an
edge could in principle learn a constant shift; like the official convention we ignore that.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Literal

from spaces.nb201.codec import EDGES, N_CELLS, OPS, Arch

Mode = Literal["nb201", "functional"]
MODES: tuple[str, ...] = ("nb201", "functional")
ZERO = "#"


def canonical_key(arch: Arch, mode: Mode = "nb201") -> str:
    """A string equal for exactly the cells that are isomorphic under ``mode``."""
    if mode == "nb201":
        return _nb201_key(arch)
    if mode == "functional":
        return _functional_key(arch)
    raise ValueError(f"unknown canonical mode {mode!r}; expected one of {list(MODES)}")


def _incoming(arch: Arch, node: int) -> list[tuple[str, int]]:
    return [(OPS[arch.ops[e]], src) for e, (dst, src) in enumerate(EDGES) if dst == node]


def _nb201_key(arch: Arch) -> str:
    exprs = {0: "0"}
    for node in (1, 2, 3):
        terms = []
        for op, src in _incoming(arch, node):
            if op == "none" or exprs[src] == ZERO:
                terms.append(ZERO)
            elif op == "skip_connect":
                terms.append(exprs[src])
            else:
                terms.append(f"({exprs[src]})@{op}")
        exprs[node] = "+".join(sorted(terms))
    return exprs[3]


def _functional_key(arch: Arch) -> str:
    values: dict[int, tuple[str, ...]] = {0: ("x",)}
    for node in (1, 2, 3):
        terms: list[str] = []
        for op, src in _incoming(arch, node):
            if op == "none" or not values[src]:
                continue
            if op == "skip_connect":
                terms.extend(values[src])
            else:
                terms.append(f"{op}({'+'.join(values[src])})")
        values[node] = tuple(sorted(terms))
    return "+".join(values[3]) or ZERO


@lru_cache(maxsize=len(MODES))
def _representatives(mode: Mode) -> dict[str, Arch]:
    reps: dict[str, Arch] = {}
    for index in range(N_CELLS):  # lexicographic order: the first member seen is the smallest
        arch = Arch.from_lex_index(index)
        reps.setdefault(canonical_key(arch, mode), arch)
    return reps


def canonical(arch: Arch, mode: Mode = "nb201") -> Arch:
    """The representative of ``arch``'s class: its member with the smallest lexicographic index."""
    return _representatives(mode)[canonical_key(arch, mode)]


def n_unique_cells(mode: Mode = "nb201") -> int:
    """Number of classes over the whole space: 6,466 (``nb201``) or 4,930 (``functional``)."""
    return len(_representatives(mode))


def pruned(arch: Arch) -> Arch:
    """``arch`` with every edge that cannot influence the output set to ``none``.

    An edge is dead when its target node does not feed the output, or when it carries an
    all-zero node through ``skip_connect`` or ``avg_pool_3x3`` (zero in, exactly zero out).
    A convolution fed by zeros is *kept*: its bias makes it non-zero in the proxy network.
    Dead edges change no activation on the way to the output and get zero gradients, so every
    gradient- or output-based proxy (synflow, snip, grasp, grad_norm, jacob_cov) scores
    ``arch`` and ``pruned(arch)`` identically -- the exact dedupe used by whole-space scoring.
    (nwot also reads the ReLUs of dead branches, so it does not use this.)
    """
    ops = list(arch.ops)
    changed = True
    while changed:  # pruning an edge can disconnect another node: iterate to a fixed point
        changed = False
        feeds_output = {3: True}
        for node in (2, 1):
            feeds_output[node] = any(ops[e] != 0 and feeds_output[dst] for e, (dst, src) in enumerate(EDGES) if src == node)
        zero = {0: False}
        for node in (1, 2, 3):
            live = False
            for e, (dst, src) in enumerate(EDGES):
                if dst != node or ops[e] == 0:
                    continue
                dead = not feeds_output[dst] or (zero[src] and OPS[ops[e]] in ("skip_connect", "avg_pool_3x3"))
                if dead:
                    ops[e], changed = 0, True
                else:
                    live = True
            zero[node] = not live
    return Arch(tuple(ops))
