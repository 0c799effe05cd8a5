"""GDAS on the NB201 supernet (ALGORITHMS.md, "GDAS").

Gumbel hard edge weights (:class:`~strategies.distributions.GumbelDistribution`): only the
chosen op of each edge is computed, the others add their zero-valued hard weight so the
gradient reaches every alpha. tau falls linearly from ``tau_max`` to ``tau_min`` over the
epochs. Weight step, then alpha step, each with its own sample, drawn from the run's
``arch_noise`` stream of the epoch. Final cell: argmax alpha.
"""
from __future__ import annotations

from dataclasses import dataclass

from strategies.distributions import ArchDistribution, GumbelDistribution
from strategies.loop_settings import LoopSettings
from strategies.oneshot import OneShotStrategy
from strategies.registry import register
from strategies.settings import positive_number


@dataclass(frozen=True)
class GDASSettings(LoopSettings):
    #: GDAS's NB201 schedule (DARTS: 50)
    epochs: int = 250
    tau_max: float = 10.0
    tau_min: float = 0.1

    def __post_init__(self) -> None:
        super().__post_init__()
        positive_number("tau_min", self.tau_min)
        if not self.tau_min <= self.tau_max:
            raise ValueError(f"need 0 < tau_min <= tau_max, got {self.tau_min}, {self.tau_max}")


@register("gdas")
class GDAS(OneShotStrategy):
    display_name = "GDAS"
    settings_type = GDASSettings

    def make_distribution(self) -> ArchDistribution:
        s = self.settings
        return GumbelDistribution(s.tau_max, s.tau_min, lr=s.a_lr, weight_decay=s.a_weight_decay)
