"""BayesNAS in its original space: the DARTS-cell switch walk, its Gauss-Newton rules for the
DARTS ops, per-cell-type groups and the derivation of a genotype."""
from __future__ import annotations

import pytest
import torch
from scipy.stats import spearmanr

from spaces.darts.genotype import EDGES, Genotype
from spaces.darts.supernet import DartsSupernet
from spaces import switched as sn
from spaces.darts import switches as snd


def squared_jacobian_rule(layer, a: torch.Tensor) -> torch.Tensor:
    """(J * J) applied to a random q: what a layer's q rule must compute (J its Jacobian at a)."""
    jac = torch.autograd.functional.jacobian(layer, a).reshape(layer(a).numel(), a.numel())
    q = torch.rand(a.shape, generator=torch.Generator().manual_seed(1), dtype=a.dtype)
    return (jac ** 2 @ q.reshape(-1)).reshape(layer(a).shape), q


@pytest.mark.parametrize("name, layer, pair_fn", [
    ("max pool, stride 1", lambda a: torch.nn.functional.max_pool2d(a, 3, 1, 1), lambda p: snd.max_pool_3x3(p, 1)),
    ("max pool, stride 2", lambda a: torch.nn.functional.max_pool2d(a, 3, 2, 1), lambda p: snd.max_pool_3x3(p, 2)),
    ("avg pool, stride 2", lambda a: torch.nn.functional.avg_pool2d(a, 3, 2, 1, count_include_pad=False),
     lambda p: snd.avg_pool_3x3(p, 2)),
])
def test_the_pool_rules_are_the_squared_jacobian(name, layer, pair_fn):
    a = torch.randn(2, 3, 5, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    expected, q = squared_jacobian_rule(layer, a)
    out, q_out = pair_fn((a, q))
    assert torch.allclose(out, layer(a)) and torch.allclose(q_out, expected, atol=1e-12), name


def test_the_grouped_dilated_conv_and_factorized_reduction_rules_are_the_squared_jacobian():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(2, 4, 6, 6, generator=g, dtype=torch.float64)
    w = torch.randn(4, 1, 3, 3, generator=g, dtype=torch.float64)
    conv = lambda x: torch.nn.functional.conv2d(x, w, None, 1, 2, 2, 4)  # noqa: E731 (dil_conv's depthwise)
    expected, q = squared_jacobian_rule(conv, a)
    assert torch.allclose(sn.conv((a, q), w, None, 1, 2, 2, 4)[1], expected, atol=1e-12)
    from spaces.darts.network import FactorizedReduce

    fr = FactorizedReduce(4, 4, affine=False).double()
    linear_part = lambda x: torch.cat([fr.conv_1(x), fr.conv_2(x[:, :, 1:, 1:])], dim=1)  # noqa: E731
    expected, q = squared_jacobian_rule(linear_part, torch.relu(a))
    both = snd.cat([sn.module_conv(fr.conv_1, (torch.relu(a), q)),
                    sn.module_conv(fr.conv_2, (torch.relu(a)[:, :, 1:, 1:], q[:, :, 1:, 1:]))])
    assert torch.allclose(both[1], expected, atol=1e-12)


def _tiny(seed: int = 0) -> tuple[DartsSupernet, snd.DartsSwitchedSupernet]:
    net = DartsSupernet(10, 4, 5, generator=seed, impl="plain")
    return net, snd.DartsSwitchedSupernet(net, "input")


def test_the_switch_walk_with_uniform_switches_is_the_darts_supernet():
    net, switched = _tiny()
    x = torch.randn(4, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    weights = torch.softmax(torch.randn(2, 14, 8, generator=torch.Generator().manual_seed(1)), -1)
    assert switched.cell_kinds == [0, 1, 0, 1, 0]
    child = torch.stack([weights[k] for k in switched.cell_kinds])
    assert torch.allclose(switched(x, child, torch.ones(5, 14)), net(x, weights), atol=1e-6)
    with pytest.raises(ValueError, match="parent_at"):
        snd.DartsSwitchedSupernet(net, "middle")


@pytest.mark.parametrize("seed", [0, 1])
def test_the_closed_form_on_the_darts_supernet_is_a_positive_surrogate_of_the_gauss_newton_diagonal(seed):
    """Many parallel paths per switch (7 ops per edge, up to 5 edges per node): the layer-wise
    recursion keeps sums of squares, not squares of sums, so it is a positive surrogate of
    autograd's exact Gauss-Newton diagonal diag(J^T H_z J). Measured on two cells of C = 4:
    Spearman 0.58 at seeds 0 and 1, median ratio 0.20-0.27; asserted Spearman > 0.4."""
    net = DartsSupernet(10, 4, 2, generator=seed, impl="plain").double()
    switched = snd.DartsSwitchedSupernet(net)
    g = torch.Generator().manual_seed(seed + 100)
    x = torch.randn(8, 3, 8, 8, generator=g, dtype=torch.float64)
    y = torch.randint(0, 10, (8,), generator=g)
    child = 1 + 0.05 * torch.rand(2, 14, 8, generator=g, dtype=torch.float64)
    parent = torch.ones(2, 14, dtype=torch.float64)
    closed, closed_parent = switched.diagonal_hessian(x, y, child, parent, "full")
    jac = torch.autograd.functional.jacobian(lambda c: switched(x, c, parent), child).reshape(8, 10, -1)
    p = torch.softmax(switched(x, child, parent).detach(), -1)
    h_z = torch.diag_embed(p) - p.unsqueeze(-1) * p.unsqueeze(-2)
    gauss_newton = torch.einsum("bki,bkl,bli->i", jac, h_z, jac) / 8
    assert (closed >= 0).all() and (closed_parent >= 0).all() and torch.all(closed[..., 0] == 0)
    ops = torch.ones(2 * 14 * 8, dtype=torch.bool)
    ops[0::8] = False
    assert spearmanr(closed.reshape(-1)[ops].numpy(), gauss_newton[ops].numpy()).statistic > 0.4


def _distribution():
    from strategies.bayesnas import SwitchDistribution

    dist = SwitchDistribution([0, 1, 0, 1, 0], 0.025, 0.9, True, 0.01, 0.01, 1e-3, 1.0)
    dist.init(None, "cpu", 100, (2, 14, 8))
    return dist


def test_groups_are_per_cell_type_and_the_update_runs_per_type():
    from strategies.bayesnas import group_norm, hard_update

    dist = _distribution()
    with torch.no_grad():
        dist.child.mul_(torch.rand(dist.child.shape, generator=torch.Generator().manual_seed(0)))
    normal, reduce = [0, 2, 4], [1, 3]
    expected = sum(0.01 * (group_norm(dist.parent[c])).sum() + 0.01 * group_norm(dist.child[c]).sum()
                   for c in (normal, reduce))
    assert torch.allclose(dist.regulariser(), expected)
    h_child = torch.rand(5, 14, 8, generator=torch.Generator().manual_seed(1))
    h_parent = torch.rand(5, 14, generator=torch.Generator().manual_seed(2))
    dist.update(h_child, h_parent)
    gamma_p, _ = hard_update(h_parent[reduce], dist.parent[reduce], torch.ones(14), 0.01)
    gamma_c, _ = hard_update(h_child[reduce], dist.child[reduce], torch.ones(14, 8), 0.01, gamma_p.unsqueeze(-1).expand(14, 8))
    assert torch.allclose(dist.gamma_parent[1], gamma_p) and torch.allclose(dist.gamma_child[1], gamma_c)


def test_the_derivation_keeps_the_two_strongest_parents_per_node_and_the_best_child():
    dist = _distribution()
    with torch.no_grad():
        dist.gamma_parent.fill_(0.1)
        dist.gamma_child.fill_(0.1)
        for node, (a, b) in zip(range(2, 6), [(0, 1), (2, 0), (3, 1), (4, 2)]):
            dist.gamma_parent[0, EDGES.index((node, a))] = 2.0
            dist.gamma_parent[0, EDGES.index((node, b))] = 1.0
            dist.gamma_child[0, EDGES.index((node, a)), 4] = 3.0  # sep_conv_3x3
            dist.gamma_child[0, EDGES.index((node, b)), 0] = 9.0  # none: never chosen
            dist.gamma_child[0, EDGES.index((node, b)), 3] = 2.0  # skip_connect
    from spaces import get_space

    genotype = dist.derive_arch(get_space("darts"))
    assert isinstance(genotype, Genotype)
    assert genotype.node_inputs("normal") == [(0, 1), (0, 2), (1, 3), (2, 4)]
    assert [op for op, _ in genotype.normal].count("sep_conv_3x3") == 4
    assert [op for op, _ in genotype.normal].count("skip_connect") == 4
