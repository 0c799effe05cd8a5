"""The NAS-Bench-201 weight-sharing supernet (ALGORITHMS.md, "Search supernet").

One 6x5 matrix of edge weights (computed by the strategy from alpha, a Dirichlet sample,
Gumbel hard weights or a Gaussian sample) is shared by all cells. Every edge carries all
five ops, ``none`` included: MixedOp = sum_k w_k op_k(x). Search cells use conv bias and
BN with ``affine=False``; as the strategies only run the supernet in train mode, BN always
normalises with batch statistics and keeps no running statistics.

Two implementations of the same function over the *same parameters*, chosen by ``impl``:

* ``plain``: every op of every edge computed separately, as in the NB201 authors' code;
* ``fast``: per source node one ReLU, one convolution call for the 3x3 and one for the 1x1
  kernels of all edges leaving it, without the conv biases (the train-mode BN right after
  subtracts the batch mean, which cancels a bias exactly; in the plain version their gradient
  is zero up to rounding), each followed by one BN whose per-channel scale *is* the
  edge weight (so weighting costs no pass of its own), one average pool computed as a
  depthwise box filter with a border correction folded into the pool weight, fused
  multiply-adds for skip and pool; ``none`` costs nothing (its output is zero, and so is its
  gradient).

``chosen`` (GDAS) computes only the op with index ``chosen[e]`` on each edge; the other ops
add their hard weight (zero-valued, but carrying gradient) instead of their output.
"""
from __future__ import annotations

import contextlib
import math
from typing import Callable, Iterator

import torch
import torch.nn.functional as F
from torch import nn

from spaces.nb201.codec import EDGES, N_OPS
from spaces.nb201.network import macro_layers
from spaces.nb201.partial_channels import PartialChannelCell
from spaces.nb201.search_ops import CONV1, CONV3, NONE, POOL, SKIP, op_output  # noqa: F401 (re-exported)

OUT_EDGES = {src: [e for e, (_, s) in enumerate(EDGES) if s == src] for src in (0, 1, 2)}


def _kaiming_uniform_(tensor: torch.Tensor, fan_in: int, generator: torch.Generator | None) -> None:
    """PyTorch's default Conv2d init (kaiming_uniform with a=sqrt(5)): U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    bound = 1.0 / math.sqrt(fan_in)
    with torch.no_grad():
        tensor.uniform_(-bound, bound, generator=generator)


_BOX_KERNELS: dict[tuple, torch.Tensor] = {}
_CORRECTIONS: dict[tuple, torch.Tensor] = {}
_EDGE_INDEX: dict[tuple, torch.Tensor] = {}


def _edge_index(src: int, device: torch.device) -> torch.Tensor:
    """The edges leaving ``src`` as an index tensor that lives on ``device``.

    Indexing with a Python list would copy a fresh index tensor from the host on every call
    (a host-to-device copy per forward on CUDA, which also makes the step impossible to
    capture in a CUDA graph); this one is made once per device.
    """
    key = (src, device)
    if key not in _EDGE_INDEX:
        _EDGE_INDEX[key] = torch.tensor(OUT_EDGES[src], dtype=torch.long, device=device)
    return _EDGE_INDEX[key]


_CHANNEL_INDEX: dict[tuple, torch.Tensor] = {}


def _per_channel(edge_weight: torch.Tensor, channels: int) -> torch.Tensor:
    """Each edge's weight repeated for its ``channels`` output channels, by a gather with an
    index made once per device. (``repeat_interleave`` gives the same values but synchronises
    with the host on CUDA, which a CUDA graph forbids; ``unsqueeze().expand().reshape()`` as
    BN's weight gave wrong, sometimes NaN, weight gradients on CPU with torch 2.13.)"""
    key = (len(edge_weight), channels, edge_weight.device)
    if key not in _CHANNEL_INDEX:
        _CHANNEL_INDEX[key] = torch.arange(key[0], device=key[2]).repeat_interleave(channels)
    return edge_weight.index_select(0, _CHANNEL_INDEX[key])


def _box_mean(x: torch.Tensor) -> torch.Tensor:
    """3x3 zero-padded box sum / 9 as a depthwise convolution (several times faster than avg_pool2d)."""
    channels = x.shape[1]
    key = (channels, x.dtype, x.device)
    if key not in _BOX_KERNELS:  # made once: a fill kernel per call would cost a launch each time
        _BOX_KERNELS[key] = torch.full((channels, 1, 3, 3), 1.0 / 9.0, dtype=x.dtype, device=x.device)
    return F.conv2d(x, _BOX_KERNELS[key], padding=1, groups=channels)



def _pool_correction(x: torch.Tensor) -> torch.Tensor:
    """9 / (number of in-image pixels under the 3x3 window): turns the box mean into
    ``avg_pool2d(3, 1, 1, count_include_pad=False)`` (9/4 in corners, 9/6 on borders, 1 inside)."""
    key = (x.shape[-2], x.shape[-1], x.dtype, x.device)
    if key not in _CORRECTIONS:
        ones = torch.ones(1, 1, *key[:2], dtype=x.dtype, device=x.device)
        counts = F.conv2d(ones, torch.ones(1, 1, 3, 3, dtype=x.dtype, device=x.device), padding=1)
        _CORRECTIONS[key] = 9.0 / counts
    return _CORRECTIONS[key]


def fast_cell(x: torch.Tensor, weights: torch.Tensor, w1: torch.Tensor, w3: torch.Tensor) -> torch.Tensor:
    """The fast cell as a pure function of tensors (so ``torch.compile`` can take it whole)."""
    c = w3.shape[1]
    nodes = [x]
    incoming: dict[int, torch.Tensor] = {}
    for src in (0, 1, 2):
        if src > 0:
            nodes.append(incoming.pop(src))
        h = nodes[src]
        edges = OUT_EDGES[src]
        index = _edge_index(src, h.device)
        edge_weights = weights.index_select(0, index)
        relu = F.relu(h)
        # all 3x3 (then all 1x1) convolutions leaving this node in one call; the edge weight
        # is folded into BN's scale, so weighting costs no extra pass over the activations
        # no conv bias: train-mode BN subtracts the batch mean, which cancels it exactly (its gradient is 0)
        conv3 = F.batch_norm(F.conv2d(relu, w3.index_select(0, index).reshape(-1, c, 3, 3), padding=1),
                             None, None, weight=_per_channel(edge_weights[:, CONV3], c), training=True)
        conv1 = F.batch_norm(F.conv2d(relu, w1.index_select(0, index).reshape(-1, c, 1, 1)),
                             None, None, weight=_per_channel(edge_weights[:, CONV1], c), training=True)
        box = _box_mean(h)  # 3x3 sum / 9; times _pool_correction = avg_pool2d(count_include_pad=False)
        correction = _pool_correction(h)
        # split (not slicing): its backward concatenates the gradients instead of zero-filling per slice
        # in place: no backward here needs the accumulated tensor itself, only h, box and the weights
        for i, (e, out3, out1) in enumerate(zip(edges, conv3.split(c, dim=1), conv1.split(c, dim=1))):
            part = (out3 + out1).addcmul_(h, edge_weights[i, SKIP]).addcmul_(box, edge_weights[i, POOL] * correction)
            dst = EDGES[e][0]
            incoming[dst] = part if dst not in incoming else incoming[dst].add_(part)
    return incoming[3]


#: the function fast cells run: :func:`fast_cell`, or its ``torch.compile``d form while the
#: CUDA-graph wrapper captures a pass (:func:`cells_running`)
_CELL_FN = [fast_cell]


@contextlib.contextmanager
def cells_running(fn: Callable[..., torch.Tensor]) -> Iterator[None]:
    """Run fast cells through ``fn`` inside the block (used around a CUDA-graph capture)."""
    _CELL_FN[0] = fn
    try:
        yield
    finally:
        _CELL_FN[0] = fast_cell


class SearchCell(nn.Module):
    """Four nodes, six mixed edges; parameters stacked per edge so both implementations share them."""

    def __init__(self, channels: int, impl: str = "fast", generator: torch.Generator | None = None) -> None:
        super().__init__()
        if impl not in ("plain", "fast"):
            raise ValueError(f"unknown supernet implementation {impl!r}; expected 'plain' or 'fast'")
        c = channels
        self.impl = impl
        self.w1 = nn.Parameter(torch.empty(len(EDGES), c, c, 1, 1))
        self.b1 = nn.Parameter(torch.empty(len(EDGES), c))
        self.w3 = nn.Parameter(torch.empty(len(EDGES), c, c, 3, 3))
        self.b3 = nn.Parameter(torch.empty(len(EDGES), c))
        if generator is not None:
            self.reset_parameters(generator)

    def reset_parameters(self, generator: torch.Generator) -> None:
        """PyTorch's default Conv2d init per edge, drawn from ``generator``."""
        c = self.w3.shape[1]
        for e in range(len(EDGES)):
            _kaiming_uniform_(self.w1[e], c, generator)
            _kaiming_uniform_(self.b1[e], c, generator)
            _kaiming_uniform_(self.w3[e], 9 * c, generator)
            _kaiming_uniform_(self.b3[e], 9 * c, generator)

    def forward(self, x: torch.Tensor, weights: torch.Tensor, chosen: list[int] | None = None) -> torch.Tensor:
        if chosen is not None:
            return self._forward_chosen(x, weights, chosen)
        return self._forward_fast(x, weights) if self.impl == "fast" else self._forward_plain(x, weights)

    # ---- the reference: every op separately ------------------------------------------------
    def _op(self, op: int, e: int, x: torch.Tensor) -> torch.Tensor:
        return op_output(op, x, self.w1[e], self.w3[e], self.b1[e], self.b3[e])

    def _forward_plain(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for node in (1, 2, 3):
            total = 0
            for e, (dst, src) in enumerate(EDGES):
                if dst == node:
                    total = total + sum(weights[e, k] * self._op(k, e, nodes[src]) for k in range(N_OPS))
            nodes.append(total)
        return nodes[3]

    # ---- the fast path ----------------------------------------------------------------------
    def _forward_fast(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        return _CELL_FN[0](x, weights, self.w1, self.w3)

    # ---- GDAS: one op per edge ----------------------------------------------------------------
    def _forward_chosen(self, x: torch.Tensor, weights: torch.Tensor, chosen: list[int]) -> torch.Tensor:
        nodes = [x]
        for node in (1, 2, 3):
            total = 0
            for e, (dst, src) in enumerate(EDGES):
                if dst != node:
                    continue
                k = chosen[e]
                others = sum(weights[e, j] for j in range(N_OPS) if j != k)
                total = total + weights[e, k] * self._op(k, e, nodes[src]) + others
            nodes.append(total)
        return nodes[3]


#: the cell types a supernet's search layers can be
SEARCH_CELLS = (SearchCell, PartialChannelCell)


class Supernet(nn.Module):
    """stem -> N search cells -> reduction -> N cells -> reduction -> N cells -> head.

    ``partial_k > 1`` builds partial-channel cells instead (progressive DrNAS,
    :mod:`spaces.nb201.partial_channels`), which :meth:`prune` and :meth:`widen` change between stages.
    """

    def __init__(self, num_classes: int = 10, channels: int = 16, cells_per_stage: int = 5, impl: str = "fast",
                 generator: torch.Generator | int = 0, partial_k: int = 1) -> None:
        super().__init__()
        if not isinstance(generator, torch.Generator):
            generator = torch.Generator().manual_seed(int(generator))
        # built on the meta device, then initialised from ``generator`` alone: constructing
        # nn.Conv2d on a real device would draw its default init from torch's global RNG
        with torch.device("meta"):
            self.stem = nn.Sequential(nn.Conv2d(3, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels))
            if partial_k > 1:
                layers, c = macro_layers(channels, cells_per_stage, lambda width: PartialChannelCell(width, partial_k))
            else:
                layers, c = macro_layers(channels, cells_per_stage, lambda width: SearchCell(width, impl))
            self.layers = nn.ModuleList(layers)
            self.head_bn = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(inplace=False))
            self.classifier = nn.Linear(c, num_classes)
        self.to_empty(device="cpu")
        self.reset_parameters(generator)

    def reset_parameters(self, generator: torch.Generator) -> None:
        """PyTorch's default init (conv/linear U(+-1/sqrt(fan_in)), BN 1/0) in module order, from ``generator``."""
        for module in self.modules():
            if isinstance(module, SEARCH_CELLS):
                module.reset_parameters(generator)
            elif isinstance(module, (nn.Conv2d, nn.Linear)):
                fan_in = module.weight[0].numel()
                _kaiming_uniform_(module.weight, fan_in, generator)
                if module.bias is not None:
                    _kaiming_uniform_(module.bias, fan_in, generator)
            elif isinstance(module, nn.BatchNorm2d):
                module.reset_parameters()

    def set_impl(self, impl: str) -> None:
        for layer in self.layers:
            if isinstance(layer, SearchCell):
                layer.impl = impl

    def prune(self, kept_ops: list[list[int]]) -> None:
        """Partial-channel cells only: keep these ops per edge."""
        for layer in self._partial_cells():
            layer.prune(kept_ops)

    def widen(self, k: int, generator: torch.Generator) -> None:
        """Partial-channel cells only: widen every op to ``width // k`` channels (new parameter tensors)."""
        for layer in self._partial_cells():
            layer.widen(k, generator)

    def _partial_cells(self) -> list[PartialChannelCell]:
        cells = [layer for layer in self.layers if isinstance(layer, PartialChannelCell)]
        if not cells:
            raise ValueError("prune/widen need a partial-channel supernet (partial_k > 1)")
        return cells

    def forward(self, x: torch.Tensor, weights: torch.Tensor, chosen: list[int] | None = None) -> torch.Tensor:
        h = self.stem(x)
        for layer in self.layers:
            h = layer(h, weights, chosen) if isinstance(layer, SEARCH_CELLS) else layer(h)
        return self.classifier(self.head_bn(h).mean(dim=(2, 3)))
