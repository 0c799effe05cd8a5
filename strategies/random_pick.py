"""The paper's "Random baseline" row: one uniformly drawn cell, no evaluation at all.

Averaged over seeds, its valid/test accuracies estimate the statistics of the whole space
(BaLeNAS Table 1, first row). It queries nothing, so its budget use is zero.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from nas_core.problem import Problem, SearchLog
from strategies.base import Strategy
from strategies.registry import register


@register("random_pick")
class RandomPick(Strategy):
    display_name = "Random baseline"

    def __init__(self) -> None:
        pass

    def search(self, problem: Problem, rng: np.random.Generator, log: SearchLog) -> Any:
        arch = problem.space.sample(rng)
        log.row(step=0, arch=arch.to_str())
        return arch
