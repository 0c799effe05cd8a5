"""The BaLeNAS paper's Tables 1, 2, 4 and 5, built from run records only, as Markdown and LaTeX.

Why one module: every table has the same anatomy, so one :class:`PaperTable` value carries
it and two renderers print it. A row is a method with its measured mean ± std over seeds per
column (a column is a dataset and a split). It may have a published pair from
``reports/published.csv``, which adds the published figure and the difference (measured −
published) beside every measured cell. Rows also say their scale and how many seeds they
average. A missing cell prints "–" and gets a footnote; it is never printed as 0.

Layouts:

* **Table 1**: strategies × {CIFAR-10, CIFAR-100, ImageNet16-120} × {valid, test}. It adds a
  "Random baseline" row (mean ± std of *every* cell in the benchmark table, distinct from the
  random-pick runs) and an "optimal" row (the table's best).
* **Table 2**: zero-cost NAS (synflow over K uniformly drawn cells) against BaLeNAS-TF (synflow
  over K cells drawn from q), by K; test accuracy.
* **Table 3**: the DARTS space (CIFAR-10 search): NAS-Bench-301 surrogate-predicted accuracy
  of the found genotype, its evaluation-network parameters and the measured search cost,
  beside the published test accuracy (100 − the published 600-epoch test error), parameters
  and GPU cost. Only the parameters are the same measure on both sides, so only they get a Δ.
* **Table 4**: BaLeNAS-TF per proxy × K.
* **Table 5**: BaLeNAS (2nd) with M Monte-Carlo samples.

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
from reports.published import PROXY_TITLE, TABLE1, TABLE1_OPTIMAL, TABLE2, TABLE3, TABLE4, TABLE5

DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
TITLES = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100", "ImageNet16-120": "ImageNet16-120"}
Stat = tuple[float, float]  # (mean, std)
ONE_SHOT_T1 = {"darts_v1": "DARTS (1st)", "darts_v2": "DARTS (2nd)", "gdas": "GDAS", "drnas": "DrNAS",
               "balenas_v1": "BaLeNAS (1st)", "balenas_v2": "BaLeNAS (2nd)"}
BLACK_BOX = {"random_pick": "Random pick (runs)", "random_search": "Random search", "rea": "REA",
             "bayesnas": "BayesNAS"}


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
        return self.titles.get(column) or f"{TITLES[column[0]]} {column[1]}"

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
def scale_of(experiment: str, strategy: str, space: str = "nb201") -> str:
    """The scale a row's runs used: black-box strategies read the table (NB201) or the surrogate
    (DARTS space) at any scale."""
    if strategy in ("random_pick", "random_search", "rea", "zero_cost"):
        return "table" if space == "nb201" else "surrogate"
    for scale in ("cpu", "smoke"):
        if experiment.endswith(f"_{scale}"):
            return scale
    return "paper"


def load_results(results_root: str | Path) -> pd.DataFrame:
    """Every experiment folder under ``results_root`` with run records, with ``experiment``,
    ``scale``, ``samples``, ``proxy`` and ``k`` columns added; finished runs only."""
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
    runs["scale"] = [scale_of(e, s, sp) for e, s, sp in zip(runs["experiment"], runs["strategy"], runs["space"])]
    hyper = [json.loads(h) for h in runs["hyperparameters"]]
    runs["samples"] = [h.get("samples", 3) if isinstance(h, dict) else 3 for h in hyper]
    runs["proxy"] = [h.get("proxy") if isinstance(h, dict) else None for h in hyper]
    runs["k"] = [h.get("k") if isinstance(h, dict) else None for h in hyper]
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


def _published(row: dict[str, tuple[Stat, Stat]] | None) -> dict[tuple[str, str], Stat]:
    if not row:
        return {}
    return {(d, split): pair[i] for d, pair in row.items() for i, split in enumerate(("valid", "test"))
            if not math.isnan(pair[i][0])}


def _argmax(runs: pd.DataFrame) -> pd.DataFrame:
    """Rows of each run's own final cell (not the extra BaLeNAS-TF selections)."""
    return runs[runs["selection"].isna() | (runs["selection"] == "argmax_mu")]


def table1(runs: pd.DataFrame, population: dict[str, tuple[np.ndarray, np.ndarray]] | None) -> PaperTable:
    columns = [(d, s) for d in DATASETS for s in ("valid", "test")]
    rows: list[PaperRow] = []
    notes = []
    if population:
        rows.append(PaperRow("Random baseline (all cells of the table)", "table", 0,
                             {(d, s): (float(v.mean()), float(v.std())) for d, (vv, tt) in population.items()
                              for s, v in (("valid", vv), ("test", tt)) if (d, s) in columns},
                             _published(TABLE1["Random baseline"])))
    else:
        notes.append("The random-baseline and optimal rows need the benchmark table, which was not found.")
    own = _argmax(runs)
    for strategy, name in {**BLACK_BOX, **ONE_SHOT_T1}.items():
        group = own[(own["strategy"] == strategy) & (own["samples"] == 3)] if strategy.startswith("balenas") else \
            own[own["strategy"] == strategy]
        if strategy in BLACK_BOX and strategy != "random_pick":
            group = group[group["search_dataset"] == group["dataset"]]
        experiments = sorted(set(group["experiment"]))
        for experiment in experiments:  # runs of different experiments (budgets, scales) are never pooled
            part = group[group["experiment"] == experiment]
            label = name if len(experiments) == 1 else f"{name} [{experiment}]"
            rows.append(_measured_row(label, part, columns, _published(TABLE1.get(name))))
        if not experiments and name in TABLE1:
            rows.append(PaperRow(name, "", 0, {}, _published(TABLE1[name])))
    tf = runs[(runs["selection"] == "synflow@100") & (runs["samples"] == 3) & (runs["strategy"] == "balenas_v2")]
    if len(tf):
        rows.append(_measured_row("BaLeNAS-TF (2nd order, synflow, K = 100)", tf, columns, _published(TABLE1["BaLeNAS-TF"])))
    else:
        rows.append(PaperRow("BaLeNAS-TF", "", 0, {}, _published(TABLE1["BaLeNAS-TF"])))
    if population:
        rows.append(PaperRow("Optimal (best cell of the table)", "table", 0,
                             {(d, s): (float(v.max()), math.nan) for d, (vv, tt) in population.items()
                              for s, v in (("valid", vv), ("test", tt)) if (d, s) in columns},
                             {(d, s): (pair[i], math.nan) for d, pair in TABLE1_OPTIMAL.items()
                              for i, s in enumerate(("valid", "test"))}))
    return PaperTable("table1", "Table 1: NAS-Bench-201, search on CIFAR-10", columns, rows, notes)


def table2(runs: pd.DataFrame) -> PaperTable:
    columns = [(d, "test") for d in DATASETS]
    rows = []
    for k in (10, 50, 100):
        zero = runs[(runs["strategy"] == "zero_cost") & (runs["proxy"] == "synflow") & (runs["k"] == k)]
        zero = zero[zero["search_dataset"] == zero["dataset"]]
        name = f"Zero-cost NAS({k})"
        published = {(d, "test"): v for d, v in TABLE2.get(name, {}).items()}
        rows.append(_measured_row(name, zero, columns, published) if len(zero) else PaperRow(name, "", 0, {}, published))
    for k in (10, 50, 100):
        tf = runs[(runs["selection"] == f"synflow@{k}") & (runs["samples"] == 3) & (runs["strategy"] == "balenas_v2")]
        name = f"BaLeNAS-TF({k})"
        published = {(d, "test"): v for d, v in TABLE2.get(name, {}).items()}
        rows.append(_measured_row(name, tf, columns, published) if len(tf) else PaperRow(name, "", 0, {}, published))
    return PaperTable("table2", "Table 2: zero-cost NAS against BaLeNAS-TF by sample size K (synflow)", columns, rows,
                      ["Zero-cost NAS scores K uniformly drawn cells per dataset; BaLeNAS-TF scores K cells drawn from "
                       "the learned q of a CIFAR-10 search (BaLeNAS (2nd), M = 3)."])


def table4(runs: pd.DataFrame) -> PaperTable:
    columns = [(d, s) for d in DATASETS for s in ("valid", "test")]
    rows = []
    for proxy in ("snip", "grasp", "synflow"):
        for k in (10, 50, 100):
            picks = runs[(runs["selection"] == f"{proxy}@{k}") & (runs["samples"] == 3) & (runs["strategy"] == "balenas_v2")]
            name = f"{PROXY_TITLE[proxy]}, K = {k}"
            published = _published(TABLE4.get((proxy, k)))
            rows.append(_measured_row(name, picks, columns, published) if len(picks) else PaperRow(name, "", 0, {}, published))
    return PaperTable("table4", "Table 4: BaLeNAS-TF with each training-free proxy and sample size K", columns, rows)


def table5(runs: pd.DataFrame) -> PaperTable:
    columns = [(d, s) for d in DATASETS for s in ("valid", "test")]
    rows = []
    own = _argmax(runs)
    for m in (1, 2, 3, 4):
        group = own[(own["strategy"] == "balenas_v2") & (own["samples"] == m)]
        name = f"BaLeNAS (2nd), M = {m}"
        published = _published(TABLE5.get(m))
        rows.append(_measured_row(name, group, columns, published) if len(group) else PaperRow(name, "", 0, {}, published))
    return PaperTable("table5", "Table 5: BaLeNAS (2nd) with M Monte-Carlo samples", columns, rows)


#: Table 3 rows: (published name, strategy, selection or None); BaLeNAS is the 2nd-order search, as in the paper
TABLE3_ROWS = (("RandomNAS", "random_search", None), ("REA", "rea", None), ("Zero-cost NAS(100)", "zero_cost", None),
               ("DARTS (1st)", "darts_v1", None), ("DARTS (2nd)", "darts_v2", None), ("GDAS", "gdas", None),
               ("DrNAS", "drnas", None), ("BayesNAS", "bayesnas", None), ("BaLeNAS (1st)", "balenas_v1", None),
               ("BaLeNAS", "balenas_v2", None), ("BaLeNAS-TF", "balenas_v2", "synflow@100"))
TABLE3_COLUMNS = [("cifar10", "acc"), ("params", "M"), ("cost", "hours")]


def table3(runs: pd.DataFrame) -> PaperTable:
    """Table 3 from the DARTS-space runs among ``runs``."""
    darts = runs[runs["space"] == "darts"]
    rows = []
    for name, strategy, selection in TABLE3_ROWS:
        group = darts[darts["strategy"] == strategy]
        group = _argmax(group) if selection is None else group[group["selection"] == selection]
        if strategy == "zero_cost":
            group = group[(group["proxy"] == "synflow") & (group["k"] == 100)]
        paper = TABLE3.get(name, {})
        published = {}
        if ("cifar10", "test_error") in paper:
            error, std = paper[("cifar10", "test_error")]
            published[("cifar10", "acc")] = (100.0 - error, math.nan if std is None else std)
        if ("params", "M") in paper:
            published[("params", "M")] = (paper[("params", "M")][0], math.nan)
        if ("cost", "gpu_days") in paper:
            published[("cost", "hours")] = (24.0 * paper[("cost", "gpu_days")][0], math.nan)
        label = name if name != "RandomNAS" else "Random search (surrogate; paper: RandomNAS)"
        for experiment in sorted(set(group["experiment"])) or [None]:
            if experiment is None:
                if published:
                    rows.append(PaperRow(label, "", 0, {}, published))
                continue
            part = group[group["experiment"] == experiment]
            measured = {("cifar10", "acc"): _stat(part["valid_acc"]), ("params", "M"): _stat(part["params_M"]),
                        ("cost", "hours"): _stat(part["search_wall_time_s"].astype(float) / 3600.0)}
            row = _measured_row(label, part, [], published)
            row.measured = measured
            rows.append(row)
    notes = [
        "CIFAR-10 acc.: ours is the NAS-Bench-301 surrogate's (YAHPO Gym v2) *predicted validation accuracy* of the "
        "found genotype at epoch 98 of NB301's training protocol; 'paper' is 100 − the published test error after "
        "600 epochs of training the 20-cell, C = 36 network with cutout and auxiliary head. They are not the same "
        "measure (the surrogate's figures sit about 3-4 points lower for the same genotype), so there is no Δ: "
        "compare the order of the methods, not the numbers.",
        "Params: the same evaluation network (20 cells, C = 36, no auxiliary head) on both sides, so Δ is meaningful.",
        "Search cost: ours is the wall-clock hours of one search on this machine's CPU at the row's scale (one core "
        "per search); 'paper' is GPU-days × 24. Black-box rows query the surrogate, so their cost is the surrogate's, "
        "not a training cost.",
        "A row without runs shows the published figures only.",
    ]
    return PaperTable("table3", "Table 3: DARTS space, search on CIFAR-10 (NAS-Bench-301 surrogate)", TABLE3_COLUMNS,
                      rows, notes, titles={("cifar10", "acc"): "CIFAR-10 acc. (%)", ("params", "M"): "Params (M)",
                                           ("cost", "hours"): "Search cost (h)"},
                      delta=frozenset({("params", "M")}),
                      measure="Surrogate-predicted accuracy (%), evaluation-network parameters and search cost")


BUILDERS = {"table1": table1, "table2": table2, "table3": table3, "table4": table4, "table5": table5}


def finished_runs(results_root: str | Path) -> pd.DataFrame:
    """:func:`load_results`, or a clear error when there is nothing to report."""
    results_root = Path(results_root)
    if not results_root.is_dir():
        raise FileNotFoundError(f"no results folder {results_root}; run `nas-harness run <config>` first")
    runs = load_results(results_root)
    if runs.empty or "strategy" not in runs:
        raise FileNotFoundError(f"no finished run records under {results_root}; run `nas-harness run <config>` first")
    return runs


def build(names: list[str], results_root: str | Path, population: dict | None,
          runs: pd.DataFrame | None = None) -> list[PaperTable]:
    """The named tables from the records under ``results_root`` (or from ``runs`` already loaded)."""
    runs = finished_runs(results_root) if runs is None else runs
    tables = []
    for name in names:
        if name not in BUILDERS:
            raise ValueError(f"unknown table {name!r}; available: {sorted(BUILDERS)}")
        # Table 3 is the DARTS space's; the others are NB201's: never mix the spaces' runs
        space_runs = runs[runs["space"] == ("darts" if name == "table3" else "nb201")]
        table = BUILDERS[name](space_runs, population) if name == "table1" else BUILDERS[name](space_runs)
        tables.append(table)
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
