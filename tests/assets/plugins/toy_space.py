"""A whole search space in one plugin file, outside the package: the proof that a space is one package.

``toy``: a cell of three edges (0->1, 0->2, 1->2), each one of ``none``, ``skip_connect`` or
``conv_3x3``: 27 architectures. Its benchmark is synthetic (an accuracy formula, no data), its
supernet a small real network on images, so every black-box and one-shot strategy whose
capabilities it meets can search it. docs/adding_a_space.md walks through this file.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from spaces import register_space
from spaces.base import Benchmark, Capability, DenseEdgeRows, FlagSealed, ProxyNetworks, SearchSpace

OPS = ("none", "skip_connect", "conv_3x3")
EDGES = ((1, 0), (2, 0), (2, 1))  # (to, from)
SIZE = len(OPS) ** len(EDGES)


@dataclass(frozen=True)
class ToyArch:
    """A frozen, hashable architecture: one op index per edge."""

    ops: tuple[int, int, int]

    def __post_init__(self) -> None:
        if len(self.ops) != len(EDGES) or not all(isinstance(o, int) and 0 <= o < len(OPS) for o in self.ops):
            raise ValueError(f"a toy architecture has {len(EDGES)} ops in 0..{len(OPS) - 1}, got {self.ops!r}")

    def to_str(self) -> str:
        return "toy:" + "-".join(OPS[o] for o in self.ops)

    def count(self, op: str) -> int:
        return sum(OPS[o] == op for o in self.ops)


class ToyBenchmark(FlagSealed, Benchmark):
    """Accuracy from a formula: convolutions help, a cell whose output node is cut off is poor.
    The seal (``FlagSealed``) makes a test-split read fail while a search runs."""

    kind = "tabular"
    timed_epochs = 10

    def _accuracy(self, arch: ToyArch) -> float:
        reachable = arch.ops[2] != 0 or (arch.ops[1] != 0)
        return 30.0 + (25.0 * reachable) + 9.0 * arch.count("conv_3x3") + 2.5 * arch.count("skip_connect")

    def query(self, arch: Any, dataset: str, split: Any = "valid", epochs: int | None = None) -> float:
        if str(getattr(split, "value", split)) == "test" and self.is_sealed:
            raise RuntimeError("the toy benchmark's test split is sealed while a search runs")
        return self._accuracy(arch) + (1.0 if str(getattr(split, "value", split)) == "test" else 0.0)

    def train_time(self, arch: Any, dataset: str) -> float:
        return 10.0 + 20.0 * arch.count("conv_3x3")

    def final_evaluation(self, arch: Any, dataset: str) -> dict[str, Any]:
        return {"arch": arch.to_str(), "arch_index": int(np.ravel_multi_index(arch.ops, (3, 3, 3))),
                "valid_acc": self._accuracy(arch), "test_acc": self._accuracy(arch) + 1.0,
                "params_M": 0.001 * arch.count("conv_3x3"), "flops_M": None, "train_time_s": self.train_time(arch, dataset)}

    def provenance(self) -> dict[str, Any]:
        return {"benchmark": {"name": "toy", "kind": self.kind, "formula": "30 + 25 reachable + 9 conv + 2.5 skip"}}

    def own_seal(self) -> "ToyBenchmark":
        return ToyBenchmark()


def _supernet_class() -> type:
    """The supernet, defined on first use so that listing the space does not import torch."""
    import torch
    from torch import nn

    class ToySupernet(nn.Module):
        """stem conv -> a cell of three mixed edges -> global pool -> linear; every op on every edge
        (or, with ``chosen``, only the chosen op), weighted by the edge weights [3, 3]."""

        def __init__(self, num_classes: int, channels: int, generator: torch.Generator) -> None:
            super().__init__()
            with torch.device("meta"):  # then initialised from ``generator`` alone, never torch's global RNG
                self.stem = nn.Conv2d(3, channels, 3, padding=1, bias=False)
                self.convs = nn.ModuleList(nn.Conv2d(channels, channels, 3, padding=1) for _ in EDGES)
                self.classifier = nn.Linear(channels, num_classes)
            self.to_empty(device="cpu")
            for module in (self.stem, *self.convs, self.classifier):
                bound = 1 / math.sqrt(module.weight[0].numel())
                with torch.no_grad():
                    module.weight.copy_((torch.rand(module.weight.shape, generator=generator) * 2 - 1) * bound)
                    if module.bias is not None:
                        module.bias.copy_((torch.rand(module.bias.shape, generator=generator) * 2 - 1) * bound)

        def _op(self, k: int, e: int, x: torch.Tensor) -> torch.Tensor:
            if k == 0:  # none: zeros, still weighted, so a pass of chosen ``none`` ops has a gradient (of 0)
                return torch.zeros_like(x)
            return x if k == 1 else torch.relu(self.convs[e](x))

        def forward(self, x: torch.Tensor, weights: torch.Tensor, chosen: list[int] | None = None) -> torch.Tensor:
            nodes = [torch.relu(self.stem(x))]
            for node in (1, 2):
                total = torch.zeros_like(nodes[0])
                for e, (to, src) in enumerate(EDGES):
                    if to != node:
                        continue
                    for k in range(len(OPS)):
                        if chosen is None or k == chosen[e]:  # with ``chosen``, only the chosen op is computed
                            total = total + weights[e, k] * self._op(k, e, nodes[src])
                nodes.append(total)
            return self.classifier(nodes[2].mean(dim=(2, 3)))

    return ToySupernet


def _proxy_network(arch: ToyArch, init_seed: int, num_classes: int) -> Any:
    """The standalone network of ``arch``: the supernet with one-hot edge weights fixed."""
    import torch
    from torch import nn

    supernet = _supernet_class()(num_classes, 8, torch.Generator().manual_seed(init_seed))
    weights = torch.nn.functional.one_hot(torch.tensor(arch.ops), len(OPS)).float()

    class Standalone(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = supernet

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.net(x, weights, list(arch.ops))

    return Standalone().train()


PRESET = {"channels": 4, "cells_per_stage": 1, "image_size": 8, "per_class": 4, "batch_size": 16, "epochs": 2}


@register_space("toy")
class ToySpace(SearchSpace):
    benchmark_name = "toy formula (synthetic)"
    measure = "Toy-formula accuracy (%) of the final cell (synthetic: 30 + 25 reachable + 9 conv + 2.5 skip)"
    datasets = ("cifar10",)
    fidelities = (10,)
    default_epochs = 10
    timed_epochs = 10
    arch_shape = (len(EDGES), len(OPS))
    scales = {"paper": dict(PRESET), "cpu": dict(PRESET), "smoke": dict(PRESET)}

    def sample(self, rng: np.random.Generator) -> ToyArch:
        return ToyArch(tuple(int(o) for o in rng.integers(len(OPS), size=len(EDGES))))

    def mutate(self, arch: ToyArch, rng: np.random.Generator) -> ToyArch:
        e = int(rng.integers(len(EDGES)))
        ops = list(arch.ops)
        ops[e] = int((ops[e] + 1 + rng.integers(len(OPS) - 1)) % len(OPS))
        return ToyArch(tuple(ops))

    def neighbours(self, arch: ToyArch) -> list[ToyArch]:
        return [ToyArch(arch.ops[:e] + (o,) + arch.ops[e + 1:]) for e in range(len(EDGES)) for o in range(len(OPS))
                if o != arch.ops[e]]

    def from_str(self, text: str) -> ToyArch:
        if not text.startswith("toy:"):
            raise ValueError(f"not a toy architecture: {text!r}")
        return ToyArch(tuple(OPS.index(name) for name in text[4:].split("-")))

    def is_member(self, arch: object) -> bool:
        return isinstance(arch, ToyArch)

    def make_supernet(self, num_classes: int, channels: int, cells_per_stage: int, impl: str, generator: Any) -> Any:
        return _supernet_class()(num_classes, channels, generator)

    def derive(self, distribution: Any) -> ToyArch:
        return self.derive_from_alpha(distribution.selection_alpha())

    def derive_from_alpha(self, alpha: Any) -> ToyArch:
        return ToyArch(tuple(int(i) for i in alpha.argmax(dim=-1)))

    def proxy_network(self, arch: ToyArch, init_seed: int, num_classes: int) -> Any:
        return _proxy_network(arch, init_seed, num_classes)

    def capabilities(self) -> tuple[Capability, ...]:
        return (DenseEdgeRows(), ProxyNetworks())

    def open_benchmark(self, choice: str = "auto", data_dir: str | None = None) -> Benchmark:
        return ToyBenchmark()

    def data_status(self, data_dir: str | None = None) -> list[str]:
        return ["toy: synthetic formula, no data needed"]
