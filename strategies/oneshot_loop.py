"""The one-shot search loop: a step policy and a distribution, over the space's supernet.

ALGORITHMS.md, "Search protocol on NAS-Bench-201": weights by SGD (nesterov, cosine to
``w_lr_min`` updated every step, grad-norm clip 5; DrNAS's protocol: no Nesterov, the schedule
updated per epoch). The loop composes parts that each hold their own state:

* :class:`SearchMember`: one seed's search -- its random streams, data, supernet runtime
  (:mod:`strategies.supernet_runtime`: device, CUDA graphs, weight optimizer), distribution
  (:mod:`strategies.distributions`), finite-loss guard (:mod:`strategies.finite_guard`),
  checkpoint store (:mod:`strategies.checkpoints`) and trajectory log;
* the step policy (:mod:`strategies.step_policies`): what a step does, what the Hessian probe
  differentiates, what happens at the end of an epoch;
* the supernet schedule (:mod:`strategies.supernet_schedule`): how the supernet is built and
  whether it changes between stages;
* the Hessian probe (:class:`strategies.hessian.HessianProbe`) and the epoch's statistics
  (:class:`EpochStatistics`).

**Batches of members.** :meth:`OneShotLoop.run` advances a list of members in lockstep: every
epoch, every step, each member takes its step. A strategy's search today passes one member (a
batch of size 1); a later change can pass several seeds' members and fuse their steps without
changing the policies, which already take the member they act on.

Every epoch each member writes a trajectory row -- derived genotype, skip-connection count,
supernet train/valid loss and accuracy, the distribution's own fields (alpha, sigma, ...),
wall time, and every ``hessian_every`` epochs the Hessian eigenvalues -- and a checkpoint
(atomically). A non-finite loss ends the run with the epoch and step in the error.

Randomness: one generator per purpose (split, supernet init, architecture init, batches,
architecture noise, Hessian probe), derived from (the member's run seed, purpose, epoch) by
:class:`nas_core.streams.Streams`; torch's global RNG is never read.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from nas_core.problem import Problem, SearchLog
from nas_core.streams import Streams
from strategies.checkpoints import CheckpointStore
from strategies.distributions import ArchDistribution
from strategies.finite_guard import FiniteLossGuard
from strategies.hessian import HessianProbe
from strategies.loop_context import LoopContext
from strategies.step_policies import StepPolicy
from strategies.supernet_runtime import SupernetRuntime, resolve_device
from strategies.supernet_schedule import SupernetSchedule


@dataclass(eq=False)
class SearchMember:
    """One seed's search state. ``distribution`` is set by :meth:`OneShotLoop.start` once the
    supernet exists (a distribution may depend on it: BayesNAS's switch groups per cell kind)."""

    space: Any
    settings: Any
    streams: Streams
    data: Any
    runtime: SupernetRuntime
    log: SearchLog
    store: CheckpointStore
    guard: FiniteLossGuard
    on_epoch: Callable[[int], None] | None = None
    distribution: ArchDistribution = None  # type: ignore[assignment]
    #: what the step policy keeps per member (BayesNAS: the switched network)
    policy_state: Any = None

    def check_finite(self, loss: Any, ctx: LoopContext, what: str) -> None:
        """Hand ``loss`` to this member's finite-loss guard."""
        self.guard.check(loss, ctx.epoch, ctx.step, what)

    def regularised(self, loss: Any) -> Any:
        extra = self.distribution.regulariser()
        return loss if extra is None else loss + extra

    def derive(self) -> Any:
        """The architecture the distribution stands for now."""
        return self.distribution.derive_arch(self.space)


class EpochStatistics:
    """An epoch's train/valid loss and accuracy, summed on the device in float64 (the values a
    host-side sum of ``.item()``s would give) and read once per epoch: no synchronisation per step."""

    def __init__(self, device: Any) -> None:
        import torch

        self.totals = torch.zeros(4, dtype=torch.float64, device=device)

    def add(self, train_logits: Any, train_y: Any, valid_logits: Any, valid_y: Any) -> None:
        import torch
        import torch.nn.functional as F

        self.totals += torch.stack([F.cross_entropy(train_logits, train_y), (train_logits.argmax(1) == train_y).float().mean(),
                                    F.cross_entropy(valid_logits, valid_y), (valid_logits.argmax(1) == valid_y).float().mean()]).double()

    def means(self, steps: int) -> np.ndarray:
        return self.totals.cpu().numpy() / max(1, steps)


class OneShotLoop:
    """``start`` builds a member for a problem; ``run`` trains a batch of members to the end."""

    def __init__(self, settings: Any, policy: StepPolicy, schedule: SupernetSchedule | None = None) -> None:
        self.settings, self.policy = settings, policy
        self.schedule = schedule or SupernetSchedule()
        self.probe = HessianProbe(settings.hessian_every, settings.hessian_method, settings.hessian_iterations)

    def start(self, problem: Problem, rng: np.random.Generator, log: SearchLog,
              make_distribution: Callable[[SearchMember], ArchDistribution]) -> SearchMember:
        """A member for ``problem``: data, supernet runtime and distribution, each from its own
        random stream of a seed drawn from ``rng``."""
        from spaces.datasets import dataset_info
        from spaces.search_data import SearchData

        s = self.settings
        streams = Streams(int(rng.integers(2**63 - 1)))
        device = resolve_device(problem.device)
        data = SearchData(problem.dataset, streams, s.batch_size, s.image_size, s.per_class, s.split_file,
                          problem.data_dir, device)
        return self.member(problem.space, streams, device, dataset_info(problem.dataset).num_classes, data.n_valid,
                           make_distribution, data=data, log=log, store=CheckpointStore(problem.checkpoint_path),
                           on_epoch=problem.epoch_callback)

    def member(self, space: Any, streams: Streams, device: Any, num_classes: int, n_valid: int,
               make_distribution: Callable[[SearchMember], ArchDistribution], *, data: Any = None,
               log: SearchLog | None = None, store: CheckpointStore | None = None,
               on_epoch: Callable[[int], None] | None = None) -> SearchMember:
        """A member from its parts (:meth:`start` for a problem; a benchmark of single steps passes
        no data): the supernet from the ``supernet_init`` stream, the distribution's parameters from
        ``arch_init``; then the schedule and the policy set up what they keep."""
        supernet = self.schedule.build(space, self.settings, num_classes, streams.torch_generator("supernet_init"))
        member = SearchMember(space=space, settings=self.settings, streams=streams, data=data,
                              runtime=SupernetRuntime(supernet, space, self.settings, device),
                              log=log if log is not None else SearchLog(), store=store or CheckpointStore(None),
                              guard=FiniteLossGuard(), on_epoch=on_epoch)
        distribution = make_distribution(member)
        distribution.init(streams.torch_generator("arch_init"), device, n_valid, space.arch_shape,
                          getattr(space, "arch_mask", None))
        member.distribution = distribution
        self.schedule.after_setup(member)
        self.policy.setup(member)
        return member

    def run(self, members: list[SearchMember]) -> None:
        """Train every member from its checkpoint (if any) to the last epoch, in lockstep."""
        starts = {self.resume(member) for member in members}
        if len(starts) != 1:
            raise ValueError(f"the members of one batch resumed at different epochs ({sorted(starts)}); "
                             "resume them one by one")
        steps_per_epoch = members[0].data.steps_per_epoch
        total_steps = self.settings.epochs * steps_per_epoch
        for epoch in range(starts.pop(), self.settings.epochs):
            contexts = [LoopContext(self.settings, epoch, total_steps, steps_per_epoch, m.streams) for m in members]
            for member, ctx in zip(members, contexts):
                self.schedule.begin_epoch(member, ctx)
                member.distribution.begin_epoch(ctx)
            started = time.perf_counter()
            statistics = [EpochStatistics(m.runtime.device) for m in members]
            for step, batches in enumerate(zip(*(m.data.epoch(epoch) for m in members))):
                for member, ctx, stats, (train, valid) in zip(members, contexts, statistics, batches):
                    ctx.step = step
                    for group in member.runtime.w_opt.param_groups:
                        group["lr"] = ctx.w_lr
                    train_logits, valid_logits = self.policy.step(member, train, valid, ctx)
                    stats.add(train_logits, train[1], valid_logits, valid[1])
            for member, ctx, stats in zip(members, contexts, statistics):
                member.guard.flush()
                means = stats.means(steps_per_epoch)
                self.policy.end_epoch(member, ctx)
                self._finish_epoch(member, ctx, means, started)

    def _finish_epoch(self, member: SearchMember, ctx: LoopContext, stats: np.ndarray, started: float) -> None:
        """The trajectory row (with the probe when it is due), the checkpoint, the callback."""
        arch = member.derive()
        row = {"epoch": ctx.epoch + 1, "genotype": arch.to_str(), "skip_connections": member.space.skip_connections(arch),
               "train_loss": stats[0], "train_acc": 100 * stats[1], "valid_loss": stats[2], "valid_acc": 100 * stats[3],
               "w_lr": ctx.w_lr, "epoch_wall_s": time.perf_counter() - started, **member.distribution.describe()}
        if self.probe.due(ctx.epoch, self.settings.epochs):
            generator = member.streams.torch_generator("hessian_probe", ctx.epoch)
            device = member.runtime.device
            row.update(self.probe.measure(
                lambda: self.policy.probe_loss(member, _to(member.data.fixed_valid_batch(), device)), generator))
        member.log.row(**row)
        member.store.save(self.checkpoint_state(member, ctx.epoch + 1))
        if member.on_epoch is not None:
            member.on_epoch(ctx.epoch + 1)

    @staticmethod
    def checkpoint_state(member: SearchMember, epoch: int) -> dict[str, Any]:
        """What a checkpoint holds after ``epoch`` epochs."""
        return {"epoch": epoch, "supernet": member.runtime.supernet.state_dict(),
                "distribution": member.distribution.state_dict(), "w_opt": member.runtime.w_opt.state_dict(),
                "trajectory": list(member.log.rows)}

    def resume(self, member: SearchMember) -> int:
        """Load the member's checkpoint, if any; returns the number of epochs it had finished."""
        state = member.store.load(map_location=member.distribution.alpha.device)
        if state is None:
            return 0
        self.schedule.before_restore(member, state)
        member.runtime.supernet.load_state_dict(state["supernet"])
        member.distribution.load_state_dict(state["distribution"])
        member.runtime.w_opt.load_state_dict(state["w_opt"])
        member.log.rows[:] = state["trajectory"]
        return int(state["epoch"])


def _to(batch: tuple, device: Any) -> tuple:
    return tuple(t.to(device, non_blocking=True) for t in batch)
