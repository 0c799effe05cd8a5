"""Partial-channel search cells for progressive DrNAS (ALGORITHMS.md, "DrNAS", progressive variant).

Why: progressive DrNAS (Chen et al., 2021, after PC-DARTS) saves memory by sending only 1/K of
each edge's input channels through the mixed op; the other channels bypass it, and a channel
shuffle with K groups mixes the two parts before the next node. Between its two stages it
prunes each edge to its strongest ops and widens the ops to the next stage's 1/K.

:class:`PartialChannelCell`, per edge (target j, source i), with C channels and ``c = C // K``:

    out = shuffle_K(concat(sum_{o kept on e} w_{e,o} op_o(x_i[:, :c]), x_i[:, c:]))

Ops are NB201's (``none``, skip, ReLU-conv1x1-BN, ReLU-conv3x3-BN, avg-pool 3x3) on ``c``
channels, convs without bias and BN without affine parameters using batch statistics, as in
the search supernet. Pruned ops are not computed at all.

:meth:`PartialChannelCell.widen` (stage 1 -> 2, K 4 -> 2) grows every conv from ``c`` to
``c' = C // K'`` channels the Net2Net way: the old kernel stays in the top-left block; every new
output and input channel is a copy of an existing one, chosen at random from the run's
``widen`` stream. Unconfirmed against the DrNAS code: it does not rescale replicated input
channels, so the widened op is not function-preserving.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from spaces.nb201.codec import EDGES, N_OPS
from spaces.nb201.search_ops import op_output


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """ShuffleNet's shuffle: [b, g, C/g, h, w] -> transpose the two channel axes -> [b, C, h, w]."""
    b, c, h, w = x.shape
    return x.view(b, groups, c // groups, h, w).transpose(1, 2).reshape(b, c, h, w)


class PartialChannelCell(nn.Module):
    """Four nodes, six edges; each edge's mixed op sees ``channels // k`` of its input channels."""

    def __init__(self, channels: int, k: int) -> None:
        super().__init__()
        if k < 1 or channels % k:
            raise ValueError(f"partial-channel K must divide the cell width {channels}, got K={k}")
        self.channels, self.k = channels, k
        c = channels // k
        self.w1 = nn.Parameter(torch.empty(len(EDGES), c, c, 1, 1))
        self.w3 = nn.Parameter(torch.empty(len(EDGES), c, c, 3, 3))
        #: op indices each edge still computes (all five until pruned)
        self.kept_ops: list[list[int]] = [list(range(N_OPS)) for _ in EDGES]

    @property
    def op_channels(self) -> int:
        return self.channels // self.k

    def reset_parameters(self, generator: torch.Generator) -> None:
        """PyTorch's default Conv2d init per edge (U(+-1/sqrt(fan_in))), drawn from ``generator``."""
        c = self.op_channels
        with torch.no_grad():
            for e in range(len(EDGES)):
                self.w1[e].uniform_(-1 / math.sqrt(c), 1 / math.sqrt(c), generator=generator)
                self.w3[e].uniform_(-1 / math.sqrt(9 * c), 1 / math.sqrt(9 * c), generator=generator)

    def _op(self, op: int, e: int, x: torch.Tensor) -> torch.Tensor:
        return op_output(op, x, self.w1[e], self.w3[e])

    def forward(self, x: torch.Tensor, weights: torch.Tensor, chosen: list[int] | None = None) -> torch.Tensor:
        if chosen is not None:
            raise ValueError("partial-channel cells compute every kept op; one-op-per-edge (GDAS) is not supported")
        c = self.op_channels
        nodes = [x]
        for node in (1, 2, 3):
            total: torch.Tensor | int = 0
            for e, (dst, src) in enumerate(EDGES):
                if dst != node:
                    continue
                h = nodes[src]
                part = h[:, :c]
                mixed = sum(weights[e, o] * self._op(o, e, part) for o in self.kept_ops[e])
                out = torch.cat([mixed, h[:, c:]], dim=1) if c < self.channels else mixed
                total = total + (channel_shuffle(out, self.k) if self.k > 1 else out)
            nodes.append(total)
        return nodes[3]

    def prune(self, kept_ops: list[list[int]]) -> None:
        """Keep only these ops per edge (each list a subset of 0..4)."""
        self.kept_ops = [sorted(int(o) for o in ops) for ops in kept_ops]

    def widen(self, k: int, generator: torch.Generator) -> None:
        """Grow the op width from ``channels // self.k`` to ``channels // k`` (Net2Net replication)."""
        if k > self.k or self.channels % k:
            raise ValueError(f"widening goes from K={self.k} to a smaller K dividing {self.channels}, got K={k}")
        old, new = self.op_channels, self.channels // k
        extra = torch.randint(0, old, (new - old,), generator=generator)
        index = torch.cat([torch.arange(old), extra]).to(self.w3.device)
        with torch.no_grad():
            self.w1 = nn.Parameter(self.w1.index_select(1, index).index_select(2, index).clone())
            self.w3 = nn.Parameter(self.w3.index_select(1, index).index_select(2, index).clone())
        self.k = k
