"""The DARTS-space search supernet (ALGORITHMS.md, "DARTS space"; DARTS paper Sec. 2.2).

``layers`` cells (8), C = 16 with a stem of 3C; reduction cells at 1/3 and 2/3 of the depth
double the width. Every cell has 14 mixed edges; edge e from node j computes
``sum_k w[e, k] * op_k(state_j)`` over all 8 ops (``none`` included), with BN without affine
parameters and a BN after each pool, as in the DARTS repository's ``model_search.py``. Normal
and reduction cells take separate edge-weight matrices, passed together as one tensor
``[2, 14, 8]`` (normal first), so any distribution (softmax, Gaussian or Dirichlet samples)
drives it through the same seam as on NB201. Nodes 2..5 sum their incoming edges; the cell
outputs their concatenation.

Two implementations of the same function over the same parameters, chosen by ``impl``:

* ``plain``: every op of every edge computed on its own (the DARTS repository's way);
* ``fast``: per source node one ReLU shared by every op that starts with one (the separable
  and dilated convolutions and the factorized reduction of all edges leaving it), and one
  max pool + BN and one average pool + BN shared by those edges (a pool and a train-mode BN
  without affine parameters give the same output for the same input); ``none`` is skipped
  (its output is zero, and so is its weight's gradient). Same outputs and gradients, fewer
  kernels; ``nas-harness bench darts`` (:mod:`spaces.darts.bench_supernet`) measures the ratio.
* ``grouped``: ``fast``, plus every op of all m edges leaving a source node computed in one
  call per layer: the source's ReLU output is repeated m times along the channels, the
  depthwise convolutions of the m edges run as one depthwise convolution over m*C channels,
  the pointwise ones as one convolution with m groups, their BNs as one BN over m*C channels
  (per-channel statistics, so the same as m BNs), the factorized reductions likewise; the
  edge weights then scale [B, m, C, H, W] views. The kernels' weights are concatenated from
  the same parameters at every pass, so the parameters, outputs and gradients are those of
  ``plain`` (up to float rounding: a grouped convolution may sum in another order). It does
  not update the BNs' running statistics, which a search never reads (the supernet always
  runs in train mode). GDAS's one-op passes fall back to ``fast``.

``chosen`` ([2][14] op indices, GDAS) computes only the chosen op of each edge; the other ops
add their hard weight (zero-valued, carrying gradient), as GDAS's reference code does.

Initialisation reads only the ``generator`` it is given: modules are built on the meta device
and every convolution and linear layer gets PyTorch's default uniform init from that generator,
so the same seed gives the same supernet and torch's global RNG is never touched.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from spaces.darts.genotype import CONCAT, EDGES, OPS
from spaces.darts.network import FactorizedReduce, ReLUConvBN, cell_layout, init_from, make_op

IMPLS = ("fast", "plain", "grouped")
POOLS = tuple(i for i, name in enumerate(OPS) if "pool" in name)
NONE = OPS.index("none")
SKIP = OPS.index("skip_connect")


def search_op(name: str, c: int, stride: int) -> nn.Module:
    """A search-model op: affine-free BN, and a BN after each pool (``model_search.py``)."""
    op = make_op(name, c, stride, affine=False)
    if "pool" in name:
        op = nn.Sequential(op, nn.BatchNorm2d(c, affine=False))
    return op


class MixedOp(nn.Module):
    def __init__(self, c: int, stride: int) -> None:
        super().__init__()
        self.ops = nn.ModuleList(search_op(name, c, stride) for name in OPS)

    def forward(self, x: torch.Tensor, weights: torch.Tensor, chosen: int | None = None) -> torch.Tensor:
        if chosen is not None:
            return sum(w * op(x) if k == chosen else w for k, (w, op) in enumerate(zip(weights, self.ops)))
        return sum(w * op(x) for w, op in zip(weights, self.ops))


def _bn(x: torch.Tensor) -> torch.Tensor:
    """Train-mode BN without affine parameters or running statistics (per channel, so m edges at once)."""
    return F.batch_norm(x, None, None, training=True, eps=1e-5)


def _grouped_dil_conv(ops: list[nn.Module], repeated: torch.Tensor, m: int) -> torch.Tensor:
    """m DilConvs (ReLU already applied; ``repeated`` holds the input m times): depthwise over m*C
    channels, pointwise with m groups, one BN."""
    _, depthwise, pointwise, _ = list(ops[0].children())
    dw = torch.cat([list(op.children())[1].weight for op in ops])
    pw = torch.cat([list(op.children())[2].weight for op in ops])
    out = F.conv2d(repeated, dw, None, depthwise.stride, depthwise.padding, depthwise.dilation, groups=dw.shape[0])
    return _bn(F.conv2d(out, pw, groups=m))


def _grouped_factorized_reduce(ops: list[nn.Module], relu: torch.Tensor, m: int) -> torch.Tensor:
    """m FactorizedReduces of one ReLU'd input: [B, m, C, H/2, W/2]."""
    w1 = torch.cat([op.conv_1.weight for op in ops])
    w2 = torch.cat([op.conv_2.weight for op in ops])
    a, b = F.conv2d(relu, w1, stride=2), F.conv2d(relu[:, :, 1:, 1:], w2, stride=2)
    half = w1.shape[0] // m
    both = torch.cat([a.view(a.shape[0], m, half, *a.shape[2:]), b.view(b.shape[0], m, half, *b.shape[2:])], dim=2)
    return _bn(both.reshape(a.shape[0], 2 * m * half, *a.shape[2:])).view(a.shape[0], m, 2 * half, *a.shape[2:])


def after_relu(op: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """A ReLU-first op (sep/dil conv, factorized reduction) applied to an input already through its ReLU."""
    if isinstance(op, FactorizedReduce):
        return op.bn(torch.cat([op.conv_1(x), op.conv_2(x[:, :, 1:, 1:])], dim=1))
    first, *rest = list(op.children())
    layers = rest if isinstance(first, nn.ReLU) else list(first.children())[1:] + rest  # SepConv: its first DilConv
    for layer in layers:
        x = layer(x)
    return x


class SearchCell(nn.Module):
    def __init__(self, c_prev_prev: int, c_prev: int, c: int, reduction: bool, reduction_prev: bool,
                 impl: str = "fast") -> None:
        super().__init__()
        self.reduction, self.impl = reduction, impl
        self.preprocess0 = (FactorizedReduce(c_prev_prev, c, affine=False) if reduction_prev
                            else ReLUConvBN(c_prev_prev, c, 1, 1, 0, affine=False))
        self.preprocess1 = ReLUConvBN(c_prev, c, 1, 1, 0, affine=False)
        self.edges = nn.ModuleList(MixedOp(c, 2 if reduction and src < 2 else 1) for _, src in EDGES)
        if impl in ("fast", "grouped"):  # one pool + BN per source node, shared by its out-edges
            self.shared_pools = nn.ModuleList(
                nn.ModuleList(nn.BatchNorm2d(c, affine=False) for _ in POOLS) for _ in range(1 + len(CONCAT)))

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, weights: torch.Tensor,
                chosen: Sequence[int] | None = None) -> torch.Tensor:
        if self.impl == "grouped" and chosen is None:
            return self._forward_grouped(s0, s1, weights)
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        run_edge = self._plain_edge if self.impl == "plain" else self._fast_edge
        cache: dict[tuple[int, int], torch.Tensor] = {}
        e = 0
        for node in range(2, 2 + len(CONCAT)):
            total = 0
            for src in range(node):
                total = total + run_edge(e, src, states[src], weights[e], None if chosen is None else chosen[e], cache)
                e += 1
            states.append(total)
        return torch.cat([states[i] for i in CONCAT], dim=1)

    def _forward_grouped(self, s0: torch.Tensor, s1: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """Per source node, all its out-edges at once (see the module docstring)."""
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        pending: dict[int, torch.Tensor] = {}
        for src in range(2 + len(CONCAT)):  # node 5 has no out-edges but is an output
            if src >= 2:
                states.append(pending.pop(src))
            targets = [n for n in range(max(2, src + 1), 2 + len(CONCAT))]
            if targets:
                out = self._source_edges(src, states[src], [EDGES.index((n, src)) for n in targets], weights)
                for i, node in enumerate(targets):
                    pending[node] = out[:, i] if node not in pending else pending[node] + out[:, i]
        return torch.cat([states[i] for i in CONCAT], dim=1)

    def _source_edges(self, src: int, x: torch.Tensor, edges: list[int], weights: torch.Tensor) -> torch.Tensor:
        """sum_k w[e, k] op_k^e(x) for every edge e of ``edges`` (all leaving ``src``): [B, m, C, H', W']."""
        m, (b, c) = len(edges), x.shape[:2]
        stride = 2 if self.reduction and src < 2 else 1
        w = weights[edges]  # [m, 8]
        relu = F.relu(x)
        repeated = relu.repeat(1, m, 1, 1)
        total: torch.Tensor | int = 0
        for k, name in enumerate(OPS):
            ops = [self.edges[e].ops[k] for e in edges]
            if name == "none":
                continue
            if "pool" in name:
                pooled = (F.max_pool2d(x, 3, stride, 1) if name.startswith("max")
                          else F.avg_pool2d(x, 3, stride, 1, count_include_pad=False))
                out = self.shared_pools[src][POOLS.index(k)](pooled).unsqueeze(1)
            elif name == "skip_connect":
                out = x.unsqueeze(1) if stride == 1 else _grouped_factorized_reduce(ops, relu, m)
            elif name.startswith("sep_conv"):
                first = _grouped_dil_conv([op[0] for op in ops], repeated, m)
                out = _grouped_dil_conv([op[1] for op in ops], F.relu(first), m)
            else:
                out = _grouped_dil_conv(ops, repeated, m)
            if out.dim() == 4:
                out = out.view(b, m, -1, *out.shape[2:])
            total = total + out * w[:, k].view(1, m, 1, 1, 1)
        return total  # type: ignore[return-value]

    def _plain_edge(self, e: int, src: int, x: torch.Tensor, w: torch.Tensor, chosen: int | None,
                    cache: dict) -> torch.Tensor:
        return self.edges[e](x, w, chosen)

    def _fast_edge(self, e: int, src: int, x: torch.Tensor, w: torch.Tensor, chosen: int | None,
                   cache: dict) -> torch.Tensor:
        stride = 2 if self.reduction and src < 2 else 1
        total: torch.Tensor | int = 0
        for k, op in enumerate(self.edges[e].ops):
            if chosen is not None and k != chosen:
                total = total + w[k]
                continue
            if k == NONE:
                if chosen == NONE:  # GDAS picked ``none``: the edge still needs a tensor of its output's shape
                    total = total + w[k] * op(x)
                continue  # otherwise: zero output, zero gradient
            if k == SKIP and stride == 1:
                out = x
            elif k in POOLS:
                key = (src, k)
                if key not in cache:
                    pool = op[0]
                    pooled = (F.max_pool2d(x, 3, stride, 1) if isinstance(pool, nn.MaxPool2d)
                              else F.avg_pool2d(x, 3, stride, 1, count_include_pad=False))
                    cache[key] = self.shared_pools[src][POOLS.index(k)](pooled)
                out = cache[key]
            else:
                key = (src, -1)
                if key not in cache:
                    cache[key] = F.relu(x)
                out = after_relu(op, cache[key])
            total = total + w[k] * out
        return total  # type: ignore[return-value]


class DartsSupernet(nn.Module):
    """``forward(x, weights [2, 14, 8] (normal, reduce), chosen=None) -> logits``."""

    def __init__(self, num_classes: int = 10, channels: int = 16, layers: int = 8, stem_multiplier: int = 3,
                 generator: torch.Generator | int = 0, impl: str = "fast") -> None:
        super().__init__()
        if impl not in IMPLS:
            raise ValueError(f"impl must be one of {IMPLS}, got {impl!r}")
        if not isinstance(generator, torch.Generator):
            generator = torch.Generator().manual_seed(int(generator))
        self.impl = impl
        with torch.device("meta"):
            c_stem = stem_multiplier * channels
            self.stem = nn.Sequential(nn.Conv2d(3, c_stem, 3, padding=1, bias=False), nn.BatchNorm2d(c_stem))
            layout = cell_layout(channels, layers, stem_multiplier)
            self.cells = nn.ModuleList(SearchCell(*widths, impl) for widths in layout)
            self.classifier = nn.Linear(len(CONCAT) * layout[-1][2], num_classes)
        self.to_empty(device="cpu")
        self.reset_parameters(generator)

    def reset_parameters(self, generator: torch.Generator) -> None:
        """PyTorch's default init, drawn from ``generator`` only (:func:`spaces.darts.network.init_from`)."""
        init_from(self, generator)

    def forward(self, x: torch.Tensor, weights: torch.Tensor, chosen: Sequence[Sequence[int]] | None = None) -> torch.Tensor:
        if weights.shape != (2, len(EDGES), len(OPS)):
            raise ValueError(f"DARTS edge weights must have shape (2, {len(EDGES)}, {len(OPS)}), got {tuple(weights.shape)}")
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            kind = 1 if cell.reduction else 0
            s0, s1 = s1, cell(s0, s1, weights[kind], None if chosen is None else chosen[kind])
        return self.classifier(s1.mean(dim=(2, 3)))
