"""Random search: evaluate uniformly drawn cells until the budget is spent, keep the best valid."""
from __future__ import annotations

from typing import Any

import numpy as np

from nas_core.problem import Problem
from strategies.base import AskTellStrategy
from strategies.registry import register


@register("random_search")
class RandomSearch(AskTellStrategy):
    display_name = "Random search"

    def __init__(self) -> None:
        pass

    def ask(self, problem: Problem, rng: np.random.Generator) -> Any:
        return problem.space.sample(rng)
