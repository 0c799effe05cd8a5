"""Each proxy against a closed form on a two-layer network: x -> W1 -> ReLU -> W2 (no biases).

The expected values are computed by hand in NumPy (gradients written out, no autograd), in
float64, so they check the proxy code rather than repeat it.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from strategies.proxies import get_proxy, proxy_names

B, D, H, K = 6, 5, 8, 3


@pytest.fixture()
def case():
    rng = np.random.default_rng(7)
    w1, w2 = rng.normal(size=(H, D)), rng.normal(size=(K, H))
    x, y = rng.normal(size=(B, D)), rng.integers(0, K, size=B)
    net = nn.Sequential(nn.Linear(D, H, bias=False), nn.ReLU(), nn.Linear(H, K, bias=False)).double()
    with torch.no_grad():
        net[0].weight.copy_(torch.from_numpy(w1))
        net[2].weight.copy_(torch.from_numpy(w2))
    return net, (torch.from_numpy(x), torch.from_numpy(y)), w1, w2, x, y


def loss_grads(w1, w2, x, y):
    """Mean cross-entropy gradients w.r.t. W1 and W2, by hand."""
    a = x @ w1.T
    mask = (a > 0).astype(float)
    hidden = a * mask
    logits = hidden @ w2.T
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    dlogits = (p - np.eye(K)[y]) / len(y)
    dw2 = dlogits.T @ hidden
    dw1 = ((dlogits @ w2) * mask).T @ x
    return dw1, dw2


def test_all_six_proxies_are_registered():
    assert {"synflow", "snip", "grasp", "grad_norm", "jacob_cov", "nwot"} <= set(proxy_names())


def test_snip(case):
    net, batch, w1, w2, x, y = case
    g1, g2 = loss_grads(w1, w2, x, y)
    expected = np.abs(w1 * g1).sum() + np.abs(w2 * g2).sum()
    assert get_proxy("snip").fn(net, batch) == pytest.approx(expected, rel=1e-12)


def test_grad_norm(case):
    net, batch, w1, w2, x, y = case
    g1, g2 = loss_grads(w1, w2, x, y)
    assert get_proxy("grad_norm").fn(net, batch) == pytest.approx(np.linalg.norm(g1) + np.linalg.norm(g2), rel=1e-12)


def test_grasp(case):
    net, batch, w1, w2, x, y = case
    g1, g2 = loss_grads(w1, w2, x, y)
    eps = 1e-6  # Hg by central differences of the hand-written gradient
    p1, p2 = loss_grads(w1 + eps * g1, w2 + eps * g2, x, y)
    m1, m2 = loss_grads(w1 - eps * g1, w2 - eps * g2, x, y)
    hg1, hg2 = (p1 - m1) / (2 * eps), (p2 - m2) / (2 * eps)
    expected = (-w1 * hg1).sum() + (-w2 * hg2).sum()
    assert get_proxy("grasp").fn(net, batch) == pytest.approx(expected, rel=1e-6)


def test_synflow_closed_form(case):
    net, batch, w1, w2, *_ = case
    # all-ones input, |W|: R = 1'|W2||W1|1 and both layers contribute R
    expected = 2 * np.ones(K) @ np.abs(w2) @ np.abs(w1) @ np.ones(D)
    assert get_proxy("synflow").fn(net, batch) == pytest.approx(expected, rel=1e-12)


def test_synflow_ignores_the_batch_and_leaves_the_network_alone(case):
    net, batch, *_ = case
    before = [p.detach().clone() for p in net.parameters()]
    first = get_proxy("synflow").fn(net, batch)
    other = (torch.randn_like(batch[0]) * 100, batch[1])
    assert get_proxy("synflow").fn(net, other) == first
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters()))


def test_jacob_cov(case):
    net, batch, w1, w2, x, y = case
    mask = (x @ w1.T > 0).astype(float)
    jac = np.stack([(w2 * m).sum(0) @ w1 for m in mask])  # d(sum y)/dx = 1' W2 diag(m) W1
    eig = np.linalg.eigvalsh(np.corrcoef(jac))
    expected = -np.sum(np.log(eig + 1e-5) + 1 / (eig + 1e-5))
    assert get_proxy("jacob_cov").fn(net, batch) == pytest.approx(expected, rel=1e-9)


def test_jacob_cov_of_a_linear_network_is_nan_free_closed_form():
    """Without ReLU every sample has the same Jacobian: corr = all ones, eigenvalues (B, 0, ...)."""
    net = nn.Sequential(nn.Linear(D, K, bias=False)).double()
    batch = (torch.randn(B, D, dtype=torch.float64), torch.zeros(B, dtype=torch.long))
    eig = np.array([B] + [0.0] * (B - 1))
    expected = -np.sum(np.log(eig + 1e-5) + 1 / (eig + 1e-5))
    assert get_proxy("jacob_cov").fn(net, batch) == pytest.approx(expected, rel=1e-6)


def test_nwot(case):
    net, batch, w1, w2, x, y = case
    codes = (x @ w1.T > 0).astype(float)
    kernel = codes @ codes.T + (1 - codes) @ (1 - codes).T
    assert get_proxy("nwot").fn(net, batch) == pytest.approx(np.linalg.slogdet(kernel)[1], rel=1e-12)


def test_unknown_proxy_lists_the_registered_ones():
    with pytest.raises(KeyError, match="registered proxies"):
        get_proxy("zen")
