"""The DARTS-space supernet with BayesNAS switches, and the closed-form Hessian w.r.t. them.

BayesNAS's original space (ALGORITHMS.md, "BayesNAS"; the poster): every cell c of the search
network (normal and reduction) has a child switch per (edge, op) and a parent switch per edge;
edge e of cell c from node j computes ``sum_k child[c, e, k] * op_k(parent[c, e] * x_j)`` (the
poster's node i' between i and j; ``parent_at = "output"`` scales the edge's sum instead). The
walk reuses the parameters of :class:`spaces.darts.supernet.DartsSupernet` op by op (the plain
form), with batch-statistics BN as the supernet.

The Gauss-Newton diagonal is carried alongside the activations exactly as on NB201
(:mod:`spaces.switched`): every linear map squared, every ReLU replaced by its
derivative, every BN by gamma^2 / var, and each switch injecting ``u * x^2`` for a zero dummy
``u``. The DARTS ops add three rules: a *max* pool routes q from the argmax position of each
window (the derivative of max is a selector); a strided average pool (``count_include_pad =
False``) divides by the count squared; and concatenations (a factorized reduction's two halves,
a cell's output nodes) concatenate q too.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from spaces.darts.genotype import CONCAT, EDGES, OPS
from spaces.darts.network import FactorizedReduce
from spaces.darts.supernet import DartsSupernet, SearchCell
from spaces.switched import Pair, SwitchWalk, add, global_mean, linear, module_bn, module_conv, relu


def cat(pairs: list[Pair]) -> Pair:
    q = None if pairs[0][1] is None else torch.cat([p[1] for p in pairs], dim=1)
    return torch.cat([p[0] for p in pairs], dim=1), q


def max_pool_3x3(x: Pair, stride: int) -> Pair:
    """max over each 3x3 window (padding 1): q is taken from the position the max came from."""
    a, q = x
    out, index = F.max_pool2d(a, 3, stride, 1, return_indices=True)
    if q is None:
        return out, None
    return out, q.flatten(2).gather(2, index.flatten(2)).view_as(out)


def avg_pool_3x3(x: Pair, stride: int) -> Pair:
    """mean over each 3x3 window without the padding: each weight is 1/count, squared 1/count^2."""
    a, q = x
    out = F.avg_pool2d(a, 3, stride, 1, count_include_pad=False)
    if q is None:
        return out, None
    ones = torch.ones(1, 1, *a.shape[-2:], dtype=a.dtype, device=a.device)
    count = F.conv2d(ones, torch.ones(1, 1, 3, 3, dtype=a.dtype, device=a.device), stride=stride, padding=1)
    return out, F.avg_pool2d(q, 3, stride, 1, count_include_pad=False) / count


def _sequential(module: nn.Module, x: Pair) -> Pair:
    """ReLU / Conv2d / BatchNorm2d chains and the DilConv / SepConv / ReLUConvBN built of them."""
    for layer in module.children():
        if isinstance(layer, nn.ReLU):
            x = relu(x)
        elif isinstance(layer, nn.Conv2d):
            x = module_conv(layer, x)
        elif isinstance(layer, nn.BatchNorm2d):
            x = module_bn(layer, x)
        else:
            x = _sequential(layer, x)
    return x


def _factorized_reduce(module: FactorizedReduce, x: Pair) -> Pair:
    h = relu(x)
    shifted = (h[0][:, :, 1:, 1:], None if h[1] is None else h[1][:, :, 1:, 1:])
    return module_bn(module.bn, cat([module_conv(module.conv_1, h), module_conv(module.conv_2, shifted)]))


class DartsSwitchedSupernet(SwitchWalk):
    """Walks a :class:`DartsSupernet`'s parameters with per-cell child [cells, 14, 8] and parent
    [cells, 14] switches."""

    supernet: DartsSupernet

    @property
    def n_cells(self) -> int:
        return len(self.supernet.cells)

    @property
    def cell_kinds(self) -> list[int]:
        """0 for a normal cell, 1 for a reduction cell, in network order."""
        return [int(cell.reduction) for cell in self.supernet.cells]

    def walk(self, x: Pair, child: torch.Tensor, parent: torch.Tensor, u_child: torch.Tensor | None,
             u_parent: torch.Tensor | None) -> Pair:
        net = self.supernet
        s0 = s1 = module_bn(net.stem[1], module_conv(net.stem[0], x))
        for c, cell in enumerate(net.cells):
            s0, s1 = s1, self._cell(cell, s0, s1, child[c], parent[c], None if u_child is None else u_child[c],
                                    None if u_parent is None else u_parent[c])
        return linear(global_mean(s1), net.classifier.weight, net.classifier.bias)

    def _cell(self, cell: SearchCell, s0: Pair, s1: Pair, child: torch.Tensor, parent: torch.Tensor,
              u_child: torch.Tensor | None, u_parent: torch.Tensor | None) -> Pair:
        pre0 = (_factorized_reduce(cell.preprocess0, s0) if isinstance(cell.preprocess0, FactorizedReduce)
                else _sequential(cell.preprocess0, s0))
        states = [pre0, _sequential(cell.preprocess1, s1)]
        for node in range(2, 2 + len(CONCAT)):
            total: Pair | None = None
            for src in range(node):
                e = EDGES.index((node, src))
                out = self._edge(cell, e, src, states[src], child[e], parent[e],
                                 None if u_child is None else u_child[e], None if u_parent is None else u_parent[e])
                total = out if total is None else add(total, out)
            states.append(total)  # type: ignore[arg-type]
        return cat([states[i] for i in CONCAT])

    def _edge(self, cell: SearchCell, e: int, src: int, x: Pair, child: torch.Tensor, parent: torch.Tensor,
              u_child: torch.Tensor | None, u_parent: torch.Tensor | None) -> Pair:
        stride = 2 if cell.reduction and src < 2 else 1

        def op_output(k: int, h: Pair) -> Pair | None:
            name, op = OPS[k], cell.edges[e].ops[k]
            if name == "none":
                return None  # zero output: no activation, no Hessian term
            if name == "max_pool_3x3":
                return module_bn(op[1], max_pool_3x3(h, stride))
            if name == "avg_pool_3x3":
                return module_bn(op[1], avg_pool_3x3(h, stride))
            if name == "skip_connect":
                return h if stride == 1 else _factorized_reduce(op, h)
            return _sequential(op, h)

        return self.switched_edge(x, len(OPS), op_output, child, parent, u_child, u_parent)
