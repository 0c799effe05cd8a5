"""NAS-Bench-101 model specs: validity, pruning and the official isomorphism-invariant hash.

A cell is a DAG of at most 7 vertices (input, up to 5 ops, output) and at most 9 edges, given as
an upper-triangular adjacency matrix and one op per vertex. NB101 stores each cell under the MD5
fingerprint of its *pruned* graph, so querying needs exactly the official procedure, restated
here from its description (google-research/nasbench, ``model_spec.py`` / ``graph_util.py``):

* **Pruning.** Keep the vertices that lie on some path from the input to the output; drop
  the rest with their rows, columns and ops. A graph whose input cannot reach its output is
  invalid.
* **Hash.** Label each vertex (-1 input, -2 output, otherwise the op's index in
  ``conv3x3-bn-relu, conv1x1-bn-relu, maxpool3x3``); start every vertex at the MD5 hex digest
  of the text of the tuple (out-degree, in-degree, label); then, as many times as there are
  vertices, replace every vertex's digest by the MD5 of its sorted in-neighbour digests
  joined, ``|``, its sorted out-neighbour digests joined, ``|``, its own digest; the
  fingerprint is the MD5 of the text of the sorted list of final digests.

Isomorphic graphs (vertex orders that describe the same cell) get the same hash, and so do
graphs that differ only in vertices pruned away.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

INPUT, OUTPUT = "input", "output"
CONV3X3, CONV1X1, MAXPOOL3X3 = "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"
#: the op order NB101 labels vertices with (its ``available_ops``)
OPS: tuple[str, ...] = (CONV3X3, CONV1X1, MAXPOOL3X3)
MAX_VERTICES, MAX_EDGES = 7, 9


class InvalidSpec(ValueError):
    """The graph is not a cell of NAS-Bench-101 (the message says why)."""


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def graph_hash(matrix: np.ndarray, labels: Sequence[int]) -> str:
    """The NB101 fingerprint of an (already pruned) labelled DAG."""
    matrix = np.asarray(matrix)
    n = matrix.shape[0]
    out_degree = [int(v) for v in matrix.sum(axis=1)]
    in_degree = [int(v) for v in matrix.sum(axis=0)]
    digests = [_md5(str((out_degree[v], in_degree[v], int(labels[v])))) for v in range(n)]
    for _ in range(n):
        digests = [
            _md5("".join(sorted(digests[w] for w in range(n) if matrix[w, v])) + "|"
                 + "".join(sorted(digests[w] for w in range(n) if matrix[v, w])) + "|" + digests[v])
            for v in range(n)
        ]
    return _md5(str(sorted(digests)))


@dataclass(frozen=True)
class ModelSpec:
    """A cell as given (``matrix``, ``ops``) and its pruned form (``pruned_matrix``, ``pruned_ops``)."""

    matrix: np.ndarray
    ops: tuple[str, ...]
    pruned_matrix: np.ndarray = field(init=False, repr=False, compare=False)
    pruned_ops: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        matrix = np.array(self.matrix, dtype=np.int64)
        ops = tuple(str(op) for op in self.ops)
        n = matrix.shape[0] if matrix.ndim == 2 else -1
        if matrix.ndim != 2 or matrix.shape[1] != n:
            raise InvalidSpec(f"the adjacency matrix must be square, got shape {matrix.shape}")
        if len(ops) != n:
            raise InvalidSpec(f"{n} vertices but {len(ops)} ops")
        if not np.isin(matrix, (0, 1)).all() or np.tril(matrix).any():
            raise InvalidSpec("the adjacency matrix must be 0/1 and strictly upper-triangular (a DAG in vertex order)")
        if n < 2 or ops[0] != INPUT or ops[-1] != OUTPUT:
            raise InvalidSpec(f"the first op must be {INPUT!r} and the last {OUTPUT!r}, got {list(ops)}")
        for op in ops[1:-1]:
            if op not in OPS:
                raise InvalidSpec(f"unknown op {op!r}; NB101 ops: {list(OPS)}")
        object.__setattr__(self, "matrix", matrix)
        object.__setattr__(self, "ops", ops)
        keep = _on_input_output_paths(matrix)
        if 0 not in keep or n - 1 not in keep:
            raise InvalidSpec("the input does not reach the output")
        index = sorted(keep)
        object.__setattr__(self, "pruned_matrix", matrix[np.ix_(index, index)])
        object.__setattr__(self, "pruned_ops", tuple(ops[i] for i in index))

    def check_in_space(self) -> None:
        """NB101's own limits on the pruned graph: at most 7 vertices and 9 edges."""
        if len(self.pruned_ops) > MAX_VERTICES:
            raise InvalidSpec(f"{len(self.pruned_ops)} vertices after pruning; NB101 has at most {MAX_VERTICES}")
        if int(self.pruned_matrix.sum()) > MAX_EDGES:
            raise InvalidSpec(f"{int(self.pruned_matrix.sum())} edges after pruning; NB101 has at most {MAX_EDGES}")

    def hash(self) -> str:
        """The key NB101 stores this cell under."""
        labels = [-1] + [OPS.index(op) for op in self.pruned_ops[1:-1]] + [-2]
        return graph_hash(self.pruned_matrix, labels)


def _on_input_output_paths(matrix: np.ndarray) -> set[int]:
    """Vertices reachable from the input that also reach the output."""
    n = matrix.shape[0]
    forward, frontier = {0}, [0]
    while frontier:
        v = frontier.pop()
        for w in range(v + 1, n):
            if matrix[v, w] and w not in forward:
                forward.add(w)
                frontier.append(w)
    backward, frontier = {n - 1}, [n - 1]
    while frontier:
        v = frontier.pop()
        for w in range(v):
            if matrix[w, v] and w not in backward:
                backward.add(w)
                frontier.append(w)
    return forward & backward
