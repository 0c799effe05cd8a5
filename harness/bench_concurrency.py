"""``nas-harness bench concurrency``: paper-scale searches per hour on one GPU, 1..k at once.

Each search is a separate process (as ``n_jobs`` runs them in a sweep) doing the one-shot
loop's DARTS-V1 step on the CUDA-graphed fast supernet, with its batches drawn and augmented
on the device from a device-resident image set of the paper's size (25,000 images), so the
host copies nothing per step. All processes start timing together (a barrier) and run for
``seconds``; their steps are summed. Searches per hour = steps per hour / steps of one
paper-scale search (``epochs`` x 390 steps of batch 64 over 25,000 images).
"""
from __future__ import annotations

import time
from typing import Any

STEPS_PER_EPOCH = 25_000 // 64


def _worker(barrier: Any, seconds: float, queue: Any) -> None:
    import torch

    from harness.bench_cuda import darts_step
    from spaces.augment import crop_and_flip

    device = torch.device("cuda")
    step, _ = darts_step("fast+graphs", device)
    pixels = torch.rand(25_000, 3, 32, 32, device=device)

    def augmented_step() -> None:
        picks = torch.randint(0, len(pixels), (64,), device=device)
        offsets = torch.randint(0, 9, (2, 64), device=device)
        flips = torch.rand(64, device=device) < 0.5
        crop_and_flip(pixels[picks], offsets[0], offsets[1], flips, 4)
        step()

    for _ in range(3):
        augmented_step()
    torch.cuda.synchronize()
    barrier.wait()
    start, steps = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        augmented_step()
        steps += 1
        if steps % 20 == 0:
            torch.cuda.synchronize()
    torch.cuda.synchronize()
    queue.put((steps, time.perf_counter() - start, torch.cuda.max_memory_allocated(device) / 2**20))


def measure(processes: int, seconds: float) -> dict[str, float]:
    import multiprocessing as mp

    ctx = mp.get_context("spawn")  # CUDA cannot be used in a forked child
    barrier, queue = ctx.Barrier(processes), ctx.Queue()
    workers = [ctx.Process(target=_worker, args=(barrier, seconds, queue)) for _ in range(processes)]
    for w in workers:
        w.start()
    results = [queue.get() for _ in workers]
    for w in workers:
        w.join()
    steps_per_s = sum(steps / wall for steps, wall, _ in results)
    return {"steps_per_s": steps_per_s, "ms_per_step_each": 1e3 * processes / steps_per_s,
            "peak_mb_each": max(peak for *_, peak in results)}


def run_benchmark(counts: list[int], seconds: float = 20.0, epochs: int = 50) -> str:
    import torch

    if not torch.cuda.is_available():
        raise SystemExit("bench concurrency needs a CUDA GPU")
    steps_per_search = epochs * STEPS_PER_EPOCH
    lines = [f"paper-scale DARTS-V1 searches per hour on one {torch.cuda.get_device_name(0)}, k searches as separate "
             f"processes ({seconds:.0f} s each; one search = {epochs} epochs x {STEPS_PER_EPOCH} steps)",
             f"  {'k':>2s} {'steps/s':>8s} {'ms/step each':>13s} {'searches/hour':>14s} {'vs k=1':>7s} {'peak MB each':>13s}"]
    base = None
    best = (0.0, 0)
    for k in counts:
        r = measure(k, seconds)
        per_hour = r["steps_per_s"] * 3600 / steps_per_search
        base = base or per_hour
        best = max(best, (per_hour, k))
        lines.append(f"  {k:2d} {r['steps_per_s']:8.1f} {r['ms_per_step_each']:13.1f} {per_hour:14.2f} "
                     f"{per_hour / base:6.2f}x {r['peak_mb_each']:13.0f}")
    lines.append(f"  best: {best[1]} searches at once ({best[0]:.2f} searches/hour); set n_jobs = {best[1]} "
                 "in a GPU sweep's config")
    return "\n".join(lines)
