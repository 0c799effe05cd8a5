"""DARTS on the NB201 supernet, first and second order (ALGORITHMS.md, "DARTS").

alpha (6x5, ``none`` included) initialised 1e-3 N(0,1); edge weights softmax(alpha).
First order: a weight step on the train batch, then an alpha step with grad_alpha L_val(w, alpha).
Second order (alpha step first): the unrolled gradient with the finite-difference
Hessian-vector product, then the weight step. Final cell: argmax of alpha per edge.
"""
from __future__ import annotations

from spaces.nb201.codec import Arch
from strategies.oneshot import LoopContext, OneShotStrategy, derive_argmax
from strategies.registry import register


class _Darts(OneShotStrategy):
    order = 1

    def init_arch_parameters(self, generator: torch.Generator) -> list[torch.Tensor]:
        import torch

        self.alpha = (1e-3 * torch.randn(6, 5, generator=generator)).requires_grad_()
        return [self.alpha]

    def derive(self) -> Arch:
        return derive_argmax(self.alpha)

    def step(self, train, valid, ctx: LoopContext):
        if self.order == 1:
            train_logits = self.weight_step(train, self.relaxed_weights(), ctx)
            valid_logits = self.alpha_step_first_order(valid, ctx)
        else:
            valid_logits = self.alpha_step_second_order(train, valid, ctx)
            train_logits = self.weight_step(train, self.relaxed_weights(), ctx)
        return train_logits, valid_logits

    def alpha_step_first_order(self, valid, ctx: LoopContext) -> torch.Tensor:
        import torch
        import torch.nn.functional as F

        self.a_opt.zero_grad(set_to_none=True)
        logits = self.supernet(valid[0], self.relaxed_weights())
        loss = F.cross_entropy(logits, valid[1])
        self.check_finite(loss, ctx, "validation")
        (self.alpha.grad,) = torch.autograd.grad(loss, [self.alpha])
        self.a_opt.step()
        return logits.detach()

    def alpha_step_second_order(self, train, valid, ctx: LoopContext) -> torch.Tensor:
        """Steps 1-4 of ALGORITHMS.md's second-order DARTS; the weights are restored afterwards."""
        import torch
        import torch.nn.functional as F

        params = [p for p in self.supernet.parameters()]
        backup = [p.detach().clone() for p in params]
        xi, mu, wd = ctx.w_lr, self.w_momentum, self.w_weight_decay
        # 1. virtual step w' = w - xi (mu buf + grad_w L_tr + wd w)
        train_loss = F.cross_entropy(self.supernet(train[0], self.relaxed_weights().detach()), train[1])
        self.check_finite(train_loss, ctx, "training")
        # allow_unused: the fast supernet skips the conv biases that BN cancels; their gradient is zero
        grads = _or_zeros(torch.autograd.grad(train_loss, params, allow_unused=True), params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                buf = self.w_opt.state.get(p, {}).get("momentum_buffer")
                p.sub_(xi * ((mu * buf if buf is not None else 0) + g + wd * p))
        # 2. g = grad_alpha L_val(w', alpha), v = grad_w' L_val(w', alpha)
        logits = self.supernet(valid[0], self.relaxed_weights())
        valid_loss = F.cross_entropy(logits, valid[1])
        self.check_finite(valid_loss, ctx, "validation")
        grad_alpha, *v = _or_zeros(torch.autograd.grad(valid_loss, [self.alpha, *params], allow_unused=True),
                                   [self.alpha, *params])
        # 3. finite-difference Hessian-vector product around the original w
        norm = torch.sqrt(sum((x * x).sum() for x in v))
        r = 0.01 / max(float(norm), 1e-12)
        hvp = []
        for sign in (1.0, -1.0):
            with torch.no_grad():
                for p, w0, vi in zip(params, backup, v):
                    p.copy_(w0 + sign * r * vi)
            loss = F.cross_entropy(self.supernet(train[0], self.relaxed_weights()), train[1])
            hvp.append(torch.autograd.grad(loss, [self.alpha])[0])
        with torch.no_grad():
            for p, w0 in zip(params, backup):
                p.copy_(w0)
        # 4. alpha gradient = g - xi * HVP; Adam step
        self.a_opt.zero_grad(set_to_none=True)
        self.alpha.grad = grad_alpha - xi * (hvp[0] - hvp[1]) / (2 * r)
        self.a_opt.step()
        return logits.detach()


def _or_zeros(grads, tensors) -> list:
    """Gradients with ``None`` (input not used by the graph) replaced by zeros."""
    import torch

    return [torch.zeros_like(t) if g is None else g for g, t in zip(grads, tensors)]


@register("darts_v1")
class DartsFirstOrder(_Darts):
    """DARTS, first-order approximation."""

    order = 1
    conformance_kwargs = {"epochs": 1, "channels": 4, "cells_per_stage": 1, "image_size": 8, "per_class": 4,
                          "batch_size": 16, "hessian_every": 1}


@register("darts_v2")
class DartsSecondOrder(_Darts):
    """DARTS, second-order (unrolled) approximation."""

    order = 2
    conformance_kwargs = DartsFirstOrder.conformance_kwargs
