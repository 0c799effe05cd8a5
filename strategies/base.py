"""The one Strategy protocol, plus an ask/tell base for black-box strategies.

Hyperparameters are the fields of the strategy's ``settings_type`` (a frozen dataclass checked
once, :mod:`strategies.settings`; the one-shot strategies) and the keyword arguments of
``__init__`` (the black-box strategies, and a plugin's own options); ``__init__`` stores them
(and may reject bad values) and does nothing else, so a record can store them and a config can
set them. All randomness comes from the ``rng`` the harness derives from the run's key.
"""
from __future__ import annotations

import abc
import inspect
from typing import Any

import numpy as np

from nas_core.problem import BudgetExhausted, Problem, SearchLog
from spaces.base import Capability


class Strategy(abc.ABC):
    """``search(problem, rng, log) -> Arch`` (or a :class:`nas_core.records.SearchResult` when one
    search picks several architectures): everything else is optional."""

    name: str = ""
    #: how tables and figures name the method ("DARTS (1st)"); empty: its registered name
    display_name: str = ""
    #: "tabular" strategies query an oracle; "one-shot" ones train a supernet on data loaders.
    kind: str = "tabular"
    #: True when only the budget ends the search (ask/tell loops): a config must then set one
    needs_budget: bool = False

    #: a frozen dataclass of hyperparameters (:mod:`strategies.settings`), or ``None``: ``__init__``'s keywords only
    settings_type: type | None = None

    #: capability types (:mod:`spaces.capabilities`) a space must provide for this strategy to search it
    requires: tuple[type[Capability], ...] = ()

    def required_capabilities(self) -> tuple[type[Capability], ...]:
        """What this configured strategy needs of a space (may depend on hyperparameters); the
        config check refuses a space lacking any of them before anything runs."""
        return tuple(self.requires)

    def space_problems(self, space: Any) -> list[str]:
        """Why this configured strategy cannot search ``space`` (empty: it can). The config check
        reports these before anything runs, and a search refuses such a space too. By default: the
        capabilities the space lacks; a strategy may add checks of its options against what the
        space provides (progressive DrNAS: ``keep_ops`` and ``pc_k`` against its partial channels)."""
        from spaces.base import describe_missing, missing

        lacking = missing(space, self.required_capabilities())
        return [describe_missing(self.name or type(self).__name__, space.name, lacking)] if lacking else []

    @classmethod
    def definition_problems(cls) -> list[str]:
        """What the class lacks to be searched with (checked when it registers); none by default."""
        return []

    @classmethod
    def space_defaults(cls, space: Any) -> dict[str, Any]:
        """Option defaults that depend on the space, asked of the space's capabilities (BayesNAS's
        ``switch_init``): the config fills them in after the space's scale preset and before the
        entry's own values. None by default."""
        return {}

    @abc.abstractmethod
    def search(self, problem: Problem, rng: np.random.Generator, log: SearchLog) -> Any:
        """Return the final architecture, a member of ``problem.space``; a search that picks several
        (BaLeNAS-TF) returns a ``SearchResult`` with the others as its ``picks``."""

    #: options added after records existed, in groups (one group per change): a group is left out
    #: of :meth:`hyperparameters` (and so of the run key) while every option in it holds its
    #: default, so earlier records keep their keys; once any is set, the whole group is stored
    added_options: tuple[tuple[str, ...], ...] = ()

    def hyperparameters(self) -> dict[str, Any]:
        """The ``__init__`` keyword arguments with their current values (for the run record)."""
        defaults = hyperparameter_defaults(type(self))
        left_out = {name for group in self.added_options
                    if all(_same(getattr(self, name), defaults.get(name)) for name in group) for name in group}
        return {name: getattr(self, name) for name in hyperparameter_names(type(self)) if name not in left_out}


def hyperparameter_names(cls: type) -> list[str]:
    """Keyword arguments of ``__init__`` (a ``**kwargs`` passes on to the parent's, which count
    too), then the hyperparameter fields of the class's ``settings_type``."""
    from strategies.settings import hyperparameter_fields

    names: list[str] = []
    for klass in cls.__mro__:
        if "__init__" not in vars(klass) or klass is object:
            continue
        params = inspect.signature(klass.__init__).parameters.values()
        names += [p.name for p in params if p.name != "self" and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
                  and p.name not in names]
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            break
    settings_type = getattr(cls, "settings_type", None)
    if settings_type is not None:
        names += [f.name for f in hyperparameter_fields(settings_type) if f.name not in names]
    return names


def hyperparameter_defaults(cls: type) -> dict[str, Any]:
    """Default values of the hyperparameters: the settings' fields, then the ``__init__`` keyword
    arguments, the subclass's winning."""
    from strategies.settings import field_default, hyperparameter_fields

    settings_type = getattr(cls, "settings_type", None)
    defaults: dict[str, Any] = {} if settings_type is None else {
        f.name: field_default(f) for f in hyperparameter_fields(settings_type)}
    for klass in reversed(cls.__mro__):
        if "__init__" in vars(klass) and klass is not object:
            for p in inspect.signature(klass.__init__).parameters.values():
                if p.default is not p.empty:
                    defaults[p.name] = p.default
    return defaults


def _same(value: Any, default: Any) -> bool:
    """Equal, treating tuples and lists alike (a config gives lists, a signature tuples)."""
    if isinstance(value, (list, tuple)) and isinstance(default, (list, tuple)):
        return list(value) == list(default)
    return value == default


def hyperparameter_hints(cls: type) -> dict[str, object]:
    import typing

    from strategies.settings import settings_hints

    settings_type = getattr(cls, "settings_type", None)
    hints: dict[str, object] = {} if settings_type is None else settings_hints(settings_type)
    for klass in reversed(cls.__mro__):
        if "__init__" in vars(klass) and klass is not object:
            hints.update(typing.get_type_hints(klass.__init__))
    return hints


class AskTellStrategy(Strategy):
    """Black-box search as an ask/tell loop under the oracle's budget.

    Subclasses implement :meth:`ask` and :meth:`tell`; the loop stops when the oracle reports
    the budget spent, and :meth:`recommend` returns the best validation accuracy seen. Only
    the budget ends the loop, so a config that runs one must set one (``needs_budget``).

    The run's generator reaches every hook that may need randomness: ``ask(problem, rng)``
    always, and ``tell(arch, valid_acc, rng)`` / ``reset(problem, rng)`` when the override
    takes an ``rng`` parameter (overrides without one are called as before). It is the same
    generator throughout one search, so the draws of all three form one reproducible stream.
    """

    needs_budget = True

    def search(self, problem: Problem, rng: np.random.Generator, log: SearchLog) -> Any:
        if problem.oracle is None:
            raise ValueError(f"{self.name} is a black-box strategy and needs a tabular oracle")
        reset = self.reset if not _takes_rng(self.reset) else (lambda p: self.reset(p, rng=rng))  # type: ignore[call-arg]
        tell = self.tell if not _takes_rng(self.tell) else (lambda a, v: self.tell(a, v, rng=rng))  # type: ignore[call-arg]
        reset(problem)
        while True:
            arch = self.ask(problem, rng)
            try:
                valid = problem.oracle.evaluate(arch)
            except BudgetExhausted:
                break
            tell(arch, valid)
        return self.recommend(problem)

    def reset(self, problem: Problem) -> None:
        """Clear per-search state (a strategy object may be reused for several searches); an
        override may take ``rng`` as well."""

    @abc.abstractmethod
    def ask(self, problem: Problem, rng: np.random.Generator) -> Any:
        """The next architecture to evaluate."""

    def tell(self, arch: Any, valid_acc: float) -> None:
        """Receive the validation accuracy of the last asked architecture; an override may take
        ``rng`` as well (e.g. a stochastic acceptance rule)."""

    def recommend(self, problem: Problem) -> Any:
        if problem.oracle is None or problem.oracle.incumbent is None:
            raise ValueError("the budget allowed no evaluation, so there is nothing to recommend; raise the budget")
        return problem.oracle.incumbent


def _takes_rng(method: Any) -> bool:
    """Whether a bound hook accepts an ``rng`` keyword (an override that wants the generator)."""
    return "rng" in inspect.signature(method).parameters
