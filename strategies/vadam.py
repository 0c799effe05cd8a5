"""Variational Adam (Vadam; Khan et al. 2018), the optimizer of BaLeNAS (ALGORITHMS.md, "BaLeNAS").

The parameters ``mu`` are the mean of a diagonal Gaussian q = N(mu, sigma^2); Adam's
second-moment estimate ``s`` doubles as the posterior precision, sigma^2 = 1 / (N s + delta).
One :meth:`Vadam.step` (paper Eqs. 17-18, Algorithm 1 line 2):

1. for each of M samples: theta = mu + eps / sqrt(N (s + delta/N)), eps ~ N(0, I) drawn from
   the optimizer's own generator; the closure computes g_i = grad L(theta) (minibatch mean loss)
   into ``.grad``;
2. g = mean_i g_i;  g2 = mean_i g_i^2 (the mean of squares, not the square of the mean);
3. m <- b1 m + (1 - b1)(g + (delta/N) mu);  s <- b2 s + (1 - b2) g2;
4. mu <- mu - lr m_hat / (sqrt(s_hat) + delta/N), with Adam's bias corrections;
5. sigma^2 = 1 / (N s + delta), with the uncorrected s.

Initial state: m = 0, s = (prec_init - delta) / N, so sigma starts at 1/sqrt(prec_init).
``noise_scale`` multiplies eps (1 = Vadam; 0 samples theta = mu, an ablation). As N s grows,
sigma -> 0 and delta/N -> 0, and the update tends to Adam's.

Defaults lr 3e-4, betas (0.5, 0.999) (DARTS's architecture Adam), delta 1, prec_init 1 are
**unconfirmed** (no public code); all are options.
"""
from __future__ import annotations

from typing import Any, Callable

import torch

from strategies.vadam_options import check_vadam_options


class Vadam(torch.optim.Optimizer):
    """Vadam over ``params`` (the means mu); :meth:`sigma` gives each parameter's posterior std."""

    def __init__(self, params: Any, dataset_size: int, lr: float = 3e-4, betas: tuple[float, float] = (0.5, 0.999),
                 prior_precision: float = 1.0, prec_init: float = 1.0, samples: int = 1, noise_scale: float = 1.0,
                 generator: torch.Generator | None = None) -> None:
        if not isinstance(dataset_size, int) or dataset_size < 1:
            raise ValueError(f"dataset_size (N) must be a positive integer, got {dataset_size!r}")
        if not lr > 0:
            raise ValueError(f"lr must be positive, got {lr!r}")
        if not all(0 <= b < 1 for b in betas):
            raise ValueError(f"betas must lie in [0, 1), got {betas!r}")
        check_vadam_options(samples, prior_precision, prec_init, noise_scale)
        defaults = {"lr": lr, "betas": tuple(betas), "prior_precision": prior_precision, "prec_init": prec_init,
                    "dataset_size": dataset_size, "samples": samples, "noise_scale": noise_scale}
        super().__init__(params, defaults)
        self.generator = generator
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p] = {
                    "step": 0,
                    "exp_avg": torch.zeros_like(p, memory_format=torch.preserve_format),
                    "exp_avg_sq": torch.full_like(p, (prec_init - prior_precision) / dataset_size),
                }

    def set_generator(self, generator: torch.Generator) -> None:
        """The CPU generator eps is drawn from (BaLeNAS gives one per epoch from the run's streams)."""
        self.generator = generator

    def sigma(self, param: torch.Tensor) -> torch.Tensor:
        """Posterior standard deviation 1 / sqrt(N s + delta) of ``param``."""
        group = next(g for g in self.param_groups if any(p is param for p in g["params"]))
        s = self.state[param]["exp_avg_sq"]
        return 1.0 / torch.sqrt(group["dataset_size"] * s + group["prior_precision"])

    def _draw(self, p: torch.Tensor, mean: torch.Tensor, group: dict[str, Any]) -> None:
        if group["noise_scale"] == 0:
            p.copy_(mean)
            return
        if self.generator is None:
            raise RuntimeError("Vadam has no generator: pass generator= or call set_generator() (the global RNG is never used)")
        eps = torch.randn(p.shape, generator=self.generator, dtype=p.dtype).to(p.device)
        p.copy_(mean + group["noise_scale"] * eps * self.sigma(p))

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:  # type: ignore[override]
        """One Vadam update; ``closure`` must write the gradient at the current (sampled) values into ``.grad``."""
        if closure is None:
            raise RuntimeError("Vadam needs a closure: it evaluates the gradient at M sampled parameter values")
        result = None
        for group in self.param_groups:
            params = group["params"]
            means = [p.detach().clone() for p in params]
            grad_sum = [torch.zeros_like(p) for p in params]
            sq_sum = [torch.zeros_like(p) for p in params]
            try:
                for _ in range(group["samples"]):
                    for p, mean in zip(params, means):
                        self._draw(p, mean, group)
                        p.grad = None
                    with torch.enable_grad():
                        result = closure()
                    for p, total, squares in zip(params, grad_sum, sq_sum):
                        if p.grad is None:
                            raise RuntimeError("the Vadam closure left a parameter without .grad")
                        total.add_(p.grad)
                        squares.addcmul_(p.grad, p.grad)
            finally:
                for p, mean in zip(params, means):
                    p.copy_(mean)
            self._update(group, [t / group["samples"] for t in grad_sum], [q / group["samples"] for q in sq_sum])
        return result

    def _update(self, group: dict[str, Any], grads: list[torch.Tensor], squares: list[torch.Tensor]) -> None:
        beta1, beta2 = group["betas"]
        shrink = group["prior_precision"] / group["dataset_size"]  # delta / N
        for p, g, g2 in zip(group["params"], grads, squares):
            state = self.state[p]
            state["step"] += 1
            m, s = state["exp_avg"], state["exp_avg_sq"]
            m.mul_(beta1).add_(g + shrink * p, alpha=1 - beta1)
            s.mul_(beta2).add_(g2, alpha=1 - beta2)
            m_hat = m / (1 - beta1 ** state["step"])
            s_hat = s / (1 - beta2 ** state["step"])
            p.sub_(group["lr"] * m_hat / (s_hat.sqrt() + shrink))
            p.grad = g

