from dataclasses import dataclass
from typing import Any

from strategies.distributions import ArchDistribution, SoftmaxDistribution
from strategies.loop_settings import LoopSettings
from strategies.oneshot import OneShotStrategy
from strategies.registry import register
from strategies.settings import non_negative_number


class SmoothedSoftmax(SoftmaxDistribution):
    """softmax(alpha + U(-epsilon, epsilon)) in the weight steps, softmax(alpha) in the architecture
    steps: the random-smoothing idea of SDARTS-RS (Chen & Hsieh, 2020) on the harness's loop."""

    def __init__(self, epsilon: float, **adam: Any) -> None:
        super().__init__(**adam)
        self.epsilon = epsilon

    def edge_weights(self, ctx, purpose):
        if purpose != "weight":
            return super().edge_weights(ctx, purpose)
        import torch

        noise = (2 * torch.rand(self.alpha.shape, generator=self.noise) - 1) * self.epsilon
        return torch.softmax(self.masked(self.alpha + noise.to(self.alpha.device)), dim=-1), None


@dataclass(frozen=True)
class NoisyDartsSettings(LoopSettings):
    """The loop's options (epochs, channels, learning rates, ...) plus this method's one."""

    epsilon: float = 0.3

    def __post_init__(self) -> None:
        super().__post_init__()
        non_negative_number("epsilon", self.epsilon)


@register("noisy_darts")
class NoisyDarts(OneShotStrategy):
    """First-order DARTS whose weights train under uniformly perturbed architecture weights."""

    settings_type = NoisyDartsSettings
    order = 1

    def make_distribution(self) -> ArchDistribution:
        s = self.settings
        return SmoothedSoftmax(s.epsilon, lr=s.a_lr, weight_decay=s.a_weight_decay)
