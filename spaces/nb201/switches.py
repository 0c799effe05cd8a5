"""The NB201 supernet walked with BayesNAS switches (:mod:`spaces.switched`), and the space's
:class:`spaces.capabilities.SwitchWalks` capability built on it."""
from __future__ import annotations

import torch
from torch import nn

from spaces.nb201.codec import EDGES, N_OPS
from spaces.nb201.network import ResidualReduction
from spaces.nb201.supernet import CONV1, NONE, POOL, SKIP, SearchCell, Supernet
from spaces.switched import (Pair, SwitchWalk, module_bn, module_conv, add, avg_pool_2x2, avg_pool_3x3, batch_norm,
                             conv, global_mean, linear, relu)


class SwitchedSupernet(SwitchWalk):
    """Walks a :class:`Supernet`'s parameters with per-cell child/parent switches."""

    def __init__(self, supernet: Supernet, parent_at: str = "input") -> None:
        super().__init__(supernet, parent_at)
        self.cells = [layer for layer in supernet.layers if isinstance(layer, SearchCell)]

    @property
    def n_cells(self) -> int:
        return len(self.cells)

    def walk(self, x: Pair, child: torch.Tensor, parent: torch.Tensor, u_child: torch.Tensor | None,
             u_parent: torch.Tensor | None) -> Pair:
        net = self.supernet
        h = module_bn(net.stem[1], module_conv(net.stem[0], x))
        index = 0
        for layer in net.layers:
            if isinstance(layer, SearchCell):
                h = self._cell(layer, h, child[index], parent[index],
                               None if u_child is None else u_child[index], None if u_parent is None else u_parent[index])
                index += 1
            elif isinstance(layer, ResidualReduction):
                h = self._reduction(layer, h)
            else:
                raise TypeError(f"unexpected supernet layer {type(layer).__name__}")
        h = relu(module_bn(net.head_bn[0], h))
        return linear(global_mean(h), net.classifier.weight, net.classifier.bias)

    def _op(self, cell: SearchCell, op: int, e: int, x: Pair) -> Pair | None:
        if op == NONE:
            return None  # zero output: no activation, no Hessian term
        if op == SKIP:
            return x
        if op == POOL:
            return avg_pool_3x3(x)
        weight, bias, padding = (cell.w1[e], cell.b1[e], 0) if op == CONV1 else (cell.w3[e], cell.b3[e], 1)
        return batch_norm(conv(relu(x), weight, bias, padding=padding))

    def _edge(self, cell: SearchCell, e: int, x: Pair, child: torch.Tensor, parent: torch.Tensor,
              u_child: torch.Tensor | None, u_parent: torch.Tensor | None) -> Pair:
        return self.switched_edge(x, N_OPS, lambda k, h: self._op(cell, k, e, h), child, parent, u_child, u_parent)

    def _cell(self, cell: SearchCell, x: Pair, child: torch.Tensor, parent: torch.Tensor,
              u_child: torch.Tensor | None, u_parent: torch.Tensor | None) -> Pair:
        nodes = [x]
        for node in (1, 2, 3):
            total: Pair | None = None
            for e, (dst, src) in enumerate(EDGES):
                if dst == node:
                    out = self._edge(cell, e, nodes[src], child[e], parent[e],
                                     None if u_child is None else u_child[e], None if u_parent is None else u_parent[e])
                    total = out if total is None else add(total, out)
            nodes.append(total)
        return nodes[3]

    def _reduction(self, block: ResidualReduction, x: Pair) -> Pair:
        def relu_conv_bn(seq: nn.Sequential, h: Pair) -> Pair:
            return module_bn(seq[2], module_conv(seq[1], relu(h)))

        main = relu_conv_bn(block.conv_b, relu_conv_bn(block.conv_a, x))
        shortcut = module_conv(block.downsample[1], avg_pool_2x2(x))
        return add(shortcut, main)
