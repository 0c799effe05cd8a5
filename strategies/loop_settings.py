"""The options of the one-shot loop, shared by every supernet strategy (ALGORITHMS.md, "Search
protocol on NAS-Bench-201"), as one frozen dataclass checked once (:mod:`strategies.settings`).

A strategy's own settings subclass this one: it adds its fields (BaLeNAS's ``samples``) and may
redeclare a field to change its default (GDAS's 250 epochs, DrNAS's 100) or to make a protocol
field a hyperparameter (DrNAS's ``nesterov`` and ``lr_schedule``).
"""
from __future__ import annotations

from dataclasses import dataclass

from strategies.settings import (non_negative_int, non_negative_number, one_of, positive_int, positive_number,
                                 protocol)

IMPLS = ("fast", "plain", "grouped")
LR_SCHEDULES = ("step", "epoch")


@dataclass(frozen=True)
class LoopSettings:
    """Supernet size, data, the weight optimizer and its schedule, the architecture optimizer's
    defaults, and the Hessian probe."""

    epochs: int = 50
    batch_size: int = 64
    channels: int = 16
    cells_per_stage: int = 5
    image_size: int = 32
    per_class: int | None = None
    w_lr: float = 0.025
    w_lr_min: float = 0.001
    w_momentum: float = 0.9
    w_weight_decay: float = 5e-4
    grad_clip: float = 5.0
    a_lr: float = 3e-4
    a_weight_decay: float = 1e-3
    hessian_every: int = 5
    #: ``fast``, ``plain``, or ``grouped`` (the DARTS space's grouped convolutions)
    impl: str = "fast"
    split_file: str | None = None
    hessian_method: str = "auto"
    hessian_iterations: int = 20
    #: weight SGD with Nesterov momentum (DrNAS's code uses none)
    nesterov: bool = protocol(True)
    #: the weights' cosine schedule is updated every ``"step"`` or every ``"epoch"`` (DrNAS)
    lr_schedule: str = protocol("step")
    #: first order only: the architecture step before the weight step (DrNAS; BaLeNAS's Algorithm 1)
    arch_first: bool = protocol(False)

    def __post_init__(self) -> None:
        from strategies.hessian import check_probe_options

        for name in ("epochs", "batch_size", "channels", "cells_per_stage", "image_size"):
            positive_int(name, getattr(self, name))
        if self.per_class is not None:
            positive_int("per_class", self.per_class)
        non_negative_int("hessian_every", self.hessian_every)
        one_of("impl", self.impl, IMPLS)
        for name in ("w_lr", "a_lr", "grad_clip"):
            positive_number(name, getattr(self, name))
        for name in ("w_lr_min", "w_weight_decay", "a_weight_decay"):
            non_negative_number(name, getattr(self, name))
        if isinstance(self.w_momentum, bool) or not isinstance(self.w_momentum, (int, float)) \
                or not 0 <= self.w_momentum < 1:
            raise ValueError(f"w_momentum must be in [0, 1), got {self.w_momentum!r}")
        one_of("lr_schedule", self.lr_schedule, LR_SCHEDULES)
        check_probe_options(self.hessian_method, self.hessian_iterations)
