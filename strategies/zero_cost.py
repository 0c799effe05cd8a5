"""Zero-cost NAS (Abdelfattah et al. 2021; ALGORITHMS.md, "Zero-cost NAS baseline").

Draw ``k`` cells uniformly with the run's rng, score each with a training-free proxy, return
the best score. It never queries the benchmark, so its search budget use is zero. Scores come
from the whole-space cache (``nas-harness proxies score``) when it holds them, else they are
computed here with the same network and seeds, so the result is the same either way.
Sampling is i.i.d. (a repeated cell is scored once); ties go to the first drawn.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from nas_core.problem import Problem, SearchLog
from spaces.base import ProxyNetworks
from strategies.base import Strategy
from strategies.registry import register


@register("zero_cost")
class ZeroCostNAS(Strategy):
    display_name = "Zero-cost NAS"
    kind = "proxy"
    #: the proxies score each sampled cell on the space's scoring network
    requires = (ProxyNetworks,)

    def __init__(self, k: int = 100, proxy: str = "synflow", init_seed: int = 0, batch_seed: int = 0) -> None:
        from strategies.proxies import get_proxy

        if not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        get_proxy(proxy)  # unknown proxy -> KeyError listing the registered ones
        self.k = k
        self.proxy = proxy
        self.init_seed = init_seed
        self.batch_seed = batch_seed

    def search(self, problem: Problem, rng: np.random.Generator, log: SearchLog) -> Any:
        from strategies.proxies.cache import score_archs
        from strategies.proxies.scoring import ScoringSetup

        setup = ScoringSetup(self.proxy, problem.dataset, self.init_seed, self.batch_seed, data_dir=problem.data_dir)
        candidates = [problem.space.sample(rng) for _ in range(self.k)]
        seen = score_archs(problem.space, setup, candidates)
        best, best_score = None, -math.inf
        for step, arch in enumerate(candidates, start=1):
            score = seen[arch]
            comparable = -math.inf if math.isnan(score) else score  # a NaN score never wins
            if best is None or comparable > best_score:
                best, best_score = arch, comparable
            log.row(step=step, arch=arch.to_str(), proxy_score=score, incumbent=best.to_str())
        return best
