"""``nas-harness bench supernet --device cuda``: one DARTS first-order step at paper scale on a GPU.

The step is the one-shot loop's (a weight step with SGD on a train batch, then an alpha step
with Adam on a valid batch) on the NB201 supernet at the paper's scale (C=16, N=5, batch 64,
32x32, 10 classes). Variants measured in the same process, each the median of ``steps``
timed steps after warm-up (which includes the CUDA-graph capture):

* ``plain``: every op separately, eager (the reference);
* ``fast``: the fast supernet, eager;
* ``fast+graphs``: the fast supernet replayed from CUDA graphs (:mod:`strategies.cuda_graphs`),
  which is what the one-shot loop uses on a GPU (the architecture pass's graph computes no
  weight gradients, as in the loop);
* ``fast+graphs+cl``: the same with the batch in channels-last memory order;
* ``fast+graphs+compile`` (``--compile``): the graphs capture ``torch.compile``d cells;
* ``xautodl``: the NB201 authors' DARTS supernet (``TinyNetworkDarts`` of xautodl 1.0.0, used as
  published), when the package is importable.

For each: ms per step, peak GPU memory, and the share of the step's wall time during which
some kernel was running (from the profiler's kernel intervals, merged). Before timing, the
equality check compares the graphed fast supernet with the plain reference with TF32 off:
logits, every weight gradient and the alpha gradient, on fresh random batches, each against
a float64 evaluation of the plain supernet: the graphed path must be as close to it as the
plain float32 reference is (within 5x its error), and equal to the eager fast path up to
rounding.
"""
from __future__ import annotations

import statistics
import time
from typing import Any, Callable

import torch
import torch.nn.functional as F

from spaces.nb201.capabilities import NB201Graphs
from spaces.nb201.supernet import Supernet
from strategies.cuda_graphs import GraphedSupernet

TARGET_MS = 15.0


def _batch(generator: torch.Generator, device: torch.device, size: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    return (torch.randn(size, 3, 32, 32, generator=generator).to(device),
            torch.randint(0, 10, (size,), generator=generator).to(device))


def darts_step(variant: str, device: torch.device) -> tuple[Callable[[], None], Callable[[], None]]:  # noqa: C901
    """``(step, new_batches)`` for one variant: ``step()`` runs one DARTS-V1 search step."""
    g = torch.Generator().manual_seed(0)
    if variant == "xautodl":
        from xautodl.models.cell_operations import NAS_BENCH_201
        from xautodl.models.cell_searchs import TinyNetworkDarts

        torch.manual_seed(0)
        model = TinyNetworkDarts(16, 5, 4, 10, NAS_BENCH_201, False, False).to(device)
        params, alphas = model.get_weights(), model.get_alphas()

        def forward(x: torch.Tensor, for_arch: bool) -> torch.Tensor:
            return model(x)[1]
    else:
        net = Supernet(10, 16, 5, "plain" if variant == "plain" else "fast", generator=0).to(device)
        compiled = NB201Graphs().compiled_cells if "compile" in variant else None
        graphed = GraphedSupernet(net, compiled) if "graphs" in variant else None
        channels_last = variant.endswith("+cl")
        params = list(net.parameters())
        alpha = (1e-3 * torch.randn(6, 5, generator=g)).to(device).requires_grad_()
        alphas = [alpha]

        def forward(x: torch.Tensor, for_arch: bool) -> torch.Tensor:
            weights = torch.softmax(alpha, dim=-1)
            if channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            if graphed is None:
                return net(x, weights if for_arch else weights.detach())
            return graphed(x, weights, param_grads=False) if for_arch else graphed(x, weights.detach())
    w_opt = torch.optim.SGD(params, lr=0.025, momentum=0.9, nesterov=True, weight_decay=5e-4)
    a_opt = torch.optim.Adam(alphas, lr=3e-4, betas=(0.5, 0.999), weight_decay=1e-3)
    batches: dict[str, Any] = {}

    def new_batches() -> None:
        batches["train"], batches["valid"] = _batch(g, device), _batch(g, device)

    def step() -> None:
        x, y = batches["train"]
        w_opt.zero_grad(set_to_none=True)
        F.cross_entropy(forward(x, False), y).backward()
        torch.nn.utils.clip_grad_norm_(params, 5.0)
        w_opt.step()
        vx, vy = batches["valid"]
        a_opt.zero_grad(set_to_none=True)
        grads = torch.autograd.grad(F.cross_entropy(forward(vx, True), vy), alphas)
        for a, grad in zip(alphas, grads):
            a.grad = grad
        a_opt.step()

    new_batches()
    return step, new_batches


def _busy_share(step: Callable[[], None], steps: int = 5) -> tuple[float, list[tuple[str, float, int]]]:
    """Fraction of wall time during which at least one CUDA kernel ran (merged kernel intervals),
    and the kernels taking most GPU time per step: (name, ms per step, launches per step)."""
    from torch.profiler import ProfilerActivity, profile

    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        start = time.perf_counter()
        for _ in range(steps):
            step()
        torch.cuda.synchronize()
        wall_us = (time.perf_counter() - start) * 1e6
    kernels = [e for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA]
    intervals = sorted((e.time_range.start, e.time_range.end) for e in kernels)
    busy, end = 0.0, float("-inf")
    for a, b in intervals:
        if b <= end:
            continue
        busy += b - max(a, end)
        end = b
    by_name: dict[str, list[float]] = {}
    for e in kernels:
        entry = by_name.setdefault(e.name[:70], [0.0, 0])
        entry[0] += e.time_range.end - e.time_range.start
        entry[1] += 1
    top = sorted(((name, total / 1e3 / steps, count // steps) for name, (total, count) in by_name.items()),
                 key=lambda item: -item[1])[:10]
    return (busy / wall_us if wall_us else 0.0), top


def measure(variant: str, device: torch.device, steps: int) -> dict[str, float]:
    torch.cuda.reset_peak_memory_stats(device)
    step, new_batches = darts_step(variant, device)
    for _ in range(3):  # warm-up: cuDNN plans, allocator, CUDA-graph capture
        step()
    times = []
    for _ in range(steps):
        new_batches()
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        step()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    busy, top = _busy_share(step)
    return {"ms": 1e3 * statistics.median(times), "peak_mb": torch.cuda.max_memory_allocated(device) / 2**20,
            "busy": busy, "top": top}


def equality_check(device: torch.device, trials: int = 2) -> list[str]:
    """Relative errors (norm of the difference over norm of the reference) of logits, weight
    gradients and the alpha gradient, TF32 off: plain float32, fast eager and fast graphed,
    each against the plain supernet in float64; and graphed against fast eager."""
    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    try:
        reference = Supernet(10, 16, 5, "plain", generator=0).to(device).double()
        plain = Supernet(10, 16, 5, "plain", generator=0).to(device)
        fast = Supernet(10, 16, 5, "fast", generator=0).to(device)
        graphed = GraphedSupernet(fast)
        names = [n for n, _ in plain.named_parameters()]
        g = torch.Generator().manual_seed(1)
        errors: dict[str, dict[str, float]] = {}

        def grads(net: Any, call: Any, x: torch.Tensor, y: torch.Tensor, alpha: torch.Tensor, for_arch: bool) -> dict:
            a = alpha.to(next(net.parameters()).dtype).clone().requires_grad_(for_arch)
            logits = call(x.to(a.dtype), torch.softmax(a, -1))
            inputs = list(net.parameters()) + ([a] if for_arch else [])
            out = torch.autograd.grad(F.cross_entropy(logits, y), inputs, allow_unused=True)
            result = {"logits": [logits.detach().double()], "alpha grad": [out[-1].double()] if for_arch else [],
                      "weight grads": []}
            for name, grad in zip(names, out[: len(names)]):
                if not name.endswith((".b1", ".b3")):  # conv biases: the fast path drops them (BN cancels them)
                    result["weight grads"].append(grad.double())
            return result

        def worst(a: dict, b: dict, into: dict[str, float]) -> None:
            for key in a:
                for u, v in zip(a[key], b[key]):
                    into[key] = max(into.get(key, 0.0), float((u - v).norm() / v.norm().clamp_min(1e-30)))

        for _ in range(trials):
            alpha = torch.randn(6, 5, generator=g).to(device)
            x, y = _batch(g, device)
            for for_arch in (False, True):
                ref = grads(reference, reference, x, y, alpha, for_arch)
                outs = {"plain fp32": grads(plain, plain, x, y, alpha, for_arch),
                        "fast fp32": grads(fast, fast, x, y, alpha, for_arch),
                        "graphed fp32": grads(fast, graphed, x, y, alpha, for_arch)}
                for label, out in outs.items():
                    worst(out, ref, errors.setdefault(f"{label} vs float64", {}))
                worst(outs["graphed fp32"], outs["fast fp32"], errors.setdefault("graphed vs fast eager", {}))
        lines = [f"  {label:24s} " + "  ".join(f"{key} {value:.1e}" for key, value in errs.items())
                 for label, errs in errors.items()]
        plain_err, graphed_err = errors["plain fp32 vs float64"], errors["graphed fp32 vs float64"]
        ok = all(graphed_err[k] <= 5 * plain_err[k] + 1e-6 for k in plain_err)
        lines.append(f"  graphed within 5x the plain float32 error on every quantity: {'yes' if ok else 'NO'}")
        return lines
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


ALL_VARIANTS = ("plain", "fast", "fast+graphs", "fast+graphs+cl", "xautodl", "fast+graphs+compile",
                "fast+graphs+compile+cl")


def run_benchmark(steps: int = 30, device_name: str = "cuda", compile_cells: bool = False,
                  only: list[str] | None = None) -> str:
    device = torch.device(device_name)
    if device.type != "cuda" or not torch.cuda.is_available():
        raise SystemExit("bench supernet --device cuda needs a CUDA GPU; without one, run it without --device")
    lines = [f"DARTS 1st-order search step, NB201 supernet C=16 N=5, batch 64, 32x32, on {torch.cuda.get_device_name(device)} "
             f"(torch {torch.__version__}; median of {steps} steps after warm-up; cuDNN TF32 "
             f"{'on' if torch.backends.cudnn.allow_tf32 else 'off'})",
             "equality, TF32 off, max relative error over 2 fresh batches, weight and arch passes:",
             *equality_check(device)]
    variants = [v for v in ALL_VARIANTS if "compile" not in v or compile_cells]
    try:
        import xautodl  # noqa: F401
    except ImportError:
        variants.remove("xautodl")
        lines.append("  (xautodl not importable: `pip install --no-deps xautodl` adds the NB201 authors' supernet)")
    if only:
        unknown = sorted(set(only) - set(ALL_VARIANTS))
        if unknown:
            raise SystemExit(f"unknown variants {unknown}; choose from {list(ALL_VARIANTS)}")
        variants = [v for v in ALL_VARIANTS if v in only]
    results: dict[str, dict[str, Any]] = {}
    for v in variants:
        started = time.perf_counter()
        try:
            results[v] = measure(v, device, steps)
        except Exception as exc:  # a variant that fails (compiler, missing package) is reported, not fatal
            lines.append(f"  {v}: failed ({type(exc).__name__}: {str(exc)[:200]})")
            continue
        results[v]["setup_s"] = time.perf_counter() - started
    lines.append(f"  {'variant':20s} {'ms/step':>8s} {'peak MB':>8s} {'GPU busy':>9s} {'total s':>8s}")
    for v, r in results.items():
        lines.append(f"  {v:20s} {r['ms']:8.1f} {r['peak_mb']:8.0f} {100 * r['busy']:8.0f}% {r['setup_s']:8.1f}")
    for v in results:
        if "graphs" in v:
            lines.append(f"  GPU time per step by kernel, {v} (ms, launches):")
            lines += [f"    {ms:6.2f} {count:5d}  {name}" for name, ms, count in results[v]["top"]]
    best = min((v for v in results if "graphs" in v), key=lambda v: results[v]["ms"])
    fast = results[best]["ms"]
    ratios = [f"vs {ref}: {results[ref]['ms'] / fast:.1f}x" for ref in ("plain", "fast", "xautodl") if ref in results]
    if ratios:
        lines.append(f"  speed-up of {best}: " + ", ".join(ratios))
    lines.append(f"  target <= {TARGET_MS:.0f} ms/step: {'met' if fast <= TARGET_MS else 'MISSED'} ({fast:.1f} ms)")
    return "\n".join(lines)
