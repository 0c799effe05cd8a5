"""Variational Adam: the analytic posterior of a conjugate model, M-sample averaging, the Adam limit, state."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from scipy.linalg import hadamard

from strategies.vadam import Vadam


def test_converges_to_the_analytic_posterior_of_bayesian_linear_regression():
    """y = X w + e with unit noise variance and prior N(0, 1/delta): posterior precision X^T X + delta I,
    mean (X^T X + delta I)^-1 X^T y. Columns of a Hadamard matrix make X^T X diagonal (so the
    diagonal Gaussian is exact) and make the noise orthogonal to X (so the squared per-example
    gradients at the mean average exactly x^2). One example per step: the loss is the
    per-example (mean) loss, as Vadam expects, with N = number of examples."""
    n, delta = 1024, 1.0
    h = hadamard(n).astype(np.float64)
    x = np.stack([h[:, 1], 2.0 * h[:, 2]], axis=1)
    y = x @ np.array([0.8, -0.5]) + h[:, 3]
    precision = np.diag(x.T @ x) + delta
    mean = (x.T @ y) / precision
    X, Y = torch.tensor(x), torch.tensor(y)
    mu = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    opt = Vadam([mu], dataset_size=n, lr=2e-3, betas=(0.9, 0.999), prior_precision=delta, prec_init=delta,
                generator=torch.Generator().manual_seed(0))
    order = np.random.default_rng(0)
    tail = []
    for step in range(30000):
        i = int(order.integers(n))

        def closure():
            mu.grad = torch.autograd.grad(0.5 * (Y[i] - X[i] @ mu) ** 2, [mu])[0]

        opt.step(closure)
        if step >= 25000:
            tail.append(mu.detach().clone())
    mu_avg = torch.stack(tail).mean(0).numpy()
    variance = opt.sigma(mu).detach().numpy() ** 2
    assert np.allclose(mu_avg, mean, rtol=0.05), (mu_avg, mean)
    assert np.allclose(variance, 1.0 / precision, rtol=0.05), (variance, 1.0 / precision)


def test_m_samples_average_gradients_and_squared_gradients():
    """f(theta) = 0.5 sum c theta^2 has per-sample gradient c * theta_i, theta_i = mu + sigma eps_i.
    After one step: m = (1-b1)(mean_i g_i + delta/N mu), s = b2 s0 + (1-b2) mean_i g_i^2."""
    n, delta, prec_init, b1, b2, samples = 50, 2.0, 6.0, 0.9, 0.99, 4
    c = torch.tensor([1.0, 3.0, -2.0], dtype=torch.float64)
    mu = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64, requires_grad=True)
    mu0 = mu.detach().clone()
    opt = Vadam([mu], dataset_size=n, lr=0.1, betas=(b1, b2), prior_precision=delta, prec_init=prec_init,
                samples=samples, generator=torch.Generator().manual_seed(7))
    s0 = (prec_init - delta) / n
    sigma0 = 1.0 / np.sqrt(n * s0 + delta)
    replay = torch.Generator().manual_seed(7)
    thetas = [mu0 + sigma0 * torch.randn(3, generator=replay, dtype=torch.float64) for _ in range(samples)]
    seen = []

    def closure():
        seen.append(mu.detach().clone())
        mu.grad = c * mu.detach()

    opt.step(closure)
    grads = torch.stack([c * t for t in thetas])
    assert all(torch.allclose(a, b) for a, b in zip(seen, thetas))  # the closure saw the drawn samples
    state = opt.state[mu]
    assert torch.allclose(state["exp_avg"], (1 - b1) * (grads.mean(0) + delta / n * mu0))
    assert torch.allclose(state["exp_avg_sq"], b2 * s0 + (1 - b2) * (grads**2).mean(0))
    assert not torch.allclose(state["exp_avg_sq"], b2 * s0 + (1 - b2) * grads.mean(0) ** 2)  # not the square of the mean


def test_large_n_s_approaches_adam():
    """sigma = 1/sqrt(N s + delta) -> 0 and delta/N -> 0 as N grows with s0 = 1e-9 fixed (prec_init =
    delta + N s0): the trajectory tends to Adam's (same lr and betas, eps = 0, no weight decay)."""
    target = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)

    def run(make):
        p = torch.zeros(3, dtype=torch.float64, requires_grad=True)
        opt = make(p)
        for _ in range(50):
            def closure():
                p.grad = torch.autograd.grad(((p - target) ** 2).sum(), [p])[0]
            if isinstance(opt, Vadam):
                opt.step(closure)
            else:
                opt.zero_grad()
                closure()
                opt.step()
        return p.detach()

    adam = run(lambda p: torch.optim.Adam([p], lr=0.05, betas=(0.5, 0.999), eps=0.0))
    gaps = []
    for n in (10**3, 10**9, 10**15):
        vadam = run(lambda p: Vadam([p], dataset_size=n, lr=0.05, betas=(0.5, 0.999), prior_precision=1.0,
                                    prec_init=1.0 + n * 1e-9, generator=torch.Generator().manual_seed(0)))
        gaps.append(float((vadam - adam).abs().max()))
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 1e-3, gaps


def test_state_dict_round_trip_continues_identically():
    def loss_closure(p):
        def closure():
            p.grad = torch.autograd.grad((p.sin() * p).sum(), [p])[0]
        return closure

    p = torch.linspace(-1, 1, 6, requires_grad=True)
    opt = Vadam([p], dataset_size=100, samples=3, generator=torch.Generator().manual_seed(3))
    for _ in range(5):
        opt.step(loss_closure(p))
    state, mu, noise = copy.deepcopy(opt.state_dict()), p.detach().clone(), opt.generator.get_state()
    for _ in range(5):
        opt.step(loss_closure(p))
    straight = p.detach().clone()

    q = mu.clone().requires_grad_()
    fresh = Vadam([q], dataset_size=100, samples=3, generator=torch.Generator().set_state(noise))
    fresh.load_state_dict(state)
    for _ in range(5):
        fresh.step(loss_closure(q))
    assert torch.equal(q.detach(), straight)
    assert torch.equal(fresh.sigma(q), opt.sigma(p))


def test_bad_options_are_rejected_and_the_global_rng_is_never_used():
    p = torch.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="prec_init"):
        Vadam([p], dataset_size=10, prior_precision=2.0, prec_init=1.0)
    with pytest.raises(ValueError, match="samples"):
        Vadam([p], dataset_size=10, samples=0)
    with pytest.raises(RuntimeError, match="generator"):
        Vadam([p], dataset_size=10).step(lambda: None)
    with pytest.raises(RuntimeError, match="closure"):
        Vadam([p], dataset_size=10, generator=torch.Generator()).step()
