"""The DARTS evaluation network (``NetworkCIFAR``) for a genotype, and its parameter count.

Why here: the paper's Table 3 reports each found genotype's parameters in the standard
evaluation network (20 cells, C = 36, reductions at 1/3 and 2/3, stem multiplier 3); the count
excludes the auxiliary head, as the DARTS repository's ``count_parameters_in_MB`` does.

Ops (DARTS paper, Sec. 3; evaluation networks use affine BN):

* ``max_pool_3x3`` / ``avg_pool_3x3``: 3x3 pooling, padding 1 (average without the padding);
* ``skip_connect``: identity, or a factorized reduction (two stride-2 1x1 convolutions on
  offset grids, concatenated, then BN) in a reduction cell;
* ``sep_conv_KxK``: (ReLU, depthwise KxK, pointwise 1x1, BN) twice, the first with the stride;
* ``dil_conv_KxK``: ReLU, depthwise KxK with dilation 2, pointwise 1x1, BN.

Each cell preprocesses its two inputs with ReLU-1x1-conv-BN (a factorized reduction for the
input two cells back when the previous cell reduced) and concatenates nodes 2..5.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from spaces.darts.genotype import CONCAT, Genotype


def init_from(module: nn.Module, generator: torch.Generator) -> None:
    """PyTorch's default init (U(+-1/sqrt(fan_in)) for conv/linear weights and biases, BN 1/0),
    drawn from ``generator`` only, in module order."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                bound = 1.0 / math.sqrt(m.weight[0].numel())
                m.weight.uniform_(-bound, bound, generator=generator)
                if m.bias is not None:
                    m.bias.uniform_(-bound, bound, generator=generator)
            elif isinstance(m, nn.BatchNorm2d):
                m.reset_parameters()


class ReLUConvBN(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int, affine: bool = True) -> None:
        super().__init__(nn.ReLU(inplace=False), nn.Conv2d(c_in, c_out, kernel, stride, padding, bias=False),
                         nn.BatchNorm2d(c_out, affine=affine))


class DilConv(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int, dilation: int,
                 affine: bool = True) -> None:
        super().__init__(nn.ReLU(inplace=False),
                         nn.Conv2d(c_in, c_in, kernel, stride, padding, dilation=dilation, groups=c_in, bias=False),
                         nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out, affine=affine))


class SepConv(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int, affine: bool = True) -> None:
        super().__init__(DilConv(c_in, c_in, kernel, stride, padding, 1, affine),
                         DilConv(c_in, c_out, kernel, 1, padding, 1, affine))


class FactorizedReduce(nn.Module):
    def __init__(self, c_in: int, c_out: int, affine: bool = True) -> None:
        super().__init__()
        if c_out % 2:
            raise ValueError(f"FactorizedReduce needs an even output width, got {c_out}")
        self.relu = nn.ReLU(inplace=False)
        self.conv_1 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.conv_2 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.bn = nn.BatchNorm2d(c_out, affine=affine)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        return self.bn(torch.cat([self.conv_1(x), self.conv_2(x[:, :, 1:, 1:])], dim=1))


class Zero(nn.Module):
    """``none``: zeros (strided in a reduction cell)."""

    def __init__(self, stride: int) -> None:
        super().__init__()
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0) if self.stride == 1 else x[:, :, :: self.stride, :: self.stride].mul(0.0)


def make_op(name: str, c: int, stride: int, affine: bool = True) -> nn.Module:
    """One DARTS op on ``c`` channels."""
    if name == "none":
        return Zero(stride)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False)
    if name == "max_pool_3x3":
        return nn.MaxPool2d(3, stride=stride, padding=1)
    if name == "skip_connect":
        return nn.Identity() if stride == 1 else FactorizedReduce(c, c, affine)
    if name.startswith("sep_conv_"):
        k = int(name[-1])
        return SepConv(c, c, k, stride, k // 2, affine)
    if name.startswith("dil_conv_"):
        k = int(name[-1])
        return DilConv(c, c, k, stride, k - 1, 2, affine)
    raise ValueError(f"unknown DARTS op {name!r}")


class EvalCell(nn.Module):
    def __init__(self, genotype: Genotype, c_prev_prev: int, c_prev: int, c: int, reduction: bool,
                 reduction_prev: bool) -> None:
        super().__init__()
        self.preprocess0 = FactorizedReduce(c_prev_prev, c) if reduction_prev else ReLUConvBN(c_prev_prev, c, 1, 1, 0)
        self.preprocess1 = ReLUConvBN(c_prev, c, 1, 1, 0)
        pairs = genotype.reduce if reduction else genotype.normal
        self.inputs = [src for _, src in pairs]
        self.ops = nn.ModuleList(make_op(op, c, 2 if reduction and src < 2 else 1) for op, src in pairs)

    def forward(self, s0: torch.Tensor, s1: torch.Tensor) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for k in range(len(self.ops) // 2):
            a, b = 2 * k, 2 * k + 1
            states.append(self.ops[a](states[self.inputs[a]]) + self.ops[b](states[self.inputs[b]]))
        return torch.cat([states[i] for i in CONCAT], dim=1)


class AuxiliaryHead(nn.Module):
    """The auxiliary classifier on the 8x8 feature map (evaluation training only; not counted)."""

    def __init__(self, c: int, num_classes: int) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.ReLU(inplace=False), nn.AvgPool2d(5, stride=3, padding=0, count_include_pad=False),
            nn.Conv2d(c, 128, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU(inplace=False),
            nn.Conv2d(128, 768, 2, bias=False), nn.BatchNorm2d(768), nn.ReLU(inplace=False))
        self.classifier = nn.Linear(768, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).flatten(1))


def cell_layout(channels: int, layers: int, stem_multiplier: int = 3) -> list[tuple[int, int, int, bool, bool]]:
    """Per cell: (input widths two back and one back, cell width C, reduction?, previous one a
    reduction?) for a network of ``layers`` cells after a stem of ``stem_multiplier * channels``,
    reductions at 1/3 and 2/3 doubling C; a cell outputs ``len(CONCAT) * C`` channels. Shared by
    the evaluation network and the search supernet."""
    layout = []
    c_prev_prev = c_prev = stem_multiplier * channels
    c_curr, reduction_prev = channels, False
    for i in range(layers):
        reduction = i in (layers // 3, 2 * layers // 3)
        c_curr *= 2 if reduction else 1
        layout.append((c_prev_prev, c_prev, c_curr, reduction, reduction_prev))
        c_prev_prev, c_prev, reduction_prev = c_prev, len(CONCAT) * c_curr, reduction
    return layout


class NetworkCIFAR(nn.Module):
    """The evaluation network: stem (3C) -> ``layers`` cells, reductions at 1/3 and 2/3 -> head."""

    def __init__(self, genotype: Genotype, channels: int = 36, num_classes: int = 10, layers: int = 20,
                 auxiliary: bool = False) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 3 * channels, 3, padding=1, bias=False), nn.BatchNorm2d(3 * channels))
        layout = cell_layout(channels, layers)
        self.cells = nn.ModuleList(EvalCell(genotype, *widths) for widths in layout)
        c_aux = len(CONCAT) * layout[2 * layers // 3][2] if layers > 2 * layers // 3 else None
        self.auxiliary = AuxiliaryHead(c_aux, num_classes) if auxiliary and c_aux else None
        self.classifier = nn.Linear(len(CONCAT) * layout[-1][2], num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1)
        return self.classifier(s1.mean(dim=(2, 3)))


def seeded_network(genotype: Genotype, generator: torch.Generator | int, channels: int = 36, num_classes: int = 10,
                   layers: int = 20, auxiliary: bool = False) -> NetworkCIFAR:
    """A :class:`NetworkCIFAR` initialised from ``generator`` alone (built on the meta device, so
    constructing it never reads torch's global RNG)."""
    if not isinstance(generator, torch.Generator):
        generator = torch.Generator().manual_seed(int(generator))
    with torch.device("meta"):
        net = NetworkCIFAR(genotype, channels, num_classes, layers, auxiliary)
    net.to_empty(device="cpu")
    init_from(net, generator)
    return net


def proxy_network(genotype: Genotype, generator: torch.Generator | int = 0, num_classes: int = 10) -> NetworkCIFAR:
    """The network the zero-cost proxies score for a DARTS genotype: the evaluation network at
    the search width and depth (C = 16, 8 cells, no auxiliary head), seeded and in train mode.
    synflow needs no data; snip, grasp and the others take a CIFAR-10 batch."""
    return seeded_network(genotype, generator, 16, num_classes, 8).train()


def param_count(genotype: Genotype, channels: int = 36, layers: int = 20) -> int:
    """Parameters of the evaluation network without the auxiliary head (Table 3's "Params")."""
    with torch.device("meta"):
        net = NetworkCIFAR(genotype, channels, 10, layers, auxiliary=False)
    return sum(p.numel() for p in net.parameters())
