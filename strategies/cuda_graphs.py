"""The supernet's forward and backward passes replayed from CUDA graphs (issue: fast CUDA step).

Why: at paper scale one DARTS step launches about 7,600 small kernels, and on an H100 the
host spends far longer issuing them than the GPU spends running them. A CUDA graph records
a pass once and replays all its kernels with one launch.

:class:`GraphedSupernet` is a drop-in for ``supernet(x, weights)`` in the one-shot loop. Per
input signature -- batch shape, dtype and whether the edge weights require a gradient (an
architecture pass) or not (a weight pass) -- it captures two graphs on first use:

* forward: ``logits = supernet(x, weights)`` from static input buffers;
* backward: the gradients of ``logits`` w.r.t. every supernet parameter and, for an
  architecture pass, w.r.t. the edge weights, for a static ``grad_logits`` buffer.

A custom autograd function replays them, so the loss, its regulariser and the map from the
distribution's parameters to edge weights (softmax, a Dirichlet or Gaussian sample) stay
eager and generic: every strategy on the distribution seam gets the graphs, and the chain
rule through its own sampling is untouched. Outputs and gradients are cloned out of the
static buffers, so a later replay cannot overwrite a gradient the caller still holds
(DARTS's unrolled gradient keeps two architecture gradients from one graph).

Not graphed (eager as before): GDAS's one-op-per-edge passes (its chosen ops change every
step), BayesNAS's switched network, the Hessian probe (double backward), and anything on the
CPU. The capture's warm-up passes update the BN running statistics of the stem and head;
they are restored, so the supernet's state equals the eager loop's.

A replayed backward must belong to the latest forward of its graph (the graph holds one set
of saved activations); the one-shot loop always differentiates a pass before the next one of
the same kind, and a violation raises instead of returning wrong gradients.
"""
from __future__ import annotations

import contextlib
import os
from typing import Any, Callable, ContextManager

import torch
from torch import nn

#: ``NAS_HARNESS_CUDA_GRAPHS=0`` turns the graphs off (eager CUDA), e.g. to compare or debug
ENV_SWITCH = "NAS_HARNESS_CUDA_GRAPHS"
WARMUP_PASSES = 3


#: ``NAS_HARNESS_COMPILE_CELLS=1`` captures ``torch.compile``d fast cells (fused kernels; minutes
#: of compilation per process, cached on disk by inductor)
COMPILE_SWITCH = "NAS_HARNESS_COMPILE_CELLS"


def graphs_enabled(device: Any) -> bool:
    """CUDA graphs are used on CUDA devices unless the environment switch says ``0``."""
    return torch.device(device).type == "cuda" and os.environ.get(ENV_SWITCH, "1") != "0"


def compile_requested() -> bool:
    return os.environ.get(COMPILE_SWITCH, "0") == "1"


class _CapturedPass:
    """Forward and backward graphs of ``net(x, weights)`` for one input signature."""

    def __init__(self, net: nn.Module, x: torch.Tensor, weights: torch.Tensor, param_grads: bool,
                 cell_context: Callable[[], ContextManager[None]] | None = None) -> None:
        self.params = list(net.parameters()) if param_grads else []
        self.arch = weights.requires_grad
        if not (self.arch or self.params):
            raise ValueError("a graphed pass needs gradients of something: the weights or the edge weights")
        self.static_x = x.detach().clone()  # a copy, not a random draw: capture must not touch the RNG
        self.static_w = weights.detach().clone().requires_grad_(self.arch)
        # the graphs differentiate aliases of the parameters (same storage, so they see every
        # optimizer update): gradient nodes of the parameters themselves may still be alive from
        # an eager pass on another stream, and capture would fail when autograd synchronised with it
        names = [name for name, _ in net.named_parameters()]
        aliases = [p.detach().requires_grad_(param_grads) for p in net.parameters()]
        self.alias_map = dict(zip(names, aliases))
        inputs = [*aliases, self.static_w] if self.arch and param_grads else aliases if param_grads else [self.static_w]
        with cell_context() if cell_context is not None else contextlib.nullcontext():
            self._capture(net, inputs)
        self.generation = 0

    def _forward(self, net: nn.Module) -> torch.Tensor:
        return torch.func.functional_call(net, self.alias_map, (self.static_x, self.static_w))

    def _capture(self, net: nn.Module, inputs: list[torch.Tensor]) -> None:
        saved_buffers = [b.detach().clone() for b in net.buffers()]
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):  # warm-up off the default stream, as capture requires
            for _ in range(WARMUP_PASSES):
                out = self._forward(net)
                torch.autograd.grad(out, inputs, grad_outputs=torch.ones_like(out), allow_unused=True)
        torch.cuda.current_stream().wait_stream(side)
        self.forward_graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.forward_graph):
            self.static_out = self._forward(net)
        self.static_grad_out = torch.empty_like(self.static_out)
        self.backward_graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.backward_graph, pool=self.forward_graph.pool()):
            grads = torch.autograd.grad(self.static_out, inputs, grad_outputs=self.static_grad_out, allow_unused=True)
        self.static_param_grads = list(grads[: len(self.params)])
        self.static_w_grad = grads[-1] if self.arch else None
        with torch.no_grad():  # the warm-up and capture passes must not count as training steps
            for buffer, saved in zip(net.buffers(), saved_buffers):
                buffer.copy_(saved)


class _Replay(torch.autograd.Function):
    """Autograd node whose forward and backward are replays of a :class:`_CapturedPass`."""

    @staticmethod
    def forward(ctx: Any, captured: _CapturedPass, x: torch.Tensor, weights: torch.Tensor, *params: torch.Tensor) -> torch.Tensor:
        captured.static_x.copy_(x)
        captured.static_w.detach().copy_(weights)
        captured.forward_graph.replay()
        captured.generation += 1
        ctx.captured, ctx.generation = captured, captured.generation
        return captured.static_out.clone()

    @staticmethod
    def backward(ctx: Any, grad_out: torch.Tensor) -> tuple[Any, ...]:
        captured: _CapturedPass = ctx.captured
        if ctx.generation != captured.generation:
            raise RuntimeError("a CUDA-graphed supernet pass was differentiated after a later forward of the same "
                               "kind overwrote its activations; differentiate each pass before the next one, or set "
                               f"{ENV_SWITCH}=0")
        captured.static_grad_out.copy_(grad_out)
        captured.backward_graph.replay()
        wanted = [i for i, (g, needed) in enumerate(zip(captured.static_param_grads, ctx.needs_input_grad[3:]))
                  if g is not None and needed]
        # copies out of the static buffers (a later replay would overwrite them), in few launches
        copies = torch._foreach_mul([captured.static_param_grads[i] for i in wanted], 1.0) if wanted else []
        param_grads: list[Any] = [None] * len(captured.static_param_grads)
        for i, copy in zip(wanted, copies):
            param_grads[i] = copy
        w_grad = captured.static_w_grad.clone() if captured.static_w_grad is not None and ctx.needs_input_grad[2] else None
        return (None, None, w_grad, *param_grads)


class GraphedSupernet:
    """``supernet(x, weights, chosen)`` with CUDA-graph replays where the pass allows them.

    ``param_grads=False`` (a first-order architecture pass, which needs only the edge-weight
    gradient) captures a backward without the supernet's weight gradients, as eager autograd
    would skip them. ``cell_context`` (the space's :meth:`CudaGraphCapture.compiled_cells`) is
    entered around every capture: the space's cells then run ``torch.compile``d inside the
    captured graphs (fused kernels).
    """

    def __init__(self, net: nn.Module, cell_context: Callable[[], ContextManager[None]] | None = None) -> None:
        self.net = net
        self._captured: dict[tuple, _CapturedPass] = {}
        self._cell_context = cell_context

    def __getattr__(self, name: str) -> Any:  # parameters(), state_dict(), ... of the wrapped supernet
        return getattr(self.net, name)

    def __call__(self, x: torch.Tensor, weights: torch.Tensor, chosen: list[int] | None = None,
                 param_grads: bool = True) -> torch.Tensor:
        if chosen is not None or not torch.is_grad_enabled() or not x.is_cuda:
            return self.net(x, weights, chosen)
        param_grads = param_grads or not weights.requires_grad
        key = (tuple(x.shape), x.dtype, tuple(weights.shape), weights.requires_grad, param_grads, self.net.training)
        captured = self._captured.get(key)
        if captured is None:
            captured = self._captured[key] = _CapturedPass(self.net, x, weights, param_grads, self._cell_context)
        return _Replay.apply(captured, x, weights, *captured.params)
