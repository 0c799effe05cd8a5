"""The one-shot training loop shared by the differentiable strategies (DARTS, GDAS, BaLeNAS, ...).

ALGORITHMS.md, "Search protocol on NAS-Bench-201": weights by SGD (nesterov, cosine to
``w_lr_min`` updated every step, grad-norm clip 5; ``nesterov`` and ``lr_schedule = "epoch"``
give DrNAS its own protocol). Everything architectural -- parameters,
their optimizer, edge weights, Monte-Carlo averaging, derivation -- belongs to the strategy's
:class:`~strategies.distributions.ArchDistribution`, so the loop knows nothing of softmax,
Gumbel or Gaussian samples. The step order is the strategy's: ``order = 1`` takes the weight
step, then a first-order architecture step (``arch_first`` reverses them); ``order = 2``
takes the unrolled architecture step (:mod:`strategies.unrolled`), then the weight step.

The loop's parts with state of their own are components, not methods every strategy inherits:
the finite-loss guard (:mod:`strategies.finite_guard`), the checkpoint store
(:mod:`strategies.checkpoints`), the Hessian probe (:mod:`strategies.hessian`) and the loop's
position and schedules (:mod:`strategies.loop_context`). A strategy changes the loop only
through public hooks: :meth:`~OneShotStrategy.step` (its step policy), ``begin_epoch`` /
``end_epoch``, ``probe_loss`` and ``before_restore``.

Every epoch the loop writes a checkpoint (atomically) and a trajectory row: derived genotype,
skip-connection count, supernet train/valid loss and accuracy, the distribution's own fields
(alpha, sigma, ...), wall time, and every ``hessian_every`` epochs the largest, smallest and
largest-magnitude eigenvalues of the Hessian of the validation loss w.r.t. the distribution's
main parameter at its expected weights (:mod:`strategies.hessian`; ``hessian_method``,
``hessian_iterations``). A non-finite loss ends the run with the epoch and step in the error.

Randomness: one generator per purpose (split, supernet init, architecture init, batches,
architecture noise, Hessian probe), derived from (run seed, purpose, epoch) by
:class:`nas_core.streams.Streams`; torch's global RNG is never read.

Spaces: the supernet, the architecture-parameter shape, the derivation rule and the scale
presets (``paper``, ``cpu``, ``smoke``) all come from ``problem.space``
(:class:`spaces.base.SearchSpace`), so the same strategies search NB201 and the DARTS space.
What a strategy needs beyond that (a switch walk, partial-channel cells) it declares in
:attr:`strategies.base.Strategy.requires` and looks up as a capability of the space; CUDA graphs
are used where the space provides :class:`spaces.base.CudaGraphCapture`.
"""
from __future__ import annotations

import abc
import time
from typing import Any

import numpy as np

from nas_core.problem import Problem, SearchLog
from nas_core.streams import Streams
from strategies.base import Strategy
from strategies.checkpoints import CheckpointStore
from strategies.distributions import ArchDistribution
from strategies.finite_guard import FiniteLossGuard, NonFiniteLoss
from strategies.loop_context import LoopContext

__all__ = ["LoopContext", "NonFiniteLoss", "OneShotStrategy", "resolve_device"]


class OneShotStrategy(Strategy):
    """Base of the supernet strategies: a subclass supplies its distribution and step order."""

    kind = "one-shot"
    #: 1: first-order architecture gradient; 2: DARTS's unrolled gradient (architecture step first)
    order: int = 1
    #: first order only: take the architecture step before the weight step (DrNAS, BaLeNAS's Algorithm 1)
    arch_first: bool = False
    #: weight SGD with Nesterov momentum, and the cosine schedule updated every "step" or every "epoch";
    #: class attributes (not hyperparameters) so that existing run keys stay as they are; DrNAS sets both
    nesterov: bool = True
    lr_schedule: str = "step"
    #: the Hessian probe's options came after records existed (strategies.base.Strategy.added_options)
    added_options = (("hessian_method", "hessian_iterations"),)

    def __init__(self, epochs: int = 50, batch_size: int = 64, channels: int = 16, cells_per_stage: int = 5,
                 image_size: int = 32, per_class: int | None = None, w_lr: float = 0.025, w_lr_min: float = 0.001,
                 w_momentum: float = 0.9, w_weight_decay: float = 5e-4, grad_clip: float = 5.0, a_lr: float = 3e-4,
                 a_weight_decay: float = 1e-3, hessian_every: int = 5, impl: str = "fast",
                 split_file: str | None = None, hessian_method: str = "auto", hessian_iterations: int = 20) -> None:
        for name, value in (("epochs", epochs), ("batch_size", batch_size), ("channels", channels),
                            ("cells_per_stage", cells_per_stage), ("image_size", image_size)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if impl not in ("fast", "plain", "grouped"):
            raise ValueError(f"impl must be 'fast', 'plain' or 'grouped' (DARTS space only), got {impl!r}")
        for name, value, zero_ok in (("w_lr", w_lr, False), ("a_lr", a_lr, False), ("grad_clip", grad_clip, False),
                                     ("w_lr_min", w_lr_min, True), ("w_weight_decay", w_weight_decay, True),
                                     ("a_weight_decay", a_weight_decay, True)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (value >= 0 if zero_ok else value > 0):
                raise ValueError(f"{name} must be a {'non-negative' if zero_ok else 'positive'} number, got {value!r}")
        if not 0 <= w_momentum < 1:
            raise ValueError(f"w_momentum must be in [0, 1), got {w_momentum!r}")
        from strategies.hessian import check_probe_options  # torch is imported only when a search runs

        check_probe_options(hessian_method, hessian_iterations)
        self.epochs, self.batch_size, self.channels, self.cells_per_stage = epochs, batch_size, channels, cells_per_stage
        self.image_size, self.per_class, self.w_lr, self.w_lr_min = image_size, per_class, w_lr, w_lr_min
        self.w_momentum, self.w_weight_decay, self.grad_clip = w_momentum, w_weight_decay, grad_clip
        self.a_lr, self.a_weight_decay, self.hessian_every, self.impl = a_lr, a_weight_decay, hessian_every, impl
        self.split_file = split_file
        self.hessian_method, self.hessian_iterations = hessian_method, hessian_iterations

    # ---- what a strategy defines -------------------------------------------------------------
    @abc.abstractmethod
    def make_distribution(self) -> ArchDistribution:
        """A fresh distribution object with this strategy's hyperparameters (parameters come later)."""

    def after_search(self, problem: Problem, streams: Streams, log: SearchLog) -> None:
        """Called once the last epoch is done (BaLeNAS-TF selects cells here)."""

    # ---- the loop -----------------------------------------------------------------------------
    def search(self, problem: Problem, rng: np.random.Generator, log: SearchLog) -> Any:
        import torch
        import torch.nn.functional as F

        from spaces.datasets import dataset_info
        from spaces.search_data import SearchData

        self.space = problem.space
        self.check_space(self.space)
        streams = Streams(int(rng.integers(2**63 - 1)))
        self.guard = FiniteLossGuard()
        store = CheckpointStore(problem.checkpoint_path)
        device = resolve_device(problem.device)
        self.device_used = str(device)  # the runner stamps it on the record's provenance
        data = SearchData(problem.dataset, streams, self.batch_size, self.image_size, self.per_class, self.split_file,
                          problem.data_dir, device)
        self.setup(dataset_info(problem.dataset).num_classes, device, data.n_valid, streams)
        if device.type == "cuda":  # stamped on the record's provenance by the runner
            self.runtime_provenance = {"gpu": torch.cuda.get_device_name(device), "cuda_graphs": self.cuda_graphs,
                                       "compiled_cells": self.compiled_cells,
                                       "torch": torch.__version__,
                                       "tf32_convolutions": bool(torch.backends.cudnn.allow_tf32)}
        total_steps = self.epochs * data.steps_per_epoch
        start_epoch = self.resume(store, log)
        for epoch in range(start_epoch, self.epochs):
            ctx = LoopContext(self, epoch, total_steps, data.steps_per_epoch, streams)
            self.begin_epoch(ctx)
            self.distribution.begin_epoch(ctx)
            started = time.perf_counter()
            # summed on the device in float64 (the values a host-side sum of .item()s would give),
            # read once per epoch: no synchronisation per step for statistics
            totals = torch.zeros(4, dtype=torch.float64, device=device)
            for step, (train, valid) in enumerate(data.epoch(epoch)):
                ctx.step = step
                for group in self.w_opt.param_groups:
                    group["lr"] = ctx.w_lr
                train_logits, valid_logits = self.step(train, valid, ctx)
                totals += torch.stack([F.cross_entropy(train_logits, train[1]), (train_logits.argmax(1) == train[1]).float().mean(),
                                       F.cross_entropy(valid_logits, valid[1]), (valid_logits.argmax(1) == valid[1]).float().mean()]).double()
            self.guard.flush()
            stats = totals.cpu().numpy() / max(1, data.steps_per_epoch)
            self.end_epoch(ctx, data, device)
            arch = self.distribution.derive_arch(self.space)
            row = {"epoch": epoch + 1, "genotype": arch.to_str(), "skip_connections": self.space.skip_connections(arch),
                   "train_loss": stats[0], "train_acc": 100 * stats[1], "valid_loss": stats[2], "valid_acc": 100 * stats[3],
                   "w_lr": ctx.w_lr, "epoch_wall_s": time.perf_counter() - started, **self.distribution.describe()}
            if self.hessian_every and ((epoch + 1) % self.hessian_every == 0 or epoch + 1 == self.epochs):
                probe = streams.torch_generator("hessian_probe", epoch)
                probe_started = time.perf_counter()
                row.update(self.hessian_spectrum(_to(data.fixed_valid_batch(), device), probe))
                row["hessian_wall_s"] = time.perf_counter() - probe_started  # the probe's cost, apart from training
            log.row(**row)
            store.save(self.checkpoint_state(epoch + 1, log))
            if problem.epoch_callback is not None:
                problem.epoch_callback(epoch + 1)
        self.after_search(problem, streams, log)
        return self.distribution.derive_arch(self.space)

    def check_space(self, space: Any) -> None:
        """Refuse a space this configured strategy cannot search (:meth:`space_problems`; the config
        check does it first, this covers a loop driven by hand)."""
        problems = self.space_problems(space)
        if problems:
            raise ValueError("; ".join(problems))

    def begin_epoch(self, ctx: LoopContext) -> None:
        """Before the epoch's steps (progressive DrNAS changes its supernet here between stages)."""

    def end_epoch(self, ctx: LoopContext, data: Any, device: Any) -> None:
        """After the epoch's steps, before the trajectory row: the distribution's hook (BayesNAS
        overrides this to compute its Hessian on the epoch's batches)."""
        self.distribution.end_epoch(ctx)

    def setup(self, num_classes: int, device: Any, n_valid: int, streams: Streams) -> None:
        """Supernet, distribution and weight optimizer, each from its own random stream."""
        import torch

        from spaces.base import CudaGraphCapture
        from strategies.cuda_graphs import compile_requested, graphs_enabled

        self.supernet = self.make_supernet(num_classes, streams.torch_generator("supernet_init")).to(device)
        self.compiled_cells = (graphs_enabled(device) and compile_requested()
                               and self.search_space.has(CudaGraphCapture))
        self.wrap_supernet()
        self.distribution = self.make_distribution()
        self.distribution.init(streams.torch_generator("arch_init"), device, n_valid, self.search_space.arch_shape,
                               getattr(self.search_space, "arch_mask", None))
        self.w_opt = torch.optim.SGD(self.supernet.parameters(), lr=self.w_lr, momentum=self.w_momentum,
                                     nesterov=self.nesterov and self.w_momentum > 0, weight_decay=self.w_weight_decay)

    def make_supernet(self, num_classes: int, generator: Any) -> Any:
        """The space's weight-sharing supernet (progressive DrNAS builds partial-channel cells instead)."""
        return self.search_space.make_supernet(num_classes, self.channels, self.cells_per_stage, self.impl, generator)

    @property
    def search_space(self) -> Any:
        """The space being searched (set by :meth:`search`; a loop driven piecewise sets ``space`` first)."""
        space = self.__dict__.get("space")
        if space is None:
            raise RuntimeError(f"{type(self).__name__} has no space yet: set strategy.space before driving the loop "
                               "piecewise, or call search()")
        return space

    def wrap_supernet(self) -> None:
        """:attr:`net`, what the training passes call: the supernet, or its CUDA-graph replays on a GPU."""
        from spaces.base import CudaGraphCapture
        from strategies.cuda_graphs import GraphedSupernet, graphs_enabled

        device = next(self.supernet.parameters()).device
        capture = self.search_space.capability(CudaGraphCapture)
        graphed = graphs_enabled(device) and capture is not None
        self.net = GraphedSupernet(self.supernet, capture.compiled_cells if self.compiled_cells else None) \
            if graphed else self.supernet
        self.cuda_graphs = self.net is not self.supernet

    def rebuild_weight_optimizer(self, old_params: list[Any]) -> None:
        """After the supernet's parameter tensors changed (progressive widening): a new SGD with
        the same settings; tensors that survived keep their momentum. The graphs are re-captured."""
        import torch

        old_state = self.w_opt.state
        self.w_opt = torch.optim.SGD(self.supernet.parameters(), lr=self.w_lr, momentum=self.w_momentum,
                                     nesterov=self.nesterov and self.w_momentum > 0, weight_decay=self.w_weight_decay)
        survivors = {id(p) for p in old_params}
        for p in self.supernet.parameters():
            if id(p) in survivors and p in old_state:
                self.w_opt.state[p] = old_state[p]
        self.wrap_supernet()

    def step(self, train: tuple, valid: tuple, ctx: LoopContext) -> tuple[Any, Any]:
        """One search step in the strategy's order; returns (train logits, valid logits) for the statistics."""
        if self.order == 2 or self.arch_first:
            valid_logits = self.arch_step(train, valid, ctx)
            return self.weight_step(train, ctx), valid_logits
        train_logits = self.weight_step(train, ctx)
        return train_logits, self.arch_step(train, valid, ctx)

    def arch_step(self, train: tuple, valid: tuple, ctx: LoopContext) -> Any:
        if self.order == 2:
            from strategies.unrolled import unrolled_gradient

            return self.distribution.arch_step(ctx, lambda: unrolled_gradient(self, train, valid, ctx))
        return self.distribution.arch_step(ctx, lambda: self.first_order_gradient(valid, ctx))

    def first_order_gradient(self, valid: tuple, ctx: LoopContext) -> tuple[list[Any], Any]:
        """grad of L_val (+ the distribution's regulariser) w.r.t. its parameters at the current edge weights."""
        import torch
        import torch.nn.functional as F

        weights, chosen = self.distribution.edge_weights(ctx, "arch")
        logits = self.arch_forward(valid[0], weights, chosen)
        loss = F.cross_entropy(logits, valid[1])
        self.check_finite(loss, ctx, "validation")
        grads = torch.autograd.grad(self.regularised(loss), self.distribution.params)
        return list(grads), logits.detach()

    def arch_forward(self, x: Any, weights: Any, chosen: list[int] | None) -> Any:
        """A supernet pass differentiated w.r.t. the edge weights only: on a GPU its graphed
        backward skips the weight gradients, as eager autograd does when they are not asked for."""
        if getattr(self, "cuda_graphs", False):
            return self.net(x, weights, chosen, param_grads=False)
        return self.net(x, weights, chosen)

    def regularised(self, loss: Any) -> Any:
        extra = self.distribution.regulariser()
        return loss if extra is None else loss + extra

    # ---- shared pieces ----------------------------------------------------------------------------
    def check_finite(self, loss: Any, ctx: LoopContext, what: str) -> None:
        """Hand ``loss`` to this search's finite-loss guard (:mod:`strategies.finite_guard`)."""
        guard = self.__dict__.get("guard")
        if guard is None:  # a loop driven piecewise, outside search()
            guard = self.guard = FiniteLossGuard()
        guard.check(loss, ctx.epoch, ctx.step, what)

    def weight_step(self, batch: tuple, ctx: LoopContext) -> Any:
        import torch
        import torch.nn.functional as F

        weights, chosen = self.distribution.edge_weights(ctx, "weight")
        self.w_opt.zero_grad(set_to_none=True)
        logits = self.net(batch[0], weights.detach(), chosen)
        loss = F.cross_entropy(logits, batch[1])
        self.check_finite(loss, ctx, "training")
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.supernet.parameters(), self.grad_clip)
        self.w_opt.step()
        return logits.detach()

    def hessian_spectrum(self, batch: tuple, generator: Any) -> dict[str, Any]:
        """Eigenvalues of d^2 L_val / d alpha^2 at the expected weights (:mod:`strategies.hessian`):
        the largest (RobustDARTS's), the smallest, and the larger in magnitude (the spectral norm, signed)."""
        from strategies.hessian import hessian_probe

        loss, param, mask = self.probe_loss(batch)
        return hessian_probe(loss, param, generator, self.hessian_method, self.hessian_iterations, mask)

    def probe_loss(self, batch: tuple) -> tuple[Any, Any, Any]:
        """(L_val at the expected weights, the parameter it is differentiated by, the parameter's
        mask of real entries or ``None``) for the Hessian probe."""
        import torch.nn.functional as F

        loss = F.cross_entropy(self.supernet(batch[0], self.distribution.expected_weights()), batch[1])
        return loss, self.distribution.alpha, self.distribution.mask

    # ---- checkpoints ------------------------------------------------------------------------------
    def checkpoint_state(self, epoch: int, log: SearchLog) -> dict[str, Any]:
        """What a checkpoint holds after ``epoch`` epochs (:class:`strategies.checkpoints.CheckpointStore` writes it)."""
        return {"epoch": epoch, "supernet": self.supernet.state_dict(), "distribution": self.distribution.state_dict(),
                "w_opt": self.w_opt.state_dict(), "trajectory": list(log.rows)}

    def before_restore(self, state: dict[str, Any]) -> None:
        """Called with a checkpoint's state before it is loaded: a strategy whose supernet changes
        shape during the search (progressive DrNAS) rebuilds it here so the saved tensors fit."""

    def resume(self, store: CheckpointStore, log: SearchLog) -> int:
        """Load the store's checkpoint, if any; returns the number of epochs it had finished."""
        state = store.load(map_location=self.distribution.alpha.device)
        if state is None:
            return 0
        self.before_restore(state)
        self.supernet.load_state_dict(state["supernet"])
        self.distribution.load_state_dict(state["distribution"])
        self.w_opt.load_state_dict(state["w_opt"])
        log.rows[:] = state["trajectory"]
        return int(state["epoch"])


def resolve_device(name: str) -> Any:
    """``auto``: CUDA when available, else CPU; ``cpu`` / ``cuda`` / ``cuda:N`` as given."""
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} requested but CUDA is not available here; use device = 'auto' or 'cpu'")
    return torch.device(name)


def _to(batch: tuple, device: Any) -> tuple:
    return tuple(t.to(device, non_blocking=True) for t in batch)
