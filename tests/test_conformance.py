"""Conformance suite: every registered strategy (and the docs example) meets the protocol.

valid arch out, budget respected, same seed -> same result, different seeds -> different
searches, and no test-split access during search (the table is sealed and also spied on).
"""
from __future__ import annotations

from harness.conformance import SpyBenchmark, quick_settings

from pathlib import Path

import pytest

from nas_core.records import SearchResult
from nas_core.problem import Budget, Problem, SearchLog, TabularOracle
from harness.seeding import numpy_rng
from spaces.nb201.space import NB201Space
from strategies import registry

REPO = Path(__file__).resolve().parent.parent
registry.load_plugin(str(REPO / "docs" / "examples" / "local_search.py"))
STRATEGIES = [n for n in registry.names() if not n.startswith("test_")]


IMAGES: list = []  # the tiny image folder, set by an autouse fixture (one-shot strategies read images)


@pytest.fixture(autouse=True)
def _images(image_data_dir):
    IMAGES[:] = [str(image_data_dir)]


def search(name, table, seed, budget=Budget(max_queries=30), dataset="cifar100", epochs=200):
    if registry.get(name).kind == "one-shot":
        dataset = "cifar10"  # the tiny image fixture is CIFAR-10-shaped
    spy = SpyBenchmark(table)
    log = SearchLog()
    oracle = TabularOracle(spy, dataset, epochs, budget, log)
    problem = Problem(space=NB201Space(), dataset=dataset, budget=budget, oracle=oracle, data_dir=IMAGES[0])
    with table.sealed():
        cls = registry.get(name)
        arch = SearchResult.of(cls(**quick_settings(name)).search(problem, numpy_rng({"strategy": name}, seed), log)).arch
    return arch, oracle, log, spy


def test_suite_covers_every_builtin():
    assert {"random_pick", "random_search", "rea", "zero_cost", "local_search"} <= set(STRATEGIES)


@pytest.mark.parametrize("name", STRATEGIES)
def test_returns_a_valid_cell(name, synthetic_table):
    arch, *_ = search(name, synthetic_table, seed=0)
    assert NB201Space().is_member(arch)
    assert NB201Space().from_str(arch.to_str()) == arch


@pytest.mark.parametrize("name", STRATEGIES)
@pytest.mark.parametrize("budget", [Budget(max_queries=7), Budget(max_seconds=9000.0), Budget(max_queries=50, max_seconds=20000.0)])
def test_budget_is_respected(name, budget, synthetic_table):
    _, oracle, log, _ = search(name, synthetic_table, seed=1, budget=budget)
    if budget.max_queries is not None:
        assert oracle.n_queries <= budget.max_queries
    if budget.max_seconds is not None:
        assert oracle.simulated_seconds <= budget.max_seconds
    assert len([r for r in log.rows if "incumbent_valid_acc" in r]) == oracle.n_queries


@pytest.mark.parametrize("name", STRATEGIES)
def test_same_seed_same_result_and_trajectory(name, synthetic_table):
    from harness.records import strip_volatile

    a1, _, log1, _ = search(name, synthetic_table, seed=3)
    a2, _, log2, _ = search(name, synthetic_table, seed=3)
    assert a1 == a2 and [strip_volatile(r) for r in log1.rows] == [strip_volatile(r) for r in log2.rows]


@pytest.mark.parametrize("name", STRATEGIES)
def test_different_seeds_search_differently(name, synthetic_table):
    from harness.records import strip_volatile

    logs = {str([strip_volatile(r) for r in search(name, synthetic_table, seed=s)[2].rows]) for s in range(4)}
    assert len(logs) > 1


@pytest.mark.parametrize("name", STRATEGIES)
def test_no_test_split_access_during_search(name, synthetic_table):
    *_, spy = search(name, synthetic_table, seed=2)
    assert spy.test_reads == 0


@pytest.mark.parametrize("name", [n for n in STRATEGIES if registry.get(n).kind == "tabular" and n != "random_pick"])
def test_black_box_strategies_recommend_their_best_validation_cell(name, synthetic_table):
    arch, oracle, log, _ = search(name, synthetic_table, seed=4)
    best = max(r["valid_acc"] for r in log.rows)
    assert synthetic_table.query(arch, "cifar100", "valid") == best == oracle.incumbent_valid


def test_rea_beats_random_search_on_average(synthetic_table):
    """A sanity check of the evolution loop, not a timing or a tuned result."""
    def mean_best(name):
        runs = [search(name, synthetic_table, seed=s, budget=Budget(max_queries=60))[1].incumbent_valid for s in range(12)]
        return sum(runs) / len(runs)

    assert mean_best("rea") >= mean_best("random_search")


def test_a_name_registered_twice_is_an_error():
    from strategies.registry import register

    with pytest.raises(ValueError, match="already registered"):
        @register("rea")
        class Impostor:  # noqa: F841
            pass
