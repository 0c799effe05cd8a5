"""``nas-harness bench synflow``: synflow throughput, fast scorer vs the per-cell reference.

Generic over a space with a whole-space index (:class:`spaces.base.ProxyIndex`: its cells, its
scoring network and its scoring key). Both score the same seeded sample of cells in this run. The reference does what the
reference code does for every cell: build the network (all ops, seeded default init),
deep-copy it, strip BN, take |.|, cast to float64, forward and backward, with torch's
intra-op threads on both cores. The fast path keeps one float64 |.| copy per process,
switches its arch per cell, skips dead edges (the index's ``scoring_key``) and runs one process per core.
Scores must agree to 1e-9 relative; the whole-space time is estimated from the measured rate
and the number of distinct scoring keys (and printed as measured when the cache recorded it).
"""
from __future__ import annotations

import os
import time

import numpy as np


def run_benchmark(space_name: str, n_cells: int = 60, dataset: str = "cifar10", n_jobs: int = 2) -> str:
    import joblib
    import torch

    from spaces import get_space
    from spaces.base import ProxyIndex, require
    from strategies.proxies.cache import cache_meta, sample_indices, score_chunk
    from strategies.proxies.scoring import ScoringSetup, reference_score

    space = get_space(space_name)
    index = require(space, ProxyIndex)
    if dataset not in space.datasets:
        raise ValueError(f"--dataset {dataset!r} is not a dataset of the {space.name} space; choose from "
                         f"{', '.join(space.datasets)}")
    setup = ScoringSetup("synflow", dataset)
    lex = sample_indices(n_cells, index, seed=12345).tolist()
    archs = [index.arch_of(i) for i in lex]

    threads = torch.get_num_threads()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    t0 = time.perf_counter()
    reference = [reference_score(a, setup, index) for a in archs]
    reference_s = time.perf_counter() - t0
    torch.set_num_threads(threads)

    halves = [lex[i::n_jobs] for i in range(n_jobs)]
    with joblib.Parallel(n_jobs=n_jobs) as parallel:
        parallel(joblib.delayed(score_chunk)(setup, index, h[:1]) for h in halves)  # start workers, build their networks
        t0 = time.perf_counter()
        parts = parallel(joblib.delayed(score_chunk)(setup, index, h) for h in halves)
        fast_s = time.perf_counter() - t0
    fast = np.empty(len(lex))
    for i, part in enumerate(parts):
        fast[i::n_jobs] = [score for _, score in part]

    ref = np.asarray(reference)
    rel = np.abs(fast - ref) / np.maximum(np.abs(ref), 1e-300)
    ref_rate, fast_rate = n_cells / reference_s, n_cells / fast_s
    distinct = len({index.scoring_key(index.arch_of(i)) for i in range(index.size)})
    meta = cache_meta(setup, index)
    meta_line = ""
    if meta.get("n_scored") == index.size and meta.get("last_run_cells") == distinct:
        meta_line = (f"measured: `nas-harness proxies score --all` scored the whole space in "
                     f"{meta['last_run_seconds'] / 60:.1f} min ({distinct} distinct cells)")
    lines = [
        f"synflow on {space.name}, {dataset}: {n_cells} cells, same seeded sample for both, same process",
        f"  reference (build + deepcopy + abs + float64 + fwd/bwd per cell, {os.cpu_count()} threads): {ref_rate:8.1f} cells/s",
        f"  fast scorer ({n_jobs} processes, shared |.| copy, pruned dead edges):              {fast_rate:8.1f} cells/s",
        f"  ratio fast / reference: {fast_rate / ref_rate:.1f}x   (target >= 4x: {'met' if fast_rate / ref_rate >= 4 else 'MISSED'})",
        f"  max relative difference of the scores: {rel.max():.2e}   (target <= 1e-9: {'met' if rel.max() <= 1e-9 else 'MISSED'})",
        f"  whole space: {distinct} distinct pruned cells of {index.size:,} -> about {distinct / fast_rate / 60:.1f} min "
        f"at this rate (target < 4 min: {'met' if distinct / fast_rate < 240 else 'MISSED'}); the reference would need "
        f"{index.size / ref_rate / 60:.0f} min",
    ]
    if meta_line:
        lines.append("  " + meta_line)
    return "\n".join(lines)
