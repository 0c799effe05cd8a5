"""Whole-space proxy scores, cached under ``results/proxy_scores/`` and filled in parallel.

One ``.npz`` per :class:`ScoringSetup` (proxy, dataset, input shape, seeds, batch size,
scoring version): ``scores`` float64[15625] by *lexicographic* cell index, ``scored`` bool[15625]
(a proxy may itself return NaN, e.g. jacob_cov of constant Jacobians: that cell is scored, its
score is NaN) and a JSON ``meta`` string. Scoring is done in chunks over joblib workers; the file is
rewritten atomically after every chunk, so an interrupted run keeps what it finished and the
next run scores only the rest. Cells that :func:`pruned` maps to the same cell are scored once
for pruned-invariant proxies.
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
from spaces.nb201.codec import N_CELLS, Arch
from strategies.proxies.registry import get_proxy
from strategies.proxies.scoring import SCORING_VERSION, ScoringSetup

ENV_SCORES = "NAS_HARNESS_SCORES"


def scores_dir() -> Path:
    """``$NAS_HARNESS_SCORES``, else ``results/proxy_scores`` of this checkout."""
    return Path(os.environ[ENV_SCORES]) if os.environ.get(ENV_SCORES) else REPO_ROOT / "results" / "proxy_scores"


def cache_path(setup: ScoringSetup, directory: Path | None = None) -> Path:
    return (directory or scores_dir()) / "nb201" / f"{setup.cache_name()}.npz"


def load_cache(setup: ScoringSetup, directory: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(scores, scored)`` by lexicographic index (nothing scored when there is no cache);
    a corrupt or foreign file is an error."""
    path = cache_path(setup, directory)
    if not path.is_file():
        return np.full(N_CELLS, np.nan), np.zeros(N_CELLS, dtype=bool)
    try:
        with np.load(path, allow_pickle=False) as z:
            scores, meta = z["scores"], json.loads(str(z["meta"]))
            scored = z["scored"] if "scored" in z.files else ~np.isnan(scores)
    except (OSError, ValueError, KeyError) as exc:
        raise ValueError(f"score cache {path} is unreadable ({exc}); delete it and score again") from None
    if scores.shape != (N_CELLS,) or scored.shape != (N_CELLS,) or meta.get("scoring_version") != SCORING_VERSION:
        raise ValueError(f"score cache {path} does not match this code (shape {scores.shape}, meta {meta}); delete it")
    return scores.copy(), scored.astype(bool)


def load_scores(setup: ScoringSetup, directory: Path | None = None) -> np.ndarray:
    """Cached scores by lexicographic index; NaN where not scored (or where the proxy gave NaN)."""
    return load_cache(setup, directory)[0]


def save_scores(setup: ScoringSetup, scores: np.ndarray, extra: dict[str, Any], directory: Path | None = None,
                scored: np.ndarray | None = None) -> Path:
    path = cache_path(setup, directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    scored = ~np.isnan(scores) if scored is None else scored
    meta = {"setup": {k: v for k, v in setup.__dict__.items() if k != "data_dir"}, "scoring_version": SCORING_VERSION,
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
def scorer_for(setup: ScoringSetup) -> Any:
    """This process's :class:`CellScorer` for ``setup`` (built once: the network is the costly part)."""
    import torch

    from strategies.proxies.scoring import CellScorer

    torch.set_num_threads(1)  # one process per core beats intra-op threads on these small tensors
    return CellScorer(setup)


def scores_of(setup: ScoringSetup, archs: Iterable[Arch]) -> dict[Arch, float]:
    """Score of each distinct cell of ``archs``: from the whole-space cache where it holds one, else
    computed here with the same setup (so the result is the same either way). Nothing is written:
    a search running beside others must not race them on the shared cache file."""
    cached, scored = load_cache(setup)
    result: dict[Arch, float] = {}
    for arch in archs:
        if arch not in result:
            result[arch] = float(cached[arch.lex_index]) if scored[arch.lex_index] else float(scorer_for(setup).score(arch))
    return result


def score_chunk(setup: ScoringSetup, lex_indices: list[int]) -> list[tuple[int, float]]:
    scorer = scorer_for(setup)
    return [(i, scorer.score(Arch.from_lex_index(i))) for i in lex_indices]


def score_cells(
    setup: ScoringSetup,
    lex_indices: Iterable[int] | None = None,
    n_jobs: int = 2,
    chunk_size: int = 64,
    progress: bool = True,
    directory: Path | None = None,
) -> np.ndarray:
    """Scores of the requested cells (all by default), computing only what the cache lacks."""
    from spaces.nb201.canonical import pruned
    from strategies.proxies.registry import get_proxy

    wanted = np.arange(N_CELLS) if lex_indices is None else np.unique(np.fromiter(lex_indices, dtype=np.int64))
    scores, scored = load_cache(setup, directory)
    invariant = get_proxy(setup.proxy).pruned_invariant
    groups: dict[int, list[int]] = {}
    for i in (np.arange(N_CELLS) if invariant else wanted):
        rep = pruned(Arch.from_lex_index(int(i))).lex_index if invariant else int(i)
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
        _run_chunks(setup, todo, groups, scores, scored, n_jobs, chunk_size, progress, directory)
    elif filled:
        save_scores(setup, scores, {}, directory, scored)
    return scores[wanted] if lex_indices is not None else scores


def _run_chunks(setup, todo, groups, scores, scored, n_jobs, chunk_size, progress, directory) -> None:
    import joblib
    from tqdm import tqdm

    chunks = [todo[i : i + chunk_size] for i in range(0, len(todo), chunk_size)]
    started = time.perf_counter()
    bar = tqdm(total=len(todo), desc=f"{setup.proxy}/{setup.dataset}", unit="cell", disable=not progress)
    if n_jobs == 1:
        results = (score_chunk(setup, chunk) for chunk in chunks)
    else:
        results = joblib.Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
            joblib.delayed(score_chunk)(setup, chunk) for chunk in chunks
        )
    try:
        for result in results:
            for rep, value in result:
                scores[groups[rep]], scored[groups[rep]] = value, True
            save_scores(setup, scores, {"last_run_seconds": time.perf_counter() - started, "last_run_cells": len(todo)},
                        directory, scored)
            bar.update(len(result))
    finally:
        bar.close()


def sample_lex_indices(n: int, seed: int = 0) -> np.ndarray:
    """A seeded uniform sample of ``n`` distinct cells (lexicographic indices), the same everywhere."""
    if not 0 < n <= N_CELLS:
        raise ValueError(f"sample size must be in 1..{N_CELLS}, got {n}")
    return np.sort(np.random.default_rng(seed).choice(N_CELLS, size=n, replace=False))


def cache_meta(setup: ScoringSetup, directory: Path | None = None) -> dict[str, Any]:
    """The cache file's metadata (empty when there is no cache)."""
    path = cache_path(setup, directory)
    if not path.is_file():
        return {}
    with np.load(path, allow_pickle=False) as z:
        return json.loads(str(z["meta"]))


def score_archs(space: Any, setup: ScoringSetup, archs: Iterable[Any]) -> dict[Any, float]:
    """Proxy score of each distinct architecture of ``archs`` in ``space``.

    A space with a whole-space score cache (NB201: ``has_proxy_cache``) goes through
    :func:`scores_of`; any other space builds its ``proxy_network(arch, init_seed,
    num_classes)`` per architecture and scores it with the setup's batch, so one genotype
    gets the same score in every run that uses the same seeds."""
    from strategies.proxies.scoring import proxy_batch

    if getattr(space, "has_proxy_cache", False):
        return scores_of(setup, archs)
    spec, batch = get_proxy(setup.proxy), proxy_batch(setup)
    return {arch: float(spec.fn(space.proxy_network(arch, setup.init_seed, setup.num_classes), batch))
            for arch in dict.fromkeys(archs)}
