"""Conformance suites for spaces and strategies, shipped with the package for plugin authors.

Like optuna's ``SamplerTestCase``: a plugin author runs the same checks the built-ins pass,
either with one command::

    nas-harness conform --plugins my_space.py --space toy            # the space suite
    nas-harness conform --plugins my_strategy.py --strategy annealing  # the strategy suite, every space it fits

or from their own tests::

    from harness.conformance import check_space, check_strategy
    assert not check_space(get_space("toy"))
    assert not check_strategy("annealing", get_space("toy"), dataset="cifar10")

Each check returns a list of problems (empty: conformant), one line each, so that a failure
says what is wrong rather than where an assertion sat.

**Space suite** (:func:`check_space`): the codec round-trips (``from_str(to_str(a)) == a``),
``sample``/``mutate``/``neighbours`` stay in the space and are deterministic under one seed,
``canonical`` is idempotent and keeps membership, ``derive_from_alpha`` of an array of
:attr:`arch_shape` gives a member, every dataset answers a validation query under the
benchmark's ``sealed()`` while a test-split query there fails, and the oracle charges the budget.

**Strategy suite** (:func:`check_strategy`): on one (strategy, space) pair whose capabilities
match, the search returns a member of the space, respects a query budget, gives the same
architecture and trajectory for the same seed, and never reads the test split.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from nas_core.problem import Budget, BudgetExhausted, Problem, SearchLog, TabularOracle
from nas_core.records import SearchResult
from nas_core.splits import Split

#: a one-shot search small enough for a test: 1 epoch of a 4-channel, 1-cell supernet on 8x8 images
TINY_ONE_SHOT: dict[str, Any] = {"epochs": 1, "channels": 4, "cells_per_stage": 1, "image_size": 8, "per_class": 4,
                                 "batch_size": 16, "hessian_every": 1}
_TINY_BALENAS = {**TINY_ONE_SHOT, "samples": 2, "tf_proxies": ["synflow"], "tf_draws": 6, "tf_k": [3, 6]}
#: cheap settings of the built-ins under the strategy suite (test settings live here, not on the classes);
#: a plugin's own come as ``settings`` (``nas-harness conform --settings JSON``)
QUICK_SETTINGS: dict[str, dict[str, Any]] = {
    "zero_cost": {"k": 5},
    "darts_v1": TINY_ONE_SHOT, "darts_v2": TINY_ONE_SHOT, "gdas": TINY_ONE_SHOT, "drnas": TINY_ONE_SHOT,
    "bayesnas": {**TINY_ONE_SHOT, "epochs": 2, "hessian_batches": 2},
    "balenas_v1": _TINY_BALENAS, "balenas_v2": _TINY_BALENAS, "balenas_tf": {**_TINY_BALENAS, "select": "synflow@6"},
}


def quick_settings(name: str) -> dict[str, Any]:
    """The cheap settings the suite runs ``name`` with (none for a strategy not listed: its defaults)."""
    return dict(QUICK_SETTINGS.get(name, {}))


class SpyBenchmark:
    """Wraps a benchmark and counts test-split reads (the seal must make them impossible anyway)."""

    def __init__(self, benchmark: Any) -> None:
        self.benchmark, self.test_reads = benchmark, 0

    def query(self, arch: Any, dataset: str, split: Any = Split.VALID, epochs: int | None = None) -> float:
        self.test_reads += Split.parse(split) is Split.TEST
        return self.benchmark.query(arch, dataset, split, epochs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.benchmark, name)


def check_space(space: Any, data_dir: str | None = None, table: str = "auto", samples: int = 20) -> list[str]:
    """The space suite (module docstring); ``[]`` when ``space`` conforms."""
    problems: list[str] = []
    rng = np.random.default_rng(0)
    archs = [space.sample(rng) for _ in range(samples)]
    if space.sample(np.random.default_rng(0)) != archs[0]:
        problems.append("sample is not deterministic under one seed")
    for arch in archs:
        if not space.is_member(arch):
            problems.append(f"sample gave {arch!r}, which is_member rejects")
            continue
        text = space.to_str(arch)
        if space.from_str(text) != arch:
            problems.append(f"codec does not round-trip: from_str(to_str({text!r})) differs")
        mutant = space.mutate(arch, np.random.default_rng(1))
        if not space.is_member(mutant):
            problems.append(f"mutate({text}) left the space: {mutant!r}")
        if space.mutate(arch, np.random.default_rng(1)) != mutant:
            problems.append(f"mutate({text}) is not deterministic under one seed")
        neighbours = space.neighbours(arch)
        if not neighbours or not all(space.is_member(n) for n in neighbours):
            problems.append(f"neighbours({text}) is empty or leaves the space")
        if arch in neighbours:
            problems.append(f"neighbours({text}) contains the architecture itself")
        canonical = space.canonical(arch)
        if not space.is_member(canonical) or space.canonical(canonical) != canonical:
            problems.append(f"canonical({text}) is not an idempotent map into the space")
    if not isinstance(space.arch_shape, tuple) or not all(isinstance(n, int) and n > 0 for n in space.arch_shape):
        problems.append(f"arch_shape must be a tuple of positive ints, got {space.arch_shape!r}")
    else:
        try:
            import torch

            alpha = torch.randn(space.arch_shape, generator=torch.Generator().manual_seed(0))
            derived = space.derive_from_alpha(alpha)
            if not space.is_member(derived):
                problems.append(f"derive_from_alpha of an arch_shape {space.arch_shape} array gave a non-member {derived!r}")
        except ImportError:  # pragma: no cover - torch is a dependency of every one-shot space
            pass
    if space.default_epochs not in space.fidelities:
        problems.append(f"default_epochs {space.default_epochs} is not one of the fidelities {space.fidelities}")
    for preset in ("paper", "cpu", "smoke"):
        if preset not in getattr(space, "scales", {}):
            problems.append(f"scales lacks the {preset!r} preset (configs name it with scale = \"{preset}\")")
    try:
        problems += _check_benchmark(space, archs[:5], data_dir, table)
    except Exception as exc:  # e.g. data a benchmark needs is absent: say so, with the checks above kept
        problems.append(f"the benchmark could not be checked: {type(exc).__name__}: "
                        f"{str(exc).splitlines()[0] if str(exc) else ''}")
    return problems


def _check_benchmark(space: Any, archs: list[Any], data_dir: str | None, table: str) -> list[str]:
    problems: list[str] = []
    benchmark = space.open_benchmark(table, data_dir).own_seal()
    for dataset in space.datasets:
        with benchmark.sealed():
            for arch in archs:
                value = benchmark.query(arch, dataset, Split.VALID, space.default_epochs)
                if not isinstance(value, (int, float)) or not 0 <= float(value) <= 100:
                    problems.append(f"valid accuracy of {space.to_str(arch)} on {dataset} is {value!r}, not a % in [0, 100]")
            try:  # the seal: a search must not be able to read the test split
                leaked = benchmark.query(archs[0], dataset, Split.TEST, space.default_epochs)
            except Exception:
                leaked = None
            if leaked is not None:
                problems.append(f"the test split of {dataset} is readable while the benchmark is sealed ({leaked!r})")
        final = benchmark.final_evaluation(archs[0], dataset)
        if not isinstance(final, dict) or "valid_acc" not in final:
            problems.append(f"final_evaluation on {dataset} must be a dict with valid_acc, got {final!r}")
    log = SearchLog()
    oracle = TabularOracle(benchmark, space.datasets[0], space.default_epochs, Budget(max_queries=2), log)
    charged = 0
    try:
        for arch in archs:
            oracle.evaluate(arch)
            charged += 1
    except BudgetExhausted:
        pass
    if charged != 2 or oracle.n_queries != 2 or len(log.rows) != 2:
        problems.append(f"a budget of 2 queries allowed {charged} evaluations ({len(log.rows)} trajectory rows)")
    return problems


def check_strategy(name: str, space: Any, dataset: str | None = None, data_dir: str | None = None,
                   table: str = "auto", budget: Budget = Budget(max_queries=12), seed: int = 0,
                   settings: dict[str, Any] | None = None) -> list[str]:
    """The strategy suite on one (strategy, space) pair (module docstring); ``[]`` when it conforms.

    ``settings``: the strategy's keyword arguments for the check (default: its cheap settings)."""
    from harness.seeding import numpy_rng
    from strategies import registry
    from nas_core.records import strip_volatile

    cls = registry.get(name)
    settings = quick_settings(name) if settings is None else dict(settings)
    strategy = cls(**settings)
    refused = strategy.space_problems(space)
    if refused:
        return refused
    dataset = dataset or space.datasets[0]
    benchmark = space.open_benchmark(table, data_dir).own_seal()

    def search(run_seed: int) -> tuple[Any, TabularOracle, SearchLog, SpyBenchmark]:
        spy = SpyBenchmark(benchmark)
        log = SearchLog()
        oracle = TabularOracle(spy, dataset, space.default_epochs, budget, log)
        problem = Problem(space=space, dataset=dataset, budget=budget, oracle=oracle, data_dir=data_dir, device="cpu")
        fresh = cls(**settings)
        with benchmark.sealed():
            arch = SearchResult.of(fresh.search(problem, numpy_rng({"conformance": name}, run_seed), log)).arch
        return arch, oracle, log, spy

    problems: list[str] = []
    try:
        arch, oracle, log, spy = search(seed)
    except Exception as exc:  # a search that raises is a finding, not the end of the suite
        return [f"{name} failed on space {space.name!r}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"]
    if not space.is_member(arch):
        problems.append(f"{name} returned {arch!r}, not a member of space {space.name!r}")
    if budget.max_queries is not None and oracle.n_queries > budget.max_queries:
        problems.append(f"{name} made {oracle.n_queries} queries on a budget of {budget.max_queries}")
    if spy.test_reads:
        problems.append(f"{name} read the test split {spy.test_reads} time(s) during its search")
    try:
        again, _, log_again, _ = search(seed)
    except Exception as exc:
        return problems + [f"{name} failed the second time with the same seed: {type(exc).__name__}: {exc}"]
    if again != arch or [strip_volatile(r) for r in log.rows] != [strip_volatile(r) for r in log_again.rows]:
        problems.append(f"{name} gave a different architecture or trajectory for the same seed")
    return problems
