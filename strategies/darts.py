"""DARTS on the NB201 supernet, first and second order (ALGORITHMS.md, "DARTS").

alpha (6x5, ``none`` included) initialised 1e-3 N(0,1); edge weights softmax(alpha), updated
by the protocol's Adam. First order: a weight step on the train batch, then an alpha step
with grad_alpha L_val(w, alpha). Second order (alpha step first): the unrolled gradient with
the finite-difference Hessian-vector product (:mod:`strategies.unrolled`), then the weight
step. Final cell: argmax of alpha per edge.
"""
from __future__ import annotations

from strategies.distributions import ArchDistribution, SoftmaxDistribution
from strategies.oneshot import OneShotStrategy
from strategies.registry import register


class _Darts(OneShotStrategy):
    def make_distribution(self) -> ArchDistribution:
        return SoftmaxDistribution(lr=self.settings.a_lr, weight_decay=self.settings.a_weight_decay)


@register("darts_v1")
class DartsFirstOrder(_Darts):
    """DARTS, first-order approximation."""

    display_name = "DARTS (1st)"

    order = 1


@register("darts_v2")
class DartsSecondOrder(_Darts):
    """DARTS, second-order (unrolled) approximation."""

    display_name = "DARTS (2nd)"

    order = 2
