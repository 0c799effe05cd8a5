"""What a strategy may see during a search: the space, a validation-only oracle, a budget.

The oracle is also where the budget is enforced and where every evaluation becomes a row of
the run's trajectory, so no strategy can overspend or forget to log.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from nas_core.splits import Split


@dataclass(frozen=True)
class Budget:
    """Search budget: benchmark queries and/or simulated training seconds (``None`` = unlimited)."""

    max_queries: int | None = None
    max_seconds: float | None = None

    def __post_init__(self) -> None:
        if self.max_queries is not None and (not isinstance(self.max_queries, int) or self.max_queries < 0):
            raise ValueError(f"budget.max_queries must be a non-negative integer, got {self.max_queries!r}")
        if self.max_seconds is not None and not (isinstance(self.max_seconds, (int, float)) and self.max_seconds > 0):
            raise ValueError(f"budget.max_seconds must be a positive number, got {self.max_seconds!r}")

    def as_dict(self) -> dict[str, Any]:
        return {"max_queries": self.max_queries, "max_seconds": self.max_seconds}


class BudgetExhausted(Exception):
    """The next evaluation would exceed the budget; the strategy should stop and recommend."""


@dataclass
class SearchLog:
    """Trajectory rows of one search (one per evaluation or epoch), stored in the run record."""

    rows: list[dict[str, Any]] = field(default_factory=list)

    def row(self, **fields: Any) -> None:
        self.rows.append(fields)


#: No run evaluates more cells than this, whatever its budget: a trajectory row per query must
#: stay bounded (a time budget of 1e12 simulated seconds would otherwise mean 1e8+ rows).
HARD_QUERY_CAP = 100_000


class TabularOracle:
    """Validation accuracy from a benchmark (a table or a surrogate), charged against the budget.

    Each call costs one query and, for queries at the benchmark's ``timed_epochs`` (NB201: 200,
    NB301: 98), the cell's tabulated (or predicted) training time in simulated seconds. A call that would exceed either limit, or :data:`HARD_QUERY_CAP`,
    raises :class:`BudgetExhausted` and costs nothing.
    """

    def __init__(self, table: Any, dataset: str, epochs: int, budget: Budget, log: SearchLog) -> None:
        self._table = table
        self.dataset = dataset
        self.epochs = epochs
        self.budget = budget
        self._log = log
        self._timed = epochs == getattr(table, "timed_epochs", 200)
        self.n_queries = 0
        self.simulated_seconds = 0.0
        self.incumbent: Any = None
        self.incumbent_valid = -math.inf

    def evaluate(self, arch: Any) -> float:
        """Validation accuracy (%) of ``arch``; the test split is not reachable from here."""
        if self.budget.max_queries is not None and self.n_queries >= self.budget.max_queries:
            raise BudgetExhausted(f"query budget of {self.budget.max_queries} spent")
        if self.n_queries >= HARD_QUERY_CAP:
            raise BudgetExhausted(f"the hard cap of {HARD_QUERY_CAP} queries per run was reached")
        seconds = self._table.train_time(arch, self.dataset) if self._timed else 0.0
        if self.budget.max_seconds is not None and self.simulated_seconds + seconds > self.budget.max_seconds:
            raise BudgetExhausted(f"time budget of {self.budget.max_seconds} simulated seconds spent")
        valid = self._table.query(arch, self.dataset, Split.VALID, self.epochs)
        self.n_queries += 1
        self.simulated_seconds += seconds
        if valid > self.incumbent_valid:
            self.incumbent, self.incumbent_valid = arch, valid
        self._log.row(
            step=self.n_queries,
            arch=arch.to_str(),
            valid_acc=valid,
            simulated_time_s=self.simulated_seconds if self._timed else None,
            incumbent=self.incumbent.to_str(),
            incumbent_valid_acc=self.incumbent_valid,
        )
        return valid


@dataclass
class Problem:
    """Everything a strategy may use. Test accuracies are deliberately absent."""

    space: Any
    dataset: str
    budget: Budget
    oracle: TabularOracle | None = None
    loaders: Any = None
    device: str = "auto"
    #: where image data is, for strategies that need images (proxies, supernets)
    data_dir: str | None = None
    #: one-shot strategies checkpoint here every epoch and resume from it when it exists
    checkpoint_path: Any = None
    #: called with the finished epoch number (progress reports; tests interrupt runs with it)
    epoch_callback: Any = None
