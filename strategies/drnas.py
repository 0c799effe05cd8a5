"""DrNAS (Chen et al., 2021; ALGORITHMS.md, "DrNAS"): Dirichlet edge weights on the NB201 supernet.

The concentration beta has alpha's shape (6x5, ``none`` included) and is initialised
1e-3 N(0,1). Every forward pass -- the weight step, the architecture step, and so the
statistics of the epoch -- uses its own reparameterised sample w ~ Dirichlet(ELU(beta) + 1)
per edge, drawn from the run's ``arch_noise`` stream by :mod:`strategies.gamma` (never torch's
global RNG). beta is updated by Adam (lr 3e-4, betas (0.5, 0.999)) on grad_beta L_val at the
sample, architecture step first, then the weight step.

Regulariser (``regulariser``): ``"l2"`` (default) is Adam's weight decay ``a_weight_decay``
(1e-3) on beta; ``"kl"`` adds ``reg_scale`` (1e-3) * sum over edges of
KL(Dir(ELU(beta)+1) || Dir(1)) to the architecture loss only, and turns the weight decay off.

NB201 defaults of the DrNAS code: 100 epochs, weight SGD lr 0.025 with a cosine schedule to
0.001 stepped per epoch, weight decay 3e-4, momentum 0.9 without Nesterov, clip 5. Final cell:
argmax beta per edge, ``none`` included. Diagnostics: the Hessian probe runs at the Dirichlet
mean (ELU(beta)+1) / sum, the trajectory carries beta and the concentration's sum per edge.

Progressive variant (``progressive = true``; default off, so the plain DrNAS above is what
runs unless asked). Two stages of ``stage_epochs`` (default: the epochs split in halves, 50 + 50
at 100 epochs):

* stage 1 trains partial-channel cells (the space's :class:`spaces.capabilities.PartialChannels`): each edge's
  mixed op sees 1/K of its input channels, K = ``pc_k[0]`` (4), keeping ``keep_ops[0]`` ops (5:
  all of NB201's);
* between the stages every edge keeps its ``keep_ops[1]`` (3) ops with the largest beta among
  those it had, and the ops widen to 1/K, K = ``pc_k[1]`` (2), by Net2Net replication from the
  run's ``widen`` stream. The Dirichlet then covers the kept ops only, and the weight
  optimizer is rebuilt (momentum kept for the tensors that did not change shape).

Unconfirmed details, each documented where it is decided: surviving beta values are kept (not
re-initialised); widened channels are copies of random existing ones without rescaling; the
learning-rate schedule runs over all epochs of both stages. The final cell is argmax beta over
the kept ops. A checkpoint records the stage and the kept ops, and a run resumed in stage 2
rebuilds the pruned, widened supernet before loading it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from spaces.base import Capability, DenseEdgeRows, PartialChannels, require
from strategies.distributions import AdamDistribution, ArchDistribution, EdgeWeights
from strategies.loop_settings import LoopSettings
from strategies.oneshot import LoopContext, OneShotStrategy
from strategies.registry import register
from strategies.settings import int_pair, non_negative_number, one_of, protocol
from strategies.supernet_schedule import SupernetSchedule

REGULARISERS = ("l2", "kl")


class DirichletDistribution(AdamDistribution):
    """q(w_e) = Dirichlet(ELU(beta_e) + 1) per edge; a fresh reparameterised sample per forward pass.

    After progressive pruning (:meth:`set_kept`) the Dirichlet covers each edge's kept ops only
    and the pruned ops get weight 0."""

    def __init__(self, regulariser: str = "l2", reg_scale: float = 1e-3, progressive: bool = False, **adam: Any) -> None:
        super().__init__(**adam)
        self.regulariser_kind, self.reg_scale, self.progressive = regulariser, reg_scale, progressive
        self.kept: list[list[int]] | None = None  # None: every op
        self.stage = 0

    def concentration(self) -> Any:
        import torch.nn.functional as F

        return F.elu(self.alpha) + 1

    def set_kept(self, kept: list[list[int]], stage: int) -> None:
        """Restrict every edge to these ops (equal counts per edge)."""
        self.kept, self.stage = [sorted(int(o) for o in ops) for ops in kept], stage

    def _kept_index(self) -> Any:
        import torch

        return torch.tensor(self.kept, dtype=torch.long, device=self.alpha.device)

    def edge_weights(self, ctx: LoopContext, purpose: str) -> EdgeWeights:
        from strategies.gamma import sample_dirichlet

        concentration = self.concentration()
        if self.kept is None:
            return sample_dirichlet(concentration, self.noise), None
        index = self._kept_index()
        sample = sample_dirichlet(concentration.gather(1, index), self.noise)
        return concentration.new_zeros(concentration.shape).scatter(1, index, sample), None

    def expected_weights(self) -> Any:
        concentration = self.concentration()
        if self.kept is not None:
            concentration = concentration.new_zeros(concentration.shape).scatter(
                1, self._kept_index(), concentration.gather(1, self._kept_index()))
        return concentration / concentration.sum(dim=-1, keepdim=True)

    def selection_alpha(self) -> Any:
        """beta with the pruned ops at -inf: the space's per-edge argmax then picks among the ops
        still kept (ties: the lower op, as argmax returns the first maximum)."""
        beta = self.alpha.detach()
        if self.kept is None:
            return beta
        kept = beta.new_zeros(beta.shape, dtype=bool).scatter(1, self._kept_index(), True)
        return beta.masked_fill(~kept, float("-inf"))

    def regulariser(self) -> Any:
        """KL(Dir(ELU(beta)+1) || Dir(1)) summed over edges, times ``reg_scale`` (``"kl"`` only)."""
        if self.regulariser_kind != "kl":
            return None
        import torch
        from torch.distributions import Dirichlet, kl_divergence

        concentration = self.concentration()
        if self.kept is not None:
            concentration = concentration.gather(1, self._kept_index())
        return self.reg_scale * kl_divergence(Dirichlet(concentration), Dirichlet(torch.ones_like(concentration))).sum()

    def describe(self) -> dict[str, Any]:
        row = {**super().describe(), "concentration_sum": self.concentration().detach().sum(dim=-1).cpu().tolist()}
        if self.progressive:
            row.update(stage=self.stage + 1, kept_ops=self.kept)
        return row

    def extra_state(self) -> dict[str, Any]:
        return {"kept": self.kept, "stage": self.stage} if self.progressive else {}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        if state.get("kept") is not None:
            self.set_kept(state["kept"], int(state.get("stage", 0)))


@dataclass(frozen=True)
class DrNASSettings(LoopSettings):
    """The loop's settings with DrNAS's NB201 defaults, its regulariser and the progressive variant."""

    epochs: int = 100
    w_weight_decay: float = 3e-4
    nesterov: bool = False
    lr_schedule: str = "epoch"
    regulariser: str = "l2"
    reg_scale: float = 1e-3
    progressive: bool = False
    pc_k: tuple[int, int] = (4, 2)
    keep_ops: tuple[int, int] = (5, 3)
    stage_epochs: tuple[int, int] | None = None
    #: the architecture step first (the DrNAS code's order)
    arch_first: bool = protocol(True)

    def __post_init__(self) -> None:
        super().__post_init__()
        one_of("regulariser", self.regulariser, REGULARISERS)
        non_negative_number("reg_scale", self.reg_scale)
        if self.progressive:
            self._check_progressive()

    def _check_progressive(self) -> None:
        int_pair("pc_k", self.pc_k)
        int_pair("keep_ops", self.keep_ops)
        if self.stage_epochs is not None:
            int_pair("stage_epochs", self.stage_epochs)
        if self.pc_k[1] > self.pc_k[0]:
            raise ValueError(f"pc_k must not grow between stages (the ops widen), got {self.pc_k!r}")
        if self.keep_ops[1] > self.keep_ops[0]:
            raise ValueError(f"keep_ops must not grow between stages, got {self.keep_ops!r}")
        if self.stage_epochs is not None and sum(self.stage_epochs) != self.epochs:
            raise ValueError(f"stage_epochs {self.stage_epochs!r} must add up to epochs = {self.epochs}")
        if self.epochs < 2 and self.stage_epochs is None:
            raise ValueError("the progressive variant needs at least 2 epochs (one per stage)")

    @property
    def first_stage_epochs(self) -> int:
        return self.stage_epochs[0] if self.stage_epochs is not None else self.epochs // 2


class ProgressiveChannels(SupernetSchedule):
    """Progressive DrNAS's supernet: partial-channel cells (the space's :class:`PartialChannels`),
    pruned and widened between the two stages (module docstring)."""

    def __init__(self, settings: DrNASSettings) -> None:
        self.settings = settings

    def build(self, space: Any, settings: Any, num_classes: int, generator: Any) -> Any:
        partial = require(space, PartialChannels)
        return partial.make_supernet(num_classes, settings.channels, settings.cells_per_stage, settings.impl,
                                     generator, self.settings.pc_k[0])

    def after_setup(self, member: Any) -> None:
        if self.settings.keep_ops[0] < require(member.space, PartialChannels).n_ops:
            self._prune_to(member, self.settings.keep_ops[0], stage=0)

    @staticmethod
    def _prune_to(member: Any, keep: int, stage: int) -> None:
        """Every edge keeps its ``keep`` kept ops with the largest beta (ties: the lower op index)."""
        dist = member.distribution
        beta = dist.alpha.detach().cpu()
        current = dist.kept or [list(range(beta.shape[1])) for _ in range(beta.shape[0])]
        kept = [sorted(sorted(ops, key=lambda o: (-float(beta[e, o]), o))[:keep]) for e, ops in enumerate(current)]
        dist.set_kept(kept, stage)
        member.runtime.supernet.prune(kept)

    def begin_epoch(self, member: Any, ctx: LoopContext) -> None:
        """The first epoch of stage 2 starts with the pruned, widened supernet (a run resumed
        later in stage 2 rebuilds it in :meth:`before_restore` instead)."""
        if ctx.epoch == self.settings.first_stage_epochs and member.distribution.stage == 0:
            self._enter_second_stage(member, ctx.streams.torch_generator("widen"))

    def _enter_second_stage(self, member: Any, generator: Any, kept: list[list[int]] | None = None) -> None:
        """Prune to ``keep_ops[1]`` (or to ``kept``, a checkpoint's), widen to ``pc_k[1]``,
        rebuild the weight optimizer."""
        runtime = member.runtime
        if kept is None:
            self._prune_to(member, self.settings.keep_ops[1], stage=1)
        else:
            member.distribution.set_kept(kept, stage=1)
            runtime.supernet.prune(kept)
        old_params = list(runtime.supernet.parameters())
        runtime.supernet.widen(self.settings.pc_k[1], generator)
        runtime.rebuild_weight_optimizer(old_params)

    def before_restore(self, member: Any, state: dict[str, Any]) -> None:
        """A checkpoint written in stage 2 holds the pruned, widened supernet: rebuild it first (the
        widened weights themselves are loaded next, so the widening's draws do not matter)."""
        import torch

        extra = state["distribution"].get("extra") or {}
        if extra.get("stage", 0) >= 1:
            self._enter_second_stage(member, torch.Generator().manual_seed(0), kept=extra["kept"])


@register("drnas")
class DrNAS(OneShotStrategy):
    """DrNAS: Dirichlet edge weights, first-order gradient, architecture step first."""

    display_name = "DrNAS"
    settings_type = DrNASSettings

    order = 1
    #: a Dirichlet needs every entry of a row: NAS-Bench-1shot1's packed, masked rows are not supported
    requires = (DenseEdgeRows,)
    added_options = OneShotStrategy.added_options + (("progressive", "pc_k", "keep_ops", "stage_epochs"),)

    def make_distribution(self) -> ArchDistribution:
        s = self.settings
        decay = s.a_weight_decay if s.regulariser == "l2" else 0.0
        return DirichletDistribution(s.regulariser, s.reg_scale, s.progressive, lr=s.a_lr, weight_decay=decay)

    def make_schedule(self) -> SupernetSchedule:
        return ProgressiveChannels(self.settings) if self.settings.progressive else SupernetSchedule()

    def required_capabilities(self) -> tuple[type[Capability], ...]:
        """The progressive variant also needs partial-channel cells that prune and widen."""
        return self.requires + ((PartialChannels,) if self.settings.progressive else ())

    def space_problems(self, space: Any) -> list[str]:
        """Besides the capabilities: ``keep_ops`` must fit the space's edges and ``pc_k`` divide
        every stage width of its partial-channel supernet."""
        problems = super().space_problems(space)
        s = self.settings
        partial = space.capability(PartialChannels) if s.progressive else None
        if partial is None:
            return problems
        if s.keep_ops[0] > partial.n_ops:
            problems.append(f"keep_ops {s.keep_ops!r} keeps more ops than an edge of space {space.name!r} has "
                            f"({partial.n_ops})")
        if any(width % s.pc_k[0] or width % s.pc_k[1] for width in partial.stage_widths(s.channels)):
            problems.append(f"pc_k {s.pc_k!r} must divide every stage width (channels = {s.channels})")
        return problems
