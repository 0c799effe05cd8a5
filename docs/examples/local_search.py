"""Greedy local search (first-improvement hill climbing with random restarts).

The worked example of docs/adding_a_strategy.md: one file, one class, registered by name.
Run it with ``plugins = ["docs/examples/local_search.py"]`` in a config.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from nas_core.problem import Problem
from strategies.base import AskTellStrategy
from strategies.registry import register


@register("local_search")
class LocalSearch(AskTellStrategy):
    """Move to the first neighbour that beats the current cell; restart at a local optimum."""

    def __init__(self, shuffle_neighbours: bool = True) -> None:
        self.shuffle_neighbours = shuffle_neighbours

    def reset(self, problem: Problem) -> None:
        self._current: Any = None
        self._current_valid = -np.inf
        self._pending: list[Any] | None = None  # None: neighbours of the current cell not listed yet

    def ask(self, problem: Problem, rng: np.random.Generator) -> Any:
        if self._current is None:
            return problem.space.sample(rng)
        if self._pending is None:
            self._pending = problem.space.neighbours(self._current)
            if self.shuffle_neighbours:
                self._pending = [self._pending[i] for i in rng.permutation(len(self._pending))]
        if not self._pending:  # local optimum: no neighbour was better, restart
            self._current, self._current_valid, self._pending = None, -np.inf, None
            return problem.space.sample(rng)
        return self._pending.pop()

    def tell(self, arch: Any, valid_acc: float) -> None:
        if self._current is None or valid_acc > self._current_valid:
            self._current, self._current_valid, self._pending = arch, valid_acc, None
