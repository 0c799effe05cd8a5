"""BaLeNAS (Zhang et al.; ALGORITHMS.md, "BaLeNAS"; paper Sec. 3.2, Eqs. 12-19, Algorithm 1).

The architecture parameters become a diagonal Gaussian q(alpha) = N(mu, sigma^2), learned by
the Bayesian learning rule in its Variational Adam form (:class:`strategies.vadam.Vadam`):
each architecture step draws M samples theta = mu + sigma eps from the run's ``arch_noise``
stream, takes the architecture gradient at each -- first order: grad_alpha L_val(w, theta);
second order: DARTS's unrolled gradient at theta (:mod:`strategies.unrolled`) -- and applies the
Vadam update to mu and s (sigma^2 = 1/(N s + delta), N = number of search-valid images).
Everything else is DARTS: the same supernet, the weight step with softmax(mu), the same step
order (1st: weight step, then architecture step; 2nd: architecture step first). Algorithm 1
lists the architecture step first for both orders; ``arch_first = true`` gives that order to
the first-order variant (default false, so that sigma = 0 reduces BaLeNAS to DARTS exactly).

Final cell: argmax mu per edge, ``none`` included. The trajectory adds sigma (mean, min, max,
and the full matrix) to DARTS's fields; the Hessian probe runs at mu (Eq. 19, Fig. 3).

BaLeNAS-TF (:mod:`strategies.tf_selection`): after the search the same run draws
``tf_draws`` cells from q and keeps, for every proxy in ``tf_proxies`` and every K in ``tf_k``,
the best-scored cell among the first K draws, so one search serves the argmax-mu row and every
(proxy, K) row. ``select`` names the cell the run returns as its final answer.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nas_core.problem import Problem
from nas_core.records import SearchResult
from spaces.base import ProxyNetworks
from strategies.distributions import ArchDistribution, EdgeWeights
from strategies.loop_settings import LoopSettings
from strategies.oneshot import LoopContext, OneShotStrategy
from strategies.oneshot_loop import SearchMember
from strategies.registry import register

DEFAULT_PROXIES = ["synflow", "snip", "grasp"]
DEFAULT_K = [10, 50, 100]


class GaussianDistribution(ArchDistribution):
    """q = N(mu, sigma^2) under Vadam. Edge weights are softmax of the parameter's current value:
    mu for the weight step and diagnostics, a sample theta while Vadam evaluates its closure."""

    def __init__(self, lr: float, prior_precision: float, prec_init: float, samples: int, noise_scale: float) -> None:
        super().__init__(samples)
        self.lr, self.prior_precision, self.prec_init, self.noise_scale = lr, prior_precision, prec_init, noise_scale

    def make_optimizer(self) -> Any:
        from strategies.vadam import Vadam

        return Vadam(self.params, dataset_size=self.n_valid, lr=self.lr, betas=(0.5, 0.999),
                     prior_precision=self.prior_precision, prec_init=self.prec_init, samples=self.samples,
                     noise_scale=self.noise_scale)

    def begin_epoch(self, ctx: LoopContext) -> None:
        super().begin_epoch(ctx)
        self.optimizer.set_generator(self.noise)

    def edge_weights(self, ctx: LoopContext, purpose: str) -> EdgeWeights:
        return self.expected_weights(), None

    def arch_step(self, ctx: LoopContext, closure: Any) -> Any:
        """Vadam draws the M samples itself; the closure's gradient goes into ``mu.grad`` at each."""
        logits: list[Any] = []

        def at_sample() -> None:
            grads, sample_logits = closure()
            for param, grad in zip(self.params, grads):
                param.grad = grad
            logits[:] = [sample_logits]

        self.optimizer.step(at_sample)
        return logits[0]

    @property
    def sigma(self) -> Any:
        return self.optimizer.sigma(self.alpha)

    def describe(self) -> dict[str, Any]:
        sigma = self.sigma.detach()
        sigma = (sigma if self.mask is None else sigma[self.mask]).cpu()  # padded entries are not architecture
        return {**super().describe(), "sigma": sigma.tolist(), "sigma_mean": float(sigma.mean()),
                "sigma_min": float(sigma.min()), "sigma_max": float(sigma.max())}


@dataclass(frozen=True)
class BaLeNASSettings(LoopSettings):
    """The loop's settings plus Vadam's (checked by :func:`strategies.vadam_options.check_vadam_options`)
    and BaLeNAS-TF's selection (:func:`strategies.tf_selection.check_selection_options`)."""

    samples: int = 3
    prior_precision: float = 1.0
    prec_init: float = 1.0
    noise_scale: float = 1.0
    #: first order only: Algorithm 1's order (architecture step first); default off, so that
    #: sigma = 0 reduces BaLeNAS (1st) to DARTS (1st) exactly
    arch_first: bool = False
    tf_proxies: list[str] = field(default_factory=lambda: list(DEFAULT_PROXIES))
    tf_draws: int = 100
    tf_k: list[int] = field(default_factory=lambda: list(DEFAULT_K))
    select: str = "argmax_mu"

    def __post_init__(self) -> None:
        from strategies.tf_selection import check_selection_options
        from strategies.vadam_options import check_vadam_options

        super().__post_init__()
        check_vadam_options(self.samples, self.prior_precision, self.prec_init, self.noise_scale)
        check_selection_options(self.tf_proxies, self.tf_draws, self.tf_k, self.select)


@dataclass(frozen=True)
class BaLeNASTFSettings(BaLeNASSettings):
    select: str = "synflow@100"


class _BaLeNAS(OneShotStrategy):
    settings_type = BaLeNASSettings

    def __init__(self, **options: Any) -> None:
        if options.get("arch_first") and self.order == 2:
            raise ValueError("arch_first applies to the first-order variant; the second order always steps alpha first")
        super().__init__(**options)

    def required_capabilities(self) -> tuple:
        """BaLeNAS-TF's picks score cells on the space's proxy network: needed only when there are any."""
        extra = (ProxyNetworks,) if self.settings.tf_proxies else ()
        return (*super().required_capabilities(), *extra)

    def make_distribution(self) -> ArchDistribution:
        s = self.settings
        return GaussianDistribution(s.a_lr, s.prior_precision, s.prec_init, s.samples, s.noise_scale)

    def after_search(self, problem: Problem, member: SearchMember) -> SearchResult:
        """BaLeNAS-TF: draw cells from q and select per (proxy, K), the table sealed meanwhile; the
        ``select``ed cell is the result, with every other pick of the same search (argmax-mu and
        each (proxy, K)) and the selection's draws and scores, for the record."""
        from strategies.tf_selection import select_from_distribution

        s, dist = self.settings, member.distribution
        selection = select_from_distribution(
            dist.alpha.detach().cpu(), dist.sigma.detach().cpu(), member.streams.torch_generator("selection"),
            s.tf_draws, s.tf_proxies, s.tf_k, problem.dataset, problem.space, problem.data_dir)
        picks = {"argmax_mu": member.derive(), **selection.chosen}
        return SearchResult(picks[s.select], picks=picks, details=selection.as_record(),
                            runtime=member.runtime.provenance())


@register("balenas_v1")
class BaLeNASFirstOrder(_BaLeNAS):
    """BaLeNAS with the first-order architecture gradient at each sample."""

    display_name = "BaLeNAS (1st)"

    order = 1


@register("balenas_v2")
class BaLeNASSecondOrder(_BaLeNAS):
    """BaLeNAS with DARTS's unrolled (second-order) gradient at each sample."""

    display_name = "BaLeNAS (2nd)"

    order = 2


@register("balenas_tf")
class BaLeNASTF(BaLeNASSecondOrder):
    """BaLeNAS-TF: BaLeNAS (2nd) returning the synflow pick of K = 100 draws (paper Table 1)."""

    display_name = "BaLeNAS-TF"

    settings_type = BaLeNASTFSettings
