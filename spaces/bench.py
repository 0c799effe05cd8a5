"""What a space contributes to ``nas-harness bench``, and the search step its supernet benchmarks time.

Why here: a speed benchmark measures one space's components (its table, its supernet, its
surrogate) against a reference particular to them (pandas on the CSV, a per-op supernet, the
authors' published code, one query at a time), so the space package owns it and the command
line only lists what the registered spaces contribute (:class:`BenchCommand`, returned by
``SearchSpace.bench_commands``). Benchmarks of the harness's own machinery (proxy scoring,
CUDA graphs, concurrent searches, BaLeNAS's samples) are generic over the space and stay in
``harness/``.

:func:`time_search_steps` is the DARTS first-order search step both supernet benchmarks run in
their subprocesses. A step is a weight step (SGD, Nesterov momentum, clip 5) on a train batch,
then an alpha step (Adam, the NB201/DARTS settings) on a valid batch, exactly as the DARTS
strategy runs it. One warm-up step, then the median of ``steps`` timed ones and the process's
peak resident memory. One more step runs under the torch profiler to split the time:
``conv_share`` is the share of its operator time spent in convolutions (forward and backward),
so ``step_s * conv_share`` estimates what the same convolutions cost alone -- a floor for any
implementation that runs them in float32 without changing their arithmetic.
"""
from __future__ import annotations

import argparse
import resource
import statistics
import time
from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class BenchCommand:
    """One ``nas-harness bench NAME`` subcommand a space contributes.

    ``add_arguments`` adds its options to the subcommand's parser; ``run`` returns the report
    it prints. ``data_dir``: the command reads the space's benchmark data, so the command line
    adds ``--data-dir`` and passes it on as ``args.data_dir``.
    """

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], str]
    data_dir: bool = False


def time_search_steps(net: Callable[[Any, Any], Any], alpha: Any, params: list[Any], batches: tuple[Any, Any, Any, Any],
                      steps: int, weight_decay: float) -> dict[str, float]:
    import torch
    import torch.nn.functional as F

    from torch.profiler import ProfilerActivity, profile

    x, y, vx, vy = batches
    w_opt = torch.optim.SGD(params, lr=0.025, momentum=0.9, nesterov=True, weight_decay=weight_decay)
    a_opt = torch.optim.Adam([alpha], lr=3e-4, betas=(0.5, 0.999), weight_decay=1e-3)

    def step() -> None:
        w_opt.zero_grad()
        F.cross_entropy(net(x, torch.softmax(alpha, -1).detach()), y).backward()
        torch.nn.utils.clip_grad_norm_(params, 5.0)
        w_opt.step()
        a_opt.zero_grad()
        (alpha.grad,) = torch.autograd.grad(F.cross_entropy(net(vx, torch.softmax(alpha, -1)), vy), [alpha])
        a_opt.step()

    times = []
    for i in range(steps + 1):
        t0 = time.perf_counter()
        step()
        if i:
            times.append(time.perf_counter() - t0)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        step()
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events)
    conv = sum(e.self_cpu_time_total for e in events if "conv" in e.key)
    return {"step_s": statistics.median(times), "rss_mb": rss_mb, "conv_share": conv / total if total else float("nan")}
