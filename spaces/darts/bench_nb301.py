"""``nas-harness bench nb301``: NAS-Bench-301 surrogate predictions per second, batched vs one at a time.

Both in this process, on the same uniformly sampled genotypes: the batched call encodes and
predicts all ``n`` genotypes at once (what the harness does); the reference calls the surrogate
once per genotype for the first ``reference`` of them. Target: 10,000 genotypes in under 1 s.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from spaces.bench import BenchCommand


def run_benchmark(n: int = 10_000, reference: int = 300, data_dir: str | None = None) -> str:
    from spaces.darts.genotype import sample
    from spaces.darts.nb301 import NB301Surrogate

    surrogate = NB301Surrogate(data_dir)
    rng = np.random.default_rng(0)
    genotypes = [sample(rng) for _ in range(n)]
    surrogate.predict(genotypes[:10])  # warm-up
    start = time.perf_counter()
    batched = surrogate.predict(genotypes).valid_acc
    batch_s = time.perf_counter() - start
    start = time.perf_counter()
    single = np.array([surrogate.predict([g]).valid_acc[0] for g in genotypes[:reference]])
    single_s = (time.perf_counter() - start) / reference
    agree = float(np.max(np.abs(single - batched[:reference])))
    per_batch = batch_s / n
    return "\n".join([
        f"NAS-Bench-301 surrogate (YAHPO v2, onnxruntime, 1 thread), {n} uniformly sampled genotypes",
        f"  batched:        {batch_s:.3f} s for {n} ({n / batch_s:,.0f} genotypes/s; target < 1 s for 10,000: "
        f"{'met' if batch_s * 10_000 / n < 1 else 'MISSED'})",
        f"  one at a time:  {1e3 * single_s:.3f} ms per genotype (first {reference})",
        f"  speed-up {single_s / per_batch:.1f}x; max |difference| of the predictions {agree:.2e} %",
    ])


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--n", type=int, default=10_000, help="genotypes predicted in one batch (default 10,000)")


def _run(args: argparse.Namespace) -> str:
    return run_benchmark(args.n, data_dir=args.data_dir)


COMMAND = BenchCommand("nb301", "NAS-Bench-301 surrogate predictions/s: batched vs one at a time", _arguments, _run,
                       data_dir=True)
