from typing import Any

from strategies.distributions import ArchDistribution, SoftmaxDistribution
from strategies.oneshot import OneShotStrategy
from strategies.registry import register


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


@register("noisy_darts")
class NoisyDarts(OneShotStrategy):
    """First-order DARTS whose weights train under uniformly perturbed architecture weights."""

    order = 1

    def __init__(self, epsilon: float = 0.3, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not epsilon >= 0:
            raise ValueError(f"epsilon must be non-negative, got {epsilon!r}")
        self.epsilon = epsilon

    def make_distribution(self) -> ArchDistribution:
        return SmoothedSoftmax(self.epsilon, lr=self.a_lr, weight_decay=self.a_weight_decay)
