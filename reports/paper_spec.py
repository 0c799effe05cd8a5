"""The paper's tables and figures as data (``reports/paper_tables.toml``), read into typed values.

Why: the report code knows layouts, never names. Which strategy, hyperparameters, pick and space
reproduce which published row is a fact about the paper, kept in one data file beside the
published figures (``published.csv``); a strategy or space added later appears in the tables by
a line there, not by an edit of the reports. The file is checked when read: a wrong field is a
:class:`PaperSpecError` naming the table, the row and the field.
"""
from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from reports.published import published_figures

SPEC_FILE = Path(__file__).resolve().parent / "paper_tables.toml"
LAYOUTS = ("accuracy", "cost")
POPULATION_ROWS = ("mean", "optimal")
ROW_FIELDS = {"name", "published", "strategy", "where", "selection", "transfer", "split", "absent", "population",
              "compare", "compare_strategy"}
TABLE_FIELDS = {"title", "space", "layout", "datasets", "splits", "notes", "measure", "rows", "population_note"}
DEFAULT_MEASURE = "Accuracy (%) of the final cell at 200 epochs"


class PaperSpecError(ValueError):
    """``paper_tables.toml`` says something the reports cannot build; the message names where."""


@dataclass(frozen=True)
class RowSpec:
    """One row of a paper table (the field meanings are in ``paper_tables.toml``'s header)."""

    name: str
    published: str | None = None
    strategy: str | None = None
    where: Mapping[str, Any] = field(default_factory=dict)
    selection: str | None = None
    transfer: bool = True
    split: bool = False
    absent: str | None = None
    population: str | None = None
    compare: str | None = None
    compare_strategy: str | None = None

    def runs(self, runs: pd.DataFrame) -> pd.DataFrame:
        """The rows of ``runs`` (:func:`reports.paper.load_results`) this row measures."""
        if self.strategy is None or runs.empty:
            return runs.iloc[0:0]
        group = runs[runs["strategy"] == self.strategy]
        if self.selection is None:  # each run's own final cell, not the extra picks of a BaLeNAS-TF search
            group = group[group["selection"].isna() | (group["selection"] == "argmax_mu")]
        else:
            group = group[group["selection"] == self.selection]
        if self.where:
            keep = [matches(self.where, self.strategy, hp) for hp in group["hyperparameter_values"]]
            group = group[pd.Series(keep, index=group.index, dtype=bool)]
        if not self.transfer:
            group = group[group["search_dataset"] == group["dataset"]]
        return group

    def reproduced_by(self, strategy: str, hyperparameters: Mapping[str, Any], selection: str | None) -> bool:
        """Whether a run (its own cell, or its pick ``selection``) reproduces this row's published figures."""
        if self.population is not None:
            return self.compare_strategy == strategy
        own = selection in (None, "argmax_mu")
        return (self.strategy == strategy and (own if self.selection is None else selection == self.selection)
                and matches(self.where, strategy, hyperparameters))


@dataclass(frozen=True)
class TableSpec:
    key: str
    title: str
    space: str
    layout: str
    rows: tuple[RowSpec, ...]
    datasets: tuple[str, ...] = ()
    splits: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    measure: str = DEFAULT_MEASURE
    population_note: str | None = None

    @property
    def columns(self) -> list[tuple[str, str]]:
        return [(d, s) for d in self.datasets for s in self.splits]

    @property
    def short_title(self) -> str:
        """"Table 1", the part of the title before its colon (the experiment tables' "(Table 1)")."""
        return self.title.split(":", 1)[0]

    def published(self, row: RowSpec) -> dict[tuple[str, str], tuple[float, float | None]]:
        return published_figures(self.key, row.published) if row.published else {}


@dataclass(frozen=True)
class PaperSpec:
    tables: Mapping[str, TableSpec]
    compare_order: tuple[str, ...]
    figures: Mapping[str, Any]

    def published_row_of(self, space: str, strategy: str, hyperparameters: Mapping[str, Any],
                         selection: str | None) -> tuple[str, dict[str, tuple[tuple[float, float | None], ...]]] | None:
        """The published row a run of ``space`` reproduces, as ``("<name> (Table N)", {dataset: (valid, test)})``
        with ``(nan, None)`` for a split the paper did not publish; the first table of
        ``compare_order`` with a matching row wins."""
        for key in self.compare_order:
            table = self.tables[key]
            if table.space != space:
                continue
            for row in table.rows:
                if row.published and row.reproduced_by(strategy, hyperparameters, selection):
                    figures = table.published(row)
                    datasets = dict.fromkeys(d for d, _ in figures)
                    values = {d: tuple(figures.get((d, s), (math.nan, None)) for s in ("valid", "test")) for d in datasets}
                    return f"{row.compare or row.published} ({table.short_title})", values
        return None

    def published_optimal(self, space: str) -> dict[str, tuple[float, float]] | None:
        """The paper's best-architecture figures ``{dataset: (valid, test)}`` for ``space``, if it published any."""
        for key in self.compare_order:
            table = self.tables[key]
            for row in table.rows:
                if table.space == space and row.population == "optimal" and row.published:
                    figures = table.published(row)
                    return {d: (figures[(d, "valid")][0], figures[(d, "test")][0])
                            for d in dict.fromkeys(d for d, _ in figures)}
        return None


def matches(where: Mapping[str, Any], strategy: str, hyperparameters: Mapping[str, Any]) -> bool:
    """Whether ``hyperparameters`` hold the values of ``where``; a value a record leaves out is the
    registered strategy's default (unknown when the strategy is not registered: no match)."""
    if not where:
        return True
    defaults = _defaults(strategy)
    return all(hyperparameters.get(key, defaults.get(key, _ABSENT)) == value for key, value in where.items())


_ABSENT = object()
#: registered strategies' hyperparameter defaults (a strategy not registered yet is looked up again later)
_DEFAULTS: dict[str, dict[str, Any]] = {}


def _defaults(strategy: str) -> dict[str, Any]:
    if strategy not in _DEFAULTS:
        from strategies import registry
        from strategies.base import hyperparameter_defaults

        try:
            _DEFAULTS[strategy] = hyperparameter_defaults(registry.get(strategy))
        except KeyError:
            return {}
    return _DEFAULTS[strategy]


def _row(raw: Any, where: str) -> RowSpec:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise PaperSpecError(f"{where}: a row is a table with a string `name`")
    unknown = sorted(set(raw) - ROW_FIELDS)
    if unknown:
        raise PaperSpecError(f"{where} ({raw['name']!r}): unknown field(s) {unknown}; known: {sorted(ROW_FIELDS)}")
    population = raw.get("population")
    if population is not None and population not in POPULATION_ROWS:
        raise PaperSpecError(f"{where} ({raw['name']!r}): population is one of {list(POPULATION_ROWS)}")
    if (population is None) == (raw.get("strategy") is None):
        raise PaperSpecError(f"{where} ({raw['name']!r}): a row has either a `strategy` (runs) or a `population`")
    return RowSpec(**{**raw, "where": dict(raw.get("where") or {})})


def _table(key: str, raw: Any, source: Path) -> TableSpec:
    where = f"{source}: tables.{key}"
    if not isinstance(raw, dict):
        raise PaperSpecError(f"{where} is not a table")
    unknown = sorted(set(raw) - TABLE_FIELDS)
    missing = [f for f in ("title", "space", "layout", "rows") if f not in raw]
    if unknown or missing:
        raise PaperSpecError(f"{where}: unknown field(s) {unknown}, missing {missing}")
    if raw["layout"] not in LAYOUTS:
        raise PaperSpecError(f"{where}.layout {raw['layout']!r} is not one of {list(LAYOUTS)}")
    rows = tuple(_row(row, f"{where}.rows[{i}]") for i, row in enumerate(raw["rows"]))
    return TableSpec(key=key, title=raw["title"], space=raw["space"], layout=raw["layout"], rows=rows,
                     datasets=tuple(raw.get("datasets", ())), splits=tuple(raw.get("splits", ())),
                     notes=tuple(raw.get("notes", ())), measure=raw.get("measure", DEFAULT_MEASURE),
                     population_note=raw.get("population_note"))


@lru_cache(maxsize=4)
def load_spec(path: Path = SPEC_FILE) -> PaperSpec:
    """The tables and figures of ``path`` (default: the BaLeNAS paper's), checked."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PaperSpecError(f"{path}: cannot read the paper's tables ({exc})") from None
    tables = {key: _table(key, value, Path(path)) for key, value in (raw.get("tables") or {}).items()}
    order = tuple(raw.get("compare_order", ()))
    unknown = [key for key in order if key not in tables]
    if unknown:
        raise PaperSpecError(f"{path}: compare_order names {unknown}, which are not tables")
    return PaperSpec(tables, order, raw.get("figures") or {})
