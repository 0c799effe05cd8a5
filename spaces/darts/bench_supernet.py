"""``nas-harness bench darts``: one DARTS first-order search step on the DARTS-space supernet,
fast and grouped vs the straightforward per-op reference (issue 12, item 6).

The supernet of the DARTS search protocol (8 cells, C = 16, 10 classes), batch 64 of 32x32
images, 2 intra-op threads; a step is a weight step (SGD) on a train batch then an alpha step
(Adam) on a valid batch, as the DARTS strategy runs it. ``plain`` computes every op of every
edge on its own (the DARTS repository's ``MixedOp``); ``fast`` shares per source node the
ReLU and the pools; ``grouped`` also runs each layer of all a source's out-edges as one
grouped convolution (:mod:`spaces.darts.supernet`). Each runs in a fresh subprocess (peak
memories apart); they alternate for ``rounds`` rounds and the best median of each is kept,
so a burst of other load does not decide the ratio. ``--preset cpu`` times the CPU preset's
supernet instead (C = 8, 5 cells, 8x8, batch 32).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from spaces.bench import BenchCommand

_STEP = """
import json, sys
import torch
from spaces.bench import time_search_steps
from spaces.darts.supernet import DartsSupernet
impl, steps, threads, channels, layers, size, batch = sys.argv[1], *map(int, sys.argv[2:8])
torch.set_num_threads(threads)
g = torch.Generator().manual_seed(0)
model = DartsSupernet(10, channels, layers, generator=0, impl=impl)
alpha = (1e-3 * torch.randn(2, 14, 8, generator=g)).requires_grad_()
batches = (torch.randn(batch, 3, size, size, generator=g), torch.randint(0, 10, (batch,), generator=g),
           torch.randn(batch, 3, size, size, generator=g), torch.randint(0, 10, (batch,), generator=g))
print(json.dumps(time_search_steps(model, alpha, list(model.parameters()), batches, steps, 3e-4)))
"""

#: (channels, cells, image size, batch): the DARTS search protocol and the CPU preset of spaces/darts/space.py
PRESETS = {"paper": (16, 8, 32, 64), "cpu": (8, 5, 8, 32)}


def _measure(impl: str, steps: int, threads: int, shape: tuple[int, int, int, int]) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", _STEP, impl, str(steps), str(threads), *map(str, shape)],
                         capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[2])
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_benchmark(steps: int = 2, threads: int = 2, rounds: int = 2, preset: str = "paper") -> str:
    shape = PRESETS[preset]
    runs: dict[str, list[dict[str, float]]] = {"plain": [], "fast": [], "grouped": []}
    for _ in range(rounds):
        for impl in runs:
            runs[impl].append(_measure(impl, steps, threads, shape))
    best = {impl: {"step_s": min(r["step_s"] for r in rs), "rss_mb": max(r["rss_mb"] for r in rs)} for impl, rs in runs.items()}
    plain, fast, grouped = best["plain"], best["fast"], best["grouped"]
    c, layers, size, batch = shape
    return "\n".join([
        f"DARTS 1st-order search step, DARTS-space supernet C={c}, {layers} cells, batch {batch}, {size}x{size}, "
        f"{threads} threads (best of {rounds} alternating runs, each the median of {steps} steps)",
        f"  plain supernet (every op of every edge): {plain['step_s']:6.2f} s/step, peak {plain['rss_mb']:7.0f} MB",
        f"  fast supernet (shared ReLU and pools):   {fast['step_s']:6.2f} s/step, peak {fast['rss_mb']:7.0f} MB",
        f"  grouped supernet (one call per layer):   {grouped['step_s']:6.2f} s/step, peak {grouped['rss_mb']:7.0f} MB",
        f"  speed-up vs plain: fast {plain['step_s'] / fast['step_s']:.2f}x, grouped "
        f"{plain['step_s'] / grouped['step_s']:.2f}x; peak memory / plain: fast {fast['rss_mb'] / plain['rss_mb']:.2f}, "
        f"grouped {grouped['rss_mb'] / plain['rss_mb']:.2f}",
    ])


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2, help="alternating plain/fast/grouped runs; the best of each is kept")
    parser.add_argument("--preset", choices=tuple(PRESETS), default="paper",
                        help="paper: 8 cells, C=16, batch 64, 32x32 (default); cpu: the CPU preset's supernet")


def _run(args: argparse.Namespace) -> str:
    return run_benchmark(args.steps, args.threads, args.rounds, args.preset)


COMMAND = BenchCommand("darts", "one DARTS search step on the DARTS-space supernet: fast and grouped vs the per-op "
                       "reference", _arguments, _run)
