"""The Hessian probe behind the paper's Fig. 3: eigenvalues of the validation-loss Hessian w.r.t. alpha.

Why more than one number. The BaLeNAS paper's Fig. 3 is captioned "Trajectory of the Hessian
norm", and its text ties that norm to the "dominant eigenvalue" of Zela et al. (RobustDARTS,
ICLR 2020). RobustDARTS's search script builds the full Hessian of L_val w.r.t. the
architecture parameters and logs ``max(eigvals(H))``: the largest *algebraic* eigenvalue. The
spectral norm is the largest *magnitude*, which is what power iteration (this project's first
probe) converges to. The two agree while the positive side of the spectrum dominates, and part
near a saddle, where the most negative eigenvalue is the largest in magnitude (a paper-scale
DARTS-V1 run here gave -7.1 by power iteration). The probe therefore records three numbers per
measured epoch, so that either reading of Fig. 3 can be drawn:

* ``hessian_max_eigenvalue``: the largest eigenvalue (RobustDARTS's ``ev``);
* ``hessian_min_eigenvalue``: the smallest;
* ``hessian_eigenvalue``: the one of the two with the larger magnitude, with its sign; its
  absolute value is the spectral norm, and it is the quantity earlier records hold.

Methods (``method``):

* ``exact``: one Hessian-vector product per free coordinate builds H column by column; its
  symmetric part's eigenvalues are exact up to float rounding. NB201 has 30 coordinates.
* ``lanczos``: ``iterations`` products of the Lanczos process with full reorthogonalisation;
  the extreme Ritz values approximate the extreme eigenvalues from inside (for the DARTS
  space's 224 coordinates, where ``exact`` would cost 224 products).
* ``power``: the earlier probe, kept for comparison: ``iterations`` products of power iteration;
  it records ``hessian_eigenvalue`` only.
* ``auto`` (the default): ``exact`` up to :data:`EXACT_LIMIT` free coordinates, else ``lanczos``.

Differences from RobustDARTS, documented rather than copied: H is the Hessian of L_val alone
(RobustDARTS adds the architecture weight decay to the gradient, which shifts every eigenvalue
by that constant, 1e-3), it is taken on the loop's fixed validation batch, and coordinates a
space's mask pads (NAS-Bench-1shot1) are left out, as their rows and columns are zero.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:  # torch is imported where a probe runs, so that building a strategy does not load it
    import torch

METHODS = ("auto", "exact", "lanczos", "power")
#: ``auto`` builds the exact Hessian up to this many free coordinates
EXACT_LIMIT = 64
#: ``exact`` differentiates this many unit vectors in one vmapped backward pass (a speed knob, not
#: a hyperparameter: the products are the same). On the CPU batching gained nothing (torch 2.13,
#: NB201 supernet); on a GPU, where eager passes are bound by kernel launches, it may.
HVP_BATCH_ENV = "NAS_HARNESS_HVP_BATCH"


def check_probe_options(method: Any, iterations: Any) -> None:
    """Reject an unknown method or a non-positive iteration count before a run starts."""
    if method not in METHODS:
        raise ValueError(f"hessian_method must be one of {list(METHODS)}, got {method!r}")
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
        raise ValueError(f"hessian_iterations must be a positive integer, got {iterations!r}")


def resolve_method(method: str, free: int) -> str:
    """``auto`` -> ``exact`` or ``lanczos`` by the number of free coordinates."""
    if method != "auto":
        return method
    return "exact" if free <= EXACT_LIMIT else "lanczos"


def hessian_probe(loss: torch.Tensor, param: torch.Tensor, generator: torch.Generator, method: str = "auto",
                  iterations: int = 20, mask: torch.Tensor | None = None) -> dict[str, Any]:
    """The trajectory fields for one probe of d^2 loss / d param^2 (see the module docstring).

    ``mask`` (boolean, ``param``'s shape) marks the free coordinates; ``generator`` draws the
    starting vector of ``lanczos`` and ``power`` (``exact`` draws nothing).
    """
    import torch

    (grad,) = torch.autograd.grad(loss, [param], create_graph=True)
    free = torch.ones(param.shape, dtype=torch.bool) if mask is None else mask.detach().to("cpu", torch.bool)
    index = free.flatten().nonzero().flatten()
    hvp = _restricted_hvp(grad, param, index.to(param.device))
    n = len(index)
    method = resolve_method(method, n)
    if method == "exact":
        eigenvalues = _exact_eigenvalues(hvp, n, hvp_batch_size())
    else:
        start = torch.randn(param.shape, generator=generator).flatten()[index].double()
        if method == "power":
            return {"hessian_eigenvalue": _power_dominant(hvp, start, iterations), "hessian_method": method}
        eigenvalues = _lanczos_ritz_values(hvp, start, min(iterations, n))
    if eigenvalues is None:  # a non-finite product: the probe records NaN (null in JSON), the run goes on
        nan = float("nan")
        return {"hessian_eigenvalue": nan, "hessian_max_eigenvalue": nan, "hessian_min_eigenvalue": nan,
                "hessian_method": method}
    low, high = float(eigenvalues[0]), float(eigenvalues[-1])
    return {"hessian_eigenvalue": low if abs(low) > abs(high) else high, "hessian_max_eigenvalue": high,
            "hessian_min_eigenvalue": low, "hessian_method": method}


def hvp_batch_size() -> int:
    """Unit vectors per backward pass of ``exact`` (``$NAS_HARNESS_HVP_BATCH``, default 1)."""
    raw = os.environ.get(HVP_BATCH_ENV, "1")
    try:
        size = int(raw)
    except ValueError:
        size = 0
    if size < 1:
        raise ValueError(f"{HVP_BATCH_ENV} must be a positive integer, got {raw!r}")
    return size


def _restricted_hvp(grad: torch.Tensor, param: torch.Tensor, index: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """V (float64 rows on the free coordinates; one vector or a batch of them) -> H V on the same
    coordinates, in float64 on the host. A batch is one vmapped backward pass."""
    import torch

    def hvp(v: torch.Tensor) -> torch.Tensor:
        rows = v.reshape(-1, len(index))
        full = torch.zeros(len(rows), param.numel(), dtype=param.dtype, device=param.device)
        full[:, index] = rows.to(param.device, param.dtype)
        if len(rows) == 1:
            (hv,) = torch.autograd.grad(grad, [param], grad_outputs=full[0].view_as(param), retain_graph=True)
        else:
            (hv,) = torch.autograd.grad(grad, [param], grad_outputs=full.view(len(rows), *param.shape),
                                        retain_graph=True, is_grads_batched=True)
        return hv.reshape(len(rows), -1)[:, index].double().cpu().reshape(v.shape)
    return hvp


def _exact_eigenvalues(hvp: Callable[[torch.Tensor], torch.Tensor], n: int, batch: int = 1) -> torch.Tensor | None:
    """Ascending eigenvalues of the symmetric part of H, built from n unit-vector products,
    ``batch`` of them per backward pass (halved whenever a pass runs out of memory); ``None``
    when a product is not finite."""
    import torch

    basis = torch.eye(n, dtype=torch.float64)
    columns: list[torch.Tensor] = []
    while len(columns) < n:
        done = len(columns)
        try:
            columns += list(hvp(basis[done:done + batch]))
        except torch.OutOfMemoryError:
            if batch == 1:
                raise
            batch = max(1, batch // 2)  # a batch too large for the device: fewer vectors per pass
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
    hessian = torch.stack(columns, dim=1)
    if not torch.isfinite(hessian).all():
        return None
    return torch.linalg.eigvalsh((hessian + hessian.T) / 2)


def _lanczos_ritz_values(hvp: Callable[[torch.Tensor], torch.Tensor], start: torch.Tensor,
                         steps: int) -> torch.Tensor | None:
    """Ascending Ritz values after ``steps`` Lanczos products (full reorthogonalisation keeps
    the basis orthogonal in floating point, so no spurious copies of converged values appear);
    ``None`` when a product is not finite."""
    import torch

    basis = [start / start.norm()]
    diagonal: list[float] = []
    off: list[float] = []
    for step in range(steps):
        w = hvp(basis[-1])
        if not torch.isfinite(w).all():
            return None
        diagonal.append(float(w @ basis[-1]))
        for _ in range(2):  # twice is enough (Kahan's "twice is enough")
            for u in basis:
                w = w - (w @ u) * u
        beta = float(w.norm())
        if step == steps - 1 or beta <= 1e-12 * max(1.0, max(abs(d) for d in diagonal)):
            break  # an invariant subspace: the Ritz values are exact eigenvalues
        off.append(beta)
        basis.append(w / beta)
    tridiagonal = torch.diag(torch.tensor(diagonal, dtype=torch.float64))
    if off:
        band = torch.tensor(off[:len(diagonal) - 1], dtype=torch.float64)
        tridiagonal += torch.diag(band, 1) + torch.diag(band, -1)
    return torch.linalg.eigvalsh(tridiagonal)


def _power_dominant(hvp: Callable[[torch.Tensor], torch.Tensor], start: torch.Tensor, iterations: int) -> float:
    """The earlier probe: power iteration's Rayleigh quotient, the largest-magnitude eigenvalue."""
    import torch

    v = start / start.norm()
    eigenvalue = 0.0
    for _ in range(iterations):
        hv = hvp(v)
        eigenvalue = float(hv @ v)
        norm = hv.norm()
        if norm == 0 or not torch.isfinite(norm):
            break
        v = hv / norm
    return eigenvalue


class HessianProbe:
    """The loop's probe as a component: when it runs (every ``every`` epochs and after the last;
    ``every = 0``: never) and how (``method``, ``iterations``). What it differentiates comes from
    the step policy (:meth:`strategies.step_policies.StepPolicy.probe_loss`)."""

    def __init__(self, every: int, method: str = "auto", iterations: int = 20) -> None:
        self.every, self.method, self.iterations = every, method, iterations

    def due(self, epoch: int, epochs: int) -> bool:
        """Whether the probe runs after (0-based) ``epoch`` of ``epochs``."""
        return bool(self.every) and ((epoch + 1) % self.every == 0 or epoch + 1 == epochs)

    def measure(self, probe_loss: Callable[[], tuple[Any, Any, Any]], generator: torch.Generator) -> dict[str, Any]:
        """The trajectory fields, plus ``hessian_wall_s``: the probe's cost (its forward pass
        included), apart from training. ``probe_loss()`` gives (loss, parameter, mask or None)."""
        import time

        started = time.perf_counter()
        loss, param, mask = probe_loss()
        row = hessian_probe(loss, param, generator, self.method, self.iterations, mask)
        row["hessian_wall_s"] = time.perf_counter() - started
        return row
