"""The one-shot loop's finite-loss guard: a NaN or infinite loss ends the run with its epoch and step.

A component with its own state (the losses awaiting a check), not a method every strategy
inherits. On the CPU every loss is checked at once. On a GPU a check per pass would stall the
device with a host synchronisation, so losses are checked in groups of :attr:`FiniteLossGuard.group`
(one synchronisation per group) and at the end of every epoch; the error still names the first
bad step.
"""
from __future__ import annotations

import math
from typing import Any


class NonFiniteLoss(FloatingPointError):
    """The loss became NaN or infinite; the run is recorded as failed."""


class FiniteLossGuard:
    """Checks each loss the loop computes: ``check(loss, epoch, step, what)``, ``flush()``."""

    #: on a GPU, losses are checked in groups of this many
    group: int = 64

    def __init__(self) -> None:
        self.pending: list[tuple[Any, str, int, int]] = []

    def check(self, loss: Any, epoch: int, step: int, what: str) -> None:
        if not loss.is_cuda:
            if not math.isfinite(float(loss.detach())):
                raise NonFiniteLoss(f"{what} loss is {loss.item()} at epoch {epoch + 1}, step {step + 1}")
            return
        self.pending.append((loss.detach().reshape(()), what, epoch, step))
        if len(self.pending) >= self.group:
            self.flush()

    def flush(self) -> None:
        """Raise :class:`NonFiniteLoss` for the first deferred loss that was not finite."""
        import torch

        if not self.pending:
            return
        pending, self.pending = self.pending, []
        values = torch.stack([p[0] for p in pending]).cpu()
        bad = (~torch.isfinite(values)).nonzero()
        if len(bad):
            i = int(bad[0])
            _, what, epoch, step = pending[i]
            raise NonFiniteLoss(f"{what} loss is {float(values[i])} at epoch {epoch + 1}, step {step + 1}")
