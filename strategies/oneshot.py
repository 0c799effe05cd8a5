"""The one-shot training loop shared by the differentiable strategies (DARTS, GDAS, ...).

ALGORITHMS.md, "Search protocol on NAS-Bench-201": weights by SGD (nesterov, cosine to
``w_lr_min`` updated every step, grad-norm clip 5), architecture parameters by Adam; the
strategy decides the order of the two steps and how edge weights are made from its
parameters. Every epoch the loop writes a checkpoint (atomically) and a trajectory row:
derived genotype, skip-connection count, supernet train/valid loss and accuracy, the
architecture parameters, wall time, and every ``hessian_every`` epochs the dominant
eigenvalue of the Hessian of the validation loss w.r.t. alpha (power iteration on
Hessian-vector products). A non-finite loss ends the run with the epoch and step in the error.

Scales: ``paper`` is the published protocol (C=16, N=5, 32x32, all 25k/25k images, batch 64);
``cpu`` is the same algorithm on a reduced supernet and schedule that finishes a search in a
few minutes on 2 CPU cores (C=8, N=1, 16x16 images, 250 + 250 images per class, i.e. a
2.5k/2.5k split, batch 64, 10 epochs: 390 steps). The found cell is a real NB201 cell either way.
"""
from __future__ import annotations

import abc
import math
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from harness.problem import Problem, SearchLog
from spaces.nb201.codec import Arch
from strategies.base import Strategy

SCALES: dict[str, dict[str, Any]] = {
    "paper": {"channels": 16, "cells_per_stage": 5, "image_size": 32, "per_class": None, "batch_size": 64},
    "cpu": {"channels": 8, "cells_per_stage": 1, "image_size": 16, "per_class": 250, "batch_size": 64, "epochs": 10},
}


class NonFiniteLoss(FloatingPointError):
    """The loss became NaN or infinite; the run is recorded as failed."""


class OneShotStrategy(Strategy):
    """Base of the supernet strategies; subclasses define parameters, edge weights and steps."""

    kind = "one-shot"

    def __init__(self, epochs: int = 50, batch_size: int = 64, channels: int = 16, cells_per_stage: int = 5,
                 image_size: int = 32, per_class: int | None = None, w_lr: float = 0.025, w_lr_min: float = 0.001,
                 w_momentum: float = 0.9, w_weight_decay: float = 5e-4, grad_clip: float = 5.0, a_lr: float = 3e-4,
                 a_weight_decay: float = 1e-3, hessian_every: int = 5, impl: str = "fast",
                 split_file: str | None = None) -> None:
        for name, value in (("epochs", epochs), ("batch_size", batch_size), ("channels", channels),
                            ("cells_per_stage", cells_per_stage), ("image_size", image_size)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if impl not in ("fast", "plain"):
            raise ValueError(f"impl must be 'fast' or 'plain', got {impl!r}")
        self.epochs, self.batch_size, self.channels, self.cells_per_stage = epochs, batch_size, channels, cells_per_stage
        self.image_size, self.per_class, self.w_lr, self.w_lr_min = image_size, per_class, w_lr, w_lr_min
        self.w_momentum, self.w_weight_decay, self.grad_clip = w_momentum, w_weight_decay, grad_clip
        self.a_lr, self.a_weight_decay, self.hessian_every, self.impl = a_lr, a_weight_decay, hessian_every, impl
        self.split_file = split_file

    # ---- what a strategy defines -------------------------------------------------------------
    @abc.abstractmethod
    def init_arch_parameters(self, generator: torch.Generator) -> list[torch.Tensor]:
        """Create the architecture parameters (leaf tensors with requires_grad)."""

    @abc.abstractmethod
    def step(self, train: tuple, valid: tuple, ctx: "LoopContext") -> tuple[torch.Tensor, torch.Tensor]:
        """One search step; returns (train logits, valid logits) for the epoch's statistics."""

    @abc.abstractmethod
    def derive(self) -> Arch:
        """The cell the current parameters stand for."""

    def set_arch_parameters(self, params: list[torch.Tensor]) -> None:
        """Rebind the strategy's named parameters after they moved to the device."""
        self.alpha = params[0]

    def relaxed_weights(self) -> torch.Tensor:
        """Deterministic edge weights (softmax of alpha) used by diagnostics."""
        import torch

        return torch.softmax(self.alpha, dim=-1)

    def describe_parameters(self) -> dict[str, Any]:
        return {"alpha": self.alpha.detach().tolist()}

    # ---- the loop -----------------------------------------------------------------------------
    def search(self, problem: Problem, rng: np.random.Generator, log: SearchLog) -> Arch:
        import torch
        import torch.nn.functional as F

        from spaces.datasets import dataset_info
        from spaces.nb201.supernet import Supernet
        from spaces.search_data import SearchData

        seed = int(rng.integers(2**31))
        device = resolve_device(problem.device)
        self.device_used = str(device)  # the runner stamps it on the record's provenance
        data = SearchData(problem.dataset, seed, self.batch_size, self.image_size, self.per_class, self.split_file,
                          problem.data_dir)
        generator = torch.Generator().manual_seed(seed)
        self.supernet = Supernet(dataset_info(problem.dataset).num_classes, self.channels, self.cells_per_stage,
                                 self.impl, seed).to(device)
        self.arch_params = [p.detach().to(device).requires_grad_() for p in self.init_arch_parameters(generator)]
        self.set_arch_parameters(self.arch_params)
        self.w_opt = torch.optim.SGD(self.supernet.parameters(), lr=self.w_lr, momentum=self.w_momentum,
                                     nesterov=self.w_momentum > 0, weight_decay=self.w_weight_decay)
        self.a_opt = torch.optim.Adam(self.arch_params, lr=self.a_lr, betas=(0.5, 0.999), weight_decay=self.a_weight_decay)
        total_steps = self.epochs * data.steps_per_epoch
        start_epoch = self._resume(problem, log)
        for epoch in range(start_epoch, self.epochs):
            ctx = LoopContext(self, epoch, total_steps, data.steps_per_epoch, seed)
            started = time.perf_counter()
            stats = np.zeros(4)
            for step, (train, valid) in enumerate(data.epoch(epoch)):
                train, valid = _to(train, device), _to(valid, device)
                ctx.step = step
                for group in self.w_opt.param_groups:
                    group["lr"] = ctx.w_lr
                train_logits, valid_logits = self.step(train, valid, ctx)
                stats += [F.cross_entropy(train_logits, train[1]).item(), (train_logits.argmax(1) == train[1]).float().mean().item(),
                          F.cross_entropy(valid_logits, valid[1]).item(), (valid_logits.argmax(1) == valid[1]).float().mean().item()]
            stats /= max(1, data.steps_per_epoch)
            arch = self.derive()
            row = {"epoch": epoch + 1, "genotype": arch.to_str(), "skip_connections": arch.count("skip_connect"),
                   "train_loss": stats[0], "train_acc": 100 * stats[1], "valid_loss": stats[2], "valid_acc": 100 * stats[3],
                   "w_lr": ctx.w_lr, "epoch_wall_s": time.perf_counter() - started, **self.describe_parameters()}
            if self.hessian_every and ((epoch + 1) % self.hessian_every == 0 or epoch + 1 == self.epochs):
                row["hessian_eigenvalue"] = self.dominant_hessian_eigenvalue(_to(data.fixed_valid_batch(), device), seed)
            log.row(**row)
            self._checkpoint(problem, epoch + 1, log)
            if problem.epoch_callback is not None:
                problem.epoch_callback(epoch + 1)
        return self.derive()

    # ---- shared pieces ----------------------------------------------------------------------------
    def check_finite(self, loss: torch.Tensor, ctx: "LoopContext", what: str) -> None:
        if not math.isfinite(float(loss.detach())):
            raise NonFiniteLoss(f"{what} loss is {loss.item()} at epoch {ctx.epoch + 1}, step {ctx.step + 1}")

    def weight_step(self, batch: tuple, weights: torch.Tensor, ctx: "LoopContext", chosen: list[int] | None = None) -> torch.Tensor:
        import torch
        import torch.nn.functional as F

        self.w_opt.zero_grad(set_to_none=True)
        logits = self.supernet(batch[0], weights.detach(), chosen)
        loss = F.cross_entropy(logits, batch[1])
        self.check_finite(loss, ctx, "training")
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.supernet.parameters(), self.grad_clip)
        self.w_opt.step()
        return logits.detach()

    def dominant_hessian_eigenvalue(self, batch: tuple, seed: int, iterations: int = 20) -> float:
        """Largest-magnitude eigenvalue of d^2 L_val / d alpha^2 (softmax relaxation), by power iteration."""
        import torch
        import torch.nn.functional as F

        alpha = self.alpha
        loss = F.cross_entropy(self.supernet(batch[0], torch.softmax(alpha, dim=-1)), batch[1])
        (grad,) = torch.autograd.grad(loss, [alpha], create_graph=True)
        v = torch.randn(alpha.shape, generator=torch.Generator().manual_seed(seed)).to(alpha.device)
        v /= v.norm()
        eigenvalue = 0.0
        for _ in range(iterations):
            (hv,) = torch.autograd.grad(grad, [alpha], grad_outputs=v, retain_graph=True)
            eigenvalue = float((hv * v).sum())
            norm = hv.norm()
            if norm == 0 or not torch.isfinite(norm):
                break
            v = hv / norm
        return eigenvalue

    # ---- checkpoints ------------------------------------------------------------------------------
    def _state(self, epoch: int, log: SearchLog) -> dict[str, Any]:
        return {"epoch": epoch, "supernet": self.supernet.state_dict(), "arch": [p.detach().clone() for p in self.arch_params],
                "w_opt": self.w_opt.state_dict(), "a_opt": self.a_opt.state_dict(), "trajectory": list(log.rows),
                "extra": self.extra_state()}

    def extra_state(self) -> dict[str, Any]:
        return {}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        pass

    def _checkpoint(self, problem: Problem, epoch: int, log: SearchLog) -> None:
        import torch

        path = problem.checkpoint_path
        if path is None:
            return
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        try:
            torch.save(self._state(epoch, log), tmp)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    def _resume(self, problem: Problem, log: SearchLog) -> int:
        import torch

        path = problem.checkpoint_path
        if path is None or not Path(path).is_file():
            return 0
        try:
            state = torch.load(path, weights_only=False, map_location=self.arch_params[0].device)
        except Exception as exc:  # torch raises many types for a torn or foreign file
            raise ValueError(f"checkpoint {path} is unreadable ({type(exc).__name__}: {exc}); delete it or re-run "
                             "with --no-resume to start this run over") from None
        self.supernet.load_state_dict(state["supernet"])
        with torch.no_grad():
            for param, saved in zip(self.arch_params, state["arch"]):
                param.copy_(saved)
        self.w_opt.load_state_dict(state["w_opt"])
        self.a_opt.load_state_dict(state["a_opt"])
        self.load_extra_state(state["extra"])
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


class LoopContext:
    """Where the loop is: epoch, step, and the schedules that depend on them."""

    def __init__(self, strategy: OneShotStrategy, epoch: int, total_steps: int, steps_per_epoch: int, seed: int) -> None:
        self.strategy, self.epoch, self.step = strategy, epoch, 0
        self.total_steps, self.steps_per_epoch, self.seed = total_steps, steps_per_epoch, seed

    @property
    def global_step(self) -> int:
        return self.epoch * self.steps_per_epoch + self.step

    @property
    def w_lr(self) -> float:
        """Cosine from w_lr to w_lr_min, updated every step."""
        s = self.strategy
        progress = self.global_step / max(1, self.total_steps)
        return s.w_lr_min + 0.5 * (s.w_lr - s.w_lr_min) * (1 + math.cos(math.pi * progress))

    @property
    def epoch_fraction(self) -> float:
        return self.epoch / max(1, self.strategy.epochs - 1)


def derive_argmax(alpha: torch.Tensor) -> Arch:
    """Per-edge argmax, ``none`` included (NB201 protocol)."""
    return Arch(tuple(int(i) for i in alpha.detach().argmax(dim=-1)))
