"""Proxy scoring on NB201 networks: fast path = reference, pruned invariance, seeded batches, cache."""
from __future__ import annotations

import numpy as np
import pytest

from spaces.nb201.canonical import pruned
from spaces.nb201.capabilities import NB201ProxyIndex
from spaces.nb201.codec import Arch
from strategies.proxies.cache import cache_path, load_scores, sample_indices, score_cells
from strategies.proxies.scoring import CellScorer, ScoringSetup, reference_score

INDEX = NB201ProxyIndex()

SMALL = {"channels": 4, "cells_per_stage": 1}  # the same code paths on a network that builds in milliseconds

DEAD_EDGES = [  # cells with edges that cannot reach the output, or that carry zeros
    "|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|nor_conv_3x3~0|none~1|none~2|",
    "|none~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|skip_connect~1|nor_conv_3x3~2|",
    "|none~0|+|none~0|nor_conv_3x3~1|+|nor_conv_1x1~0|avg_pool_3x3~1|nor_conv_3x3~2|",
]


def test_pruned_sets_exactly_the_dead_edges_to_none():
    a, b, c = (Arch.from_str(s) for s in DEAD_EDGES)
    assert pruned(a).to_str() == "|none~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|none~2|"
    assert pruned(b).to_str() == "|none~0|+|nor_conv_3x3~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|"
    # a convolution fed by the all-zero node 1 is kept: its bias is not zero
    assert pruned(c).to_str() == "|none~0|+|none~0|nor_conv_3x3~1|+|nor_conv_1x1~0|none~1|nor_conv_3x3~2|"


@pytest.mark.parametrize("dataset, size", [("cifar10", SMALL), ("ImageNet16-120", SMALL), ("cifar10", {})])
def test_fast_synflow_equals_the_per_cell_reference(dataset, size):
    setup = ScoringSetup("synflow", dataset, **size)
    scorer = CellScorer(setup, INDEX)
    cells = [Arch.from_str(s) for s in DEAD_EDGES]
    if size:
        cells += [Arch.from_lex_index(int(i)) for i in sample_indices(30, INDEX, seed=3)]
    for arch in cells:
        reference = reference_score(arch, setup, INDEX)  # the unpruned cell, built from scratch
        assert scorer.score(arch) == pytest.approx(reference, rel=1e-9, abs=0)


def test_synflow_is_deterministic_and_spans_orders_of_magnitude():
    setup = ScoringSetup("synflow", "cifar10")
    cells = [Arch.from_lex_index(int(i)) for i in sample_indices(20, INDEX, seed=4)]
    scorer = CellScorer(setup, INDEX)
    scores = np.array([scorer.score(a) for a in cells])
    assert scores.tolist() == [CellScorer(setup, INDEX).score(a) for a in cells[:3]] + scores[3:].tolist()
    assert np.nanmax(scores) / np.nanmin(scores[scores > 0]) > 1e6


def test_different_init_seeds_give_different_synflow():
    arch = Arch.from_str("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|")
    assert reference_score(arch, ScoringSetup("synflow", "cifar10", init_seed=0, **SMALL), INDEX) != reference_score(
        arch, ScoringSetup("synflow", "cifar10", init_seed=1, **SMALL), INDEX)


@pytest.mark.parametrize("proxy", ["snip", "grasp", "jacob_cov", "grad_norm"])
def test_data_dependent_proxies_depend_only_on_the_seeded_batch(proxy, image_data_dir):
    arch = Arch.from_str("|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|")
    setup = lambda seed: ScoringSetup(proxy, "cifar10", batch_seed=seed, batch_size=8, data_dir=str(image_data_dir), **SMALL)
    a, b = CellScorer(setup(0), INDEX).score(arch), CellScorer(setup(0), INDEX).score(arch)
    assert a == b and np.isfinite(a)
    assert CellScorer(setup(1), INDEX).score(arch) != a


@pytest.mark.parametrize("proxy", ["snip", "jacob_cov"])
def test_data_dependent_fast_path_equals_reference_on_dead_edge_cells(proxy, image_data_dir):
    setup = ScoringSetup(proxy, "cifar10", batch_size=8, data_dir=str(image_data_dir), **SMALL)
    scorer = CellScorer(setup, INDEX)
    for text in DEAD_EDGES[:2]:
        arch = Arch.from_str(text)
        assert scorer.score(arch) == pytest.approx(reference_score(arch, setup, INDEX), rel=1e-6)


def test_cache_fills_classes_resumes_and_rejects_corruption(tmp_path):
    setup = ScoringSetup("synflow", "ImageNet16-120", **SMALL)
    first = sample_indices(12, INDEX, seed=9)
    scores = score_cells(setup, INDEX, first, n_jobs=1, progress=False, directory=tmp_path)
    assert np.isfinite(scores).all()
    cached = load_scores(setup, INDEX, tmp_path)
    # every cell that prunes to a scored cell got the same score without being computed
    for i in first:
        mate = [j for j in range(15625) if pruned(Arch.from_lex_index(j)) == pruned(Arch.from_lex_index(int(i)))]
        assert len(set(cached[mate].tolist())) == 1
        break
    more = sample_indices(20, INDEX, seed=10)
    again = score_cells(setup, INDEX, more, n_jobs=1, progress=False, directory=tmp_path)
    assert np.isfinite(again).all() and (~np.isnan(load_scores(setup, INDEX, tmp_path))).sum() >= (~np.isnan(cached)).sum()
    cache_path(setup, INDEX, tmp_path).write_bytes(b"garbage")
    with pytest.raises(ValueError, match="delete it"):
        load_scores(setup, INDEX, tmp_path)


def test_unknown_dataset_for_scoring_is_rejected():
    with pytest.raises(ValueError, match="expected one of"):
        ScoringSetup("synflow", "mnist").input_shape


def test_a_nan_score_is_cached_as_scored_and_not_recomputed(tmp_path, monkeypatch):
    import strategies.proxies.cache as cache

    calls = []

    class NaNScorer:
        def score(self, arch):
            calls.append(arch)
            return float("nan")

    monkeypatch.setattr(cache, "scorer_for", lambda setup, index: NaNScorer())
    setup = ScoringSetup("jacob_cov", "cifar10", **SMALL)
    cells = sample_indices(5, INDEX, seed=1)
    assert np.isnan(score_cells(setup, INDEX, cells, n_jobs=1, progress=False, directory=tmp_path)).all()
    first = len(calls)
    score_cells(setup, INDEX, cells, n_jobs=1, progress=False, directory=tmp_path)
    assert first > 0 and len(calls) == first
    assert cache.load_cache(setup, INDEX, tmp_path)[1][cells].all()
