"""GDAS on the NB201 supernet (ALGORITHMS.md, "GDAS").

Per edge: Gumbel noise g = -log(Exp(1)); pi = softmax((log_softmax(alpha) + g) / tau);
h = one_hot(argmax pi); hard weights h - stopgrad(pi) + pi, resampled if any value is not
finite. Only the chosen op is computed; the others add their zero-valued hard weight so the
gradient reaches every alpha. tau falls linearly from ``tau_max`` to ``tau_min`` over the
epochs. Weight step, then alpha step, each with its own sample. Final cell: argmax alpha.
The noise comes from a generator seeded by (run seed, epoch): resumable and deterministic.
"""
from __future__ import annotations

import numpy as np
from spaces.nb201.codec import Arch
from strategies.oneshot import LoopContext, OneShotStrategy, derive_argmax
from strategies.registry import register


@register("gdas")
class GDAS(OneShotStrategy):
    conformance_kwargs = {"epochs": 1, "channels": 4, "cells_per_stage": 1, "image_size": 8, "per_class": 4,
                          "batch_size": 16, "hessian_every": 1}

    def __init__(self, tau_max: float = 10.0, tau_min: float = 0.1, **kwargs) -> None:
        kwargs.setdefault("epochs", 250)  # GDAS's NB201 schedule (DARTS: 50)
        super().__init__(**kwargs)
        if not 0 < tau_min <= tau_max:
            raise ValueError(f"need 0 < tau_min <= tau_max, got {tau_min}, {tau_max}")
        self.tau_max, self.tau_min = tau_max, tau_min

    def init_arch_parameters(self, generator: torch.Generator) -> list[torch.Tensor]:
        import torch

        self.alpha = (1e-3 * torch.randn(6, 5, generator=generator)).requires_grad_()
        self._noise: torch.Generator | None = None
        self._noise_epoch = -1
        return [self.alpha]

    def derive(self) -> Arch:
        return derive_argmax(self.alpha)

    def hard_weights(self, ctx: LoopContext) -> tuple[torch.Tensor, list[int]]:
        import torch
        import torch.nn.functional as F

        if self._noise_epoch != ctx.epoch:
            seed = int(np.random.SeedSequence([ctx.seed, ctx.epoch, 7]).generate_state(1)[0])
            self._noise, self._noise_epoch = torch.Generator().manual_seed(seed), ctx.epoch
        tau = self.tau_max - (self.tau_max - self.tau_min) * ctx.epoch_fraction
        while True:
            uniform = torch.rand(self.alpha.shape, generator=self._noise).clamp_min(1e-20).to(self.alpha.device)
            gumbel = -torch.log(-torch.log(uniform))  # = -log(Exp(1))
            probs = torch.softmax((torch.log_softmax(self.alpha, dim=-1) + gumbel) / tau, dim=-1)
            index = probs.argmax(dim=-1)
            one_hot = F.one_hot(index, probs.shape[-1]).to(probs.dtype)
            hard = one_hot - probs.detach() + probs
            if torch.isfinite(hard).all():
                return hard, index.tolist()

    def step(self, train, valid, ctx: LoopContext):
        import torch
        import torch.nn.functional as F

        hard, chosen = self.hard_weights(ctx)
        train_logits = self.weight_step(train, hard, ctx, chosen)
        hard, chosen = self.hard_weights(ctx)
        self.a_opt.zero_grad(set_to_none=True)
        logits = self.supernet(valid[0], hard, chosen)
        loss = F.cross_entropy(logits, valid[1])
        self.check_finite(loss, ctx, "validation")
        (self.alpha.grad,) = torch.autograd.grad(loss, [self.alpha])
        self.a_opt.step()
        return train_logits, logits.detach()
