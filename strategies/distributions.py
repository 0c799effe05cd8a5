"""The distribution seam of the one-shot loop: everything a differentiable method owns.

The loop (:mod:`strategies.oneshot_loop`) trains supernet weights and asks an
:class:`ArchDistribution` for everything architectural:

* its parameters and the optimizer that updates them (:meth:`init`, :meth:`make_optimizer`);
* edge weights for a weight step and for an architecture step (:meth:`edge_weights`), one
  call per forward pass: softmax for DARTS, Gumbel hard weights for GDAS, a Gaussian sample
  for BaLeNAS, a Dirichlet sample for DrNAS;
* the architecture step itself given a gradient closure (:meth:`arch_step`), including the
  Monte-Carlo average over ``samples`` draws (BaLeNAS's Variational Adam draws its own);
* the expected weights for diagnostics and the Hessian probe (:meth:`expected_weights`);
* the final cell (:meth:`derive_arch`: the space's rule on :meth:`selection_alpha`, unless the
  distribution has its own), an optional regulariser, an end-of-epoch hook, trajectory
  fields (:meth:`describe`) and its own checkpoint state.

A new method is then a subclass of a few dozen lines, not a copy of the loop. A distribution
takes its options already checked: the strategy's settings check them once
(:mod:`strategies.settings`). Randomness:
:meth:`begin_epoch` gives the distribution its ``arch_noise`` generator for the epoch
(derived from run seed, purpose and epoch), so a resumed run draws the same noise. torch is
imported inside methods: strategy modules must stay cheap to import for listing.
"""
from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    import torch

    from strategies.loop_context import LoopContext

#: ``(edge weights in the space's architecture shape, chosen op per edge or None)``; ``chosen`` lets the supernet compute one op per edge
EdgeWeights = tuple["torch.Tensor", "list[int] | None"]
#: computes the architecture gradient at the distribution's current sample: ``() -> (grads, valid logits)``
GradientClosure = Callable[[], tuple[list["torch.Tensor"], "torch.Tensor"]]



class ArchDistribution(abc.ABC):
    """Architecture parameters, their optimizer and how edge weights are drawn from them."""

    def __init__(self, samples: int = 1) -> None:
        self.samples = samples
        self.params: list[torch.Tensor] = []
        self.optimizer: Any = None
        self.noise: torch.Generator | None = None
        self.mask: torch.Tensor | None = None

    # ---- construction -----------------------------------------------------------------------
    def init(self, generator: torch.Generator, device: Any, n_valid: int, shape: tuple[int, ...],
             mask: Any = None) -> None:
        """Create the parameters of the space's ``shape`` on ``device`` (1e-3 N(0,1), as DARTS) and the optimizer.

        ``n_valid`` is the number of search-valid images (Variational Adam's dataset size N).
        ``mask`` (boolean, ``shape``): a space that packs categorical choices of different widths
        into one tensor (NAS-Bench-1shot1) marks the real entries; every softmax is then taken
        over the masked row (:meth:`masked`), so padded entries weigh exactly 0.
        """
        import torch

        self.n_valid = n_valid
        self.params = [(1e-3 * torch.randn(shape, generator=generator)).to(device).requires_grad_()]
        self.mask = None if mask is None else torch.as_tensor(mask, dtype=torch.bool, device=device)
        self.optimizer = self.make_optimizer()

    def masked(self, logits: torch.Tensor) -> torch.Tensor:
        """``logits`` with the padded entries at -inf (a no-op for spaces without a mask)."""
        return logits if self.mask is None else logits.masked_fill(~self.mask, float("-inf"))

    @abc.abstractmethod
    def make_optimizer(self) -> Any:
        """The optimizer of :attr:`params`."""

    @property
    def alpha(self) -> torch.Tensor:
        """The main parameter (alpha, mu or beta): derivation and the Hessian probe use it."""
        return self.params[0]

    # ---- per epoch / per step -----------------------------------------------------------------
    def begin_epoch(self, ctx: LoopContext) -> None:
        """Take the epoch's ``arch_noise`` generator (run seed, purpose, epoch)."""
        self.noise = ctx.streams.torch_generator("arch_noise", ctx.epoch)

    @abc.abstractmethod
    def edge_weights(self, ctx: LoopContext, purpose: str) -> EdgeWeights:
        """Edge weights for one forward pass; ``purpose`` is ``"weight"`` or ``"arch"``.

        Architecture-step weights must be differentiable w.r.t. :attr:`params`; the loop
        detaches weight-step weights itself.
        """

    def arch_step(self, ctx: LoopContext, closure: GradientClosure) -> torch.Tensor:
        """Average the closure's gradient over :attr:`samples` draws, then step; returns the last logits.

        Each closure call makes its own forward passes, so each draws fresh edge weights.
        """
        total: list[torch.Tensor] | None = None
        logits = None
        for _ in range(self.samples):
            grads, logits = closure()
            total = list(grads) if total is None else [t + g for t, g in zip(total, grads)]
        self.optimizer.zero_grad(set_to_none=True)
        for param, grad in zip(self.params, total or []):
            param.grad = grad / self.samples
        self.optimizer.step()
        return logits

    def regulariser(self) -> torch.Tensor | None:
        """A term added to the architecture loss (none by default)."""
        return None

    def end_epoch(self, ctx: LoopContext) -> None:
        """Called after every epoch, before the trajectory row and the checkpoint."""

    # ---- diagnostics and the result -----------------------------------------------------------
    def expected_weights(self) -> torch.Tensor:
        """Deterministic edge weights, differentiable w.r.t. :attr:`alpha`: diagnostics and the Hessian probe."""
        import torch

        return torch.softmax(self.masked(self.alpha), dim=-1)

    def selection_alpha(self) -> torch.Tensor:
        """The parameters a space's derivation ranks ops by (:attr:`alpha`, detached)."""
        return self.alpha.detach()

    def derive_arch(self, space: Any) -> Any:
        """The architecture this distribution stands for in ``space``: the space's rule
        (:meth:`spaces.base.SearchSpace.derive`), unless a distribution has its own."""
        return space.derive(self)

    def describe(self) -> dict[str, Any]:
        """Fields of the epoch's trajectory row."""
        return {"alpha": self.alpha.detach().cpu().tolist()}

    # ---- checkpoints --------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {"params": [p.detach().clone() for p in self.params], "optimizer": self.optimizer.state_dict(),
                "extra": self.extra_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        import torch

        with torch.no_grad():
            for param, saved in zip(self.params, state["params"]):
                param.copy_(saved)
        self.optimizer.load_state_dict(state["optimizer"])
        self.load_extra_state(state.get("extra", {}))

    def extra_state(self) -> dict[str, Any]:
        return {}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        pass


class AdamDistribution(ArchDistribution):
    """Parameters updated by the NB201 protocol's Adam (lr 3e-4, betas (0.5, 0.999), weight decay 1e-3)."""

    def __init__(self, lr: float = 3e-4, betas: tuple[float, float] = (0.5, 0.999), weight_decay: float = 1e-3,
                 eps: float = 1e-8, samples: int = 1) -> None:
        super().__init__(samples)
        self.lr, self.betas, self.weight_decay, self.eps = lr, tuple(betas), weight_decay, eps

    def make_optimizer(self) -> Any:
        import torch

        return torch.optim.Adam(self.params, lr=self.lr, betas=self.betas, weight_decay=self.weight_decay, eps=self.eps)


class SoftmaxDistribution(AdamDistribution):
    """DARTS: the point mass at alpha; edge weights softmax(alpha) for every pass (ALGORITHMS.md, "DARTS")."""

    def edge_weights(self, ctx: LoopContext, purpose: str) -> EdgeWeights:
        return self.expected_weights(), None


class GumbelDistribution(AdamDistribution):
    """GDAS (ALGORITHMS.md, "GDAS"): per edge g = -log(Exp(1)), pi = softmax((log_softmax(alpha)+g)/tau),
    hard weights one_hot(argmax pi) - stopgrad(pi) + pi, redrawn if any value is not finite.
    tau falls linearly from ``tau_max`` to ``tau_min`` over the epochs. Only the chosen op is computed."""

    def __init__(self, tau_max: float = 10.0, tau_min: float = 0.1, **adam: Any) -> None:
        super().__init__(**adam)
        self.tau_max, self.tau_min = tau_max, tau_min

    def tau(self, ctx: LoopContext) -> float:
        return self.tau_max - (self.tau_max - self.tau_min) * ctx.epoch_fraction

    def edge_weights(self, ctx: LoopContext, purpose: str) -> EdgeWeights:
        import torch
        import torch.nn.functional as F

        tau = self.tau(ctx)
        while True:
            uniform = torch.rand(self.alpha.shape, generator=self.noise).clamp_min(1e-20).to(self.alpha.device)
            gumbel = -torch.log(-torch.log(uniform))  # = -log(Exp(1))
            probs = torch.softmax((torch.log_softmax(self.masked(self.alpha), dim=-1) + gumbel) / tau, dim=-1)
            index = probs.argmax(dim=-1)
            hard = F.one_hot(index, probs.shape[-1]).to(probs.dtype) - probs.detach() + probs
            if torch.isfinite(hard).all():
                return hard, index.tolist()
