"""Reparameterised Gamma and Dirichlet samples drawn from a given generator.

DrNAS needs Dirichlet(c) edge weights whose gradient reaches the concentration c, drawn from
the run's own ``arch_noise`` stream. ``torch.distributions.Dirichlet.rsample`` reads torch's
global RNG and takes no generator, so this module draws the variates itself:

* **Sampling.** Gamma(c, 1) by Marsaglia and Tsang's squeeze-rejection method applied to the
  shape c + 1 (valid for shape >= 1), then the shape-augmentation identity
  Gamma(c) = Gamma(c + 1) * U^(1/c), so any c > 0 works. Computed in float64 on the CPU from
  the generator; every rejected proposal is redrawn from the same generator, so a run's draws
  depend only on its seed.
* **Gradient.** Implicit reparameterisation (Figurnov et al., 2018): for a sample z with CDF
  F(z; c), dz/dc = -(dF/dc) / p(z; c). dF/dc is a central difference of the regularised
  incomplete gamma function in c (``torch.special.gammainc``; its complement in the right
  tail, where it is the accurate one), p(z; c) the Gamma density. It depends only on z and c,
  so it holds for the augmented sample too.
* **Dirichlet.** x = z / sum(z) over the last axis; autograd carries the normalisation.
"""
from __future__ import annotations

from typing import Any

import torch

#: relative step of the central difference in the concentration
_STEP = 1e-5
#: smallest Gamma value kept: keeps log z and z / sum(z) finite when c is tiny
_TINY = 1e-300


def _marsaglia_tsang(shape_ge_1: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Gamma(shape, 1) for shape >= 1 (float64, CPU): proposals x ~ N(0,1), v = (1 + c x)^3,
    accepted when log U < x^2/2 + d - d v + d log v, with d = shape - 1/3, c = 1/sqrt(9 d)."""
    d = shape_ge_1 - 1.0 / 3.0
    c = 1.0 / torch.sqrt(9.0 * d)
    out = torch.empty_like(d)
    todo = torch.arange(d.numel())
    flat_d, flat_c, flat_out = d.reshape(-1), c.reshape(-1), out.view(-1)
    while todo.numel():
        x = torch.randn(todo.numel(), generator=generator, dtype=torch.float64)
        u = torch.rand(todo.numel(), generator=generator, dtype=torch.float64)
        v = (1.0 + flat_c[todo] * x) ** 3
        dd = flat_d[todo]
        positive = v > 0
        log_v = torch.log(torch.where(positive, v, torch.ones_like(v)))
        accept = positive & (torch.log(u) < 0.5 * x * x + dd - dd * v + dd * log_v)
        flat_out[todo[accept]] = dd[accept] * v[accept]
        todo = todo[~accept]
    return out


def _cdf_derivative(z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """dF(z; c)/dc by a central difference, from the tail where the incomplete gamma is accurate."""
    h = _STEP * torch.clamp(c, min=1.0)
    lower = torch.special.gammainc(c + h, z) - torch.special.gammainc(c - h, z)
    upper = torch.special.gammaincc(c - h, z) - torch.special.gammaincc(c + h, z)
    right_tail = torch.special.gammainc(c, z) > 0.5
    return torch.where(right_tail, upper, lower) / (2 * h)


def gamma_reparameterised_gradient(z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """dz/dc = -(dF/dc) / p(z; c) at a Gamma(c, 1) sample z (float64)."""
    z = torch.clamp(z, min=_TINY)
    log_density = (c - 1) * torch.log(z) - z - torch.lgamma(c)
    return -_cdf_derivative(z, c) * torch.exp(-log_density)


class _Gamma(torch.autograd.Function):
    """Gamma(c, 1) samples from ``generator``; backward by implicit reparameterisation."""

    @staticmethod
    def forward(ctx: Any, concentration: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        c = concentration.detach().to("cpu", torch.float64)
        if not bool((c > 0).all()) or not bool(torch.isfinite(c).all()):
            raise ValueError(f"Gamma concentration must be positive and finite, got min {float(c.min())}")
        z = _marsaglia_tsang(c + 1.0, generator)
        u = torch.rand(c.shape, generator=generator, dtype=torch.float64).clamp_min(_TINY)
        z = torch.clamp(torch.exp(torch.log(z) + torch.log(u) / c), min=_TINY)
        ctx.save_for_backward(z, c)
        return z.to(concentration.device)

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[torch.Tensor, None]:
        z, c = ctx.saved_tensors
        dz_dc = gamma_reparameterised_gradient(z, c).to(grad_output.device, grad_output.dtype)
        return grad_output * dz_dc, None


def sample_gamma(concentration: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Gamma(concentration, 1) in float64 on ``concentration``'s device, differentiable w.r.t. it."""
    return _Gamma.apply(concentration, generator)


def sample_dirichlet(concentration: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Dirichlet(concentration) over the last axis, reparameterised; same dtype as ``concentration``."""
    z = sample_gamma(concentration, generator)
    return (z / z.sum(dim=-1, keepdim=True)).to(concentration.dtype)
