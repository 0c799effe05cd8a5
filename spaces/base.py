"""What a search space plug-in declares, so the harness never needs to know which space it runs.

A space is one object (:class:`SearchSpace`) that the runner, the config checks, the one-shot
loop and the reports ask for everything space-specific:

* the architecture codec: ``sample``, ``mutate``, ``neighbours``, ``from_str`` / ``to_str``,
  ``canonical``, ``is_member``;
* its datasets and fidelities (which ``epochs`` a config may name, and at which one the
  benchmark charges simulated training time);
* the one-shot pieces: the architecture-parameter shape, the supernet, the derivation rule
  and the scale presets;
* its benchmark (:class:`Benchmark`): tabular (NB201), a surrogate (NB301) or train-on-demand,
  opened from the data directory, which answers validation queries during the search and
  produces the record's ``final`` fields after it.

A benchmark that lacks a field (a surrogate has no test split and no index) leaves it ``None``
and the reports print "–". Space-specific machinery a strategy needs (BayesNAS's switch walk,
CUDA-graph capture, a whole-space proxy index, partial-channel cells) is a *capability* the
space provides (:mod:`spaces.capabilities`), looked up by type. Spaces register by name with
:func:`spaces.register_space`, built in or from a plugin file.
"""
from __future__ import annotations

import abc
import contextlib
from typing import Any, Iterator

import numpy as np

from spaces.capabilities import (AuthorsSupernet, C, Capability, CudaGraphCapture, DenseEdgeRows, MissingCapability, PartialChannels,
                                 ProxyIndex, ProxyNetworks, SwitchScores, SwitchWalks, capability_type, describe_missing,
                                 missing, require)

__all__ = ["AuthorsSupernet", "Benchmark", "C", "Capability", "CudaGraphCapture", "DataImporter", "DenseEdgeRows", "FlagSealed",
           "MissingCapability", "PartialChannels", "ProxiesUnavailable", "ProxyIndex", "ProxyNetworks", "SearchSpace",
           "SwitchScores", "SwitchWalks", "capability_type", "describe_missing", "missing", "require"]

class ProxiesUnavailable(ValueError):
    """The space has no network to score zero-cost proxies on (zero-cost NAS, BaLeNAS-TF's picks)."""


class Benchmark(abc.ABC):
    """The search-time oracle's backend and the final evaluation of a found architecture.

    The oracle (:class:`nas_core.problem.TabularOracle`) calls :meth:`query` with the
    validation split and :meth:`train_time` at :attr:`timed_epochs`; nothing a strategy can
    reach returns a test accuracy."""

    #: "tabular", "surrogate" or "train-on-demand"
    kind: str = "tabular"
    #: the fidelity at which a query is charged simulated training seconds (None: never)
    timed_epochs: int | None = None

    @property
    def data_description(self) -> str:
        """One line naming the data this benchmark answers from (a report that joins accuracies
        after the search prints it beside the figure)."""
        return type(self).__name__

    @abc.abstractmethod
    def query(self, arch: Any, dataset: str, split: Any = "valid", epochs: int | None = None) -> float:
        """Accuracy (%) of ``arch``; the validation split is all a search may ask for."""

    def train_time(self, arch: Any, dataset: str) -> float:
        """Simulated seconds one query at :attr:`timed_epochs` costs."""
        return 0.0

    @abc.abstractmethod
    def final_evaluation(self, arch: Any, dataset: str) -> dict[str, Any]:
        """The record's ``final`` fields for the found architecture (read after the search)."""

    def annotate(self, rows: list[dict[str, Any]], dataset: str) -> None:
        """Add the benchmark's figures for each epoch's derived ``genotype`` (after the search, for plots)."""

    @abc.abstractmethod
    def provenance(self) -> dict[str, Any]:
        """Fields merged into the record's provenance (what was queried, its checksum)."""

    def own_seal(self) -> Benchmark:
        """A view whose test-split seal is independent of other runs' (threads share the data)."""
        return self

    @contextlib.contextmanager
    def sealed(self) -> Iterator[None]:
        """While the search runs, test-split reads raise (a benchmark without one has nothing to seal)."""
        yield


class DataImporter(abc.ABC):
    """Builds a space's benchmark data in the user cache (``nas-harness data import``): the CLI
    offers each importer's :attr:`flag` as an option naming the file to import, and runs the
    :attr:`default` importers when no flag is given. Several spaces may share one importer (the
    three NAS-Bench-1shot1 spaces read one NB101 table): importers are told apart by :attr:`key`."""

    #: what it imports (one per distinct importer)
    key: str
    #: the ``data import`` option naming the source file (``--<flag> FILE``); ``None``: no file option
    flag: str | None = None
    #: the option's help
    help: str = ""
    #: whether ``data import`` without any importer's flag runs it
    default: bool = False

    @abc.abstractmethod
    def run(self, source: str | None, data_dir: str | None) -> str:
        """Import ``source`` (or the data folder's files when ``None``); one line saying what was built."""

    def embed(self, data_dir: str | None) -> str | None:
        """``nas-harness data embed`` (maintainers): rebuild data shipped in the package; ``None``: none here."""
        return None


class FlagSealed:
    """A benchmark's seal as a flag, for benchmarks that hold no shared state to guard: mix it in
    before :class:`Benchmark`, and have ``query`` refuse the test split while :attr:`is_sealed`."""

    _sealed = False

    @property
    def is_sealed(self) -> bool:
        return self._sealed

    @contextlib.contextmanager
    def sealed(self) -> Iterator[None]:
        self._sealed = True
        try:
            yield
        finally:
            self._sealed = False


class SearchSpace(abc.ABC):
    """A search space plug-in; see the module docstring for what it must declare."""

    name: str
    #: shown by ``nas-harness list``
    benchmark_name: str
    datasets: tuple[str, ...]
    fidelities: tuple[int, ...]
    default_epochs: int
    #: the fidelity at which the benchmark charges simulated training time (a ``max_seconds`` budget needs it)
    timed_epochs: int | None = None
    #: architecture-parameter shape of the one-shot strategies (``none`` included in the last axis)
    arch_shape: tuple[int, ...]
    #: one-shot scale presets (``paper``, ``cpu``, ``smoke``): strategy hyperparameters the config fills in
    scales: dict[str, dict[str, Any]]
    #: what the accuracies of a finished run mean: the sentence under a report's table (stored in each record)
    measure: str = "Accuracy (%) of the final architecture, as the space's benchmark reports it"

    # ---- codec ----------------------------------------------------------------------------
    @abc.abstractmethod
    def sample(self, rng: np.random.Generator) -> Any: ...

    @abc.abstractmethod
    def mutate(self, arch: Any, rng: np.random.Generator) -> Any: ...

    @abc.abstractmethod
    def neighbours(self, arch: Any) -> list[Any]: ...

    @abc.abstractmethod
    def from_str(self, text: str) -> Any: ...

    def to_str(self, arch: Any) -> str:
        return arch.to_str()

    def canonical(self, arch: Any) -> Any:
        """The representative of ``arch``'s equivalence class (identity unless a space defines one)."""
        return arch

    @abc.abstractmethod
    def is_member(self, arch: object) -> bool: ...

    # ---- one-shot -------------------------------------------------------------------------
    @abc.abstractmethod
    def make_supernet(self, num_classes: int, channels: int, cells_per_stage: int, impl: str, generator: Any) -> Any:
        """The weight-sharing supernet: ``net(x, edge_weights[arch_shape], chosen=None) -> logits``."""

    @abc.abstractmethod
    def derive(self, distribution: Any) -> Any:
        """The architecture a one-shot distribution stands for at the end of an epoch."""

    @abc.abstractmethod
    def derive_from_alpha(self, alpha: Any) -> Any:
        """The architecture one sample of architecture parameters (shape :attr:`arch_shape`) stands
        for: BaLeNAS-TF derives each draw from q with it."""

    # ---- capabilities ------------------------------------------------------------------------
    def capabilities(self) -> tuple[Capability, ...]:
        """The capability objects this space provides (:mod:`spaces.capabilities`); none by default.
        Built without importing torch: their methods import what they need when called."""
        return ()

    def capability(self, kind: type[C]) -> C | None:
        """The provided capability of type ``kind`` (a subclass counts), or ``None``."""
        cached = self.__dict__.get("_capabilities")
        if cached is None:
            cached = self.__dict__["_capabilities"] = tuple(self.capabilities())
        return next((c for c in cached if isinstance(c, kind)), None)

    def has(self, kind: type[Capability]) -> bool:
        return self.capability(kind) is not None

    @abc.abstractmethod
    def proxy_network(self, arch: Any, init_seed: int, num_classes: int) -> Any:
        """The seeded network the zero-cost proxies score ``arch`` on (train mode); a space without
        one raises :class:`ProxiesUnavailable` saying why."""

    def skip_connections(self, arch: Any) -> int:
        """The collapse diagnostic of the paper's Figure 2."""
        return arch.count("skip_connect")

    # ---- benchmark ------------------------------------------------------------------------
    @abc.abstractmethod
    def open_benchmark(self, choice: str = "auto", data_dir: str | None = None) -> Benchmark:
        """The benchmark, from the data directory (``choice``: the space's own, e.g. NB201's ``embedded``)."""

    #: the ``table`` choices a config may name for this space
    benchmark_choices: tuple[str, ...] = ("auto",)

    def population(self, datasets: list[str], data_dir: str | None = None) -> dict[str, tuple[Any, Any]] | None:
        """``{dataset: (valid accuracies, test accuracies)}`` of every architecture, where the benchmark
        is a complete table (the reports' "all cells" and "optimal" rows); ``None`` otherwise."""
        return None

    def info(self, data_dir: str | None = None, count: bool = False) -> list[str]:
        """``nas-harness spaces info``: lines describing the space (``count``: also counts that
        take long, where the space has any)."""
        return [f"{self.name}: benchmark {self.benchmark_name}",
                f"  datasets: {', '.join(self.datasets)}; fidelities (epochs): {', '.join(map(str, self.fidelities))}",
                f"  architecture parameters: {self.arch_shape}; one-shot scales: {', '.join(self.scales)}"]

    def data_importers(self) -> tuple[DataImporter, ...]:
        """What ``nas-harness data import`` can build for this space (none by default)."""
        return ()

    def bench_commands(self) -> tuple[Any, ...]:
        """The ``nas-harness bench`` subcommands this space contributes (:class:`spaces.bench.BenchCommand`):
        speed benchmarks of its own components against references particular to them (none by default)."""
        return ()

    def data_status(self, data_dir: str | None = None) -> list[str]:
        """Lines for ``nas-harness list``: where this space's benchmark data was found, or why not.
        Spaces sharing data return the same line (the list shows it once)."""
        return []
