"""What the NB201 space provides to strategies (:mod:`spaces.capabilities`), built without torch.

* :class:`NB201SwitchWalks`: BayesNAS's switch walk over the NB201 supernet
  (:mod:`spaces.nb201.switches`); one cell kind (every search cell shares the switch groups)
  and the derivation that drops an edge whose parent is pruned (``none`` is an NB201 op);
* :class:`NB201Graphs`: whole supernet passes captured in CUDA graphs, optionally with
  ``torch.compile``d fast cells;
* :class:`NB201ProxyIndex`: the 15,625-cell lexicographic index, the scoring network that
  switches cells, and :func:`spaces.nb201.canonical.pruned` as the scoring key;
* :class:`NB201PartialChannels`: partial-channel cells for progressive DrNAS;
* :class:`spaces.capabilities.DenseEdgeRows`: every edge row holds all five ops.
"""
from __future__ import annotations

import contextlib
from typing import Any, ContextManager, Iterator

from spaces.capabilities import (AuthorsSupernet, Capability, CudaGraphCapture, DenseEdgeRows, PartialChannels, ProxyIndex, ProxyNetworks,
                                 SwitchScores, SwitchWalks)
from spaces.nb201 import codec

NONE = 0


class NB201SwitchWalks(SwitchWalks):
    prunes_edges = True
    #: NB201 cells feed each other directly and sum every edge: 1/5 keeps the activations bounded
    #: (strategies/bayesnas.py's docstring has the measurement)
    switch_init = 0.2

    def walk(self, supernet: Any, parent_at: str) -> Any:
        from spaces.nb201.switches import SwitchedSupernet

        return SwitchedSupernet(supernet, parent_at)

    def cell_kinds(self, supernet: Any) -> list[int]:
        from spaces.nb201.supernet import SearchCell

        return [0 for layer in supernet.layers if isinstance(layer, SearchCell)]

    def derive(self, scores: SwitchScores) -> codec.Arch:
        """Per edge: ``none`` when the parent's gamma is below the threshold or every child score
        is 0; otherwise the op with the largest child score (``none`` scores 0)."""
        child, gamma_parent = scores.child[0], scores.gamma_parent[0]
        ops = []
        for e in range(len(codec.EDGES)):
            pruned = float(gamma_parent[e]) < scores.prune_threshold or float(child[e].max()) <= 0
            ops.append(NONE if pruned else int(child[e].argmax()))
        return codec.Arch(tuple(ops))


class NB201Graphs(CudaGraphCapture):
    def __init__(self) -> None:
        self._compiled: Any = None

    def compiled_cells(self) -> ContextManager[None]:
        """Fast cells through one ``torch.compile``d function (compiled once per process)."""
        return self._running_compiled()

    @contextlib.contextmanager
    def _running_compiled(self) -> Iterator[None]:
        import torch

        from spaces.nb201.supernet import cells_running, fast_cell

        if self._compiled is None:
            self._compiled = torch.compile(fast_cell, dynamic=False)
        with cells_running(self._compiled):
            yield


class NB201ProxyIndex(ProxyIndex):
    key = "nb201"
    size = codec.N_CELLS

    def arch_of(self, index: int) -> codec.Arch:
        return codec.Arch.from_lex_index(int(index))

    def index_of(self, arch: codec.Arch) -> int:
        return arch.lex_index

    def scoring_key(self, arch: codec.Arch) -> codec.Arch:
        from spaces.nb201.canonical import pruned

        return pruned(arch)

    def scoring_network(self, arch: codec.Arch, num_classes: int, init_seed: int, channels: int,
                        cells_per_stage: int) -> Any:
        from spaces.nb201.network import build_proxy_network

        return build_proxy_network(arch, num_classes, init_seed, channels, cells_per_stage)

    #: the zero-cost proxies paper (Abdelfattah et al. 2021), all cells, test accuracy
    published_spearman = {
        "synflow": {"cifar10": 0.74, "cifar100": 0.76, "ImageNet16-120": 0.75},
        "jacob_cov": {"cifar10": 0.73, "cifar100": 0.70, "ImageNet16-120": 0.70},
        "snip": {"cifar10": 0.60, "cifar100": 0.64, "ImageNet16-120": 0.58},
        "grasp": {"cifar10": 0.51, "cifar100": 0.55, "ImageNet16-120": 0.55},
        "grad_norm": {"cifar10": 0.59, "cifar100": 0.64, "ImageNet16-120": 0.58},
    }

    def accuracies(self, dataset: str, split: str, data_dir: str | None = None) -> Any:
        """The imported NB201 table's column in lexicographic cell order (a missing table is an error naming it)."""
        from spaces.nb201.table import load_table

        table = load_table(data_dir)
        order = table.indices_of([codec.Arch.from_lex_index(i) for i in range(codec.N_CELLS)])
        return table.column(dataset, split)[order]


class NB201PartialChannels(PartialChannels):
    n_ops = codec.N_OPS

    def make_supernet(self, num_classes: int, channels: int, cells_per_stage: int, impl: str, generator: Any,
                      k: int) -> Any:
        from spaces.nb201.supernet import Supernet

        return Supernet(num_classes, channels, cells_per_stage, impl, generator, partial_k=k)

    def stage_widths(self, channels: int) -> tuple[int, ...]:
        return (channels, 2 * channels, 4 * channels)


class XautodlSupernet(AuthorsSupernet):
    """``TinyNetworkDarts`` of xautodl 1.0.0 (the NB201 authors' AutoDL-Projects), as published:
    the DARTS supernet of the NB201 search protocol, no affine BN, running statistics tracked off."""

    package = "xautodl"
    label = "NB201 authors' supernet (xautodl)"
    install = "pip install --no-deps xautodl==1.0.0"

    def build(self, num_classes: int, channels: int, cells_per_stage: int,
              device: Any = "cpu") -> tuple[Any, list[Any], list[Any]]:
        from xautodl.models.cell_operations import NAS_BENCH_201
        from xautodl.models.cell_searchs import TinyNetworkDarts

        model = TinyNetworkDarts(channels, cells_per_stage, 4, num_classes, NAS_BENCH_201, False, False).to(device)
        return (lambda x: model(x)[1]), model.get_weights(), model.get_alphas()


def nb201_capabilities() -> tuple[Capability, ...]:
    return (NB201SwitchWalks(), NB201Graphs(), NB201ProxyIndex(), NB201PartialChannels(), DenseEdgeRows(),
            ProxyNetworks(), XautodlSupernet())
