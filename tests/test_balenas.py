"""BaLeNAS on the distribution seam: its DARTS limit, the trajectory, BaLeNAS-TF's selection, randomness."""
from __future__ import annotations

import math

import pytest
import torch

from harness.records import strip_volatile
from harness.seeding import numpy_rng
from nas_core.records import SearchResult
from nas_core.problem import Budget, Problem, SearchLog
from spaces.nb201.codec import Arch
from spaces.nb201.space import NB201Space
from strategies.darts import DartsFirstOrder
from strategies.distributions import SoftmaxDistribution
from strategies.registry import get

TINY = {"epochs": 2, "channels": 4, "cells_per_stage": 1, "image_size": 8, "per_class": 4, "batch_size": 16,
        "hessian_every": 1}
NO_TF = {"tf_proxies": [], "tf_k": []}


def problem(image_data_dir):
    return Problem(space=NB201Space(), dataset="cifar10", budget=Budget(), data_dir=str(image_data_dir), device="cpu")


def run(strategy, image_data_dir, key="k"):
    log = SearchLog()
    arch = SearchResult.of(strategy.search(problem(image_data_dir), numpy_rng({"key": key}, 0), log)).arch
    return arch, log


class PlainAdamDarts(DartsFirstOrder):
    """DARTS-V1 whose architecture Adam has eps = 0 and no weight decay."""

    def make_distribution(self):
        return SoftmaxDistribution(lr=self.a_lr, weight_decay=0.0, eps=0.0)


def test_sigma_zero_and_one_sample_reduce_balenas_to_darts(image_data_dir):
    """The exact relation: BaLeNAS (1st) with noise_scale = 0 (theta = mu), M = 1, delta = 0 and
    prec_init = 0 (s0 = 0, so no prior term in m and no delta/N in the denominator) takes the steps of
    DARTS-V1 whose architecture optimizer is Adam(lr, betas (0.5, 0.999), eps = 0, weight_decay = 0):
    m, s and the bias corrections are Adam's, so mu follows alpha up to float32 rounding."""
    balenas = get("balenas_v1")(**TINY, **NO_TF, samples=1, noise_scale=0.0, prior_precision=0.0, prec_init=0.0)
    arch_b, log_b = run(balenas, image_data_dir)
    arch_d, log_d = run(PlainAdamDarts(**TINY), image_data_dir)
    assert arch_b == arch_d
    for row_b, row_d in zip(log_b.rows, log_d.rows):
        assert torch.allclose(torch.tensor(row_b["alpha"]), torch.tensor(row_d["alpha"]), rtol=1e-4, atol=1e-6)
        assert row_b["genotype"] == row_d["genotype"]
        assert math.isclose(row_b["train_loss"], row_d["train_loss"], rel_tol=1e-4)
    # and with noise the two differ
    noisy = get("balenas_v1")(**TINY, **NO_TF, samples=1, prior_precision=0.0, prec_init=1.0)
    assert run(noisy, image_data_dir)[1].rows[-1]["alpha"] != log_d.rows[-1]["alpha"]


def test_trajectory_adds_sigma_and_the_hessian_at_mu(image_data_dir):
    _, log = run(get("balenas_v2")(**TINY, **NO_TF, samples=2), image_data_dir)
    row = log.rows[-1]
    assert 0 < row["sigma_min"] <= row["sigma_mean"] <= row["sigma_max"] <= 1.0  # sigma starts at 1/sqrt(prec_init)
    assert torch.tensor(row["sigma"]).shape == (6, 5) and "skip_connections" in row
    assert math.isfinite(row["hessian_eigenvalue"])


def test_records_ignore_the_global_torch_seed_and_leave_it_alone(image_data_dir):
    """Every distribution's randomness comes from the run's streams (DrNAS's Dirichlet draws included)."""
    for name, extra in (("darts_v1", {}), ("gdas", {}), ("balenas_v1", NO_TF), ("drnas", {}),
                        ("bayesnas", {"hessian_batches": 2})):
        rows = []
        for global_seed in (1, 2):
            torch.manual_seed(global_seed)
            before = torch.get_rng_state()
            arch, log = run(get(name)(**TINY, **extra), image_data_dir, key=name)
            assert torch.equal(torch.get_rng_state(), before), f"{name} touched torch's global RNG"
            rows.append((arch, [strip_volatile(r) for r in log.rows]))
        assert rows[0] == rows[1], name


def test_tf_selection_draws_nested_samples_and_keeps_the_best_score():
    from strategies.tf_selection import Selection, best_of, draw_cells

    mu = torch.zeros(6, 5)
    mu[:, 3] = 0.5
    cells = draw_cells(mu, torch.full((6, 5), 0.8), torch.Generator().manual_seed(0), 40, NB201Space())
    assert len(cells) == 40 and len(set(cells)) > 1
    assert draw_cells(mu, torch.zeros(6, 5), torch.Generator().manual_seed(0), 5, NB201Space()) == [Arch((3,) * 6)] * 5
    scores = {a: float(a.count("nor_conv_3x3")) for a in cells}
    scores[cells[0]] = float("nan")  # a NaN score never wins
    best = best_of(cells[:10], scores)
    assert scores[best] == max(scores[a] for a in cells[1:10])
    assert cells.index(best) == min(i for i in range(1, 10) if scores[cells[i]] == scores[best])  # ties: first drawn
    assert Selection(cells, {10: len(set(cells[:10]))}).as_record()["distinct"] == {"10": len(set(cells[:10]))}


def test_bad_balenas_options_are_rejected():
    with pytest.raises(ValueError, match="select"):
        get("balenas_v1")(select="snip@7")
    with pytest.raises(ValueError, match="tf_k"):
        get("balenas_v1")(tf_k=[200])
    with pytest.raises(KeyError, match="synflow"):
        get("balenas_v1")(tf_proxies=["nope"])
    with pytest.raises(ValueError, match="arch_first"):
        get("balenas_v2")(arch_first=True)
    assert get("balenas_tf")().select == "synflow@100" and get("balenas_tf")().order == 2


def test_one_search_serves_every_selection_with_the_table_sealed(tmp_path, synthetic_data_dir, image_data_dir):
    """The runner evaluates argmax-mu and each (proxy, K) pick after the search; the search itself
    queried nothing (n_queries 0) while the table was sealed."""
    import shutil

    from harness.config import parse_config
    from harness.records import iter_records
    from harness.runner import run_experiment

    data = tmp_path / "data"
    shutil.copytree(synthetic_data_dir, data)
    shutil.copytree(image_data_dir / "cifar-10-batches-py", data / "cifar-10-batches-py")
    config = parse_config({
        "name": "tf", "datasets": ["cifar10"], "seeds": [0], "data_dir": str(data), "backend": "sequential",
        "evaluate_on": ["cifar10", "cifar100"], "device": "cpu",
        "strategies": [{"name": "balenas_tf", **TINY, "epochs": 1, "samples": 1, "tf_proxies": ["synflow"],
                        "tf_draws": 8, "tf_k": [2, 8], "select": "synflow@8"}]})
    summary = run_experiment(config, results_root=tmp_path / "results", progress=False)
    assert summary.done == 1, summary.failures
    (record,) = iter_records(tmp_path / "results" / "tf")
    selections = record["final"]["selections"]
    assert set(selections) == {"argmax_mu", "synflow@2", "synflow@8"}
    assert record["final"]["arch"] == selections["synflow@8"]["arch"] == record["selection"]["chosen"]["synflow@8"]
    for evaluated in selections.values():
        assert {"valid_acc", "test_acc"} <= set(evaluated) and "cifar100" in evaluated["transfer"]
    assert record["search"]["n_queries"] == 0
    assert len(record["selection"]["draws"]) == 8 and 1 <= record["selection"]["distinct"]["2"] <= 2
