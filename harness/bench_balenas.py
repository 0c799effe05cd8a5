"""``nas-harness bench balenas``: one search step of BaLeNAS (M = 1..4) against DARTS, same run.

Each variant runs in a fresh subprocess (peak resident memory is per process), building the
strategy's own supernet, distribution and optimizers as a search member
(:meth:`strategies.oneshot_loop.OneShotLoop.member`) and timing its step policy's ``step`` --
exactly what the search loop runs -- on fixed random batches. The DARTS subprocess also times one first-order architecture-gradient pass alone
(the closure: a forward and backward of the valid batch w.r.t. alpha), which gives the target:

    BaLeNAS(M) step time <= DARTS step time + (M - 1) x one architecture-gradient pass,
    BaLeNAS(M) peak memory <= 1.05 x DARTS peak memory

(the M samples are evaluated one after another and each graph is freed before the next).
Variants alternate for ``rounds`` rounds and the best median of each is kept, so a burst of
load from elsewhere on a shared machine does not decide a ratio.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

_STEP = """
import json, resource, statistics, sys, time
import torch
from nas_core.streams import Streams
from strategies.loop_context import LoopContext
from strategies.oneshot_loop import OneShotLoop
from strategies.registry import get
from strategies.step_policies import first_order_gradient
from spaces import get_space
name, samples, steps, threads, channels, cells, size, space_name = sys.argv[1:9]
torch.set_num_threads(int(threads))
kwargs = {"channels": int(channels), "cells_per_stage": int(cells), "image_size": int(size)}
if name.startswith("balenas"):
    kwargs.update(samples=int(samples), tf_proxies=[], tf_k=[])
strategy = get(name)(**kwargs)
loop = OneShotLoop(strategy.settings, strategy.make_policy(), strategy.make_schedule())
streams = Streams(0)  # single steps on random batches: a member without data
member = loop.member(get_space(space_name), streams, torch.device("cpu"), 10, 25000, strategy.make_distribution_for)
ctx = LoopContext(strategy.settings, 0, 1000, 100, streams)
member.distribution.begin_epoch(ctx)
g = torch.Generator().manual_seed(0)
batch = lambda: (torch.randn(64, 3, int(size), int(size), generator=g), torch.randint(0, 10, (64,), generator=g))
train, valid = batch(), batch()
step_times, pass_times = [], []
for i in range(int(steps) + 1):
    t0 = time.perf_counter()
    loop.policy.step(member, train, valid, ctx)
    t1 = time.perf_counter()
    first_order_gradient(member, valid, ctx)
    t2 = time.perf_counter()
    if i:
        step_times.append(t1 - t0)
        pass_times.append(t2 - t1)
print(json.dumps({"step_s": statistics.median(step_times), "arch_pass_s": statistics.median(pass_times),
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _measure(name: str, samples: int, steps: int, threads: int, size: tuple[int, int, int],
             space_name: str) -> dict[str, float]:
    argv = [sys.executable, "-c", _STEP, name, str(samples), str(steps), str(threads), *map(str, size), space_name]
    out = subprocess.run(argv, capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parent.parent)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_benchmark(space_name: str, order: int = 1, steps: int = 3, threads: int = 2, rounds: int = 2, channels: int = 16,
                  cells_per_stage: int = 5, image_size: int = 32, max_samples: int = 4) -> str:
    darts, balenas = ("darts_v1", "balenas_v1") if order == 1 else ("darts_v2", "balenas_v2")
    variants = [(darts, 1)] + [(balenas, m) for m in range(1, max_samples + 1)]
    size = (channels, cells_per_stage, image_size)
    runs: dict[tuple[str, int], list[dict[str, float]]] = {v: [] for v in variants}
    for _ in range(rounds):
        for name, m in variants:
            runs[(name, m)].append(_measure(name, m, steps, threads, size, space_name))
    best = {v: {"step_s": min(r["step_s"] for r in rs), "arch_pass_s": min(r["arch_pass_s"] for r in rs),
                "rss_mb": min(r["rss_mb"] for r in rs)} for v, rs in runs.items()}
    base = best[(darts, 1)]
    # second order: one extra sample costs one unrolled gradient (about 4 passes), first order one pass
    per_sample = base["arch_pass_s"] * (1 if order == 1 else 4)
    lines = [f"{'DARTS' if order == 1 else 'DARTS (2nd)'} vs BaLeNAS step, {space_name} supernet C={channels} N={cells_per_stage}, "
             f"batch 64, {image_size}x{image_size}, {threads} threads (best of {rounds} alternating runs, median of {steps} steps)",
             f"  {darts:<12} M=1: {base['step_s']:6.2f} s/step, one arch-gradient pass {base['arch_pass_s']:.2f} s, "
             f"peak {base['rss_mb']:6.0f} MB"]
    verdicts = []
    for name, m in variants[1:]:
        r = best[(name, m)]
        bound = base["step_s"] + (m - 1) * per_sample
        time_ok, mem_ok = r["step_s"] <= bound * 1.05, r["rss_mb"] <= 1.05 * base["rss_mb"]
        verdicts += [time_ok, mem_ok]
        lines.append(f"  {name:<12} M={m}: {r['step_s']:6.2f} s/step = {r['step_s'] / base['step_s']:.2f}x DARTS; "
                     f"bound DARTS + {m - 1} x {'pass' if order == 1 else 'unrolled gradient'} = {bound:.2f} s "
                     f"(ratio {r['step_s'] / bound:.2f}, {'met' if time_ok else 'MISSED'}); peak {r['rss_mb']:6.0f} MB = "
                     f"{r['rss_mb'] / base['rss_mb']:.3f}x DARTS ({'met' if mem_ok else 'MISSED'}, target <= 1.05)")
    lines.append(f"  all targets {'met' if all(verdicts) else 'NOT all met'} (time bound given 5% timing slack)")
    return "\n".join(lines)
