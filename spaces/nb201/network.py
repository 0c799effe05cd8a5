"""The standalone NAS-Bench-201 network built from an ``Arch`` (ALGORITHMS.md, "Macro skeleton").

stem Conv3x3(3->C, no bias)+BN; three stages of N cells at C, 2C, 4C channels joined by
residual reduction blocks (ReLU-Conv3x3/2-BN, ReLU-Conv3x3-BN, shortcut AvgPool(2)->Conv1x1);
head BN->ReLU->global average pool->Linear. Two cell flavours:

* ``standalone`` (default): cell convs without bias, BN affine with running stats -- the
  network the NB201 tables were trained with; its parameter count equals the tables' ``params``;
* ``proxy``: the zero-cost scoring network -- cell convs with bias, BN ``affine=False`` and
  ``track_running_stats=False`` (ALGORITHMS.md, "Zero-cost proxies, Setup").

``cell_bn=False`` replaces the BNs inside cells by identity and ``outer_bn=False`` those of the
stem and the head; the reduction blocks always keep theirs (synflow's copy, see
:mod:`strategies.proxies`). Parameter names do not depend on these switches, so a state dict
moves between the variants with ``strict=False``.

``all_ops=True`` instantiates all five ops on every edge and uses the arch's one, as the
zero-cost reference network does. That makes the random initial weights of each (cell, edge,
op) position the same for every arch under one seed, so scores of different cells are
comparable and one set of weights can score the whole space.
Importing this module imports torch; the codec and tables never do.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from spaces.nb201.codec import EDGES, OPS, Arch


@dataclass(frozen=True)
class CellFlavour:
    conv_bias: bool
    affine: bool
    track_running_stats: bool


STANDALONE = CellFlavour(conv_bias=False, affine=True, track_running_stats=True)
PROXY = CellFlavour(conv_bias=True, affine=False, track_running_stats=False)
FLAVOURS = {"standalone": STANDALONE, "proxy": PROXY}


class ReLUConvBN(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, conv_bias: bool, bn: nn.Module) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=conv_bias),
            bn,
        )


def _bn(channels: int, flavour: CellFlavour, enabled: bool = True) -> nn.Module:
    if not enabled:
        return nn.Identity()
    return nn.BatchNorm2d(channels, affine=flavour.affine, track_running_stats=flavour.track_running_stats)


class Zero(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


def make_op(name: str, channels: int, flavour: CellFlavour, cell_bn: bool) -> nn.Module:
    if name == "none":
        return Zero()
    if name == "skip_connect":
        return nn.Identity()
    if name == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1, 1, flavour.conv_bias, _bn(channels, flavour, cell_bn))
    if name == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3, 1, flavour.conv_bias, _bn(channels, flavour, cell_bn))
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise ValueError(f"unknown op {name!r}; expected one of {list(OPS)}")


class Cell(nn.Module):
    """node_j = sum_{i<j} op_{j<-i}(node_i); output node 3."""

    def __init__(self, arch: Arch, channels: int, flavour: CellFlavour, cell_bn: bool, all_ops: bool = False) -> None:
        super().__init__()
        if all_ops:
            self.edges = nn.ModuleList(make_op(name, channels, flavour, cell_bn) for _ in EDGES for name in OPS)
            self.chosen = [e * len(OPS) + op for e, op in enumerate(arch.ops)]
        else:
            self.edges = nn.ModuleList(make_op(name, channels, flavour, cell_bn) for name in arch.op_names())
            self.chosen = list(range(len(EDGES)))

    def set_arch(self, arch: Arch) -> None:
        """Switch which op of each edge is used (``all_ops`` cells only)."""
        if len(self.edges) != len(EDGES) * len(OPS):
            raise ValueError("only a cell built with all_ops=True can change its arch")
        self.chosen = [e * len(OPS) + op for e, op in enumerate(arch.ops)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for node in (1, 2, 3):
            nodes.append(sum(self.edges[self.chosen[e]](nodes[src]) for e, (dst, src) in enumerate(EDGES) if dst == node))
        return nodes[3]


class ResidualReduction(nn.Module):
    """NB201's ResNetBasicblock with stride 2; always affine BN, convs without bias."""

    #: synflow's BN-free copy keeps these BNs, as the zero-cost reference does
    synflow_keeps_bn = True

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, 2, False, nn.BatchNorm2d(c_out))
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1, False, nn.BatchNorm2d(c_out))
        self.downsample = nn.Sequential(nn.AvgPool2d(2, stride=2, padding=0), nn.Conv2d(c_in, c_out, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.downsample(x) + self.conv_b(self.conv_a(x))


def macro_layers(channels: int, cells_per_stage: int, make_cell: Callable[[int], nn.Module]) -> tuple[list[nn.Module], int]:
    """The three stages of ``cells_per_stage`` cells at C, 2C, 4C joined by residual reductions;
    returns the layers and the final channel count. Shared by the standalone network and the supernet."""
    layers: list[nn.Module] = []
    c = channels
    for stage in range(3):
        if stage > 0:
            layers.append(ResidualReduction(c, 2 * c))
            c *= 2
        layers += [make_cell(c) for _ in range(cells_per_stage)]
    return layers, c


class NB201Network(nn.Module):
    def __init__(self, arch: Arch, num_classes: int = 10, channels: int = 16, cells_per_stage: int = 5,
                 flavour: str = "standalone", cell_bn: bool = True, outer_bn: bool = True, all_ops: bool = False) -> None:
        super().__init__()
        if flavour not in FLAVOURS:
            raise ValueError(f"unknown network flavour {flavour!r}; expected one of {list(FLAVOURS)}")
        kind = FLAVOURS[flavour]
        self.arch, self.num_classes = arch, num_classes
        stem_bn = [nn.BatchNorm2d(channels)] if outer_bn else []
        self.stem = nn.Sequential(nn.Conv2d(3, channels, 3, padding=1, bias=False), *stem_bn)
        layers, c = macro_layers(channels, cells_per_stage, lambda width: Cell(arch, width, kind, cell_bn, all_ops))
        self.cells = nn.Sequential(*layers)
        self.head_bn = nn.Sequential(*([nn.BatchNorm2d(c)] if outer_bn else []), nn.ReLU(inplace=False))
        self.classifier = nn.Linear(c, num_classes)

    def set_arch(self, arch: Arch) -> None:
        """Use ``arch`` from now on (``all_ops`` networks: the weights of every op stay as they are)."""
        for cell in self.cells:
            if isinstance(cell, Cell):
                cell.set_arch(arch)
        self.arch = arch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.head_bn(self.cells(self.stem(x)))
        return self.classifier(features.mean(dim=(2, 3)))


def build_proxy_network(arch: Arch, num_classes: int, seed: int, channels: int = 16, cells_per_stage: int = 5) -> NB201Network:
    """The zero-cost scoring network (all ops instantiated) with PyTorch's default init drawn
    under ``seed``; the global RNG is left as it was."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        network = NB201Network(arch, num_classes, channels, cells_per_stage, flavour="proxy", all_ops=True)
    return network.train()


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
