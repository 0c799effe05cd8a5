"""BaLeNAS-TF's training-free selection from a learned distribution (ALGORITHMS.md, "BaLeNAS-TF").

After a BaLeNAS search, draw ``draws`` cells from q = N(mu, sigma^2): alpha ~ q, then the
space's derivation of that alpha (NB201: argmax per edge, ``none`` included; DARTS space: the
standard two-strongest-inputs rule on softmax(alpha)). The first K draws are the sample of size
K, so the samples are nested (K = 10 is a prefix of K = 50, which is a prefix of K = 100) and one
set of draws serves every K. Each distinct cell is scored once per proxy -- from the whole-space
cache when it holds the cell (NB201), else on the fly with the same network and seeds
(:func:`strategies.proxies.cache.score_archs`) -- and for every (proxy, K) the best-scored cell among the first K draws is kept (ties: the
first drawn; a NaN score never wins). Nothing here reads the benchmark: the runner looks the
selected cells up after the search, with the table sealed until then.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


def selection_key(proxy: str, k: int) -> str:
    """``"synflow@100"``: how a (proxy, K) selection is named in records, configs and reports."""
    return f"{proxy}@{k}"


def check_selection_options(proxies: list[str], draws: int, ks: list[int], select: str) -> None:
    from strategies.proxies import get_proxy, proxy_names

    if not isinstance(proxies, list) or not all(isinstance(p, str) for p in proxies):
        raise ValueError(f"tf_proxies must be a list of proxy names ({proxy_names()}), got {proxies!r}")
    for name in proxies:
        get_proxy(name)  # KeyError listing the registered proxies
    if not isinstance(draws, int) or isinstance(draws, bool) or draws < 1:
        raise ValueError(f"tf_draws must be a positive integer, got {draws!r}")
    if not isinstance(ks, list) or not all(isinstance(k, int) and not isinstance(k, bool) and 1 <= k <= draws for k in ks):
        raise ValueError(f"tf_k must be a list of sample sizes between 1 and tf_draws={draws}, got {ks!r}")
    valid = ["argmax_mu"] + [selection_key(p, k) for p in proxies for k in ks]
    if select not in valid:
        raise ValueError(f"select must be one of {valid}, got {select!r}")


@dataclass
class Selection:
    """The draws, how many distinct cells each sample holds, every score, and the chosen cells."""

    draws: list[Any]
    distinct: dict[int, int]
    scores: dict[str, dict[Any, float]] = field(default_factory=dict)
    chosen: dict[str, Any] = field(default_factory=dict)

    def as_record(self) -> dict[str, Any]:
        """JSON for the run record (cells as arch strings)."""
        return {
            "draws": [a.to_str() for a in self.draws],
            "distinct": {str(k): n for k, n in self.distinct.items()},
            "scores": {p: {a.to_str(): s for a, s in scores.items()} for p, scores in self.scores.items()},
            "chosen": {key: a.to_str() for key, a in self.chosen.items()},
        }


def draw_cells(mu: Any, sigma: Any, generator: Any, draws: int, space: Any) -> list[Any]:
    """``draws`` cells: ``space.derive_from_alpha`` of alpha = mu + sigma eps, eps ~ N(0, I) from ``generator``."""
    import torch

    eps = torch.randn((draws, *mu.shape), generator=generator, dtype=mu.dtype)
    alphas = mu.unsqueeze(0) + sigma.unsqueeze(0) * eps
    return [space.derive_from_alpha(alpha) for alpha in alphas]


def best_of(cells: list[Any], scores: dict[Any, float]) -> Any:
    best, best_score = cells[0], -math.inf
    for arch in cells:
        score = scores[arch]
        comparable = -math.inf if math.isnan(score) else score
        if comparable > best_score:
            best, best_score = arch, comparable
    return best


def select_from_distribution(mu: Any, sigma: Any, generator: Any, draws: int, proxies: list[str], ks: list[int],
                             dataset: str, space: Any, data_dir: str | None = None) -> Selection:
    from strategies.proxies.cache import score_archs
    from strategies.proxies.scoring import ScoringSetup

    cells = draw_cells(mu, sigma, generator, draws, space)
    selection = Selection(draws=cells, distinct={k: len(set(cells[:k])) for k in ks})
    for proxy in proxies:
        scores = score_archs(space, ScoringSetup(proxy, dataset, data_dir=data_dir), cells[: max(ks)])
        selection.scores[proxy] = scores
        for k in ks:
            selection.chosen[selection_key(proxy, k)] = best_of(cells[:k], scores)
    return selection
