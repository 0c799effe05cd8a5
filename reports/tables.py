"""Comparison tables (mean ± std of the final cell's valid/test accuracy) as Markdown and LaTeX.

Standard deviations are population std (``ddof=0``, as NB201's scripts compute them); the
caption says so. Published rows are printed beside measured ones, marked as such, and never
mixed into the measured statistics.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reports.paper_spec import load_spec

DATASET_ORDER = ("cifar10-valid", "cifar10", "cifar100", "ImageNet16-120")
DATASET_TITLE = {"cifar10-valid": "CIFAR-10 (valid run)", "cifar10": "CIFAR-10", "cifar100": "CIFAR-100",
                 "ImageNet16-120": "ImageNet16-120"}


@dataclass
class Row:
    name: str
    kind: str  # "measured", "paper", "table"
    cells: dict[str, tuple[str, str]]  # dataset -> (valid, test) as text
    n_runs: str = ""


def _fmt(mean: float, std: float | None) -> str:
    if math.isnan(mean):
        return "–"
    return f"{mean:.2f}" if std is None else f"{mean:.2f} ± {std:.2f}"


def _natural(label: str) -> list:
    """Sort key that puts k10 before k50 before k100."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", label)]


def _fmt_present(values: pd.Series) -> str:
    """Mean ± std of the values present, saying how many of the seeds had one when some did not."""
    present = values.dropna().astype(float)
    text = _fmt(present.mean() if len(present) else float("nan"), present.std(ddof=0) if len(present) else None)
    return text if len(present) in (0, len(values)) else f"{text} ({len(present)} of {len(values)})"


def summary_rows(runs: pd.DataFrame, population: dict[str, tuple[np.ndarray, np.ndarray]] | None,
                 space: str) -> tuple[list[str], list[Row]]:
    """Rows of the comparison table of ``space``'s runs; ``population`` maps dataset -> (valid,
    test) of all cells. A published row goes beside the runs that reproduce it, as
    ``reports/paper_tables.toml`` says, and only beside runs of its table's space."""
    spec = load_spec()
    done = runs[runs["status"] == "done"]
    present = set(runs["dataset"])  # known datasets in the usual order, then a plugin space's own
    datasets = [d for d in DATASET_ORDER if d in present] + sorted(present - set(DATASET_ORDER))
    rows: list[Row] = []
    for label in sorted(done["label"].unique(), key=_natural):
        group = done[done["label"] == label]
        cells = {}
        for dataset in datasets:
            sub = group[group["dataset"] == dataset]
            if len(sub):
                cells[dataset] = (_fmt_present(sub["valid_acc"]), _fmt_present(sub["test_acc"]))
        seeds = group.groupby("dataset")["seed"].nunique()
        rows.append(Row(str(label), "measured", cells, "/".join(str(seeds.get(d, 0)) for d in datasets)))
        selection = group["selection"].iloc[0] if "selection" in group else None
        published = spec.published_row_of(space, str(group["strategy"].iloc[0]),
                                           json.loads(group["hyperparameters"].iloc[0]),
                                           None if pd.isna(selection) else str(selection))
        if published:
            name, values = published
            rows.append(Row(f"{name}, paper", "paper",
                            {d: (_fmt(*values[d][0]), _fmt(*values[d][1])) for d in datasets if d in values}))
    if population:
        rows.append(Row("all cells (table)", "table", {
            d: (_fmt(v.mean(), v.std()), _fmt(t.mean(), t.std())) for d, (v, t) in population.items() if d in datasets
        }))
        rows.append(Row("optimal (table)", "table", {
            d: (_fmt(v.max(), None), _fmt(t.max(), None)) for d, (v, t) in population.items() if d in datasets
        }))
    optimal = spec.published_optimal(space)
    if optimal:
        rows.append(Row("optimal (paper)", "paper",
                        {d: (_fmt(v, None), _fmt(t, None)) for d, (v, t) in optimal.items() if d in datasets}))
    return datasets, rows


def to_markdown(datasets: list[str], rows: list[Row], title: str, measure: str) -> str:
    """``measure``: what the accuracies are (the space's :attr:`~spaces.base.SearchSpace.measure`)."""
    head = ["Method", *[f"{DATASET_TITLE.get(d, d)} {s}" for d in datasets for s in ("valid", "test")], "seeds"]
    lines = [f"### {title}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        name = f"*{row.name}*" if row.kind != "measured" else row.name
        cells = [c for d in datasets for c in row.cells.get(d, ("–", "–"))]
        lines.append("| " + " | ".join([name, *cells, row.n_runs]) + " |")
    lines += ["", f"{measure}, mean ± std (ddof=0) over seeds. "
              "Rows in italics are published or whole-table figures, not runs."]
    return "\n".join(lines) + "\n"


def _latex_escape(text: str) -> str:
    for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"), ("#", r"\#")):
        text = text.replace(a, b)
    return text


def to_latex(datasets: list[str], rows: list[Row], title: str, measure: str) -> str:
    cols = "l" + "cc" * len(datasets)
    measure = _latex_escape(measure)
    out = [r"\begin{table}[t]", r"\centering", r"\small", rf"\caption{{{_latex_escape(title)}. {measure}, "
           r"mean $\pm$ std over seeds; italic rows are published or whole-table figures.}",
           rf"\begin{{tabular}}{{{cols}}}", r"\toprule",
           "Method & " + " & ".join(rf"\multicolumn{{2}}{{c}}{{{_latex_escape(DATASET_TITLE.get(d, d))}}}" for d in datasets) + r" \\",
           " & " + " & ".join("Valid & Test" for _ in datasets) + r" \\", r"\midrule"]
    for row in rows:
        name = _latex_escape(row.name)
        name = rf"\textit{{{name}}}" if row.kind != "measured" else name
        cells = [c.replace("±", r"$\pm$") for d in datasets for c in row.cells.get(d, ("--", "--"))]
        out.append(" & ".join([name, *cells]) + r" \\")
    out += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(out) + "\n"
