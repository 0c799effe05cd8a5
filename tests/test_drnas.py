"""DrNAS: the Gamma/Dirichlet sampler of our own (moments, gradients) and the strategy on the seam."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from harness.seeding import numpy_rng
from nas_core.problem import Budget, Problem, SearchLog
from spaces.nb201.space import NB201Space
from strategies.gamma import gamma_reparameterised_gradient, sample_dirichlet, sample_gamma
from strategies.registry import get

TINY = {"epochs": 2, "channels": 4, "cells_per_stage": 1, "image_size": 8, "per_class": 4, "batch_size": 16,
        "hessian_every": 1}


@pytest.mark.parametrize("shape", [0.05, 0.7, 1.0, 4.0, 30.0])
def test_gamma_samples_have_the_gamma_moments(shape):
    n = 200_000
    z = sample_gamma(torch.full((n,), shape, dtype=torch.float64), torch.Generator().manual_seed(1))
    # mean and variance of Gamma(k, 1) are both k; 5 standard errors
    assert abs(float(z.mean()) - shape) < 5 * (shape / n) ** 0.5
    assert abs(float(z.var()) / shape - 1) < 0.05


@pytest.mark.parametrize("shape", [0.05, 0.7, 1.0, 4.0, 30.0])
def test_gamma_gradient_matches_the_expectations_analytic_gradient(shape):
    """d/dk E[z] = 1 and d/dk E[log z] = trigamma(k): Monte-Carlo gradients within 4 standard errors."""
    n = 200_000
    k = torch.tensor(shape, dtype=torch.float64, requires_grad=True)
    generator = torch.Generator().manual_seed(2)
    z = sample_gamma(k.expand(n), generator)
    dz = torch.autograd.grad(z.sum(), k)[0] / n
    per_sample = gamma_reparameterised_gradient(z.detach(), torch.full((n,), shape, dtype=torch.float64))
    assert abs(float(dz) - 1.0) < 4 * float(per_sample.std()) / n**0.5
    z = sample_gamma(k.expand(n), generator)
    dlog = torch.autograd.grad(torch.log(z).sum(), k)[0] / n
    spread = float((per_sample / z.detach()).std()) / n**0.5
    trigamma = float(torch.special.polygamma(1, torch.tensor(shape, dtype=torch.float64)))
    assert abs(float(dlog) - trigamma) < 4 * spread + 1e-3 * trigamma


def test_gamma_gradient_per_sample_agrees_with_torchs_implicit_gradient():
    """torch's own implicit-reparameterisation gradient is an independent reference (itself
    accurate to ~1e-4): the median relative gap stays below 1e-4 and the worst below 1e-2."""
    for shape in (0.02, 0.3, 1.0, 2.5, 10.0, 50.0):
        c = torch.full((20_000,), shape, dtype=torch.float64)
        z = sample_gamma(c, torch.Generator().manual_seed(3))
        ours, reference = gamma_reparameterised_gradient(z, c), torch._standard_gamma_grad(c, z)
        gap = (ours - reference).abs() / reference.abs()
        assert float(gap.median()) < 1e-4 and float(gap.max()) < 1e-2, shape


def test_dirichlet_mean_and_gradient():
    concentration = torch.tensor([0.5, 1.0, 2.0, 4.0, 0.2], dtype=torch.float64, requires_grad=True)
    n = 100_000
    x = sample_dirichlet(concentration.expand(n, 5), torch.Generator().manual_seed(4))
    total = float(concentration.detach().sum())
    mean = (concentration / total).detach()
    var = mean * (1 - mean) / (total + 1)
    assert torch.all((x.mean(0) - mean).abs() < 5 * (var / n).sqrt())
    assert torch.allclose(x.sum(-1), torch.ones(n, dtype=torch.float64))
    # d E[x_0] / d c = (e_0 * total - c_0) / total^2, analytic
    (grad,) = torch.autograd.grad(x[:, 0].mean(), concentration)
    analytic = -mean[0].item() / total * torch.ones(5, dtype=torch.float64)
    analytic[0] += 1 / total
    assert torch.allclose(grad, analytic, atol=4e-3), (grad, analytic)


def test_sampler_reads_only_its_generator():
    before = torch.get_rng_state()
    a = sample_dirichlet(torch.ones(6, 5), torch.Generator().manual_seed(5))
    torch.manual_seed(123)
    b = sample_dirichlet(torch.ones(6, 5), torch.Generator().manual_seed(5))
    torch.set_rng_state(before)
    assert torch.equal(a, b)
    assert not torch.equal(a, sample_dirichlet(torch.ones(6, 5), torch.Generator().manual_seed(6)))


def test_bad_concentration_is_a_clear_error():
    with pytest.raises(ValueError, match="positive and finite"):
        sample_gamma(torch.tensor([1.0, float("nan")]), None)


def _problem(image_data_dir, checkpoint=None, callback=None):
    return Problem(space=NB201Space(), dataset="cifar10", budget=Budget(), data_dir=str(image_data_dir),
                   checkpoint_path=checkpoint, epoch_callback=callback, device="cpu")


def test_drnas_defaults_follow_its_nb201_code():
    drnas = get("drnas")()
    assert (drnas.epochs, drnas.w_weight_decay, drnas.nesterov, drnas.lr_schedule) == (100, 3e-4, False, "epoch")
    assert drnas.arch_first and drnas.order == 1 and drnas.regulariser == "l2"
    with pytest.raises(ValueError, match="regulariser"):
        get("drnas")(regulariser="l1")


@pytest.mark.parametrize("regulariser", ["l2", "kl"])
def test_drnas_samples_every_pass_and_records_its_diagnostics(regulariser, image_data_dir):
    log = SearchLog()
    strategy = get("drnas")(**TINY, regulariser=regulariser)
    arch = strategy.search(_problem(image_data_dir), numpy_rng({"d": regulariser}, 0), log).arch
    dist = strategy.last_search.distribution
    assert arch == dist.derive_arch(strategy.last_search.space) and len(log.rows) == 2
    row = log.rows[-1]
    assert np.isfinite(row["hessian_eigenvalue"]) and np.array(row["concentration_sum"]).shape == (6,)
    assert dist.optimizer.param_groups[0]["weight_decay"] == (1e-3 if regulariser == "l2" else 0.0)
    assert (dist.regulariser() is None) == (regulariser == "l2")
    # two passes at the same beta draw different weights (a fresh sample per forward pass)
    first, _ = dist.edge_weights(None, "weight")
    second, _ = dist.edge_weights(None, "arch")
    assert not torch.equal(first, second) and second.requires_grad
    # the per-epoch cosine: lr at epoch 2 of 2 is halfway between 0.025 and 0.001
    assert row["w_lr"] == pytest.approx(0.001 + 0.5 * 0.024 * (1 + np.cos(np.pi / 2)))


# ---- the progressive variant ------------------------------------------------------------------
PROGRESSIVE = {**TINY, "epochs": 3, "channels": 8, "stage_epochs": [1, 2], "progressive": True}


def test_progressive_is_off_by_default_and_leaves_earlier_run_keys_alone():
    drnas = get("drnas")()
    assert drnas.progressive is False
    assert not {"progressive", "pc_k", "keep_ops", "stage_epochs"} & set(drnas.hyperparameters())
    on = get("drnas")(progressive=True).hyperparameters()
    assert on["progressive"] is True and list(on["pc_k"]) == [4, 2] and list(on["keep_ops"]) == [5, 3]
    for bad in ({"pc_k": [2, 4]}, {"keep_ops": [3, 5]}, {"stage_epochs": [1, 1]}, {"pc_k": [4]}):
        with pytest.raises(ValueError):
            get("drnas")(**{**PROGRESSIVE, **bad})


def test_partial_channel_cell_sends_one_kth_of_the_channels_through_the_ops():
    from spaces.nb201.partial_channels import PartialChannelCell, channel_shuffle

    cell = PartialChannelCell(8, 4)
    cell.reset_parameters(torch.Generator().manual_seed(0))
    x = torch.randn(2, 8, 6, 6)
    weights = torch.softmax(torch.randn(6, 5), -1)
    out = cell(x, weights)
    assert out.shape == x.shape and cell.w3.shape == (6, 2, 2, 3, 3)
    # only skip on every edge: each edge passes x through unchanged up to the shuffle
    skip = torch.zeros(6, 5)
    skip[:, 1] = 1.0
    shuffled = channel_shuffle(x, 4)
    node1 = shuffled
    node2 = shuffled + channel_shuffle(node1, 4)
    node3 = shuffled + channel_shuffle(node1, 4) + channel_shuffle(node2, 4)
    torch.testing.assert_close(cell(x, skip), node3)
    cell.prune([[1, 3]] * 6)  # pruned ops are not computed: only skip and conv3x3 remain
    torch.testing.assert_close(cell(x, skip), node3)


def test_widening_keeps_the_old_kernels_and_replicates_channels():
    from spaces.nb201.partial_channels import PartialChannelCell

    cell = PartialChannelCell(8, 4)
    cell.reset_parameters(torch.Generator().manual_seed(0))
    old = cell.w3.detach().clone()
    cell.widen(2, torch.Generator().manual_seed(1))
    assert cell.w3.shape == (6, 4, 4, 3, 3) and cell.k == 2
    assert torch.equal(cell.w3[:, :2, :2], old)
    for j in (2, 3):  # every new output channel is a copy of an old one (rows over the replicated inputs)
        assert any(torch.equal(cell.w3[:, j, :2], old[:, i]) for i in range(2))


def test_progressive_search_prunes_widens_and_resumes_across_the_stages(image_data_dir, tmp_path):
    from harness.records import strip_volatile

    log = SearchLog()
    strategy = get("drnas")(**PROGRESSIVE)
    arch = strategy.search(_problem(image_data_dir), numpy_rng({"p": 1}, 0), log).arch
    assert [row["stage"] for row in log.rows] == [1, 2, 2]
    assert log.rows[0]["kept_ops"] is None and all(len(ops) == 3 for ops in log.rows[1]["kept_ops"])
    kept = log.rows[-1]["kept_ops"]
    assert all(arch.ops[e] in kept[e] for e in range(6))  # the final cell uses kept ops only
    cells = [layer for layer in strategy.last_search.runtime.supernet.layers if hasattr(layer, "kept_ops")]
    assert cells and all(cell.k == 2 and cell.kept_ops == kept for cell in cells)
    sample = strategy.last_search.distribution.edge_weights(None, "weight")[0].detach()
    for e, ops in enumerate(kept):  # the Dirichlet covers the kept ops only
        assert float(sample[e, ops].sum()) == pytest.approx(1.0) and all(sample[e, o] == 0 for o in range(5) if o not in ops)

    class Stop(Exception):
        pass

    def stop_after_second(epoch):
        if epoch == 2:
            raise Stop

    checkpoint = tmp_path / "run.pt"
    with pytest.raises(Stop):
        get("drnas")(**PROGRESSIVE).search(_problem(image_data_dir, checkpoint, stop_after_second),
                                           numpy_rng({"p": 1}, 0), SearchLog())
    resumed_log = SearchLog()
    resumed = get("drnas")(**PROGRESSIVE).search(_problem(image_data_dir, checkpoint), numpy_rng({"p": 1}, 0), resumed_log).arch
    assert resumed == arch
    assert [strip_volatile(r) for r in resumed_log.rows] == [strip_volatile(r) for r in log.rows]


def test_progressive_options_are_checked_against_the_space_before_anything_runs():
    """keep_ops must fit NB201's five ops and pc_k divide its stage widths: config errors, not run failures."""
    from harness.config import ConfigError, parse_config

    base = {"name": "p", "datasets": ["cifar10"], "seeds": [0]}
    with pytest.raises(ConfigError, match=r"keep_ops \[6, 3\] keeps more ops than an edge of space 'nb201' has \(5\)"):
        parse_config({**base, "strategies": [{"name": "drnas", "progressive": True, "keep_ops": [6, 3]}]})
    with pytest.raises(ConfigError, match=r"pc_k \[3, 3\] must divide every stage width"):
        parse_config({**base, "strategies": [{"name": "drnas", "progressive": True, "pc_k": [3, 3]}]})
    assert get("drnas")(progressive=True).space_problems(NB201Space()) == []
