"""``nas-harness bench cuda``: one DARTS first-order search step on a space's supernet on a GPU.

The step is the one-shot loop's (a weight step with SGD on a train batch, then an alpha step
with Adam on a valid batch) on the supernet the space builds (``space.make_supernet``), at the
shape of its ``paper`` scale preset (channels, cells, batch, image size; 10 classes). Generic
over the space: it needs :class:`spaces.base.CudaGraphCapture` (the one-shot loop graphs only
such spaces). Variants measured in the same process, each the median of ``steps`` timed
steps after warm-up (which includes the CUDA-graph capture):

* ``plain``: every op separately, eager (the reference);
* ``fast``: the fast supernet, eager;
* ``fast+graphs``: the fast supernet replayed from CUDA graphs (:mod:`strategies.cuda_graphs`),
  which is what the one-shot loop uses on a GPU (the architecture pass's graph computes no
  weight gradients, as in the loop);
* ``fast+graphs+cl``: the same with the batch in channels-last memory order;
* ``fast+graphs+compile`` (``--compile``): the graphs capture the space's ``torch.compile``d
  cells (:meth:`CudaGraphCapture.compiled_cells`);
* ``authors``: the space authors' published supernet, used as published
  (:class:`spaces.base.AuthorsSupernet`; on NB201 xautodl's ``TinyNetworkDarts``), when the
  space names one and its package is importable.

For each: ms per step, peak GPU memory, and the share of the step's wall time during which
some kernel was running (from the profiler's kernel intervals, merged). Before timing, the
equality check compares the graphed fast supernet with the plain reference with TF32 off:
logits, the weight gradients every implementation computes (the fast paths drop conv biases
that BN cancels) and the alpha gradient, on fresh random batches, each against a float64
evaluation of the plain supernet: the graphed path must be as close to it as the plain float32
reference is (within 5x its error), and equal to the eager fast path up to rounding.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any, Callable

import torch
import torch.nn.functional as F

from spaces.base import AuthorsSupernet, CudaGraphCapture, SearchSpace, require
from strategies.cuda_graphs import GraphedSupernet
from strategies.loop_settings import LoopSettings

NUM_CLASSES = 10


@dataclass(frozen=True)
class StepShape:
    """The supernet and batch one benchmarked step uses: a scale preset of the space."""

    channels: int
    cells_per_stage: int
    image_size: int
    batch_size: int
    w_weight_decay: float

    @classmethod
    def of(cls, space: SearchSpace, scale: str = "paper") -> StepShape:
        preset, defaults = space.scales[scale], LoopSettings()
        return cls(*(preset.get(name, getattr(defaults, name)) for name in
                     ("channels", "cells_per_stage", "image_size", "batch_size", "w_weight_decay")))

    def describe(self) -> str:
        return (f"C={self.channels}, {self.cells_per_stage} cells per stage, batch {self.batch_size}, "
                f"{self.image_size}x{self.image_size}")


def _batch(generator: torch.Generator, device: torch.device, shape: StepShape) -> tuple[torch.Tensor, torch.Tensor]:
    size = shape.image_size
    return (torch.randn(shape.batch_size, 3, size, size, generator=generator).to(device),
            torch.randint(0, NUM_CLASSES, (shape.batch_size,), generator=generator).to(device))


def _supernet(space: SearchSpace, shape: StepShape, impl: str, device: torch.device) -> torch.nn.Module:
    return space.make_supernet(NUM_CLASSES, shape.channels, shape.cells_per_stage, impl, 0).to(device)


def darts_step(variant: str, device: torch.device, space: SearchSpace,
               shape: StepShape | None = None) -> tuple[Callable[[], None], Callable[[], None]]:
    """``(step, new_batches)`` for one variant: ``step()`` runs one DARTS-V1 search step."""
    shape = shape or StepShape.of(space)
    g = torch.Generator().manual_seed(0)
    if variant == "authors":
        torch.manual_seed(0)
        authors_forward, params, alphas = require(space, AuthorsSupernet).build(
            NUM_CLASSES, shape.channels, shape.cells_per_stage, device)

        def forward(x: torch.Tensor, for_arch: bool) -> torch.Tensor:
            return authors_forward(x)
    else:
        net = _supernet(space, shape, "plain" if variant == "plain" else "fast", device)
        compiled = require(space, CudaGraphCapture).compiled_cells if "compile" in variant else None
        graphed = GraphedSupernet(net, compiled) if "graphs" in variant else None
        channels_last = variant.endswith("+cl")
        params = list(net.parameters())
        alpha = (1e-3 * torch.randn(*space.arch_shape, generator=g)).to(device).requires_grad_()
        alphas = [alpha]

        def forward(x: torch.Tensor, for_arch: bool) -> torch.Tensor:
            weights = torch.softmax(alpha, dim=-1)
            if channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            if graphed is None:
                return net(x, weights if for_arch else weights.detach())
            return graphed(x, weights, param_grads=False) if for_arch else graphed(x, weights.detach())
    w_opt = torch.optim.SGD(params, lr=0.025, momentum=0.9, nesterov=True, weight_decay=shape.w_weight_decay)
    a_opt = torch.optim.Adam(alphas, lr=3e-4, betas=(0.5, 0.999), weight_decay=1e-3)
    batches: dict[str, Any] = {}

    def new_batches() -> None:
        batches["train"], batches["valid"] = _batch(g, device, shape), _batch(g, device, shape)

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


def measure(variant: str, device: torch.device, steps: int, space: SearchSpace) -> dict[str, Any]:
    torch.cuda.reset_peak_memory_stats(device)
    step, new_batches = darts_step(variant, device, space)
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


def _gradients(net: torch.nn.Module, call: Callable[..., torch.Tensor], x: torch.Tensor, y: torch.Tensor,
               alpha: torch.Tensor, for_arch: bool) -> dict[str, Any]:
    """Logits, the weight gradients by parameter name (``None`` where the pass does not use the
    parameter) and, for an architecture pass, the alpha gradient, all in float64."""
    a = alpha.to(next(net.parameters()).dtype).clone().requires_grad_(for_arch)
    logits = call(x.to(a.dtype), torch.softmax(a, -1))
    named = list(net.named_parameters())
    inputs = [p for _, p in named] + ([a] if for_arch else [])
    out = torch.autograd.grad(F.cross_entropy(logits, y), inputs, allow_unused=True)
    return {"logits": logits.detach().double(), "alpha grad": out[-1].double() if for_arch else None,
            "weights": {name: None if grad is None else grad.double() for (name, _), grad in zip(named, out)}}


def _relative_errors(a: dict[str, Any], b: dict[str, Any], compared: set[str], into: dict[str, float]) -> None:
    """Worst relative error (norm of the difference over the norm of ``b``) per quantity, weight
    gradients over the ``compared`` parameter names only."""
    pairs = [("logits", a["logits"], b["logits"])]
    if a["alpha grad"] is not None:
        pairs.append(("alpha grad", a["alpha grad"], b["alpha grad"]))
    pairs += [("weight grads", a["weights"][name], b["weights"][name]) for name in sorted(compared)]
    for key, u, v in pairs:
        into[key] = max(into.get(key, 0.0), float((u - v).norm() / v.norm().clamp_min(1e-30)))


def equality_check(device: torch.device, space: SearchSpace, shape: StepShape | None = None,
                   trials: int = 2) -> list[str]:
    """Relative errors of logits, weight gradients and the alpha gradient, TF32 off: plain float32,
    fast eager and fast graphed, each against the plain supernet in float64; and graphed against
    fast eager. Weight gradients are compared where every implementation computes one (a fast
    supernet that drops a conv bias BN cancels has none for it)."""
    shape = shape or StepShape.of(space)
    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    try:
        reference = _supernet(space, shape, "plain", device).double()
        plain = _supernet(space, shape, "plain", device)
        fast = _supernet(space, shape, "fast", device)
        graphed = GraphedSupernet(fast)
        g = torch.Generator().manual_seed(1)
        errors: dict[str, dict[str, float]] = {}
        for _ in range(trials):
            alpha = torch.randn(*space.arch_shape, generator=g).to(device)
            x, y = _batch(g, device, shape)
            for for_arch in (False, True):
                ref = _gradients(reference, reference, x, y, alpha, for_arch)
                outs = {"plain fp32": _gradients(plain, plain, x, y, alpha, for_arch),
                        "fast fp32": _gradients(fast, fast, x, y, alpha, for_arch),
                        "graphed fp32": _gradients(fast, graphed, x, y, alpha, for_arch)}
                compared = {name for name, grad in ref["weights"].items()
                            if grad is not None and all(out["weights"].get(name) is not None for out in outs.values())}
                for label, out in outs.items():
                    _relative_errors(out, ref, compared, errors.setdefault(f"{label} vs float64", {}))
                _relative_errors(outs["graphed fp32"], outs["fast fp32"], compared,
                                 errors.setdefault("graphed vs fast eager", {}))
        lines = [f"  {label:24s} " + "  ".join(f"{key} {value:.1e}" for key, value in errs.items())
                 for label, errs in errors.items()]
        plain_err, graphed_err = errors["plain fp32 vs float64"], errors["graphed fp32 vs float64"]
        ok = all(graphed_err[k] <= 5 * plain_err[k] + 1e-6 for k in plain_err)
        lines.append(f"  graphed within 5x the plain float32 error on every quantity: {'yes' if ok else 'NO'}")
        return lines
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


ALL_VARIANTS = ("plain", "fast", "fast+graphs", "fast+graphs+cl", "authors", "fast+graphs+compile",
                "fast+graphs+compile+cl")


def run_benchmark(space: SearchSpace, steps: int = 30, device_name: str = "cuda", compile_cells: bool = False,
                  only: list[str] | None = None, target_ms: float | None = None) -> str:
    device = torch.device(device_name)
    if device.type != "cuda" or not torch.cuda.is_available():
        raise SystemExit("bench cuda needs a CUDA GPU; on the CPU, a space's own supernet benchmark "
                         "(`nas-harness bench --help` lists them) times its step")
    require(space, CudaGraphCapture)
    if only:
        unknown = sorted(set(only) - set(ALL_VARIANTS))
        if unknown:
            raise ValueError(f"--variants: unknown {unknown}; choose from {list(ALL_VARIANTS)}")
    shape = StepShape.of(space)
    lines = [f"DARTS 1st-order search step, {space.name} supernet {shape.describe()}, on "
             f"{torch.cuda.get_device_name(device)} (torch {torch.__version__}; median of {steps} steps after warm-up; "
             f"cuDNN TF32 {'on' if torch.backends.cudnn.allow_tf32 else 'off'})",
             "equality, TF32 off, max relative error over 2 fresh batches, weight and arch passes:",
             *equality_check(device, space, shape)]
    variants = [v for v in ALL_VARIANTS if "compile" not in v or compile_cells]
    authors = space.capability(AuthorsSupernet)
    if authors is None or not authors.available():
        variants.remove("authors")
        if authors is not None:
            lines.append(f"  ({authors.package} not importable: `{authors.install}` adds the {authors.label})")
    if only:
        variants = [v for v in ALL_VARIANTS if v in only]
    results: dict[str, dict[str, Any]] = {}
    for v in variants:
        started = time.perf_counter()
        try:
            results[v] = measure(v, device, steps, space)
        except Exception as exc:  # a variant that fails (compiler, missing package) is reported, not fatal
            lines.append(f"  {v}: failed ({type(exc).__name__}: {str(exc)[:200]})")
            continue
        results[v]["setup_s"] = time.perf_counter() - started
    lines.append(f"  {'variant':20s} {'ms/step':>8s} {'peak MB':>8s} {'GPU busy':>9s} {'total s':>8s}")
    for v, r in results.items():
        lines.append(f"  {v:20s} {r['ms']:8.1f} {r['peak_mb']:8.0f} {100 * r['busy']:8.0f}% {r['setup_s']:8.1f}")
    if authors is not None and "authors" in results:
        lines.append(f"  authors = {authors.label}")
    for v in results:
        if "graphs" in v:
            lines.append(f"  GPU time per step by kernel, {v} (ms, launches):")
            lines += [f"    {ms:6.2f} {count:5d}  {name}" for name, ms, count in results[v]["top"]]
    graphed = [v for v in results if "graphs" in v]
    if not graphed:
        return "\n".join(lines)
    best = min(graphed, key=lambda v: results[v]["ms"])
    fast = results[best]["ms"]
    ratios = [f"vs {ref}: {results[ref]['ms'] / fast:.1f}x" for ref in ("plain", "fast", "authors") if ref in results]
    if ratios:
        lines.append(f"  speed-up of {best}: " + ", ".join(ratios))
    if target_ms is not None:
        lines.append(f"  target <= {target_ms:g} ms/step: {'met' if fast <= target_ms else 'MISSED'} ({fast:.1f} ms)")
    return "\n".join(lines)
