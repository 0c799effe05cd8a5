"""BayesNAS (Zhou et al., 2019; ALGORITHMS.md, "BayesNAS"), adapted to NAS-Bench-201, and in its
original DARTS space. The switched supernet, its closed-form Hessian and the derivation come from
the space's :class:`spaces.capabilities.SwitchWalks` capability (NB201: :mod:`spaces.nb201.switches`,
DARTS: :mod:`spaces.darts.switches`); this module holds what is the same in every space.

**Model.** Switches replace DARTS's softmax(alpha) (:mod:`spaces.switched`): a child
switch per (cell, edge, op) multiplies the op's output, a parent switch per (cell, edge)
multiplies the edge's input (``parent_at = "input"``, the poster's node i' between i and j) or
its output (``"output"``). Parents start at 1, children at ``switch_init`` (see below). Each switch *position* (edge, op) or (edge) is one
group across the search cells: one group-lasso term, one gamma, one omega, one decision.

**Cost.** L = NLL + sum_groups lambda_parent omega_g ||s_g||_2 + sum_groups lambda_child omega_g ||s_g||_2,
the norm over the cells. Switches and weights are trained jointly on the training half by the
weights' SGD (same lr schedule and momentum, no weight decay on switches: **unconfirmed**).

**Update (HARD), after every joint epoch.** H = the closed-form Gauss-Newton diagonal of the
loss w.r.t. each switch in each cell, averaged over ``hessian_batches`` batches of the epoch's
training data; then per group, with the group's current gamma:
H~ = H / lambda;  C = (1/gamma + H~)^-1;  omega = sqrt(sum_cells |-C/gamma^2 + 1/gamma|);
gamma_parent = ||s_parent|| / omega_parent;  gamma_child = 1 / (omega_child/||s_child|| + 1/gamma_parent)
(computed as |-C/gamma^2 + 1/gamma| = H~/(1 + gamma H~) and ||s|| gamma_p / (omega gamma_p + ||s||),
algebraically the same and finite when a norm or a gamma is 0).

**Schedule.** ``warmup_epochs`` (1) epochs train the weights alone with the switches fixed, then
each further epoch trains weights and switches jointly and ends with the update. The
published schedule is one warm-up and one joint epoch (``epochs = 2``, the default); the
``cpu`` preset's 30 epochs give 29 joint epochs and 29 updates.

**Derivation (unconfirmed: the authors chose by hand).** Per edge: ``none`` when the parent's
gamma is below ``prune_threshold`` (1e-3) or every child score is 0; otherwise the op, ``none``
excluded, with the largest gamma_child * ||s_child||.

**Adapted from the DARTS-space original, and why.**
* Cells: NB201 has one cell type shared by 15 cells (no separate reduction cells: its
  reductions are fixed residual blocks), so there is one set of switch groups, not two.
* Edges: NB201 nodes sum all their incoming edges (DARTS keeps two per node), so the parent
  switch decides whether an edge exists at all, and pruning it derives ``none``, an op the
  NB201 space has (DARTS's space drops ``none`` at derivation).
* Ops: NB201's five ops replace DARTS's eight; ``none``'s output is zero, so its switch gets
  no Hessian (H = 0) and it is never chosen as a child.
* Data: the 25k/25k NB201 split; BayesNAS is single-level, so it trains on the train half and
  the valid half serves only the statistics and the Hessian-eigenvalue probe.
* BN: the NB201 supernet's BNs use batch statistics; the Hessian treats var as a constant.
* Child switches start at ``switch_init = 0.2`` (= 1/5), not at 1. DARTS-space cells
  renormalise their inputs (ReLU-Conv-BN preprocessing) and sum two edges per node; NB201 cells
  feed each other directly and sum every edge, so with four non-zero ops at weight 1 per edge
  the activations grow by orders of magnitude per cell (measured at the ``cpu`` preset, RMS of
  the cell inputs: the last cell's 2.5e16 times the first's; 0.73 times at 0.2). That drowns the BN-normalised conv outputs
  (their Hessian diagonal fell to 1e-37 against 1e-5 for skip) and makes the Hessian probe
  overflow to NaN. At 0.2 the switched supernet starts as exactly DARTS's at alpha = 0.
  ``switch_init = 1.0`` gives the original initialisation.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from spaces.base import DenseEdgeRows, SwitchScores, SwitchWalks, require
from strategies.distributions import ArchDistribution, EdgeWeights
from strategies.loop_settings import LoopSettings
from strategies.oneshot import LoopContext, OneShotStrategy
from strategies.registry import register
from strategies.settings import non_negative_number, one_of, positive_int, positive_number
from strategies.step_policies import StepPolicy

NONE = 0
#: where the parent switch sits on an edge, and the output-layer Hessian rule (spaces.switched takes the same names)
PLACEMENTS = ("input", "output")
OUTPUT_HESSIANS = ("target", "full")
#: keeps ||s|| differentiable at 0 in the group lasso
_EPS = 1e-12


def group_norm(switches: Any) -> Any:
    """||s_g||_2 over the cells (axis 0) for every switch position."""
    return (switches.pow(2).sum(dim=0) + _EPS).sqrt()


def hard_update(h: Any, switches: Any, gamma: Any, lam: float, gamma_parent: Any | None = None) -> tuple[Any, Any]:
    """One HARD step for a family of groups: ``(gamma_new, omega_new)``.

    ``h`` and ``switches`` are per cell (cells first), ``gamma`` per group. Children pass
    their parents' new gamma (broadcast to their shape) as ``gamma_parent``.
    """
    import torch

    h_tilde = h / lam
    # |-C/gamma^2 + 1/gamma| with C = (1/gamma + H~)^-1 equals H~ / (1 + gamma H~) for H~ >= 0 (the
    # Gauss-Newton diagonal is); this form stays finite at gamma = 0 and for a huge gamma
    omega = torch.sqrt((h_tilde / (1.0 + gamma * h_tilde)).abs().sum(dim=0))
    norm = switches.detach().pow(2).sum(dim=0).sqrt()
    if gamma_parent is None:
        new_gamma = norm / omega.clamp_min(_EPS)
    else:  # 1 / (omega/||s|| + 1/gamma_p), multiplied through by ||s|| gamma_p
        denominator = omega * gamma_parent + norm
        new_gamma = torch.where(denominator > 0, norm * gamma_parent / denominator.clamp_min(_EPS), torch.zeros_like(norm))
    return new_gamma, omega


class SwitchDistribution(ArchDistribution):
    """Per-cell child switches [cells, edges, ops] and parent switches [cells, edges], with a gamma
    and an omega per switch *group*: one group per (cell kind, position), shared by the cells of
    that kind (``cell_kinds``, from the space's :class:`SwitchWalks`).

    On NB201 every search cell has the same kind, so each position is one group across all cells
    (the adaptation, see the module docstring); in the DARTS space normal and reduction cells are
    two kinds, each with its own groups (the original). The group lasso and the HARD update run
    per kind. A space with one kind records its gammas, omegas and norms without the kind axis.
    """

    def __init__(self, cell_kinds: list[int], lr: float, momentum: float, nesterov: bool, lambda_parent: float,
                 lambda_child: float, prune_threshold: float, switch_init: float = 0.2,
                 prunes_edges: bool = False) -> None:
        super().__init__(samples=1)
        self.cell_kinds = list(cell_kinds)
        self.n_cells, self.lr, self.momentum, self.nesterov = len(self.cell_kinds), lr, momentum, nesterov
        self.switch_init, self.prunes_edges = switch_init, prunes_edges
        self.lambda_parent, self.lambda_child, self.prune_threshold = lambda_parent, lambda_child, prune_threshold

    def init(self, generator: Any, device: Any, n_valid: int, shape: tuple[int, ...], mask: Any = None) -> None:
        """Children at ``switch_init``, parents at 1 (no randomness); gamma and omega at 1 for every
        group. ``shape`` is the space's architecture shape, ``[kinds,] edges, ops``.
        (``mask``: BayesNAS requires unpacked rows, where there is none.)"""
        import torch

        kinds = max(self.cell_kinds) + 1
        edges, ops = shape[-2:]
        if len(shape) == 3 and shape[0] != kinds:
            raise ValueError(f"architecture shape {shape} has {shape[0]} cell kinds, the switch walk {kinds}")
        self.shape, self.n_valid = tuple(shape), n_valid
        self.params = [torch.full((self.n_cells, edges, ops), self.switch_init, device=device, requires_grad=True),
                       torch.ones(self.n_cells, edges, device=device, requires_grad=True)]
        self.gamma_child, self.gamma_parent = torch.ones(kinds, edges, ops, device=device), torch.ones(kinds, edges, device=device)
        self.omega_child, self.omega_parent = torch.ones(kinds, edges, ops, device=device), torch.ones(kinds, edges, device=device)
        self.optimizer = self.make_optimizer()
        self._cells_of = [torch.tensor([c for c, k in enumerate(self.cell_kinds) if k == kind], device=device)
                          for kind in range(kinds)]

    def make_optimizer(self) -> Any:
        import torch

        return torch.optim.SGD(self.params, lr=self.lr, momentum=self.momentum, nesterov=self.nesterov and self.momentum > 0)

    @property
    def child(self) -> Any:
        return self.params[0]

    @property
    def parent(self) -> Any:
        return self.params[1]

    def edge_weights(self, ctx: LoopContext, purpose: str) -> EdgeWeights:
        """The child switches averaged over each kind's cells, parents folded in (a view for generic
        tools; BayesNAS's own steps run the per-cell switches through the space's switch walk)."""
        return self.expected_weights(), None

    def expected_weights(self) -> Any:
        """Per cell kind, the mean over its cells of child * parent, in the space's architecture shape."""
        import torch

        weighted = self.child * self.parent.unsqueeze(-1)
        return torch.stack([weighted[cells].mean(dim=0) for cells in self._cells_of]).reshape(self.shape)

    def regulariser(self) -> Any:
        """The group lasso: lambda * omega_g * ||s_g||_2, summed over parent and child groups of every kind."""
        return sum(self.lambda_parent * (self.omega_parent[t] * group_norm(self.parent[cells])).sum()
                   + self.lambda_child * (self.omega_child[t] * group_norm(self.child[cells])).sum()
                   for t, cells in enumerate(self._cells_of))

    def update(self, h_child: Any, h_parent: Any) -> None:
        """The HARD reweighting update from per-cell Hessian diagonals (parents first), per kind."""
        for t, cells in enumerate(self._cells_of):
            gamma_parent, omega_parent = hard_update(h_parent[cells], self.parent[cells], self.gamma_parent[t],
                                                     self.lambda_parent)
            gamma_child, omega_child = hard_update(h_child[cells], self.child[cells], self.gamma_child[t],
                                                   self.lambda_child,
                                                   gamma_parent.unsqueeze(-1).expand_as(self.gamma_child[t]))
            self.gamma_parent[t], self.omega_parent[t] = gamma_parent, omega_parent
            self.gamma_child[t], self.omega_child[t] = gamma_child, omega_child

    def _norms(self, switches: Any) -> Any:
        """||s_g||_2 over each kind's cells: [kinds, ...]."""
        import torch

        return torch.stack([switches.detach()[cells].pow(2).sum(dim=0).sqrt() for cells in self._cells_of])

    def scores(self) -> Any:
        """gamma_child * ||s_child|| per (kind, edge, op); ``none`` scores 0."""
        scores = self.gamma_child * self._norms(self.child)
        scores[..., NONE] = 0
        return scores

    def switch_scores(self) -> SwitchScores:
        return SwitchScores(child=self.scores().cpu(), gamma_parent=self.gamma_parent.cpu(),
                            parent_norm=self._norms(self.parent).cpu(), prune_threshold=self.prune_threshold)

    def derive_arch(self, space: Any) -> Any:
        """The space's own switch derivation (:meth:`SwitchWalks.derive`)."""
        return require(space, SwitchWalks).derive(self.switch_scores())

    def _kindless(self, value: Any) -> Any:
        """A per-kind tensor as recorded: without the kind axis where there is one kind."""
        return (value[0] if len(self._cells_of) == 1 else value).cpu().tolist()

    def describe(self) -> dict[str, Any]:
        row = {"gamma_child": self._kindless(self.gamma_child), "gamma_parent": self._kindless(self.gamma_parent),
               "omega_child": self._kindless(self.omega_child), "omega_parent": self._kindless(self.omega_parent),
               "child_norm": self._kindless(self._norms(self.child)),
               "parent_norm": self._kindless(self._norms(self.parent))}
        if self.prunes_edges:
            row["pruned_edges"] = int((self.gamma_parent < self.prune_threshold).sum())
        row.update(pruned_child_groups=int((self.gamma_child[..., 1:] < self.prune_threshold).sum()),
                   mean_abs_switch=float(self.child.detach().abs().mean()))
        return row

    def extra_state(self) -> dict[str, Any]:
        return {"gamma_child": self.gamma_child, "gamma_parent": self.gamma_parent,
                "omega_child": self.omega_child, "omega_parent": self.omega_parent}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            setattr(self, name, value.clone())


@dataclass(frozen=True)
class BayesNASSettings(LoopSettings):
    """The loop's settings with BayesNAS's published schedule (one warm-up, one joint epoch)."""

    epochs: int = 2
    warmup_epochs: int = 1
    lambda_parent: float = 0.01
    lambda_child: float = 0.01
    parent_at: str = "input"
    output_hessian: str = "target"
    hessian_batches: int = 10
    prune_threshold: float = 1e-3
    switch_init: float = 0.2

    def __post_init__(self) -> None:
        super().__post_init__()
        if isinstance(self.warmup_epochs, bool) or not isinstance(self.warmup_epochs, int) \
                or not 0 <= self.warmup_epochs < self.epochs:
            raise ValueError(f"warmup_epochs must be an integer in [0, epochs), got {self.warmup_epochs!r}")
        positive_number("lambda_parent", self.lambda_parent)
        positive_number("lambda_child", self.lambda_child)
        one_of("parent_at", self.parent_at, PLACEMENTS)
        one_of("output_hessian", self.output_hessian, OUTPUT_HESSIANS)
        positive_int("hessian_batches", self.hessian_batches)
        non_negative_number("prune_threshold", self.prune_threshold)
        positive_number("switch_init", self.switch_init)


class SwitchedJointStep(StepPolicy):
    """BayesNAS's training (module docstring): warm-up epochs train the weights alone on the NLL;
    joint epochs train weights and switches on the cost, one train batch per step, and end with
    the Hessian and the HARD update. The switched network comes from the space's
    :class:`SwitchWalks`; it is the member's ``policy_state``."""

    def __init__(self, settings: BayesNASSettings) -> None:
        self.settings = settings

    def setup(self, member: Any) -> None:
        member.policy_state = require(member.space, SwitchWalks).walk(member.runtime.supernet, self.settings.parent_at)

    def step(self, member: Any, train: tuple, valid: tuple, ctx: LoopContext) -> tuple[Any, Any]:
        import torch
        import torch.nn.functional as F

        dist, runtime, switched = member.distribution, member.runtime, member.policy_state
        joint = ctx.epoch >= self.settings.warmup_epochs
        child, parent = (dist.child, dist.parent) if joint else (dist.child.detach(), dist.parent.detach())
        runtime.w_opt.zero_grad(set_to_none=True)
        dist.optimizer.zero_grad(set_to_none=True)
        logits = switched(train[0], child, parent)
        loss = F.cross_entropy(logits, train[1])
        member.check_finite(loss, ctx, "training")
        (member.regularised(loss) if joint else loss).backward()
        torch.nn.utils.clip_grad_norm_(runtime.supernet.parameters(), member.settings.grad_clip)
        runtime.w_opt.step()
        if joint:
            for group in dist.optimizer.param_groups:
                group["lr"] = ctx.w_lr
            dist.optimizer.step()
        with torch.no_grad():
            valid_logits = switched(valid[0], dist.child, dist.parent)
        return logits.detach(), valid_logits

    def end_epoch(self, member: Any, ctx: LoopContext) -> None:
        """After a joint epoch: the Hessian on the epoch's first training batches, then HARD."""
        if ctx.epoch < self.settings.warmup_epochs:
            return
        dist, switched = member.distribution, member.policy_state
        h_child, h_parent, seen = 0, 0, 0
        for (train, _valid) in member.data.epoch(ctx.epoch):
            if seen == self.settings.hessian_batches:
                break
            x, y = (t.to(member.runtime.device) for t in train)
            hc, hp = switched.diagonal_hessian(x, y, dist.child, dist.parent, self.settings.output_hessian)
            h_child, h_parent, seen = h_child + hc, h_parent + hp, seen + 1
        dist.update(h_child / seen, h_parent / seen)

    def probe_loss(self, member: Any, batch: tuple) -> tuple[Any, Any, Any]:
        """L_val w.r.t. the per-cell child switches at their current values (every entry real: no mask)."""
        import torch.nn.functional as F

        dist = member.distribution
        return F.cross_entropy(member.policy_state(batch[0], dist.child, dist.parent.detach()), batch[1]), dist.child, None


@register("bayesnas")
class BayesNAS(OneShotStrategy):
    """BayesNAS: switches with a hierarchical sparse prior, Laplace-approximated; on NB201
    (adapted, see the module docstring) and on the DARTS space (the original's cells,
    per cell kind, :class:`SwitchDistribution`)."""

    display_name = "BayesNAS"
    settings_type = BayesNASSettings

    #: the switched supernet, its Hessian and the derivation come from the space; switches need unpacked rows
    requires = (SwitchWalks, DenseEdgeRows)

    order = 1

    @classmethod
    def space_defaults(cls, space: Any) -> dict[str, Any]:
        """``switch_init`` where the space's cells need it (:attr:`spaces.capabilities.SwitchWalks.switch_init`)."""
        walks = space.capability(SwitchWalks)
        return {} if walks is None else {"switch_init": walks.switch_init}

    def make_distribution_for(self, member: Any) -> ArchDistribution:
        """Switch groups per cell kind of the member's supernet; the switches use the weights' SGD settings."""
        s, walks = self.settings, require(member.space, SwitchWalks)
        return SwitchDistribution(walks.cell_kinds(member.runtime.supernet), s.w_lr, s.w_momentum, s.nesterov,
                                  s.lambda_parent, s.lambda_child, s.prune_threshold, s.switch_init,
                                  prunes_edges=walks.prunes_edges)

    def make_policy(self) -> StepPolicy:
        return SwitchedJointStep(self.settings)
