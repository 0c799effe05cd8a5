"""Step policies: what one search step of a one-shot strategy does, given a search member.

The loop (:mod:`strategies.oneshot_loop`) owns the epochs, the data, the statistics, the probe
and the checkpoints; a policy owns the step. It works on a
:class:`~strategies.oneshot_loop.SearchMember` (one seed's supernet runtime, distribution,
finite-loss guard and settings), so one policy object serves every member of a batch.

* :class:`FirstOrderStep`: a weight step on the train batch, then an architecture step with
  grad L_val (``arch_first`` reverses them: DrNAS, BaLeNAS's Algorithm 1) -- DARTS (1st),
  GDAS, DrNAS, BaLeNAS (1st);
* :class:`UnrolledStep`: DARTS's unrolled architecture step (:mod:`strategies.unrolled`), then
  the weight step -- DARTS (2nd), BaLeNAS (2nd);
* a policy of its own where a method trains differently (BayesNAS's joint switch training,
  :class:`strategies.bayesnas.SwitchedJointStep`).

Every policy also says what the Hessian probe differentiates (:meth:`StepPolicy.probe_loss`) and
may act at the end of an epoch (:meth:`StepPolicy.end_epoch`). None knows a strategy's name.
"""
from __future__ import annotations

import abc
from typing import Any

from strategies.loop_context import LoopContext


class StepPolicy(abc.ABC):
    """The default hooks; :meth:`step` is the one a policy must define."""

    def setup(self, member: Any) -> None:
        """Once per search, after the member's supernet and distribution exist (per-member state
        goes on ``member.policy_state``, so one policy serves several members)."""

    @abc.abstractmethod
    def step(self, member: Any, train: tuple, valid: tuple, ctx: LoopContext) -> tuple[Any, Any]:
        """One search step; returns (train logits, valid logits) for the epoch's statistics."""

    def end_epoch(self, member: Any, ctx: LoopContext) -> None:
        """After the epoch's steps, before the trajectory row: the distribution's hook."""
        member.distribution.end_epoch(ctx)

    def probe_loss(self, member: Any, batch: tuple) -> tuple[Any, Any, Any]:
        """(L_val at the distribution's expected weights, the parameter it is differentiated by,
        that parameter's mask of real entries or ``None``) for the Hessian probe."""
        import torch.nn.functional as F

        dist = member.distribution
        loss = F.cross_entropy(member.runtime.supernet(batch[0], dist.expected_weights()), batch[1])
        return loss, dist.alpha, dist.mask


class FirstOrderStep(StepPolicy):
    """Weight step, then a first-order architecture step (``arch_first``: the other way round)."""

    def __init__(self, arch_first: bool = False) -> None:
        self.arch_first = arch_first

    def step(self, member: Any, train: tuple, valid: tuple, ctx: LoopContext) -> tuple[Any, Any]:
        def gradient() -> tuple[list[Any], Any]:
            return first_order_gradient(member, valid, ctx)

        if self.arch_first:
            valid_logits = member.distribution.arch_step(ctx, gradient)
            return weight_step(member, train, ctx), valid_logits
        train_logits = weight_step(member, train, ctx)
        return train_logits, member.distribution.arch_step(ctx, gradient)


class UnrolledStep(StepPolicy):
    """DARTS's second order: the unrolled architecture step first, then the weight step."""

    def step(self, member: Any, train: tuple, valid: tuple, ctx: LoopContext) -> tuple[Any, Any]:
        from strategies.unrolled import unrolled_gradient

        valid_logits = member.distribution.arch_step(ctx, lambda: unrolled_gradient(member, train, valid, ctx))
        return weight_step(member, train, ctx), valid_logits


def weight_step(member: Any, batch: tuple, ctx: LoopContext) -> Any:
    """One SGD step of the supernet weights at the distribution's (detached) weight-step edge weights."""
    import torch
    import torch.nn.functional as F

    runtime = member.runtime
    weights, chosen = member.distribution.edge_weights(ctx, "weight")
    runtime.w_opt.zero_grad(set_to_none=True)
    logits = runtime.net(batch[0], weights.detach(), chosen)
    loss = F.cross_entropy(logits, batch[1])
    member.check_finite(loss, ctx, "training")
    loss.backward()
    torch.nn.utils.clip_grad_norm_(runtime.supernet.parameters(), member.settings.grad_clip)
    runtime.w_opt.step()
    return logits.detach()


def first_order_gradient(member: Any, valid: tuple, ctx: LoopContext) -> tuple[list[Any], Any]:
    """grad of L_val (+ the distribution's regulariser) w.r.t. its parameters at the current edge weights."""
    import torch
    import torch.nn.functional as F

    dist = member.distribution
    weights, chosen = dist.edge_weights(ctx, "arch")
    logits = member.runtime.arch_forward(valid[0], weights, chosen)
    loss = F.cross_entropy(logits, valid[1])
    member.check_finite(loss, ctx, "validation")
    grads = torch.autograd.grad(member.regularised(loss), dist.params)
    return list(grads), logits.detach()
