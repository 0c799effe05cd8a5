"""The DARTS CNN space plug-in (:class:`spaces.base.SearchSpace`), benchmarked by NAS-Bench-301.

Architectures are :class:`~spaces.darts.genotype.Genotype` values; the one-shot strategies
train :class:`~spaces.darts.supernet.DartsSupernet` with architecture parameters of shape
[2, 14, 8] (normal and reduction cell, ``none`` first) and derive with the standard rule
(per node the 2 strongest incoming edges by their best non-``none`` op) from the
distribution's expected edge weights: softmax(alpha) for DARTS and GDAS, softmax(mu) for
BaLeNAS, the Dirichlet mean for DrNAS.

Scales (``cells_per_stage`` N gives 3N + 2 cells, reductions at 1/3 and 2/3):

* ``paper``: the DARTS search protocol (ALGORITHMS.md "Search defaults"): 8 cells (N = 2),
  C = 16, 32x32, all 25k/25k images, batch 64, weight decay 3e-4, and each strategy's own
  epochs (50 for the gradient methods; BayesNAS's published warm-up + one joint epoch);
* ``cpu``: what fits one search in minutes on one core, so that 4 seeds of every one-shot
  strategy run in about an hour on 2 cores (docs/darts_space.md has the measurements):
  5 cells (N = 1), C = 8, 8x8 images, 30 + 30 images per class, batch 32, 10 epochs:
  10 x 10 = 100 steps, the Hessian probed at epochs 5 and 10 (the probe costs about as much
  as the epochs of a first-order search);
* ``smoke``: seconds, for tests and the quickstart.

BayesNAS's ``switch_init`` defaults to 1.0 here, the original initialisation: DARTS cells
renormalise their inputs, so the 0.2 that NB201's cells need (``strategies/bayesnas.py``) is not.
The space says so through its switch-walk capability (``DartsSwitchWalks.switch_init``), not
in these presets: a preset holds sizes, never one strategy's settings.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from spaces import register_space
from spaces.base import Benchmark, Capability, SearchSpace
from spaces.darts import genotype as _genotype
from spaces.darts.benchmark import DATASETS
from spaces.darts.genotype import EDGES, OPS, Genotype
from spaces.darts.nb301 import FINAL_EPOCH

SCALES: dict[str, dict[str, Any]] = {
    "paper": {"channels": 16, "cells_per_stage": 2, "image_size": 32, "per_class": None, "batch_size": 64,
              "w_weight_decay": 3e-4},
    "cpu": {"channels": 8, "cells_per_stage": 1, "image_size": 8, "per_class": 30, "batch_size": 32,
            "epochs": 10, "w_weight_decay": 3e-4},
    "smoke": {"channels": 4, "cells_per_stage": 1, "image_size": 8, "per_class": 10, "batch_size": 16,
              "epochs": 2, "w_weight_decay": 3e-4},
}


@register_space("darts")
class DartsSpace(SearchSpace):
    """The DARTS cell space (normal + reduction cell, 4 nodes, 8 ops), about 10^18 genotypes."""

    name = "darts"
    benchmark_name = "NAS-Bench-301 surrogate (YAHPO Gym v2, ONNX; predicted validation accuracy)"
    measure = ("NAS-Bench-301 surrogate-predicted validation accuracy (%) of the final genotype at epoch 98 (not a "
               "measured accuracy; the surrogate has no test split, hence '–')")
    datasets = DATASETS
    fidelities = (FINAL_EPOCH,)
    default_epochs = FINAL_EPOCH
    timed_epochs = FINAL_EPOCH
    arch_shape = (2, len(EDGES), len(OPS))
    scales = SCALES
    ops = OPS

    def sample(self, rng: np.random.Generator) -> Genotype:
        return _genotype.sample(rng)

    def mutate(self, arch: Genotype, rng: np.random.Generator) -> Genotype:
        return _genotype.mutate(arch, rng)

    def neighbours(self, arch: Genotype) -> list[Genotype]:
        return _genotype.neighbours(arch)

    def from_str(self, text: str) -> Genotype:
        return Genotype.from_str(text)

    def canonical(self, arch: Genotype) -> Genotype:
        return _genotype.canonical(arch)

    def is_member(self, arch: object) -> bool:
        return isinstance(arch, Genotype)

    def make_supernet(self, num_classes: int, channels: int, cells_per_stage: int, impl: str, generator: Any) -> Any:
        from spaces.darts.supernet import DartsSupernet

        return DartsSupernet(num_classes, channels, 3 * cells_per_stage + 2, generator=generator, impl=impl)

    def capabilities(self) -> tuple[Capability, ...]:
        from spaces.darts.capabilities import darts_capabilities

        return darts_capabilities()

    def derive(self, distribution: Any) -> Genotype:
        """The standard DARTS rule on the distribution's expected edge weights (BayesNAS derives
        through its switch walk instead)."""
        weights = distribution.expected_weights().detach().cpu().numpy()
        return _genotype.derive(weights[0], weights[1])

    def derive_from_alpha(self, alpha: Any) -> Genotype:
        """The standard rule on softmax(alpha), as the DARTS repository derives its genotype."""
        import torch

        weights = torch.softmax(alpha.detach().float(), dim=-1).cpu().numpy()
        return _genotype.derive(weights[0], weights[1])

    def proxy_network(self, arch: Genotype, init_seed: int, num_classes: int) -> Any:
        """The evaluation network at search width and depth (C=16, 8 cells), seeded by ``init_seed``."""
        from spaces.darts.network import proxy_network

        return proxy_network(arch, init_seed, num_classes)

    def skip_connections(self, arch: Genotype) -> int:
        """Skip connections in the *normal* cell (of its 8 ops): the paper's Figure 2 for this space."""
        return sum(op == "skip_connect" for op, _ in arch.normal)

    def bench_commands(self) -> tuple[Any, ...]:
        from spaces.darts import bench_nb301, bench_supernet

        return (bench_supernet.COMMAND, bench_nb301.COMMAND)

    def data_status(self, data_dir: str | None = None) -> list[str]:
        from nas_core.paths import DataNotFoundError
        from spaces.darts.nb301 import locate

        try:
            return [f"nb301 surrogate:      {locate(data_dir)}"]
        except DataNotFoundError as exc:
            return [f"nb301 surrogate:      not found ({str(exc).splitlines()[0]})"]

    def open_benchmark(self, choice: str = "auto", data_dir: str | None = None) -> Benchmark:
        from spaces.darts.benchmark import NB301Benchmark

        return NB301Benchmark(data_dir)
