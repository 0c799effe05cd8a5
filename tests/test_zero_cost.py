"""Zero-cost NAS: samples K cells with the run's rng, picks the best proxy score, uses the cache."""
from __future__ import annotations

import numpy as np
import pytest

from nas_core.problem import Budget, Problem, SearchLog
from harness.seeding import numpy_rng
from spaces.nb201.capabilities import NB201ProxyIndex
from spaces.nb201.space import NB201Space
from strategies.proxies.cache import save_scores
from strategies.proxies.scoring import ScoringSetup
from strategies.zero_cost import ZeroCostNAS

INDEX = NB201ProxyIndex()


def run(strategy, seed=0, dataset="cifar10"):
    log = SearchLog()
    problem = Problem(space=NB201Space(), dataset=dataset, budget=Budget())
    return strategy.search(problem, numpy_rng({"s": "zc"}, seed), log), log


@pytest.fixture()
def fake_cache(monkeypatch, tmp_path):
    """A whole-space synflow cache with known scores (the lexicographic index itself)."""
    monkeypatch.setenv("NAS_HARNESS_SCORES", str(tmp_path))
    scores = np.arange(15625, dtype=float)
    save_scores(ScoringSetup("synflow", "cifar10"), INDEX, scores, {})
    return scores


def test_picks_the_best_cached_score_among_k_samples(fake_cache):
    arch, log = run(ZeroCostNAS(k=50))
    assert len(log.rows) == 50
    assert arch.lex_index == max(r["proxy_score"] for r in log.rows)
    assert all(r["proxy_score"] == NB201Space().from_str(r["arch"]).lex_index for r in log.rows)


def test_nan_scores_never_win(monkeypatch):
    """A proxy can return NaN (e.g. jacob_cov of constant Jacobians): such a cell is never picked."""
    import strategies.proxies.cache as cache

    class OddCellsAreNaN:
        def score(self, arch):
            return float("nan") if arch.lex_index % 2 else float(arch.lex_index)

    monkeypatch.setattr(cache, "scorer_for", lambda setup, index: OddCellsAreNaN())
    for seed in range(5):
        arch, log = run(ZeroCostNAS(k=20), seed=seed)
        assert arch.lex_index % 2 == 0 and any(np.isnan(r["proxy_score"]) for r in log.rows)


def test_same_seed_same_cell_and_more_samples_never_hurt_on_the_cache(fake_cache):
    assert run(ZeroCostNAS(k=10), seed=1)[0] == run(ZeroCostNAS(k=10), seed=1)[0]
    assert run(ZeroCostNAS(k=10), seed=1)[0] != run(ZeroCostNAS(k=10), seed=2)[0]


def test_computes_scores_when_nothing_is_cached():
    arch, log = run(ZeroCostNAS(k=3), dataset="ImageNet16-120")
    assert all(np.isfinite(r["proxy_score"]) for r in log.rows)
    from strategies.proxies.scoring import CellScorer

    assert CellScorer(ScoringSetup("synflow", "ImageNet16-120"), INDEX).score(arch) == max(r["proxy_score"] for r in log.rows)


def test_bad_hyperparameters_are_rejected():
    with pytest.raises(ValueError, match="positive integer"):
        ZeroCostNAS(k=0)
    with pytest.raises(KeyError, match="registered proxies"):
        ZeroCostNAS(proxy="zen")
