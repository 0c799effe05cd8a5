"""The NAS-Bench-1shot1 space plug-ins ``nb1shot1-1``, ``nb1shot1-2``, ``nb1shot1-3``.

Architectures are :class:`~spaces.nb1shot1.cells.Cell` values, benchmarked by NAS-Bench-101
(:mod:`spaces.nb1shot1.benchmark`). The one-shot strategies train the authors' one-shot model
(:mod:`spaces.nb1shot1.supernet`) with the packed, masked architecture parameters of
:mod:`spaces.nb1shot1.layout` and derive with its rule.

Scales (``cells_per_stage`` N gives 3N cells, down-sampling before cells N and 2N):

* ``paper``: the authors' ``train_search.py`` defaults: 9 cells, C = 16, 32x32, all
  25k/25k images, batch 96, SGD weight decay 3e-4, 50 epochs. Two differences stay, as on the
  DARTS space: the loop's NB201-protocol SGD (nesterov, cosine per step) against their plain
  momentum with cosine per epoch, and the weight step before the architecture step for
  first-order DARTS (the authors' ``architect.step`` runs first);
* ``cpu``: one search on space 3 in minutes on one core (docs/nb1shot1.md has the timings);
* ``smoke``: seconds, for tests.

Zero-cost proxies (and so BaLeNAS-TF's proxy picks) are not available here: they need NB101's
evaluation network, which is not built (its parameter count is, :mod:`spaces.nb101.params`).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from spaces import register_space
from spaces.base import Benchmark, ProxiesUnavailable, SearchSpace
from spaces.nb1shot1 import cells as _cells
from spaces.nb1shot1.cells import OPS, Cell
from spaces.nb1shot1.layout import ArchLayout

SCALES: dict[str, dict[str, Any]] = {
    "paper": {"channels": 16, "cells_per_stage": 3, "image_size": 32, "per_class": None, "batch_size": 96,
              "w_weight_decay": 3e-4, "epochs": 50},
    "cpu": {"channels": 8, "cells_per_stage": 1, "image_size": 8, "per_class": 100, "batch_size": 32,
            "w_weight_decay": 3e-4, "epochs": 20},
    "smoke": {"channels": 4, "cells_per_stage": 1, "image_size": 8, "per_class": 10, "batch_size": 16,
              "w_weight_decay": 3e-4, "epochs": 2},
}


class NB1shot1Space(SearchSpace):
    """One of the three NAS-Bench-1shot1 spaces (subclasses fix the number)."""

    measure = ("NAS-Bench-101 accuracy (%) of the final cell at 108 epochs, from the NB101 data found "
               "(the record's accuracy_source); '(k of n)': only k seeds' cells are in that data, the "
               "others are missing with the reason in their record")

    number: int
    datasets = ("cifar10",)
    fidelities = (108,)
    default_epochs = 108
    timed_epochs = None
    scales = SCALES
    ops = OPS
    benchmark_choices = ("auto", "subset", "none")

    def __init__(self) -> None:
        self.name = f"nb1shot1-{self.number}"
        self.benchmark_name = f"NAS-Bench-101 (NAS-Bench-1shot1 search space {self.number})"
        self.layout = ArchLayout(self.number)
        self.arch_shape = self.layout.shape
        #: the real entries of the packed architecture parameters (the distributions mask the rest)
        self.arch_mask = self.layout.mask

    def sample(self, rng: np.random.Generator) -> Cell:
        return _cells.sample(self.number, rng)

    def mutate(self, arch: Cell, rng: np.random.Generator) -> Cell:
        return _cells.mutate(arch, rng)

    def neighbours(self, arch: Cell) -> list[Cell]:
        return _cells.neighbours(arch)

    def from_str(self, text: str) -> Cell:
        cell = _cells.from_str(text)
        if cell.space != self.number:
            raise ValueError(f"{text!r} is a cell of NAS-Bench-1shot1 space {cell.space}, not {self.number}")
        return cell

    def is_member(self, arch: object) -> bool:
        return isinstance(arch, Cell) and arch.space == self.number

    def make_supernet(self, num_classes: int, channels: int, cells_per_stage: int, impl: str, generator: Any) -> Any:
        from spaces.nb1shot1.supernet import NB1shot1Supernet

        return NB1shot1Supernet(self.number, num_classes, channels, 3 * cells_per_stage, generator=generator)

    def derive(self, distribution: Any) -> Cell:
        return self.layout.derive(distribution.expected_weights().detach().cpu().numpy())

    def derive_from_alpha(self, alpha: Any) -> Cell:
        """The layout's rule on ``alpha`` itself: it reads each row's real entries only, and a
        softmax over them would not change their order."""
        return self.layout.derive(alpha.detach().float().cpu().numpy())

    def proxy_network(self, arch: Cell, init_seed: int, num_classes: int) -> Any:
        raise ProxiesUnavailable(f"zero-cost proxies are not available on {self.name}: NB101's evaluation "
                                 "network is not built (docs/nb1shot1.md)")

    def skip_connections(self, arch: Cell) -> None:
        """NB101 cells have no skip-connection op: the collapse diagnostic does not apply."""
        return None

    def info(self, data_dir: str | None = None, count: bool = False) -> list[str]:
        """The space's definition (blocks, parents per node), its sizes against the paper's, the
        architecture-parameter rows and the NB101 data found; ``count`` hashes every cell."""
        from spaces.nb1shot1.benchmark import open_nb101
        from spaces.nb1shot1.cells import SPACES, raw_size
        from spaces.nb1shot1.cells import count as count_cells

        definition = SPACES[self.number]
        lines = [f"{self.name}: NAS-Bench-1shot1 search space {self.number} (cells of NAS-Bench-101)",
                 f"  choice blocks: {definition.blocks}, ops per block: {', '.join(OPS)}"]
        for node, rule in enumerate(definition.parents, start=1):
            text = f"fixed {list(rule[0])}" if isinstance(rule, tuple) else f"{rule} of {list(range(node))}"
            lines.append(f"  node {node} parents: {text}")
        lines += [f"  output parents: {definition.output_parents} of {list(range(definition.blocks + 1))}",
                  f"  raw configurations: {raw_size(self.number):,} (paper: {definition.paper_size:,})"]
        if count:
            lines.append(f"  distinct NB101 cells: {count_cells(self.number)['distinct_nb101_cells']:,}")
        lines += [f"  architecture parameters: {self.arch_shape} (rows: {self.layout.blocks} mixed ops, the output, "
                  f"the inputs of nodes {list(self.layout.searched_nodes)}); one-shot scales: {', '.join(self.scales)}",
                  f"  NB101 data: {open_nb101('auto', data_dir)[1]}"]
        return lines

    def data_importers(self) -> tuple[Any, ...]:
        from spaces.nb101.data_import import NB101TableImport

        return (NB101TableImport(),)

    def data_status(self, data_dir: str | None = None) -> list[str]:
        from spaces.nb1shot1.benchmark import open_nb101

        return [f"nb101 (nb1shot1-*):   {open_nb101('auto', data_dir)[1]}"]

    def open_benchmark(self, choice: str = "auto", data_dir: str | None = None) -> Benchmark:
        from spaces.nb1shot1.benchmark import NB1shot1Benchmark

        return NB1shot1Benchmark(choice, data_dir, self.number)


@register_space("nb1shot1-1")
class Space1(NB1shot1Space):
    number = 1


@register_space("nb1shot1-2")
class Space2(NB1shot1Space):
    number = 2


@register_space("nb1shot1-3")
class Space3(NB1shot1Space):
    number = 3
