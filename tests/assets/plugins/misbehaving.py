"""Strategies that misbehave on purpose, loaded as a plugin by the runner tests."""
from __future__ import annotations

import time

from strategies.base import Strategy
from strategies.registry import register


@register("test_failing")
class FailsOnCifar100(Strategy):
    """Raises on cifar100 only, so a sweep has both failed and finished runs."""

    def __init__(self) -> None:
        pass

    def search(self, problem, rng, log):
        if problem.dataset == "cifar100":
            raise RuntimeError("boom on purpose")
        return problem.space.sample(rng)


@register("test_peeking")
class PeeksAtTestSplit(Strategy):
    """Tries to read test accuracies through the oracle's private table."""

    def __init__(self) -> None:
        pass

    def search(self, problem, rng, log):
        arch = problem.space.sample(rng)
        problem.oracle._table.query(arch, problem.dataset, "test")
        return arch


@register("test_garbage")
class ReturnsAString(Strategy):
    def __init__(self) -> None:
        pass

    def search(self, problem, rng, log):
        return "not an arch"


@register("test_slow")
class SlowRandom(Strategy):
    """A random pick that takes ``delay`` seconds, for kill-and-resume tests."""

    def __init__(self, delay: float = 0.3) -> None:
        self.delay = delay

    def search(self, problem, rng, log):
        time.sleep(self.delay)
        return problem.space.sample(rng)


@register("test_exit")
class CallsSysExit(Strategy):
    """Ends its process the polite way: ``sys.exit``."""

    def __init__(self) -> None:
        pass

    def search(self, problem, rng, log):
        import sys

        sys.exit(3)


@register("test_hard_exit")
class CallsOsExit(Strategy):
    """Kills its worker process outright (``os._exit``) when ``crash``; otherwise a random pick."""

    def __init__(self, crash: bool = True) -> None:
        self.crash = crash

    def search(self, problem, rng, log):
        import os

        if self.crash:
            os._exit(1)
        return problem.space.sample(rng)


@register("test_spin")
class SpinsForever(Strategy):
    """A pure-Python endless loop (stoppable in any thread by the asynchronous time limit)."""

    def __init__(self) -> None:
        pass

    def search(self, problem, rng, log):
        n = 0
        while True:
            n += 1


@register("test_hang")
class NeverReturns(Strategy):
    """Sleeps far longer than any sensible run."""

    def __init__(self) -> None:
        pass

    def search(self, problem, rng, log):
        time.sleep(10_000)
        return problem.space.sample(rng)
