"""What the DARTS space provides to strategies (:mod:`spaces.capabilities`), built without torch.

* :class:`DartsSwitchWalks`: BayesNAS in its original space (:mod:`spaces.darts.switches`);
  normal and reduction cells are two cell kinds, each with its own switch groups. Its
  derivation (**unconfirmed**: the authors chose by hand) keeps exactly two inputs per node,
  as the space requires: the parent switches rank a node's incoming edges and the two with the
  largest parent score gamma_parent * ||s_parent|| are kept (ties: the larger best child score,
  then the lower input); on each, the op (``none`` excluded) with the largest child score
  gamma_child * ||s_child||.
* :class:`spaces.capabilities.DenseEdgeRows`: every edge row holds all eight ops.

Not provided: CUDA-graph capture (the captured passes are written for the NB201 cells), a
whole-space proxy index (the space has about 1e18 cells) and partial-channel cells.
"""
from __future__ import annotations

from typing import Any

from spaces.capabilities import Capability, DenseEdgeRows, ProxyNetworks, SwitchScores, SwitchWalks


class DartsSwitchWalks(SwitchWalks):
    def walk(self, supernet: Any, parent_at: str) -> Any:
        from spaces.darts.switches import DartsSwitchedSupernet

        return DartsSwitchedSupernet(supernet, parent_at)

    def cell_kinds(self, supernet: Any) -> list[int]:
        """0 for a normal cell, 1 for a reduction cell, in network order."""
        return [int(cell.reduction) for cell in supernet.cells]

    def derive(self, scores: SwitchScores) -> Any:
        from spaces.darts.genotype import EDGES, GENOTYPE_OPS, N_NODES, Genotype

        child, parent = scores.child, scores.gamma_parent * scores.parent_norm
        cells = []
        for t in range(2):
            pairs = []
            for node in range(2, 2 + N_NODES):
                inputs = [(src, EDGES.index((node, src))) for src in range(node)]
                ranked = sorted(inputs, key=lambda ie: (-float(parent[t, ie[1]]), -float(child[t, ie[1]].max()), ie[0]))
                for src, e in sorted(ranked[:2]):
                    pairs.append((GENOTYPE_OPS[int(child[t, e, 1:].argmax())], src))
            cells.append(tuple(pairs))
        return Genotype(cells[0], cells[1])


def darts_capabilities() -> tuple[Capability, ...]:
    return (DartsSwitchWalks(), DenseEdgeRows(), ProxyNetworks())
