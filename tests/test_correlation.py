"""Rank metrics of the correlation report, on inputs whose answers are known."""
from __future__ import annotations

import numpy as np
import pytest

from reports.correlation import rank_metrics, top_k_precision


def test_perfect_and_reversed_rankings():
    acc = np.linspace(10, 90, 200)
    same = rank_metrics(acc * 3 + 1, acc)
    assert same["spearman_rho"] == pytest.approx(1) and same["kendall_tau"] == pytest.approx(1) and same["top1%"] == 1
    reverse = rank_metrics(-acc, acc)
    assert reverse["spearman_rho"] == pytest.approx(-1) and reverse["top10%"] == 0  # the sign is kept, not abs()'d


def test_top_k_precision_counts_the_overlap():
    acc = np.arange(100.0)
    scores = acc.copy()
    scores[99], scores[0] = -1, 1000  # the proxy's top-1 is the worst cell
    assert top_k_precision(scores, acc, 1) == 0
    assert top_k_precision(scores, acc, 10) == pytest.approx(0.9)


def test_nan_scores_are_dropped_and_counted():
    acc = np.arange(50.0)
    scores = acc.copy()
    scores[:5] = np.nan
    metrics = rank_metrics(scores, acc)
    assert metrics["n"] == 45 and metrics["n_dropped"] == 5 and metrics["spearman_rho"] == pytest.approx(1)


@pytest.mark.slow
def test_synflow_ranks_real_cells_like_accuracy(real_table):
    """On 300 real cells synflow's Spearman rho with CIFAR-10 test accuracy is above 0.6."""
    from spaces.nb201.codec import Arch
    from spaces.nb201.capabilities import NB201ProxyIndex
    from strategies.proxies.cache import sample_indices
    from strategies.proxies.scoring import CellScorer, ScoringSetup

    INDEX = NB201ProxyIndex()
    lex = sample_indices(300, INDEX, seed=0)
    scorer = CellScorer(ScoringSetup("synflow", "cifar10"), INDEX)
    scores = np.array([scorer.score(Arch.from_lex_index(int(i))) for i in lex])
    test_acc = real_table.column("cifar10", "test")[real_table.indices_of([Arch.from_lex_index(int(i)) for i in lex])]
    rho = rank_metrics(scores, test_acc)["spearman_rho"]
    print(f"synflow Spearman rho on 300 cells: {rho:.3f} (published |rho| over all cells: 0.74)")
    assert rho > 0.6


def test_expected_best_of_k_grows_with_k_and_is_exact_for_a_perfect_proxy():
    from reports.correlation import expected_best

    acc = np.arange(1000.0)
    mean_10, _ = expected_best(acc, acc, 10)
    mean_100, _ = expected_best(acc, acc, 100)
    assert mean_100 > mean_10 > 500
    # best of k uniform draws from 0..999 has expectation about 1000 * k / (k + 1)
    assert mean_100 == pytest.approx(1000 * 100 / 101, rel=0.01)
    nan_scores = acc.copy()
    nan_scores[990:] = np.nan  # unscored cells are never picked
    assert expected_best(nan_scores, acc, 100)[0] < 990
