"""The NAS-Bench-1shot1 one-shot model (Zela et al. 2020, ``optimizers/darts/model_search.py``).

Structure, as the authors built it from NB101's model builder:

* stem: Conv3x3 (3 -> C) - BN - ReLU;
* L = 3 * ``cells_per_stage`` cells (9 in the paper), one cell type sharing one set of
  architecture weights; before cells L//3 and 2L//3 a MaxPool(2, stride 2, **padding 1**)
  halves the resolution and the cells' width C doubles;
* a cell: each of the k choice blocks gets a 1x1 Conv-BN-ReLU projection of the cell input
  plus the outputs of the earlier blocks, weighted by its input weights where its parents are
  searched, summed, then a mixed op over maxpool3x3, conv3x3-BN-ReLU, conv1x1-BN-ReLU (BN
  without affine, as ``OPS[primitive](C, stride, False)``). The cell output is
  ``w_out[0] * proj(input)`` (a 1x1 projection to k*C channels) plus the concatenation of
  ``w_out[i] * block_i``;
* head: ReLU - Conv1x1 (k*C -> C) - BN (no affine) - global average pool - Linear.

The stem's and projections' BNs are affine (NB101's builder; the authors' ``ConvBnRelu``
default) -- not confirmed from their ``operations.py``, which we did not have.

``forward(x, weights, chosen)``: ``weights`` is the packed [R, W] tensor of
:mod:`spaces.nb1shot1.layout` (padded entries 0). ``chosen`` (GDAS) gives one index per row; a
block then computes only its chosen op, the others contributing their zero-valued hard weight
so that gradients reach them, as on the other spaces.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from spaces.darts.network import init_from
from spaces.nb1shot1.layout import ArchLayout


def conv_bn_relu(c_in: int, c_out: int, kernel: int, affine: bool = True) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, kernel, 1, kernel // 2, bias=False),
                         nn.BatchNorm2d(c_out, affine=affine), nn.ReLU())


class ChoiceBlock(nn.Module):
    """The mixed op of one block, in the authors' PRIMITIVES order."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.ops = nn.ModuleList([nn.MaxPool2d(3, 1, 1), conv_bn_relu(channels, channels, 3, affine=False),
                                  conv_bn_relu(channels, channels, 1, affine=False)])

    def forward(self, x: torch.Tensor, weights: torch.Tensor, chosen: int | None = None) -> torch.Tensor:
        if chosen is not None:
            return sum(w * op(x) if k == chosen else w for k, (w, op) in enumerate(zip(weights, self.ops)))
        return sum(w * op(x) for w, op in zip(weights, self.ops))


class SearchCell(nn.Module):
    def __init__(self, layout: ArchLayout, c_in: int, channels: int) -> None:
        super().__init__()
        self.layout = layout
        k = layout.blocks
        self.blocks = nn.ModuleList([ChoiceBlock(channels) for _ in range(k)])
        self.projections = nn.ModuleList([conv_bn_relu(c_in, channels, 1) for _ in range(k)])
        self.output_projection = conv_bn_relu(c_in, channels * k, 1)

    def forward(self, s0: torch.Tensor, weights: torch.Tensor, chosen: Sequence[int] | None) -> torch.Tensor:
        layout, states = self.layout, []
        for b, (block, projection) in enumerate(zip(self.blocks, self.projections)):
            node = b + 1
            inputs = [projection(s0), *states]
            if node in layout.searched_nodes:
                row = weights[layout.input_row(node)]
                inputs = [w * t for w, t in zip(row, inputs)]
            states.append(block(sum(inputs), weights[b], None if chosen is None else chosen[b]))
        out_w = weights[layout.output_row]
        return out_w[0] * self.output_projection(s0) + torch.cat([w * s for w, s in zip(out_w[1:], states)], dim=1)


class NB1shot1Supernet(nn.Module):
    """The one-shot model of NAS-Bench-1shot1 space ``space`` (module docstring)."""

    def __init__(self, space: int, num_classes: int, channels: int = 16, layers: int = 9,
                 generator: torch.Generator | int = 0) -> None:
        super().__init__()
        if not isinstance(generator, torch.Generator):
            generator = torch.Generator().manual_seed(int(generator))
        self.layout = ArchLayout(space)
        k = self.layout.blocks
        self.downsample_at = (layers // 3, 2 * layers // 3)
        with torch.device("meta"):  # initialised from ``generator`` alone, not the global RNG
            self.stem = conv_bn_relu(3, channels, 3)
            cells, c_prev, c_curr = [], channels, channels
            for i in range(layers):
                if i in self.downsample_at:
                    c_curr *= 2
                cells.append(SearchCell(self.layout, c_prev if i == 0 else c_prev * k, c_curr))
                c_prev = c_curr
            self.cells = nn.ModuleList(cells)
            self.pool = nn.MaxPool2d(2, 2, padding=1)
            self.postprocess = nn.Sequential(nn.ReLU(), nn.Conv2d(c_prev * k, c_curr, 1, bias=False),
                                             nn.BatchNorm2d(c_curr, affine=False))
            self.classifier = nn.Linear(c_prev, num_classes)
        self.to_empty(device="cpu")
        init_from(self, generator)

    def forward(self, x: torch.Tensor, weights: torch.Tensor, chosen: Sequence[int] | None = None) -> torch.Tensor:
        s0 = self.stem(x)
        for i, cell in enumerate(self.cells):
            if i in self.downsample_at:
                s0 = self.pool(s0)
            s0 = cell(s0, weights, chosen)
        s0 = self.postprocess(s0)
        return self.classifier(s0.mean(dim=(2, 3)))

