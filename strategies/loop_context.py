"""Where the one-shot loop is: epoch, step, and the schedules that depend on them.

Its own module so that the distributions and the unrolled gradient, which read it, do not
import the loop (:mod:`strategies.oneshot_loop`) that imports them. ``settings`` are the loop's
(:class:`strategies.loop_settings.LoopSettings`): ``epochs``, ``lr_schedule``, ``w_lr``, ``w_lr_min``.
One context per search member (a seed's state, :class:`strategies.oneshot_loop.SearchMember`),
as each member has its own random streams.
"""
from __future__ import annotations

import math
from typing import Any

from nas_core.streams import Streams


class LoopContext:
    """Where the loop is: epoch, step, and the schedules that depend on them."""

    def __init__(self, settings: Any, epoch: int, total_steps: int, steps_per_epoch: int,
                 streams: Streams) -> None:
        self.settings, self.epoch, self.step = settings, epoch, 0
        self.total_steps, self.steps_per_epoch, self.streams = total_steps, steps_per_epoch, streams

    @property
    def global_step(self) -> int:
        return self.epoch * self.steps_per_epoch + self.step

    @property
    def w_lr(self) -> float:
        """Cosine from w_lr to w_lr_min, updated every step (``lr_schedule = "step"``) or every epoch."""
        s = self.settings
        if s.lr_schedule == "epoch":
            progress = self.epoch / max(1, s.epochs)
        else:
            progress = self.global_step / max(1, self.total_steps)
        return s.w_lr_min + 0.5 * (s.w_lr - s.w_lr_min) * (1 + math.cos(math.pi * progress))

    @property
    def epoch_fraction(self) -> float:
        return self.epoch / max(1, self.settings.epochs - 1)
