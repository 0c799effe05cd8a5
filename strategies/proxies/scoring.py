"""Score the cells of an indexed space with a proxy: the straightforward reference and the fast path.

Both build the same network, the space's :meth:`spaces.base.ProxyIndex.scoring_network` (NB201:
every op instantiated on every edge, so under one seed each (cell, edge, op) position gets the
same initial weights whatever the arch). That makes one network (or one synflow copy) serve
every cell:

* :func:`reference_score` -- what the reference code does per cell: build the network, run
  the proxy (for synflow: deep-copy, strip BN, |.|, float64, forward/backward);
* :class:`CellScorer` -- builds the network once and switches its arch per cell; synflow's
  float64 |.| copy is made once too. Cells are scored as their scoring key (NB201: dead edges
  set to ``none``), which changes no score of a pruned-invariant proxy and skips dead work.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import torch

from spaces.base import ProxyIndex
from spaces.datasets import dataset_info
from strategies.proxies.registry import get_proxy

#: bump when a proxy's computation changes: it is part of every score-cache key
SCORING_VERSION = 1


@dataclass(frozen=True)
class ScoringSetup:
    """Everything a proxy score depends on besides the cell."""

    proxy: str
    dataset: str
    init_seed: int = 0
    batch_seed: int = 0
    batch_size: int = 64
    data_dir: str | None = None
    #: network size; ``None``: the space's scoring network default (ProxyIndex.default_size)
    channels: int | None = None
    cells_per_stage: int | None = None

    @property
    def input_shape(self) -> tuple[int, int, int]:
        size = dataset_info(self.dataset).image_size
        return (3, size, size)

    @property
    def num_classes(self) -> int:
        return dataset_info(self.dataset).num_classes

    def network_size(self, index: ProxyIndex) -> tuple[int, int]:
        """(channels, cells per stage) of the scoring network: the setup's, else the space's default."""
        channels, cells = index.default_size
        return (self.channels or channels, self.cells_per_stage or cells)

    def cache_name(self, index: ProxyIndex) -> str:
        """Cache file name: proxy, dataset, input shape, seeds, batch size, scoring version (and the
        network size where it is not the space's default)."""
        shape = "x".join(map(str, self.input_shape))
        batch = f"__b{self.batch_seed}-{self.batch_size}" if get_proxy(self.proxy).needs_data else ""
        channels, cells = self.network_size(index)
        size = "" if (channels, cells) == tuple(index.default_size) else f"__C{channels}N{cells}"
        return f"{self.proxy}__{self.dataset}__{shape}{size}__i{self.init_seed}{batch}__v{SCORING_VERSION}"


def proxy_batch(setup: ScoringSetup) -> tuple[torch.Tensor, torch.Tensor]:
    """The fixed batch: real images for data-dependent proxies, a shape-only stand-in for synflow."""
    if not get_proxy(setup.proxy).needs_data:
        return torch.zeros((1, *setup.input_shape)), torch.zeros(1, dtype=torch.long)
    return _cached_batch(setup.dataset, setup.batch_size, setup.batch_seed, setup.data_dir)


@lru_cache(maxsize=4)
def _cached_batch(dataset: str, batch_size: int, seed: int, data_dir: str | None) -> tuple[torch.Tensor, torch.Tensor]:
    from spaces.augment import fixed_batch

    return fixed_batch("cifar10" if dataset == "cifar10-valid" else dataset, batch_size, seed, data_dir)


def reference_score(arch: Any, setup: ScoringSetup, index: ProxyIndex) -> float:
    """One cell at a time, from scratch, exactly as the reference pipeline does."""
    network = index.scoring_network(arch, setup.num_classes, setup.init_seed, *setup.network_size(index))
    return get_proxy(setup.proxy).fn(network, proxy_batch(setup))


class CellScorer:
    """Scores many cells of one setup, reusing one network (and one synflow copy)."""

    def __init__(self, setup: ScoringSetup, index: ProxyIndex) -> None:
        self.setup, self.index = setup, index
        self.spec = get_proxy(setup.proxy)
        self.batch = proxy_batch(setup)
        self.network = index.scoring_network(index.arch_of(0), setup.num_classes, setup.init_seed,
                                             *setup.network_size(index))
        self._synflow: Any = None
        if setup.proxy == "synflow":
            from strategies.proxies.measures import scored_layers, synflow_copy

            self._synflow = synflow_copy(self.network)
            self._synflow_weights = [m.weight for m in scored_layers(self._synflow)]
            self._ones = torch.ones((1, *setup.input_shape), dtype=torch.float64)

    def key_of(self, arch: Any) -> Any:
        """The cell actually scored: the index's scoring key for pruned-invariant proxies."""
        return self.index.scoring_key(arch) if self.spec.pruned_invariant else arch

    def score(self, arch: Any) -> float:
        arch = self.key_of(arch)
        if self._synflow is not None:
            return self._fast_synflow(arch)
        self.network.set_arch(arch)
        return self.spec.fn(self.network, self.batch)

    def _fast_synflow(self, arch: Any) -> float:
        self._synflow.set_arch(arch)
        output = self._synflow(self._ones).sum()
        grads = torch.autograd.grad(output, self._synflow_weights, allow_unused=True)
        total = torch.zeros((), dtype=torch.float64)
        for weight, grad in zip(self._synflow_weights, grads):
            if grad is not None:
                total += (weight.detach() * grad).abs().sum()
        return float(total)
