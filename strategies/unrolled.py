"""The DARTS second-order (unrolled) architecture gradient (ALGORITHMS.md, "DARTS", steps 1-4).

Written against the distribution seam, so it is the gradient at whatever the distribution's
edge weights currently stand for: alpha for DARTS, a Gaussian sample theta = mu + sigma*eps
for BaLeNAS (2nd), whose Variational Adam calls it once per Monte-Carlo sample.

1. w' = w - xi (mu_m buf + grad_w L_tr(w, alpha) + lambda w)   (xi: current weight lr)
2. g = grad_alpha L_val(w', alpha),  v = grad_w' L_val(w', alpha)
3. R = 0.01 / ||v||,  HVP = [grad_alpha L_tr(w + R v) - grad_alpha L_tr(w - R v)] / (2R)
4. gradient = g - xi HVP

The supernet weights are restored to w before returning; the caller then takes the normal
weight step (step 5).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

    from strategies.loop_context import LoopContext


def unrolled_gradient(member: Any, train: tuple, valid: tuple,
                      ctx: LoopContext) -> tuple[list[torch.Tensor], torch.Tensor]:
    """``(gradient w.r.t. the distribution's parameters, valid logits at w')`` for one search
    ``member`` (:class:`strategies.oneshot_loop.SearchMember`: its distribution, supernet runtime,
    finite-loss guard and weight-optimizer settings); typed loosely so this module does not
    import the loop."""
    import torch
    import torch.nn.functional as F

    runtime = member.runtime
    dist, supernet = member.distribution, runtime.net  # the CUDA-graph replays on a GPU
    arch_params = dist.params
    params = list(runtime.supernet.parameters())
    backup = [p.detach().clone() for p in params]
    xi, momentum, decay = ctx.w_lr, member.settings.w_momentum, member.settings.w_weight_decay
    try:
        # 1. virtual step
        weights, chosen = dist.edge_weights(ctx, "weight")
        train_loss = F.cross_entropy(supernet(train[0], weights.detach(), chosen), train[1])
        member.check_finite(train_loss, ctx, "training")
        # allow_unused: the fast supernet skips the conv biases that BN cancels; their gradient is zero
        grads = or_zeros(torch.autograd.grad(train_loss, params, allow_unused=True), params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                buf = runtime.w_opt.state.get(p, {}).get("momentum_buffer")
                p.sub_(xi * ((momentum * buf if buf is not None else 0) + g + decay * p))
        # 2. gradient at w'
        weights, chosen = dist.edge_weights(ctx, "arch")
        logits = supernet(valid[0], weights, chosen)
        valid_loss = F.cross_entropy(logits, valid[1])
        member.check_finite(valid_loss, ctx, "validation")
        objective = member.regularised(valid_loss)
        all_grads = or_zeros(torch.autograd.grad(objective, [*arch_params, *params], allow_unused=True),
                             [*arch_params, *params])
        g, v = all_grads[: len(arch_params)], all_grads[len(arch_params):]
        # 3. finite-difference Hessian-vector product around the original w
        norm = torch.sqrt(sum((x * x).sum() for x in v))
        r = 0.01 / max(float(norm), 1e-12)
        hvp: list[list[torch.Tensor]] = []
        for sign in (1.0, -1.0):
            with torch.no_grad():
                for p, w0, vi in zip(params, backup, v):
                    p.copy_(w0 + sign * r * vi)
            weights, chosen = dist.edge_weights(ctx, "arch")
            loss = F.cross_entropy(runtime.arch_forward(train[0], weights, chosen), train[1])
            hvp.append(or_zeros(torch.autograd.grad(loss, arch_params, allow_unused=True), arch_params))
    finally:
        with torch.no_grad():
            for p, w0 in zip(params, backup):
                p.copy_(w0)
    # 4.
    return [gi - xi * (hp - hm) / (2 * r) for gi, hp, hm in zip(g, *hvp)], logits.detach()


def or_zeros(grads: Any, tensors: list) -> list:
    """Gradients with ``None`` (input not used by the graph) replaced by zeros."""
    import torch

    return [torch.zeros_like(t) if g is None else g for g, t in zip(grads, tensors)]
