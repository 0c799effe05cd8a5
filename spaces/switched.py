"""Switched supernets for BayesNAS, whatever the space: layers on (activation, squared signal)
pairs, the :class:`SwitchWalk` base and the closed-form Gauss-Newton diagonal.

**Switches.** Every search cell has its own child switch per (edge, op) and parent switch per
edge: edge e of cell c computes ``sum_k child[c, e, k] * op_k(parent[c, e] * x_src)``
(``parent_at = "input"``, the poster's extra node i' between i and j) or
``parent[c, e] * sum_k child[c, e, k] * op_k(x_src)`` (``parent_at = "output"``). The switches
replace DARTS's softmax(alpha). A space's walk (:mod:`spaces.nb201.switches`,
:mod:`spaces.darts.switches`) reuses its supernet's parameters op by op and normalises every BN
with batch statistics, as the supernet does; the space offers it as its
:class:`spaces.capabilities.SwitchWalks` capability.

**The closed-form Hessian** (ALGORITHMS.md, "BayesNAS"): a Gauss-Newton diagonal propagated
backwards layer by layer and averaged over the batch:

* output: h = p_y (1 - p_y) at the target class (``output_hessian = "target"``, the stated rule),
  or p_k (1 - p_k) for every class (``"full"``, the softmax cross-entropy Hessian's diagonal);
* linear and convolution layers: H_in = B^2 * (W^2)^T H_out (B the ReLU derivative, 0 or 1);
* BN: H_in = H_out * gamma^2 / var (the batch variance, treated as a constant);
* average pools: the pooling weights squared; sums (nodes, the residual add) pass H_out to
  each term; a switch s with output s * x: H_s = sum (output / s)^2 * H_out = sum x^2 H_out.

It is computed in one extra forward pass, not by a hand-written backward: alongside every
activation ``a`` the walk carries ``q``, the same network with every linear map replaced by its
elementwise square, every ReLU by its derivative and every BN by gamma^2 / var, into which each
switch injects ``u * x^2`` for a zero dummy ``u`` of its shape. q is linear in u, so
d/du sum(h * q_out) / batch is exactly the recursion above, run by autograd's backward.

**What it approximates.** The exact Hessian diagonal also has (a) cross terms between paths
(the recursion keeps (sum over paths)^2 only as sum of squares), (b) the off-diagonal of the
output Hessian, (c) second derivatives of the network (zero for ReLU networks a.e., except
through BN's batch statistics). Where none of these is present -- a single path from each
switch to one logit, no batch statistics -- it equals the exact diagonal (tested to 1e-9);
on the supernet it is a positive surrogate, tested against autograd's exact Gauss-Newton diagonal.
"""
from __future__ import annotations

import abc
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn


PLACEMENTS = ("input", "output")
OUTPUT_HESSIANS = ("target", "full")

Pair = tuple[torch.Tensor, "torch.Tensor | None"]


# ---- layers on (activation, squared signal) pairs ------------------------------------------------
def relu(x: Pair) -> Pair:
    a, q = x
    return F.relu(a), None if q is None else q * (a > 0)


def conv(x: Pair, weight: torch.Tensor, bias: torch.Tensor | None = None, stride: int = 1, padding: int = 0,
         dilation: int = 1, groups: int = 1) -> Pair:
    """Also grouped (depthwise) and dilated: each output sums over its own group, so q sums W^2 q the same way."""
    a, q = x
    out = F.conv2d(a, weight, bias, stride, padding, dilation, groups)
    return out, None if q is None else F.conv2d(q, weight.detach() ** 2, None, stride, padding, dilation, groups)


def batch_norm(x: Pair, weight: torch.Tensor | None = None, bias: torch.Tensor | None = None, eps: float = 1e-5) -> Pair:
    """Batch-statistics BN; q is scaled by gamma^2 / var, the variance held constant."""
    a, q = x
    out = F.batch_norm(a, None, None, weight, bias, training=True, eps=eps)
    if q is None:
        return out, None
    scale = 1.0 / (a.detach().var(dim=(0, 2, 3), unbiased=False) + eps)
    if weight is not None:
        scale = scale * weight.detach() ** 2
    return out, q * scale.view(1, -1, 1, 1)


def avg_pool_3x3(x: Pair) -> Pair:
    """AvgPool(3, 1, 1, count_include_pad=False): each weight is 1/count, squared 1/count^2."""
    a, q = x
    out = F.avg_pool2d(a, 3, stride=1, padding=1, count_include_pad=False)
    if q is None:
        return out, None
    ones = torch.ones(1, 1, *a.shape[-2:], dtype=a.dtype, device=a.device)
    count = F.conv2d(ones, torch.ones(1, 1, 3, 3, dtype=a.dtype, device=a.device), padding=1)
    return out, F.avg_pool2d(q, 3, stride=1, padding=1, count_include_pad=False) / count


def avg_pool_2x2(x: Pair) -> Pair:
    a, q = x
    return F.avg_pool2d(a, 2, stride=2), None if q is None else F.avg_pool2d(q, 2, stride=2) / 4


def global_mean(x: Pair) -> Pair:
    a, q = x
    area = a.shape[-2] * a.shape[-1]
    return a.mean(dim=(2, 3)), None if q is None else q.mean(dim=(2, 3)) / area


def linear(x: Pair, weight: torch.Tensor, bias: torch.Tensor | None) -> Pair:
    a, q = x
    return F.linear(a, weight, bias), None if q is None else F.linear(q, weight.detach() ** 2)


def add(x: Pair, y: Pair) -> Pair:
    return x[0] + y[0], None if x[1] is None else x[1] + y[1]


def scale(x: Pair, switch: torch.Tensor, dummy: torch.Tensor | None) -> Pair:
    """output = s * x; in q: s^2 q + u x^2 (the switch's own Hessian term enters through u)."""
    a, q = x
    out = a * switch
    if q is None:
        return out, None
    return out, q * switch.detach() ** 2 + dummy * a.detach() ** 2


def module_bn(module: nn.BatchNorm2d, x: Pair) -> Pair:
    return batch_norm(x, module.weight, module.bias, module.eps)


def module_conv(module: nn.Conv2d, x: Pair) -> Pair:
    return conv(x, module.weight, module.bias, module.stride[0], module.padding[0], module.dilation[0], module.groups)


# ---- a walk with switches, whatever the space ----------------------------------------------------
class SwitchWalk(abc.ABC):
    """What every switched supernet shares: logits and the closed-form switch Hessian from its
    :meth:`walk` over (activation, squared signal) pairs (the NB201 and DARTS-space walks)."""

    def __init__(self, supernet: nn.Module, parent_at: str = "input") -> None:
        if parent_at not in PLACEMENTS:
            raise ValueError(f"parent_at must be one of {PLACEMENTS}, got {parent_at!r}")
        self.supernet, self.parent_at = supernet, parent_at

    @abc.abstractmethod
    def walk(self, x: Pair, child: torch.Tensor, parent: torch.Tensor, u_child: torch.Tensor | None,
             u_parent: torch.Tensor | None) -> Pair:
        """The logits and their squared signal for one batch (``u_*`` None: no Hessian)."""

    def __call__(self, x: torch.Tensor, child: torch.Tensor, parent: torch.Tensor) -> torch.Tensor:
        """Logits; differentiable w.r.t. the switches and the supernet's parameters."""
        return self.walk((x, None), child, parent, None, None)[0]

    def switched_edge(self, x: Pair, n_ops: int, op_output: Callable[[int, Pair], "Pair | None"], child: torch.Tensor,
                      parent: torch.Tensor, u_child: torch.Tensor | None, u_parent: torch.Tensor | None) -> Pair:
        """sum_k child[k] * op_k(x) with the parent switch on the edge's input (or output);
        ``op_output(k, x)`` is None for an op whose output is zero (``none``)."""
        if self.parent_at == "input":
            x = scale(x, parent, u_parent)
        total: Pair | None = None
        for k in range(n_ops):
            out = op_output(k, x)
            if out is None:
                continue
            term = scale(out, child[k], None if u_child is None else u_child[k])
            total = term if total is None else add(total, term)
        assert total is not None
        if self.parent_at == "output":
            total = scale(total, parent, u_parent)
        return total

    def diagonal_hessian(self, x: torch.Tensor, y: torch.Tensor, child: torch.Tensor, parent: torch.Tensor,
                         output_hessian: str = "target") -> tuple[torch.Tensor, torch.Tensor]:
        """The closed-form Gauss-Newton diagonal of the batch-mean loss w.r.t. (child, parent)."""
        child, parent = child.detach(), parent.detach()
        params = [p for p in self.supernet.parameters() if p.requires_grad]
        try:  # no graph through the weights: only q's dependence on the dummies u is differentiated
            for p in params:
                p.requires_grad_(False)
            h_child, h_parent = gauss_newton_diagonal(
                lambda pair, u: self.walk(pair, child, parent, u[0], u[1]), x, y, [child, parent], output_hessian)
        finally:
            for p in params:
                p.requires_grad_(True)
        return h_child, h_parent


def gauss_newton_diagonal(walk: Callable[[Pair, list[torch.Tensor]], Pair], x: torch.Tensor, y: torch.Tensor,
                          switches: list[torch.Tensor], output_hessian: str = "target") -> list[torch.Tensor]:
    """Run ``walk`` on (x, 0) with zero dummies shaped like ``switches``; return d/du of
    sum(h * q_out) / batch, the back-propagated diagonal Hessian at each switch."""
    if output_hessian not in OUTPUT_HESSIANS:
        raise ValueError(f"output_hessian must be one of {OUTPUT_HESSIANS}, got {output_hessian!r}")
    dummies = [torch.zeros_like(s, requires_grad=True) for s in switches]
    with torch.enable_grad():
        logits, q = walk((x, torch.zeros_like(x)), dummies)
        h = output_hessian_diagonal(logits.detach(), y, output_hessian)
        return list(torch.autograd.grad((h * q).sum() / x.shape[0], dummies))


def output_hessian_diagonal(logits: torch.Tensor, y: torch.Tensor, rule: str = "target") -> torch.Tensor:
    """p_y (1 - p_y) at the target class only (``target``) or p_k (1 - p_k) for all k (``full``)."""
    p = torch.softmax(logits, dim=-1)
    h = p * (1 - p)
    if rule == "full":
        return h
    return h * F.one_hot(y, logits.shape[-1]).to(h.dtype)
