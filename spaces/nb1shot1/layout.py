"""The architecture parameters of a NAS-Bench-1shot1 space, packed into one masked tensor.

The authors' one-shot model (``optimizers/darts/model_search.py``) keeps several categorical
choices of different widths: the mixed op of each choice block ([k, 3]), the output's weights
over the cell input and the k blocks ([1, k + 1]), and for every block whose parents are
searched, its weights over the earlier nodes ([1, n] for node n). The one-shot loop's
distribution seam holds one tensor, so they are packed as rows of one [R, W] tensor, in the
authors' order (mixed ops, output, inputs), with W the widest row and a boolean mask marking
the real entries. The distributions take every softmax (Gumbel, Gaussian sample) over the
masked row, so a padded entry has weight exactly 0 and gets no gradient.

Derivation (ALGORITHMS.md "NAS-Bench-1shot1"): argmax op per block, then for each searched
node the top-n of its input weights, and the top-n of the output weights.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from spaces.nb1shot1.cells import OPS, SPACES, Cell


@dataclass(frozen=True)
class ArchLayout:
    """Rows of the packed tensor for space ``space``."""

    space: int

    @property
    def blocks(self) -> int:
        return SPACES[self.space].blocks

    @cached_property
    def searched_nodes(self) -> tuple[int, ...]:
        """Blocks (1-based nodes) whose parents carry weights: node n weighs its n candidate parents 0..n-1."""
        return tuple(node for node, rule in enumerate(SPACES[self.space].parents, start=1) if isinstance(rule, int))

    @property
    def output_row(self) -> int:
        return self.blocks

    def input_row(self, node: int) -> int:
        return self.blocks + 1 + self.searched_nodes.index(node)

    @cached_property
    def widths(self) -> tuple[int, ...]:
        return (len(OPS),) * self.blocks + (self.blocks + 1,) + self.searched_nodes

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.widths), max(self.widths)

    @cached_property
    def mask(self) -> np.ndarray:
        """True where an entry is a real architecture weight."""
        mask = np.zeros(self.shape, dtype=bool)
        for row, width in enumerate(self.widths):
            mask[row, :width] = True
        return mask

    def derive(self, weights: np.ndarray) -> Cell:
        """The cell that edge weights ``weights`` (shape :attr:`shape`, padded entries ignored) stand for."""
        weights = np.asarray(weights, dtype=np.float64)
        if weights.shape != self.shape:
            raise ValueError(f"space {self.space} weights must have shape {self.shape}, got {weights.shape}")
        definition = SPACES[self.space]
        ops = tuple(OPS[int(np.argmax(weights[b, :len(OPS)]))] for b in range(self.blocks))
        parents = []
        for node, rule in enumerate(definition.parents, start=1):
            if isinstance(rule, tuple):
                parents.append(rule[0])
            else:
                parents.append(_top(weights[self.input_row(node), :node], rule))
        output = _top(weights[self.output_row, :self.blocks + 1], definition.output_parents)
        return Cell(self.space, ops, tuple(parents), output)


def _top(row: np.ndarray, n: int) -> tuple[int, ...]:
    """Indices of the ``n`` largest entries, ascending (ties: the lower index, as a stable sort)."""
    return tuple(sorted(int(i) for i in np.argsort(-row, kind="stable")[:n]))
