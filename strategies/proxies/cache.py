"""Whole-space proxy scores, cached under ``results/proxy_scores/<space>/`` and filled in parallel.

For a space that provides a :class:`spaces.base.ProxyIndex` (NB201: 15,625 cells by
lexicographic index). One ``.npz`` per :class:`ScoringSetup` (proxy, dataset, input shape,
seeds, batch size, scoring version): ``scores`` float64[size] by the index, ``scored`` bool[size]
(a proxy may itself return NaN, e.g. jacob_cov of constant Jacobians: that cell is scored, its
score is NaN) and a JSON ``meta`` string. Scoring is done in chunks over joblib workers; the file is
rewritten atomically after every chunk, so an interrupted run keeps what it finished and the
next run scores only the rest. Cells that the index's :meth:`~spaces.base.ProxyIndex.scoring_key`
maps to the same cell are scored once for pruned-invariant proxies.
"""
from __future__ import annotations

import json
import os
import time
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from nas_core.paths import REPO_ROOT
from spaces.base import ProxyIndex
from strategies.proxies.registry import get_proxy
from strategies.proxies.scoring import SCORING_VERSION, ScoringSetup

ENV_SCORES = "NAS_HARNESS_SCORES"


def scores_dir() -> Path:
    """``$NAS_HARNESS_SCORES``, else ``results/proxy_scores`` of this checkout."""
    return Path(os.environ[ENV_SCORES]) if os.environ.get(ENV_SCORES) else REPO_ROOT / "results" / "proxy_scores"


def cache_path(setup: ScoringSetup, index: ProxyIndex, directory: Path | None = None) -> Path:
    return (directory or scores_dir()) / index.key / f"{setup.cache_name(index)}.npz"


def load_cache(setup: ScoringSetup, index: ProxyIndex, directory: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(scores, scored)`` by the space's index (nothing scored when there is no cache);
    a corrupt or foreign file is an error."""
    path = cache_path(setup, index, directory)
    size = index.size
    if not path.is_file():
        return np.full(size, np.nan), np.zeros(size, dtype=bool)
    try:
        with np.load(path, allow_pickle=False) as z:
            scores, meta = z["scores"], json.loads(str(z["meta"]))
            scored = z["scored"] if "scored" in z.files else ~np.isnan(scores)
    except (OSError, ValueError, KeyError) as exc:
        raise ValueError(f"score cache {path} is unreadable ({exc}); delete it and score again") from None
    if scores.shape != (size,) or scored.shape != (size,) or meta.get("scoring_version") != SCORING_VERSION:
        raise ValueError(f"score cache {path} does not match this code (shape {scores.shape}, meta {meta}); delete it")
    return scores.copy(), scored.astype(bool)


def load_scores(setup: ScoringSetup, index: ProxyIndex, directory: Path | None = None) -> np.ndarray:
    """Cached scores by the space's index; NaN where not scored (or where the proxy gave NaN)."""
    return load_cache(setup, index, directory)[0]


def save_scores(setup: ScoringSetup, index: ProxyIndex, scores: np.ndarray, extra: dict[str, Any],
                directory: Path | None = None, scored: np.ndarray | None = None) -> Path:
    path = cache_path(setup, index, directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    scored = ~np.isnan(scores) if scored is None else scored
    channels, cells = setup.network_size(index)  # the size actually scored, not "the space's default"
    described = {**{k: v for k, v in setup.__dict__.items() if k != "data_dir"}, "channels": channels,
                 "cells_per_stage": cells}
    meta = {"setup": described, "scoring_version": SCORING_VERSION,
            "n_scored": int(scored.sum()), **extra}
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as fh:
            np.savez(fh, scores=scores, scored=scored, meta=np.array(json.dumps(meta, sort_keys=True)))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


@lru_cache(maxsize=2)
def scorer_for(setup: ScoringSetup, index: ProxyIndex) -> Any:
    """This process's :class:`CellScorer` for ``setup`` (built once: the network is the costly part)."""
    import torch

    from strategies.proxies.scoring import CellScorer

    torch.set_num_threads(1)  # one process per core beats intra-op threads on these small tensors
    return CellScorer(setup, index)


def scores_of(setup: ScoringSetup, index: ProxyIndex, archs: Iterable[Any]) -> dict[Any, float]:
    """Score of each distinct cell of ``archs``: from the whole-space cache where it holds one, else
    computed here with the same setup (so the result is the same either way). Nothing is written:
    a search running beside others must not race them on the shared cache file."""
    cached, scored = load_cache(setup, index)
    result: dict[Any, float] = {}
    for arch in archs:
        if arch not in result:
            i = index.index_of(arch)
            result[arch] = float(cached[i]) if scored[i] else float(scorer_for(setup, index).score(arch))
    return result


def score_chunk(setup: ScoringSetup, index: ProxyIndex, indices: list[int]) -> list[tuple[int, float]]:
    scorer = scorer_for(setup, index)
    return [(i, scorer.score(index.arch_of(i))) for i in indices]


def score_cells(
    setup: ScoringSetup,
    index: ProxyIndex,
    indices: Iterable[int] | None = None,
    n_jobs: int = 2,
    chunk_size: int = 64,
    progress: bool = True,
    directory: Path | None = None,
) -> np.ndarray:
    """Scores of the requested cells (all by default), computing only what the cache lacks."""
    wanted = np.arange(index.size) if indices is None else np.unique(np.fromiter(indices, dtype=np.int64))
    scores, scored = load_cache(setup, index, directory)
    invariant = get_proxy(setup.proxy).pruned_invariant
    groups: dict[int, list[int]] = {}
    for i in (np.arange(index.size) if invariant else wanted):
        rep = index.index_of(index.scoring_key(index.arch_of(int(i)))) if invariant else int(i)
        groups.setdefault(rep, []).append(int(i))
    needed = set(wanted.tolist())
    todo, filled = [], False
    for rep, members in groups.items():
        if not needed.intersection(members) or scored[members].all():
            continue
        known = [m for m in members if scored[m]]
        if known:  # a class member was scored before: the others share its score
            scores[members], scored[members], filled = scores[known[0]], True, True
        else:
            todo.append(rep)
    if todo:
        _run_chunks(setup, index, todo, groups, scores, scored, n_jobs, chunk_size, progress, directory)
    elif filled:
        save_scores(setup, index, scores, {}, directory, scored)
    return scores[wanted] if indices is not None else scores


def _run_chunks(setup, index, todo, groups, scores, scored, n_jobs, chunk_size, progress, directory) -> None:
    import joblib
    from tqdm import tqdm

    chunks = [todo[i : i + chunk_size] for i in range(0, len(todo), chunk_size)]
    started = time.perf_counter()
    bar = tqdm(total=len(todo), desc=f"{setup.proxy}/{setup.dataset}", unit="cell", disable=not progress)
    if n_jobs == 1:
        results = (score_chunk(setup, index, chunk) for chunk in chunks)
    else:
        results = joblib.Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
            joblib.delayed(score_chunk)(setup, index, chunk) for chunk in chunks
        )
    try:
        for result in results:
            for rep, value in result:
                scores[groups[rep]], scored[groups[rep]] = value, True
            save_scores(setup, index, scores, {"last_run_seconds": time.perf_counter() - started, "last_run_cells": len(todo)},
                        directory, scored)
            bar.update(len(result))
    finally:
        bar.close()


def sample_indices(n: int, index: ProxyIndex, seed: int = 0) -> np.ndarray:
    """A seeded uniform sample of ``n`` distinct cells (by the space's index), the same everywhere."""
    if not 0 < n <= index.size:
        raise ValueError(f"sample size must be in 1..{index.size}, got {n}")
    return np.sort(np.random.default_rng(seed).choice(index.size, size=n, replace=False))


def cache_meta(setup: ScoringSetup, index: ProxyIndex, directory: Path | None = None) -> dict[str, Any]:
    """The cache file's metadata (empty when there is no cache)."""
    path = cache_path(setup, index, directory)
    if not path.is_file():
        return {}
    with np.load(path, allow_pickle=False) as z:
        return json.loads(str(z["meta"]))


def score_archs(space: Any, setup: ScoringSetup, archs: Iterable[Any]) -> dict[Any, float]:
    """Proxy score of each distinct architecture of ``archs`` in ``space``.

    A space with a whole-space index (:class:`spaces.base.ProxyIndex`) goes through
    :func:`scores_of`; any other space builds its ``proxy_network(arch, init_seed,
    num_classes)`` per architecture and scores it with the setup's batch, so one genotype
    gets the same score in every run that uses the same seeds."""
    from strategies.proxies.scoring import proxy_batch

    index = space.capability(ProxyIndex)
    if index is not None:
        return scores_of(setup, index, archs)
    spec, batch = get_proxy(setup.proxy), proxy_batch(setup)
    return {arch: float(spec.fn(space.proxy_network(arch, setup.init_seed, setup.num_classes), batch))
            for arch in dict.fromkeys(archs)}
