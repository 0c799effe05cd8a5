"""Capabilities: space-specific machinery a strategy asks a space for by type, never by name.

Why: before, a strategy that needed something only some spaces have (BayesNAS's switch walk,
CUDA-graph capture, a whole-space proxy index, partial-channel cells) imported the concrete
space package or branched on ``space.name``. Every new space then meant editing strategies.
Now a space lists the capability objects it provides (:meth:`spaces.base.SearchSpace.capabilities`),
a strategy declares the capability types it requires (:meth:`strategies.base.Strategy.required_capabilities`)
and looks them up with ``space.capability(Type)``, the way pytest plugins fill hooks. The
config check refuses an incompatible (strategy, space) pair before anything runs, naming the
missing capability and its :attr:`Capability.description`.

Capability objects are light: a space builds them without importing torch, and their methods
import the heavy modules they need when called.
"""
from __future__ import annotations

import abc
import contextlib
from dataclasses import dataclass
from typing import Any, ClassVar, ContextManager, TypeVar


class Capability(abc.ABC):
    """Base of every capability type; a space provides instances of concrete subclasses."""

    #: one line, shown when a strategy needs it and a space lacks it, and by ``nas-harness list``
    description: ClassVar[str] = ""

    @classmethod
    def title(cls) -> str:
        return cls.__name__


C = TypeVar("C", bound=Capability)


class DenseEdgeRows(Capability):
    """A marker: every row of the architecture parameters holds every op of its edge (no packed,
    masked rows of different widths, as NAS-Bench-1shot1 has). A Dirichlet per row needs it."""

    description = "every architecture-parameter row holds every op (no packed, masked rows)"


@dataclass(frozen=True)
class SwitchScores:
    """What BayesNAS's derivation reads, per cell kind (axis 0: one kind per group of cells
    sharing switch groups): child scores gamma_child * ||s_child|| [kinds, edges, ops] with
    ``none`` at 0, the parents' gammas and norms [kinds, edges], and the pruning threshold."""

    child: Any
    gamma_parent: Any
    parent_norm: Any
    prune_threshold: float


class SwitchWalks(Capability):
    """BayesNAS's switched supernet (child switch per op, parent switch per edge, per search cell)
    and its closed-form Gauss-Newton Hessian diagonal, on this space's supernet."""

    description = "BayesNAS switch walk over the supernet's cells, with its closed-form Hessian diagonal"

    @abc.abstractmethod
    def walk(self, supernet: Any, parent_at: str) -> Any:
        """A callable ``walk(x, child, parent) -> logits`` with ``diagonal_hessian(x, y, child, parent, rule)``."""

    @abc.abstractmethod
    def cell_kinds(self, supernet: Any) -> list[int]:
        """The kind of each search cell (0, 1, ...): cells of one kind share their switch groups."""

    @abc.abstractmethod
    def derive(self, scores: SwitchScores) -> Any:
        """The architecture the switch scores stand for (the space's own rule)."""

    #: True where the derivation drops an edge whose parent is pruned (the space has ``none`` as a real op)
    prunes_edges: ClassVar[bool] = False
    #: where this space's cells need the child switches to start (BayesNAS's ``switch_init`` default
    #: on this space): 1 is the original; cells that sum every edge without renormalising need less
    switch_init: ClassVar[float] = 1.0


class CudaGraphCapture(Capability):
    """Whole supernet passes (``supernet(x, weights)``) may be captured in CUDA graphs and replayed."""

    description = "CUDA-graph capture of whole supernet passes"

    def compiled_cells(self) -> ContextManager[None]:
        """A context in which the supernet's cells run ``torch.compile``d (fused kernels) during a
        capture; a space without compiled cells returns a null context."""
        return contextlib.nullcontext()


class ProxyIndex(Capability):
    """A finite space with an index over every cell: proxy scores of the whole space are cached
    by index, and one scoring network switches between cells instead of being rebuilt."""

    description = "an index over the whole space, for cached proxy scores"
    #: the folder of the score caches (unique per space)
    key: ClassVar[str]
    #: how many cells the index spans
    size: ClassVar[int]

    @abc.abstractmethod
    def arch_of(self, index: int) -> Any:
        """The cell at ``index``."""

    @abc.abstractmethod
    def index_of(self, arch: Any) -> int:
        """The index of ``arch``."""

    def scoring_key(self, arch: Any) -> Any:
        """The cell a pruned-invariant proxy scores in place of ``arch`` (dead edges removed)."""
        return arch

    @abc.abstractmethod
    def scoring_network(self, arch: Any, num_classes: int, init_seed: int, channels: int, cells_per_stage: int) -> Any:
        """The seeded scoring network; ``network.set_arch(arch)`` switches it to another cell."""

    #: the scoring network's default size (channels, cells per stage): part of a cache's name when changed
    default_size: ClassVar[tuple[int, int]] = (16, 5)
    #: published Spearman |rho| of proxies against test accuracy over the whole space, {proxy: {dataset: |rho|}}
    #: (printed beside the measured rank correlations, never in their place)
    published_spearman: ClassVar[dict[str, dict[str, float]]] = {}

    def accuracies(self, dataset: str, split: str, data_dir: str | None = None) -> Any:
        """Every cell's accuracy (%) in index order, where the space's benchmark is a complete table
        (what ``nas-harness proxies correlate`` ranks the scores against); ``None`` otherwise."""
        return None

    # equal by type and key, so that a copy sent to a worker process finds that process's cached scorer
    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and getattr(other, "key", None) == self.key

    def __hash__(self) -> int:
        return hash((type(self).__module__, type(self).__qualname__, self.key))


class ProxyNetworks(Capability):
    """A marker: :meth:`spaces.base.SearchSpace.proxy_network` builds the network zero-cost proxies
    score an architecture on (zero-cost NAS, BaLeNAS-TF's picks need it)."""

    description = "a scoring network per architecture for the zero-cost proxies"


class PartialChannels(Capability):
    """Partial-channel search cells (PC-DARTS style) that can drop ops and widen later (progressive DrNAS)."""

    description = "partial-channel supernet cells that can be pruned and widened (progressive DrNAS)"
    #: ops per edge of the full supernet
    n_ops: ClassVar[int]

    @abc.abstractmethod
    def make_supernet(self, num_classes: int, channels: int, cells_per_stage: int, impl: str, generator: Any,
                      k: int) -> Any:
        """A supernet whose cells see 1/``k`` of the channels, with ``prune(kept)`` and ``widen(k, generator)``."""

    @abc.abstractmethod
    def stage_widths(self, channels: int) -> tuple[int, ...]:
        """The channel widths of the supernet's stages (``k`` must divide each)."""


class AuthorsSupernet(Capability):
    """The space authors' published supernet, used as published: the reference the speed
    benchmarks (``nas-harness bench``) time the harness's own supernet against. Optional twice
    over: a space need not have one, and its package need not be installed."""

    description = "the space authors' published supernet (a speed reference for the benchmarks)"
    #: the importable package that holds it (what ``pip`` installs)
    package: ClassVar[str]
    #: how the benchmarks name it in their reports
    label: ClassVar[str]
    #: how to install the package, printed when it is missing
    install: ClassVar[str]

    def available(self) -> bool:
        import importlib.util

        return importlib.util.find_spec(self.package) is not None

    @abc.abstractmethod
    def build(self, num_classes: int, channels: int, cells_per_stage: int,
              device: Any = "cpu") -> tuple[Any, list[Any], list[Any]]:
        """``(forward, weights, alphas)`` on ``device``: ``forward(x)`` returns the logits of the
        authors' network with its own architecture parameters ``alphas``; ``weights`` are its
        network weights. Seeded from torch's global generator, as the authors' code is."""


class MissingCapability(ValueError):
    """A strategy asked a space for a capability it does not provide (the config check catches
    this before a run; this is the error of a loop driven by hand)."""


def require(space: Any, kind: type[C]) -> C:
    """The capability ``kind`` of ``space``; :class:`MissingCapability` naming both when absent."""
    found = space.capability(kind)
    if found is None:
        raise MissingCapability(f"space {space.name!r} does not provide {kind.title()} ({kind.description})")
    return found


def capability_type(capability: Capability) -> type[Capability]:
    """The capability type an object provides (the direct subclass of :class:`Capability` it derives from)."""
    for klass in type(capability).__mro__:
        if Capability in klass.__bases__:
            return klass
    return type(capability)


def missing(space: Any, required: tuple[type[Capability], ...]) -> list[type[Capability]]:
    """The capability types of ``required`` that ``space`` does not provide."""
    return [kind for kind in required if not space.has(kind)]


def describe_missing(strategy: str, space: str, lacking: list[type[Capability]]) -> str:
    """The one-line refusal of an incompatible pair."""
    what = "; ".join(f"{kind.title()} ({kind.description})" for kind in lacking)
    return f"{strategy} needs what space {space!r} does not provide: {what}; pick a space that provides it"
