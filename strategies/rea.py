"""Regularized evolution (Real et al. 2019) as run in the NAS-Bench-201 paper.

A population of ``population_size`` random cells; then each cycle draws ``sample_size``
members uniformly (with replacement, as NB201's reference code does), mutates the best of
them on one edge, evaluates the child, appends it and removes the *oldest* member. The
recommendation is the best validation accuracy ever evaluated. Defaults: 10 / 3 (NB201).
"""
from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from nas_core.problem import Problem
from strategies.base import AskTellStrategy
from strategies.registry import register


@register("rea")
class RegularizedEvolution(AskTellStrategy):
    display_name = "REA"

    def __init__(self, population_size: int = 10, sample_size: int = 3) -> None:
        if not isinstance(population_size, int) or population_size < 1:
            raise ValueError(f"population_size must be a positive integer, got {population_size!r}")
        if not isinstance(sample_size, int) or not 1 <= sample_size <= population_size:
            raise ValueError(f"sample_size must be an integer in 1..population_size={population_size}, got {sample_size!r}")
        self.population_size = population_size
        self.sample_size = sample_size

    def reset(self, problem: Problem) -> None:
        self._population: deque[tuple[Any, float]] = deque()

    def ask(self, problem: Problem, rng: np.random.Generator) -> Any:
        if len(self._population) < self.population_size:
            return problem.space.sample(rng)
        picks = rng.integers(len(self._population), size=self.sample_size)
        parent = max((self._population[int(i)] for i in picks), key=lambda member: member[1])[0]
        return problem.space.mutate(parent, rng)

    def tell(self, arch: Any, valid_acc: float) -> None:
        self._population.append((arch, valid_acc))
        if len(self._population) > self.population_size:
            self._population.popleft()
