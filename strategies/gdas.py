"""GDAS on the NB201 supernet (ALGORITHMS.md, "GDAS").

Gumbel hard edge weights (:class:`~strategies.distributions.GumbelDistribution`): only the
chosen op of each edge is computed, the others add their zero-valued hard weight so the
gradient reaches every alpha. tau falls linearly from ``tau_max`` to ``tau_min`` over the
epochs. Weight step, then alpha step, each with its own sample, drawn from the run's
``arch_noise`` stream of the epoch. Final cell: argmax alpha.
"""
from __future__ import annotations

from strategies.distributions import ArchDistribution, GumbelDistribution
from strategies.oneshot import OneShotStrategy
from strategies.registry import register


@register("gdas")
class GDAS(OneShotStrategy):
    display_name = "GDAS"

    def __init__(self, tau_max: float = 10.0, tau_min: float = 0.1, **kwargs) -> None:
        kwargs.setdefault("epochs", 250)  # GDAS's NB201 schedule (DARTS: 50)
        super().__init__(**kwargs)
        if not 0 < tau_min <= tau_max:
            raise ValueError(f"need 0 < tau_min <= tau_max, got {tau_min}, {tau_max}")
        self.tau_max, self.tau_min = tau_max, tau_min

    def make_distribution(self) -> ArchDistribution:
        return GumbelDistribution(self.tau_max, self.tau_min, lr=self.a_lr, weight_decay=self.a_weight_decay)
