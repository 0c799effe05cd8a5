"""``nas-harness bench concurrency``: paper-scale searches per hour on one GPU, 1..k at once.

Each search is a separate process (as ``n_jobs`` runs them in a sweep) doing the one-shot
loop's DARTS-V1 step on the space's CUDA-graphed fast supernet (:mod:`harness.bench_cuda`, at
its ``paper`` preset's shape), with its batches drawn and augmented on the device from a
device-resident image set of the paper's size (25,000 images), so the host copies nothing per
step. All processes start timing together (a barrier) and run for ``seconds``; their steps are
summed. Searches per hour = steps per hour / steps of one paper-scale search (the preset's
``epochs`` x the steps of one pass over 25,000 images).
"""
from __future__ import annotations

import time
from typing import Any

#: the images one search epoch passes over (half of CIFAR-10's training set, the other half validates)
SEARCH_IMAGES = 25_000


def _worker(barrier: Any, seconds: float, queue: Any, space_name: str) -> None:
    import torch

    from harness.bench_cuda import StepShape, darts_step
    from spaces import get_space
    from spaces.augment import crop_and_flip

    device = torch.device("cuda")
    space = get_space(space_name)
    shape = StepShape.of(space)
    step, _ = darts_step("fast+graphs", device, space, shape)
    pixels = torch.rand(SEARCH_IMAGES, 3, shape.image_size, shape.image_size, device=device)
    batch = shape.batch_size

    def augmented_step() -> None:
        picks = torch.randint(0, len(pixels), (batch,), device=device)
        offsets = torch.randint(0, 9, (2, batch), device=device)
        flips = torch.rand(batch, device=device) < 0.5
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


def measure(processes: int, seconds: float, space_name: str) -> dict[str, float]:
    import multiprocessing as mp

    ctx = mp.get_context("spawn")  # CUDA cannot be used in a forked child
    barrier, queue = ctx.Barrier(processes), ctx.Queue()
    workers = [ctx.Process(target=_worker, args=(barrier, seconds, queue, space_name)) for _ in range(processes)]
    for w in workers:
        w.start()
    results = [queue.get() for _ in workers]
    for w in workers:
        w.join()
    steps_per_s = sum(steps / wall for steps, wall, _ in results)
    return {"steps_per_s": steps_per_s, "ms_per_step_each": 1e3 * processes / steps_per_s,
            "peak_mb_each": max(peak for *_, peak in results)}


def run_benchmark(counts: list[int], space_name: str, seconds: float = 20.0) -> str:
    import torch

    from harness.bench_cuda import StepShape
    from spaces import get_space
    from spaces.base import CudaGraphCapture, require
    from strategies.loop_settings import LoopSettings

    if not torch.cuda.is_available():
        raise SystemExit("bench concurrency needs a CUDA GPU")
    space = get_space(space_name)
    require(space, CudaGraphCapture)
    shape = StepShape.of(space)
    epochs = space.scales["paper"].get("epochs", LoopSettings().epochs)
    steps_per_epoch = SEARCH_IMAGES // shape.batch_size
    steps_per_search = epochs * steps_per_epoch
    lines = [f"paper-scale DARTS-V1 searches per hour on one {torch.cuda.get_device_name(0)}, {space.name} supernet "
             f"{shape.describe()}, k searches as separate processes ({seconds:.0f} s each; one search = {epochs} epochs "
             f"x {steps_per_epoch} steps)",
             f"  {'k':>2s} {'steps/s':>8s} {'ms/step each':>13s} {'searches/hour':>14s} {'vs k=1':>7s} {'peak MB each':>13s}"]
    base = None
    best = (0.0, 0)
    for k in counts:
        r = measure(k, seconds, space.name)
        per_hour = r["steps_per_s"] * 3600 / steps_per_search
        base = base or per_hour
        best = max(best, (per_hour, k))
        lines.append(f"  {k:2d} {r['steps_per_s']:8.1f} {r['ms_per_step_each']:13.1f} {per_hour:14.2f} "
                     f"{per_hour / base:6.2f}x {r['peak_mb_each']:13.0f}")
    lines.append(f"  best: {best[1]} searches at once ({best[0]:.2f} searches/hour); set n_jobs = {best[1]} "
                 "in a GPU sweep's config")
    return "\n".join(lines)
