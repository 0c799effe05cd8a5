"""The six zero-cost proxies of ALGORITHMS.md, each ``score(network, batch) -> float``.

Conventions shared by all (ALGORITHMS.md, "Setup"): per-weight scores come from the
``.weight`` of Conv2d and Linear layers only (no biases, no BN); the network score is their
sum; the loss is cross-entropy; the caller passes the network in train mode with PyTorch's
default init. Higher is better for every proxy (see :mod:`strategies.proxies.registry`).
"""
from __future__ import annotations

import copy
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from strategies.proxies.spec import proxy

Batch = tuple[torch.Tensor, torch.Tensor]


def scored_layers(network: nn.Module) -> list[nn.Module]:
    """Conv2d and Linear modules, whose ``.weight`` the proxies score."""
    return [m for m in network.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def _weights(network: nn.Module) -> list[torch.Tensor]:
    return [m.weight for m in scored_layers(network)]


def _loss_grads(network: nn.Module, batch: Batch, create_graph: bool = False) -> list[torch.Tensor | None]:
    inputs, targets = batch
    loss = F.cross_entropy(network(inputs), targets)
    return list(torch.autograd.grad(loss, _weights(network), allow_unused=True, create_graph=create_graph))


def _total(values: list[torch.Tensor]) -> float:
    return float(sum(v.detach().sum().double() for v in values)) if values else 0.0


@proxy("snip")
def snip(network: nn.Module, batch: Batch) -> float:
    """SNIP: sum |dL/dm| for a multiplicative mask m = 1 on each weight, i.e. sum |w * dL/dw|."""
    grads = _loss_grads(network, batch)
    return _total([(w * g).abs() for w, g in zip(_weights(network), grads) if g is not None])


@proxy("grasp")
def grasp(network: nn.Module, batch: Batch) -> float:
    """GraSP: sum(-w * Hg) with g = dL/dw (detached) and Hg by double backward (temperature 1)."""
    weights = _weights(network)
    grads = _loss_grads(network, batch, create_graph=True)
    used = [(w, g) for w, g in zip(weights, grads) if g is not None]
    z = sum((g * g.detach()).sum() for _, g in used)
    hg = torch.autograd.grad(z, [w for w, _ in used], allow_unused=True)
    return _total([-w.detach() * h for (w, _), h in zip(used, hg) if h is not None])


@proxy("grad_norm")
def grad_norm(network: nn.Module, batch: Batch) -> float:
    """Sum over layers of the L2 norm of the loss gradient of the layer's weight."""
    return _total([g.norm() for g in _loss_grads(network, batch) if g is not None])


@proxy("jacob_cov")
def jacob_cov(network: nn.Module, batch: Batch) -> float:
    """-sum[log(l + 1e-5) + 1/(l + 1e-5)] over eigenvalues l of the correlation matrix of the
    per-sample input Jacobians J = d(sum y)/dx (NaN when a Jacobian is constant)."""
    inputs = batch[0].detach().clone().requires_grad_(True)
    (jac,) = torch.autograd.grad(network(inputs).sum(), [inputs])
    flat = jac.reshape(jac.shape[0], -1).double().cpu().numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.corrcoef(flat)
    if not np.isfinite(corr).all():
        return float("nan")
    eig = np.linalg.eigvalsh(corr)
    k = 1e-5
    return float(-np.sum(np.log(eig + k) + 1.0 / (eig + k)))


@proxy("nwot", pruned_invariant=False)
def nwot(network: nn.Module, batch: Batch) -> float:
    """NASWOT (Mellor et al. 2021): log|det K_H|, K_H = sum over ReLUs of c c^T + (1-c)(1-c)^T
    with c the binary activation code (ReLU input > 0) of each sample."""
    inputs = batch[0]
    kernel = torch.zeros(inputs.shape[0], inputs.shape[0], dtype=torch.float64)

    def hook(module: nn.Module, args: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        codes = (args[0].detach().reshape(args[0].shape[0], -1) > 0).double()
        kernel.add_(codes @ codes.T).add_((1.0 - codes) @ (1.0 - codes).T)

    handles = [m.register_forward_hook(hook) for m in network.modules() if isinstance(m, nn.ReLU)]
    try:
        with torch.no_grad():
            network(inputs)
    finally:
        for handle in handles:
            handle.remove()
    return float(torch.linalg.slogdet(kernel)[1])


def synflow_copy(network: nn.Module) -> nn.Module:
    """Deep copy in float64 with every parameter and buffer replaced by its absolute value and
    the BNs replaced by identity, except inside modules flagged ``synflow_keeps_bn`` (NB201's
    reduction blocks, as in the zero-cost reference); train mode."""
    clone = copy.deepcopy(network).double()
    _strip_bn(clone, keep=False)
    with torch.no_grad():
        for tensor in clone.state_dict().values():
            tensor.abs_()
    return clone.train()


def _strip_bn(module: nn.Module, keep: bool) -> None:
    keep = keep or getattr(module, "synflow_keeps_bn", False)
    for name, child in module.named_children():
        if isinstance(child, nn.modules.batchnorm._BatchNorm) and not keep:
            setattr(module, name, nn.Identity())
        else:
            _strip_bn(child, keep)


@proxy("synflow", needs_data=False)
def synflow(network: nn.Module, batch: Batch) -> float:
    """SynFlow: sum |w * dR/dw| with R = sum(output) of the |.|, float64, BN-free copy on an
    all-ones input of one sample; data-free (only the batch's input shape is used)."""
    clone = synflow_copy(network)
    ones = torch.ones((1, *batch[0].shape[1:]), dtype=torch.float64)
    weights = _weights(clone)
    grads = torch.autograd.grad(clone(ones).sum(), weights, allow_unused=True)
    return _total([(w.detach() * g).abs() for w, g in zip(weights, grads) if g is not None])

