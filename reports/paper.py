"""The BaLeNAS paper's Tables 1-5, built from run records only, as Markdown and LaTeX.

Why one module: every table has the same anatomy, so one :class:`PaperTable` value carries
it and two renderers print it. A row is a method with its measured mean ± std over seeds per
column (a column is a dataset and a split). It may have a published pair from
``reports/published.csv``, which adds the published figure and the difference (measured −
published) beside every measured cell. Rows also say their scale and how many seeds they
average. A missing cell prints "–" and gets a footnote; it is never printed as 0.

Which rows a table has, which runs fill each and which space it is about are data
(``reports/paper_tables.toml``, read by :mod:`reports.paper_spec`); this module knows two layouts:

* **accuracy** (Tables 1, 2, 4, 5): rows × datasets × splits. Population rows ("Random
  baseline": mean ± std of *every* architecture of a complete benchmark table, distinct from
  the random-pick runs; "optimal": its best) come from the space's
  :meth:`~spaces.base.SearchSpace.population`.
* **cost** (Table 3, the DARTS space): surrogate-predicted accuracy of the found genotype, its
  evaluation-network parameters and the measured search cost, beside the published test
  accuracy (100 − the published 600-epoch test error), parameters and GPU cost. Only the
  parameters are the same measure on both sides, so only they get a Δ.

Determinism: rows are ordered by fixed keys, numbers are rounded to 2 decimals, and nothing
depends on time or file order, so the same records give byte-identical output.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from reports.load import load_runs
from reports.paper_spec import RowSpec, TableSpec, load_spec

TITLES = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100", "ImageNet16-120": "ImageNet16-120"}
Stat = tuple[float, float]  # (mean, std)


@dataclass
class PaperRow:
    name: str
    scale: str  # "table" (benchmark lookups), "cpu", "smoke", "paper", or "" for figures not from runs
    seeds: int
    measured: dict[tuple[str, str], Stat] = field(default_factory=dict)
    published: dict[tuple[str, str], Stat] = field(default_factory=dict)
    seed_ids: tuple[int, ...] = ()
    experiments: tuple[str, ...] = ()
    code_versions: tuple[str, ...] = ()


@dataclass
class PaperTable:
    key: str
    title: str
    columns: list[tuple[str, str]]  # (dataset, split)
    rows: list[PaperRow]
    notes: list[str] = field(default_factory=list)
    #: column headings where a column is not a (dataset, split) accuracy (Table 3)
    titles: dict[tuple[str, str], str] = field(default_factory=dict)
    #: the columns that get a Δ (None: every column with a published figure)
    delta: frozenset[tuple[str, str]] | None = None
    measure: str = "Accuracy (%) of the final cell at 200 epochs"

    def title_of(self, column: tuple[str, str]) -> str:
        return self.titles.get(column) or f"{TITLES.get(column[0], column[0])} {column[1]}"

    def caption(self, with_published: bool) -> str:
        seeds = sorted({seed for row in self.rows for seed in row.seed_ids})
        scales = sorted({row.scale for row in self.rows if row.scale})
        experiments = sorted({e for row in self.rows for e in row.experiments})
        text = (f"{self.title}, from the run records of {', '.join(experiments) or 'no experiment'}. "
                f"{self.measure}, mean ± std over seeds "
                f"(population std, ddof = 0); seeds {', '.join(map(str, seeds)) or '–'} (column 'seeds' counts them "
                f"per row); scales {', '.join(scales) or '–'} (column 'scale'); code version "
                f"{', '.join(sorted({v for row in self.rows for v in row.code_versions})) or 'unknown'}.")
        if with_published:
            text += " 'paper' is the published figure and Δ = measured − paper"
            text += "." if self.delta is None else " where both are the same measure."
        return text


# ---- building ---------------------------------------------------------------------------------------
def load_results(results_root: str | Path) -> pd.DataFrame:
    """Every experiment folder under ``results_root`` with run records, with ``experiment`` and
    ``hyperparameter_values`` (the decoded hyperparameters) added; finished runs only. The
    ``scale`` column is each record's own (:func:`nas_core.records.reported_scale`)."""
    frames = []
    for folder in sorted(p for p in Path(results_root).iterdir() if p.is_dir()):
        runs = load_runs(folder)
        if runs.empty:
            continue
        runs = runs[runs["status"] == "done"].copy()
        runs["experiment"] = folder.name
        frames.append(runs)
    if not frames:
        return pd.DataFrame(columns=["experiment"])
    runs = pd.concat(frames, ignore_index=True)
    # an experiment may copy another's records (reuse_from): count each run once
    runs = runs.drop_duplicates(subset=["run_id", "dataset", "selection", "label"], keep="first").reset_index(drop=True)
    runs["hyperparameter_values"] = [h if isinstance(h := json.loads(text), dict) else {}
                                     for text in runs["hyperparameters"]]
    return runs


def _stat(values: pd.Series) -> Stat:
    values = values.dropna().astype(float)
    return (float(values.mean()), float(values.std(ddof=0))) if len(values) else (math.nan, math.nan)


def _measured_row(name: str, group: pd.DataFrame, columns: list[tuple[str, str]], published: dict | None = None) -> PaperRow:
    measured = {}
    for dataset, split in columns:
        sub = group[group["dataset"] == dataset]
        if len(sub):
            measured[(dataset, split)] = _stat(sub[f"{split}_acc"])
    scales = sorted(set(group["scale"]))
    return PaperRow(name, "/".join(scales), int(group.groupby("dataset")["seed"].nunique().max()), measured,
                    published or {}, tuple(sorted(int(s) for s in set(group["seed"]))),
                    tuple(sorted(set(group["experiment"]))), tuple(sorted(set(group["code_version"]))))


def _stats(figures: dict[tuple[str, str], tuple[float, float | None]]) -> dict[tuple[str, str], Stat]:
    """Published ``(mean, std or None)`` as the table's stats (an unpublished std is NaN)."""
    return {column: (mean, math.nan if std is None else std) for column, (mean, std) in figures.items()}


def _population_row(table: TableSpec, row: RowSpec, population: dict[str, tuple[np.ndarray, np.ndarray]]) -> PaperRow:
    """A row of every architecture of the benchmark: mean ± std, or the best ("optimal", no std)."""
    measured = {}
    for dataset, (valid, test) in population.items():
        for split, values in (("valid", valid), ("test", test)):
            if (dataset, split) in table.columns:
                measured[(dataset, split)] = (float(values.mean()), float(values.std())) if row.population == "mean" \
                    else (float(values.max()), math.nan)
    published = table.published(row)
    if row.population == "optimal":  # the paper's best cell has no std
        published = {column: (mean, None) for column, (mean, _) in published.items()}
    return PaperRow(row.name, "table", 0, measured, _stats(published))


def accuracy_table(table: TableSpec, runs: pd.DataFrame,
                   population: dict[str, tuple[np.ndarray, np.ndarray]] | None) -> PaperTable:
    """Rows of measured accuracies per (dataset, split), each beside its published figures."""
    columns = table.columns
    rows: list[PaperRow] = []
    notes: list[str] = []
    for row in table.rows:
        published = _stats(table.published(row))
        if row.population is not None:
            if population:
                rows.append(_population_row(table, row, population))
            elif table.population_note and table.population_note not in notes:
                notes.append(table.population_note)
            continue
        group = row.runs(runs)
        experiments = sorted(set(group["experiment"])) if row.split else ([None] if len(group) else [])
        for experiment in experiments:  # runs of different experiments (budgets, scales) are never pooled
            part = group if experiment is None else group[group["experiment"] == experiment]
            label = row.name if len(experiments) == 1 else f"{row.name} [{experiment}]"
            rows.append(_measured_row(label, part, columns, published))
        if not experiments and published:
            rows.append(PaperRow(row.absent or row.name, "", 0, {}, published))
    return PaperTable(table.key, table.title, columns, rows, notes + list(table.notes), measure=table.measure)


#: the cost layout's columns: the surrogate's accuracy, the evaluation network's parameters, the search cost
COST_COLUMNS = [("cifar10", "acc"), ("params", "M"), ("cost", "hours")]


def _published_cost(figures: dict[tuple[str, str], tuple[float, float | None]]) -> dict[tuple[str, str], Stat]:
    """The paper's test error (%), parameters (M) and GPU-days in the cost layout's units."""
    published = {}
    if ("cifar10", "test_error") in figures:
        error, std = figures[("cifar10", "test_error")]
        published[("cifar10", "acc")] = (100.0 - error, math.nan if std is None else std)
    if ("params", "M") in figures:
        published[("params", "M")] = (figures[("params", "M")][0], math.nan)
    if ("cost", "gpu_days") in figures:
        published[("cost", "hours")] = (24.0 * figures[("cost", "gpu_days")][0], math.nan)
    return published


def cost_table(table: TableSpec, runs: pd.DataFrame) -> PaperTable:
    """Table 3's layout: surrogate-predicted accuracy of the found genotype, its parameters and the
    measured search cost, beside the published test accuracy (100 − error), parameters and GPU
    cost; only the parameters are the same measure on both sides, so only they get a Δ."""
    rows = []
    for spec in table.rows:
        group = spec.runs(runs)
        published = _published_cost(table.published(spec))
        experiments = sorted(set(group["experiment"]))
        if not experiments and published:
            rows.append(PaperRow(spec.name, "", 0, {}, published))
        for experiment in experiments:
            part = group[group["experiment"] == experiment]
            row = _measured_row(spec.name, part, [], published)
            row.measured = {("cifar10", "acc"): _stat(part["valid_acc"]), ("params", "M"): _stat(part["params_M"]),
                            ("cost", "hours"): _stat(part["search_wall_time_s"].astype(float) / 3600.0)}
            rows.append(row)
    return PaperTable(table.key, table.title, COST_COLUMNS, rows, list(table.notes),
                      titles={("cifar10", "acc"): "CIFAR-10 acc. (%)", ("params", "M"): "Params (M)",
                              ("cost", "hours"): "Search cost (h)"},
                      delta=frozenset({("params", "M")}), measure=table.measure)


def table_names() -> list[str]:
    """The paper's tables, in the data file's order."""
    return list(load_spec().tables)


def finished_runs(results_root: str | Path) -> pd.DataFrame:
    """:func:`load_results`, or a clear error when there is nothing to report."""
    results_root = Path(results_root)
    if not results_root.is_dir():
        raise FileNotFoundError(f"no results folder {results_root}; run `nas-harness run <config>` first")
    runs = load_results(results_root)
    if runs.empty or "strategy" not in runs:
        raise FileNotFoundError(f"no finished run records under {results_root}; run `nas-harness run <config>` first")
    return runs


def population_of(space_name: str, datasets: list[str], data_dir: str | None) -> dict[str, Any] | None:
    """Every architecture's valid/test accuracy per dataset where the space's benchmark is a
    complete table (the "all cells" and "optimal" rows); ``None`` otherwise or without its data."""
    from nas_core.paths import DataNotFoundError
    from spaces import get_space

    try:
        return get_space(space_name).population(datasets, data_dir)
    except (DataNotFoundError, FileNotFoundError, KeyError):
        return None


def build(names: list[str], results_root: str | Path, data_dir: str | None = None,
          runs: pd.DataFrame | None = None) -> list[PaperTable]:
    """The named tables from the records under ``results_root`` (or from ``runs`` already loaded);
    each table sees only the runs of its own space."""
    spec = load_spec()
    runs = finished_runs(results_root) if runs is None else runs
    tables = []
    for name in names:
        if name not in spec.tables:
            raise ValueError(f"unknown table {name!r}; available: {sorted(spec.tables)}")
        table = spec.tables[name]
        space_runs = runs[runs["space"] == table.space]
        if table.layout == "cost":
            tables.append(cost_table(table, space_runs))
        else:
            wants_population = any(row.population for row in table.rows)
            population = population_of(table.space, list(table.datasets), data_dir) if wants_population else None
            tables.append(accuracy_table(table, space_runs, population))
    return tables


# ---- rendering ----------------------------------------------------------------------------------------
def _num(value: float) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:.2f}"


def _cell(stat: Stat | None) -> str:
    if stat is None or math.isnan(stat[0]):
        return "–"
    return _num(stat[0]) if math.isnan(stat[1]) else f"{stat[0]:.2f} ± {stat[1]:.2f}"


def _diff(row: PaperRow, column: tuple[str, str], table: PaperTable | None = None) -> str:
    if table is not None and table.delta is not None and column not in table.delta:
        return "–"
    ours, paper = row.measured.get(column), row.published.get(column)
    if ours is None or paper is None or math.isnan(ours[0]) or math.isnan(paper[0]):
        return "–"
    return f"{ours[0] - paper[0]:+.2f}"


def _grid(table: PaperTable, with_published: bool) -> tuple[list[str], list[list[str]], list[str]]:
    """Header, body and footnotes shared by both renderers."""
    header = ["Method", "scale", "seeds"]
    for column in table.columns:
        label = table.title_of(column)
        header += [label, "paper", "Δ"] if with_published else [label]
    body, missing = [], False
    for row in table.rows:
        cells = [row.name, row.scale or "–", str(row.seeds) if row.seeds else "–"]
        for column in table.columns:
            ours = row.measured.get(column)
            missing |= ours is None or math.isnan(ours[0])
            missing |= with_published and row.published.get(column) is None  # an empty 'paper' cell is explained too
            cells.append(_cell(ours))
            if with_published:
                cells += [_cell(row.published.get(column)), _diff(row, column, table)]
        body.append(cells)
    notes = list(table.notes)
    if missing:
        notes.append("– : no finished run of this method has this cell (or nothing was published for it); "
                     "it is left empty, never counted as 0.")
    return header, body, notes


def to_markdown(table: PaperTable, with_published: bool = True) -> str:
    from tabulate import tabulate

    header, body, notes = _grid(table, with_published)
    text = [f"### {table.title}", "", tabulate(body, header, tablefmt="github", disable_numparse=True), "",
            table.caption(with_published)]
    text += [f"\n{note}" for note in notes]
    return "\n".join(text) + "\n"


def _tex(text: str) -> str:
    for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"), ("#", r"\#"),
                 ("±", r"$\pm$"), ("Δ", r"$\Delta$"), ("−", "--")):
        text = text.replace(a, b)
    return text


def to_latex(table: PaperTable, with_published: bool = True) -> str:
    """booktabs; one block per dataset (Method, scale, seeds, then that dataset's columns), so a
    table with published columns stays readable at the page's width."""
    header, body, notes = _grid(table, with_published)
    per = 3 if with_published else 1
    caption = table.caption(with_published).split(": ", 1)[-1]  # LaTeX numbers the table itself
    lines = [r"\begin{table}[H]", r"\centering", r"\scriptsize", rf"\caption{{{_tex(caption)}}}",
             rf"\label{{tab:{table.key}}}"]
    datasets = list(dict.fromkeys(d for d, _ in table.columns))
    blocks = [list(range(len(table.columns)))] if table.titles else \
        [[i for i, (d, _) in enumerate(table.columns) if d == dataset] for dataset in datasets]
    for indices in blocks:
        spec = "lcc" + "c" * per * len(indices)
        groups = " & ".join(rf"\multicolumn{{{per}}}{{c}}{{{_tex(table.title_of(table.columns[i]))}}}"
                            for i in indices)
        lines += [r"\resizebox{\linewidth}{!}{%", rf"\begin{{tabular}}{{{spec}}}", r"\toprule",
                  rf"Method & scale & seeds & {groups} \\"]
        if with_published:
            lines.append(" & & & " + " & ".join("ours & paper & $\\Delta$" for _ in indices) + r" \\")
        lines.append(r"\midrule")
        for cells in body:
            picked = cells[:3] + [c for i in indices for c in cells[3 + per * i : 3 + per * (i + 1)]]
            lines.append(" & ".join(_tex(c) for c in picked) + r" \\")
        lines += [r"\bottomrule", r"\end{tabular}}", r"\par\medskip"]
    lines += [rf"\parbox{{\textwidth}}{{\footnotesize {_tex(note)}}}\par" for note in notes]
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"
