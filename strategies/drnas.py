"""DrNAS (Chen et al., 2021; ALGORITHMS.md, "DrNAS"): Dirichlet edge weights on the NB201 supernet.

The concentration beta has alpha's shape (6x5, ``none`` included) and is initialised
1e-3 N(0,1). Every forward pass -- the weight step, the architecture step, and so the
statistics of the epoch -- uses its own reparameterised sample w ~ Dirichlet(ELU(beta) + 1)
per edge, drawn from the run's ``arch_noise`` stream by :mod:`strategies.gamma` (never torch's
global RNG). beta is updated by Adam (lr 3e-4, betas (0.5, 0.999)) on grad_beta L_val at the
sample, architecture step first, then the weight step.

Regulariser (``regulariser``): ``"l2"`` (default) is Adam's weight decay ``a_weight_decay``
(1e-3) on beta; ``"kl"`` adds ``reg_scale`` (1e-3) * sum over edges of
KL(Dir(ELU(beta)+1) || Dir(1)) to the architecture loss only, and turns the weight decay off.

NB201 defaults of the DrNAS code: 100 epochs, weight SGD lr 0.025 with a cosine schedule to
0.001 stepped per epoch, weight decay 3e-4, momentum 0.9 without Nesterov, clip 5. Final cell:
argmax beta per edge, ``none`` included. Diagnostics: the Hessian probe runs at the Dirichlet
mean (ELU(beta)+1) / sum, the trajectory carries beta and the concentration's sum per edge.

Not built: the progressive variant (partial channels K = 4 then 2, pruning to the top 5 then 3
ops per edge, widening between the two stages). This strategy is the non-progressive DrNAS.
"""
from __future__ import annotations

from typing import Any

from strategies.darts import TINY
from strategies.distributions import AdamDistribution, ArchDistribution, EdgeWeights
from strategies.oneshot import LoopContext, OneShotStrategy
from strategies.registry import register

REGULARISERS = ("l2", "kl")


class DirichletDistribution(AdamDistribution):
    """q(w_e) = Dirichlet(ELU(beta_e) + 1) per edge; a fresh reparameterised sample per forward pass."""

    def __init__(self, regulariser: str = "l2", reg_scale: float = 1e-3, **adam: Any) -> None:
        super().__init__(**adam)
        self.regulariser_kind, self.reg_scale = regulariser, reg_scale

    def concentration(self) -> Any:
        import torch.nn.functional as F

        return F.elu(self.alpha) + 1

    def edge_weights(self, ctx: LoopContext, purpose: str) -> EdgeWeights:
        from strategies.gamma import sample_dirichlet

        return sample_dirichlet(self.concentration(), self.noise), None

    def expected_weights(self) -> Any:
        concentration = self.concentration()
        return concentration / concentration.sum(dim=-1, keepdim=True)

    def regulariser(self) -> Any:
        """KL(Dir(ELU(beta)+1) || Dir(1)) summed over edges, times ``reg_scale`` (``"kl"`` only)."""
        if self.regulariser_kind != "kl":
            return None
        import torch
        from torch.distributions import Dirichlet, kl_divergence

        concentration = self.concentration()
        return self.reg_scale * kl_divergence(Dirichlet(concentration), Dirichlet(torch.ones_like(concentration))).sum()

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "concentration_sum": self.concentration().detach().sum(dim=-1).cpu().tolist()}


@register("drnas")
class DrNAS(OneShotStrategy):
    """DrNAS: Dirichlet edge weights, first-order gradient, architecture step first."""

    order = 1
    arch_first = True
    conformance_kwargs = TINY

    def __init__(self, epochs: int = 100, w_weight_decay: float = 3e-4, nesterov: bool = False,
                 lr_schedule: str = "epoch", regulariser: str = "l2", reg_scale: float = 1e-3, **kwargs: Any) -> None:
        super().__init__(epochs=epochs, w_weight_decay=w_weight_decay, **kwargs)
        if regulariser not in REGULARISERS:
            raise ValueError(f"regulariser must be one of {REGULARISERS}, got {regulariser!r}")
        if lr_schedule not in ("step", "epoch"):
            raise ValueError(f"lr_schedule must be 'step' or 'epoch' (cosine updated every step / epoch), got {lr_schedule!r}")
        if not reg_scale >= 0:
            raise ValueError(f"reg_scale must be non-negative, got {reg_scale!r}")
        self.nesterov, self.lr_schedule = bool(nesterov), lr_schedule
        self.regulariser, self.reg_scale = regulariser, reg_scale

    def make_distribution(self) -> ArchDistribution:
        decay = self.a_weight_decay if self.regulariser == "l2" else 0.0
        return DirichletDistribution(self.regulariser, self.reg_scale, lr=self.a_lr, weight_decay=decay)
