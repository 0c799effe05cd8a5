"""BayesNAS: the closed-form switch Hessian against autograd, the HARD update, derivation, the loop."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.stats import spearmanr

from harness.seeding import numpy_rng
from nas_core.problem import Budget, Problem, SearchLog
from spaces.nb201.space import NB201Space
from spaces.nb201.supernet import Supernet
from spaces import switched as sn
from spaces.nb201.switches import SwitchedSupernet
from strategies.bayesnas import SwitchDistribution, hard_update
from strategies.registry import get

TINY = {"epochs": 3, "channels": 4, "cells_per_stage": 1, "image_size": 8, "per_class": 4, "batch_size": 16,
        "hessian_every": 1, "hessian_batches": 2}


def exact_diagonal(loss_of, switches: torch.Tensor) -> torch.Tensor:
    """The exact Hessian diagonal by double backward, one entry at a time."""
    s = switches.detach().clone().requires_grad_()
    (grad,) = torch.autograd.grad(loss_of(s), s, create_graph=True)
    out = torch.zeros_like(s)
    for i in range(s.numel()):
        (row,) = torch.autograd.grad(grad.reshape(-1)[i], s, retain_graph=True)
        out.view(-1)[i] = row.reshape(-1)[i]
    return out


def test_closed_form_equals_the_exact_diagonal_where_the_approximation_is_exact():
    """A one-pixel, one-channel mixed edge (skip, 1x1 conv, 3x3 pool, ReLU, mean pool, linear),
    no batch statistics, one logit depending on the switches: the Gauss-Newton diagonal is the
    exact Hessian diagonal, so the two agree to 1e-9 (float64)."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(5, 1, 1, 1, generator=gen, dtype=torch.float64)
    y = torch.tensor([0, 1, 0, 1, 1])
    conv_w = torch.randn(1, 1, 1, 1, generator=gen, dtype=torch.float64)
    head = torch.tensor([[1.7], [0.0]], dtype=torch.float64)  # the second logit is constant
    switches = torch.tensor([0.8, -1.3, 0.6], dtype=torch.float64)

    def walk(pair, u):
        s, dummies = u_switches[0], u
        ops = [pair, sn.conv(sn.relu(pair), conv_w), sn.avg_pool_3x3(pair)]
        total = None
        for k, op in enumerate(ops):
            term = sn.scale(op, s[k], None if dummies is None else dummies[0][k])
            total = term if total is None else sn.add(total, term)
        return sn.linear(sn.global_mean(sn.relu(total)), head, None)

    u_switches = [switches]
    (closed,) = sn.gauss_newton_diagonal(walk, x, y, [switches], output_hessian="full")

    def loss_of(s):
        u_switches[0] = s
        return F.cross_entropy(walk((x, None), None)[0], y)

    exact = exact_diagonal(loss_of, switches)
    assert torch.allclose(closed, exact, rtol=1e-9, atol=1e-12), (closed, exact)
    assert (closed > 0).all()


@pytest.mark.parametrize("seed", [0, 3])
def test_closed_form_on_the_supernet_tracks_autograds_gauss_newton_diagonal(seed):
    """On a real (tiny) switched supernet the layer-wise recursion also drops the cross-path terms
    and the output Hessian's off-diagonal, so it is compared with autograd's exact Gauss-Newton
    diagonal, diag(J^T H_z J) from the full Jacobian: measured Spearman 0.85-0.93 and a median
    ratio of 0.63-0.73 over seeds 0-3; asserted Spearman > 0.8 and median ratio in [0.4, 1].
    (Against the full Hessian diagonal, whose BN curvature terms make entries negative, the
    rank correlation was -0.12 and 0.26 in the two configurations measured: the method's
    Gauss-Newton step discards those terms.)"""
    net = Supernet(10, 4, 1, "plain", torch.Generator().manual_seed(seed)).double()
    switched = SwitchedSupernet(net, "input")
    gen = torch.Generator().manual_seed(seed + 100)
    batch = 16
    x = torch.randn(batch, 3, 8, 8, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 10, (batch,), generator=gen)
    child = 0.2 + 0.05 * torch.rand(3, 6, 5, generator=gen, dtype=torch.float64)
    parent = torch.ones(3, 6, dtype=torch.float64)
    closed, closed_parent = switched.diagonal_hessian(x, y, child, parent, "full")
    jacobian = torch.autograd.functional.jacobian(lambda c: switched(x, c, parent), child).reshape(batch, 10, -1)
    p = torch.softmax(switched(x, child, parent).detach(), dim=-1)
    h_z = torch.diag_embed(p) - p.unsqueeze(-1) * p.unsqueeze(-2)
    gauss_newton = torch.einsum("bki,bkl,bli->i", jacobian, h_z, jacobian) / batch
    assert (closed >= 0).all() and (closed_parent >= 0).all()
    assert torch.all(closed[..., 0] == 0)  # none: zero output, zero Hessian
    ops = torch.ones(90, dtype=torch.bool)
    ops[0::5] = False
    ours, reference = closed.reshape(-1)[ops], gauss_newton[ops]
    assert spearmanr(ours.numpy(), reference.numpy()).statistic > 0.8
    assert 0.4 <= float((ours / reference).median()) <= 1.0


def test_switched_walk_with_uniform_switches_is_the_darts_supernet():
    net = Supernet(10, 4, 1, "plain", torch.Generator().manual_seed(0))
    x = torch.randn(8, 3, 8, 8)
    weights = torch.softmax(torch.randn(6, 5), -1)
    switched = SwitchedSupernet(net, "input")(x, weights.expand(3, 6, 5), torch.ones(3, 6))
    assert torch.allclose(switched, net(x, weights), atol=1e-5)
    with pytest.raises(ValueError, match="parent_at"):
        SwitchedSupernet(net, "middle")


def test_hard_update_follows_the_formulas():
    h = torch.tensor([[0.02, 0.0], [0.05, 0.01]])  # 2 cells x 2 groups
    s = torch.tensor([[0.3, 0.4], [0.4, 0.3]])
    gamma, lam = torch.tensor([1.0, 2.0]), 0.01
    new_gamma, omega = hard_update(h, s, gamma, lam)
    c = 1 / (1 / gamma + h / lam)
    expected_omega = torch.sqrt((-c / gamma**2 + 1 / gamma).abs().sum(0))
    assert torch.allclose(omega, expected_omega)
    assert torch.allclose(new_gamma, s.pow(2).sum(0).sqrt() / expected_omega)
    parent_gamma = torch.tensor([0.7, 0.0])
    child_gamma, child_omega = hard_update(h, s, gamma, lam, parent_gamma)
    expected = 1 / (child_omega / s.pow(2).sum(0).sqrt() + 1 / parent_gamma)  # 1/inf -> 0 for the pruned parent
    assert torch.allclose(child_gamma, expected)
    assert child_gamma[1] == 0  # a pruned parent prunes its children (the HARD dependency)


def _distribution() -> SwitchDistribution:
    dist = SwitchDistribution([0, 0, 0], lr=0.1, momentum=0.9, nesterov=True, lambda_parent=0.01, lambda_child=0.01,
                              prune_threshold=1e-3, prunes_edges=True)
    dist.init(torch.Generator(), "cpu", 100, NB201Space.arch_shape)
    return dist


def test_a_parent_whose_gamma_is_driven_to_zero_derives_none():
    dist = _distribution()
    with torch.no_grad():
        dist.child[:, :, 3] = 0.5  # nor_conv_3x3 strongest on every edge
    assert dist.derive_arch(NB201Space()).ops == (3,) * 6
    h_child, h_parent = torch.full((3, 6, 5), 0.01), torch.full((3, 6), 0.01)
    with torch.no_grad():
        dist.parent[:, 2] = 0.0  # edge 2's parent switch off in every cell: ||s|| = 0 -> gamma 0
    dist.update(h_child, h_parent)
    assert float(dist.gamma_parent[0, 2]) == 0 and torch.all(dist.gamma_child[0, 2] == 0)  # one cell kind on NB201
    ops = dist.derive_arch(NB201Space()).ops
    assert ops[2] == 0 and all(op == 3 for i, op in enumerate(ops) if i != 2)


def test_group_lasso_is_lambda_omega_norm():
    dist = _distribution()
    expected = 0.01 * np.sqrt(3) * (6 + 30 * 0.2)  # every group's norm: sqrt(3 cells) * switch value
    assert float(dist.regulariser().detach()) == pytest.approx(expected, rel=1e-5)


def _problem(image_data_dir, checkpoint=None):
    return Problem(space=NB201Space(), dataset="cifar10", budget=Budget(), data_dir=str(image_data_dir),
                   checkpoint_path=checkpoint)


def test_bayesnas_warms_up_then_updates_and_logs_gamma(image_data_dir):
    log = SearchLog()
    strategy = get("bayesnas")(**TINY)
    arch = strategy.search(_problem(image_data_dir), numpy_rng({"b": 1}, 0), log).arch
    first, last = log.rows[0], log.rows[-1]
    assert first["gamma_parent"] == [1.0] * 6  # warm-up epoch: no update yet
    assert last["gamma_parent"] != [1.0] * 6 and np.array(last["gamma_child"]).shape == (6, 5)
    assert first["mean_abs_switch"] == pytest.approx(0.2)  # switches fixed during warm-up
    assert last["mean_abs_switch"] != pytest.approx(0.2)
    assert all(np.isfinite(r["hessian_eigenvalue"]) for r in log.rows)
    assert arch == strategy.last_search.distribution.derive_arch(strategy.last_search.space)
    assert {"child_norm", "parent_norm", "omega_child", "pruned_edges"} <= set(last)


def test_bad_bayesnas_options_are_rejected():
    for bad in ({"warmup_epochs": 2, "epochs": 2}, {"lambda_child": 0}, {"parent_at": "x"},
                {"output_hessian": "exact"}, {"hessian_batches": 0}, {"switch_init": 0}):
        with pytest.raises(ValueError):
            get("bayesnas")(**bad)
