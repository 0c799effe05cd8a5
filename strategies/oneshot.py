"""The one-shot strategies' base: a distribution, a step policy and a supernet schedule, composed
by the loop (:mod:`strategies.oneshot_loop`).

ALGORITHMS.md, "Search protocol on NAS-Bench-201". A one-shot strategy is declarative:

* its options: :attr:`OneShotStrategy.settings_type`, a frozen dataclass deriving from
  :class:`strategies.loop_settings.LoopSettings`, checked once when the strategy is built
  (:mod:`strategies.settings`);
* :meth:`~OneShotStrategy.make_distribution`: everything architectural (parameters, their
  optimizer, edge weights, Monte-Carlo averaging, derivation; :mod:`strategies.distributions`);
* :meth:`~OneShotStrategy.make_policy`: the step (:mod:`strategies.step_policies`); by default
  ``order = 1`` gives :class:`~strategies.step_policies.FirstOrderStep` (``arch_first`` from the
  settings) and ``order = 2`` DARTS's :class:`~strategies.step_policies.UnrolledStep`;
* :meth:`~OneShotStrategy.make_schedule`: the supernet and whether it changes between stages;
* :meth:`~OneShotStrategy.after_search`: what the search returns (BaLeNAS-TF's picks).

The loop knows no strategy, and nothing here knows a space: the supernet, the architecture
shape, the derivation and the presets come from ``problem.space``; what a strategy needs beyond
that it declares in :attr:`strategies.base.Strategy.requires` and looks up as a capability.
"""
from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from nas_core.problem import Problem, SearchLog
from nas_core.records import SearchResult
from strategies.base import Strategy
from strategies.distributions import ArchDistribution
from strategies.finite_guard import NonFiniteLoss
from strategies.loop_context import LoopContext
from strategies.loop_settings import LoopSettings
from strategies.oneshot_loop import OneShotLoop, SearchMember
from strategies.settings import protocol_names
from strategies.step_policies import FirstOrderStep, StepPolicy, UnrolledStep
from strategies.supernet_runtime import resolve_device
from strategies.supernet_schedule import SupernetSchedule

__all__ = ["LoopContext", "NonFiniteLoss", "OneShotStrategy", "resolve_device"]


class OneShotStrategy(Strategy):
    """Base of the supernet strategies (module docstring). Options are read as attributes too
    (``strategy.epochs`` is ``strategy.settings.epochs``)."""

    kind = "one-shot"
    settings_type: type = LoopSettings
    #: 1: first-order architecture gradient; 2: DARTS's unrolled gradient (architecture step first)
    order: int = 1
    #: the Hessian probe's options came after records existed (strategies.base.Strategy.added_options)
    added_options = (("hessian_method", "hessian_iterations"),)

    def __init__(self, **options: Any) -> None:
        fixed = sorted(protocol_names(self.settings_type) & options.keys())
        if fixed:
            raise ValueError(f"{', '.join(fixed)} is fixed by {type(self).__name__}'s protocol, not an option")
        known = {f.name for f in dataclasses.fields(self.settings_type)}
        unknown = sorted(options.keys() - known)
        if unknown:
            raise ValueError(f"unknown option(s) {unknown} for {type(self).__name__}; valid: {sorted(known)}")
        self.settings = self.settings_type(**options)

    def __getattr__(self, name: str) -> Any:
        settings = self.__dict__.get("settings")
        if settings is not None and name in {f.name for f in dataclasses.fields(settings)}:
            return getattr(settings, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    # ---- what a strategy defines -------------------------------------------------------------
    @classmethod
    def definition_problems(cls) -> list[str]:
        """A one-shot strategy defines its distribution: :meth:`make_distribution`, or
        :meth:`make_distribution_for` where it depends on the member's supernet."""
        if (cls.make_distribution is OneShotStrategy.make_distribution
                and cls.make_distribution_for is OneShotStrategy.make_distribution_for):
            return ["a one-shot strategy defines make_distribution() (or make_distribution_for(member)): the "
                    "distribution over architectures its loop searches"]
        return []

    def make_distribution(self) -> ArchDistribution:
        """A fresh distribution with this strategy's options (its parameters come later). Every
        registered one-shot strategy defines it or :meth:`make_distribution_for`
        (:meth:`definition_problems`), so the base's is never the one called for a registered one."""
        raise TypeError(f"{type(self).__name__} defines no make_distribution(); {self.definition_problems()}")

    def make_distribution_for(self, member: SearchMember) -> ArchDistribution:
        """The distribution for one search member; override where it depends on the member's
        supernet (BayesNAS: one switch group per cell kind). By default :meth:`make_distribution`."""
        return self.make_distribution()

    def make_policy(self) -> StepPolicy:
        """The step policy: by :attr:`order`, first order (``arch_first`` from the settings) or unrolled."""
        return UnrolledStep() if self.order == 2 else FirstOrderStep(arch_first=self.settings.arch_first)

    def make_schedule(self) -> SupernetSchedule:
        """The space's supernet, unchanged through the search (progressive DrNAS has its own)."""
        return SupernetSchedule()

    def after_search(self, problem: Problem, member: SearchMember) -> Any:
        """What the search returns once its last epoch is done: the derived cell, with where it ran
        (BaLeNAS-TF adds its picks here)."""
        return SearchResult(member.derive(), runtime=member.runtime.provenance())

    # ---- the search ---------------------------------------------------------------------------
    def search(self, problem: Problem, rng: np.random.Generator, log: SearchLog) -> Any:
        self.check_space(problem.space)
        loop = OneShotLoop(self.settings, self.make_policy(), self.make_schedule())
        member = loop.start(problem, rng, log, self.make_distribution_for)
        #: the latest search's state, for inspection after it (nothing reads it back)
        self.last_search = member
        loop.run([member])
        return self.after_search(problem, member)

    def check_space(self, space: Any) -> None:
        """Refuse a space this configured strategy cannot search (:meth:`space_problems`; the config
        check does it first, this covers a search driven by hand)."""
        problems = self.space_problems(space)
        if problems:
            raise ValueError("; ".join(problems))
