"""The DARTS-space search supernet (ALGORITHMS.md, "DARTS space"; DARTS paper Sec. 2.2).

``layers`` cells (8), C = 16 with a stem of 3C; reduction cells at 1/3 and 2/3 of the depth
double the width. Every cell has 14 mixed edges; edge e from node j computes
``sum_k w[e, k] * op_k(state_j)`` over all 8 ops (``none`` included), with BN without affine
parameters, as in the DARTS search model. Normal and reduction cells take separate edge-weight
matrices ([14, 8] each) from the strategy, so any distribution (softmax, Gaussian or Dirichlet
samples) drives it. Nodes 2..5 sum their incoming edges; the cell outputs their concatenation.

Initialisation reads only the ``generator`` it is given: modules are built on the meta device
and every convolution and linear layer gets PyTorch's default uniform init from that generator,
so the same seed gives the same supernet and torch's global RNG is never touched.
"""
from __future__ import annotations

import torch
from torch import nn

from spaces.darts.genotype import CONCAT, EDGES, OPS
from spaces.darts.network import FactorizedReduce, ReLUConvBN, init_from, make_op


class MixedOp(nn.Module):
    def __init__(self, c: int, stride: int) -> None:
        super().__init__()
        self.ops = nn.ModuleList(make_op(name, c, stride, affine=False) for name in OPS)

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        return sum(w * op(x) for w, op in zip(weights, self.ops))


class SearchCell(nn.Module):
    def __init__(self, c_prev_prev: int, c_prev: int, c: int, reduction: bool, reduction_prev: bool) -> None:
        super().__init__()
        self.reduction = reduction
        self.preprocess0 = (FactorizedReduce(c_prev_prev, c, affine=False) if reduction_prev
                            else ReLUConvBN(c_prev_prev, c, 1, 1, 0, affine=False))
        self.preprocess1 = ReLUConvBN(c_prev, c, 1, 1, 0, affine=False)
        self.edges = nn.ModuleList(MixedOp(c, 2 if reduction and src < 2 else 1) for _, src in EDGES)

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        e = 0
        for node in range(2, 2 + len(CONCAT)):
            total = 0
            for src in range(node):
                total = total + self.edges[e](states[src], weights[e])
                e += 1
            states.append(total)
        return torch.cat([states[i] for i in CONCAT], dim=1)


class DartsSupernet(nn.Module):
    """``forward(x, normal_weights [14, 8], reduce_weights [14, 8]) -> logits``."""

    def __init__(self, num_classes: int = 10, channels: int = 16, layers: int = 8, stem_multiplier: int = 3,
                 generator: torch.Generator | int = 0) -> None:
        super().__init__()
        if not isinstance(generator, torch.Generator):
            generator = torch.Generator().manual_seed(int(generator))
        with torch.device("meta"):
            c_curr = stem_multiplier * channels
            self.stem = nn.Sequential(nn.Conv2d(3, c_curr, 3, padding=1, bias=False), nn.BatchNorm2d(c_curr))
            c_prev_prev, c_prev, c_curr = c_curr, c_curr, channels
            self.cells = nn.ModuleList()
            reduction_prev = False
            for i in range(layers):
                reduction = i in (layers // 3, 2 * layers // 3)
                if reduction:
                    c_curr *= 2
                self.cells.append(SearchCell(c_prev_prev, c_prev, c_curr, reduction, reduction_prev))
                reduction_prev = reduction
                c_prev_prev, c_prev = c_prev, len(CONCAT) * c_curr
            self.classifier = nn.Linear(c_prev, num_classes)
        self.to_empty(device="cpu")
        self.reset_parameters(generator)

    def reset_parameters(self, generator: torch.Generator) -> None:
        """PyTorch's default init, drawn from ``generator`` only (:func:`spaces.darts.network.init_from`)."""
        init_from(self, generator)

    def forward(self, x: torch.Tensor, normal_weights: torch.Tensor, reduce_weights: torch.Tensor) -> torch.Tensor:
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1, reduce_weights if cell.reduction else normal_weights)
        return self.classifier(s1.mean(dim=(2, 3)))
