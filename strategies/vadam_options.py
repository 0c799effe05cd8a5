"""The one check of Variational Adam's options (:mod:`strategies.vadam`), without torch.

BaLeNAS's settings run it when the strategy is built (so a config error is reported before
anything runs); :class:`strategies.vadam.Vadam` runs the same function for a direct user of the
optimizer. One rule, one place.
"""
from __future__ import annotations

from typing import Any


def check_vadam_options(samples: Any, prior_precision: Any, prec_init: Any, noise_scale: Any) -> None:
    """``samples`` (M) a positive integer; 0 <= delta (``prior_precision``) <= ``prec_init`` (so that
    s starts at (prec_init - delta)/N >= 0); ``noise_scale`` non-negative."""
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise ValueError(f"samples (M) must be a positive integer, got {samples!r}")
    if not prior_precision >= 0 or not prec_init >= prior_precision:
        raise ValueError(f"need 0 <= prior_precision <= prec_init (s starts at (prec_init - delta)/N >= 0), "
                         f"got {prior_precision}, {prec_init}")
    if not noise_scale >= 0:
        raise ValueError(f"noise_scale must be non-negative, got {noise_scale!r}")
