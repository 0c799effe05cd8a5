"""Panels of the error of each epoch's derived cell, strategies side by side (the BaLeNAS paper's
Figure 1 on NAS-Bench-1shot1: DARTS against BaLeNAS, first order left, second order right).

Accuracies are joined at report time: each record's trajectory is annotated again by its
space's benchmark, opened on the data found now (:meth:`spaces.base.Benchmark.annotate`). So
data imported after the searches (the full NAS-Bench-101) fills the figure without re-running
anything. Where the data has no value, the one stored in the record (if any) is kept. Each
point is the mean error over the seeds whose derived cell at that epoch has an accuracy; the
title says how many of the derived cells (epochs x seeds) could be joined, so a sparse figure
says it is sparse. Which spaces, strategies and labels: ``paper_tables.toml``'s ``figures.fig1``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from nas_core.records import iter_records

JOINED = ("table_valid_acc", "table_test_acc")


def panel_records(folders: Iterable[Path], spec: Mapping[str, Any]) -> list[dict]:
    """Finished records of the figure's spaces and strategies."""
    spaces = set(spec["spaces"])
    strategies = {line["strategy"] for panel in spec["panels"] for line in panel["lines"]}
    return [r for folder in folders for r in iter_records(folder)
            if r.get("status") == "done" and r.get("space") in spaces and r.get("strategy") in strategies]


def join_accuracies(records: list[dict], data_dir: str | None = None) -> dict[str, Any]:
    """Annotate each trajectory row's derived cell again, from the data found now (in place);
    returns what was joined: derived cells, how many have a valid / test accuracy, and the data."""
    from spaces import get_space

    benchmarks: dict[str, Any] = {}
    cells = valid = test = 0
    for record in records:
        if record["space"] not in benchmarks:
            benchmarks[record["space"]] = get_space(record["space"]).open_benchmark("auto", data_dir)
        rows = [row for row in record.get("trajectory", []) if "genotype" in row]
        kept = [{key: row.get(key) for key in JOINED} for row in rows]
        benchmarks[record["space"]].annotate(rows, record["dataset"])
        for row, before in zip(rows, kept):
            for key in JOINED:  # no value in the data now: keep what the record has, if anything
                if row.get(key) is None and before[key] is not None:
                    row[key] = before[key]
            cells += 1
            valid += row.get("table_valid_acc") is not None
            test += row.get("table_test_acc") is not None
    described = sorted({b.data_description for b in benchmarks.values()})
    return {"cells": cells, "valid": valid, "test": test, "data": "; ".join(described) or "none"}


def figure(folders: Iterable[Path], out_dir: Path, spec: Mapping[str, Any], data_dir: str | None = None) -> list[Path]:
    """The figure as ``<spec name>.{png,pdf}``; nothing when no derived cell has an accuracy."""
    from reports.style import MARKERS, OKABE_ITO, save_figure, style

    records = panel_records(folders, spec)
    joined = join_accuracies(records, data_dir)
    if not joined["valid"] and not joined["test"]:
        return []
    plt = style()
    fig, axes = plt.subplots(1, len(spec["panels"]), figsize=(7.6, 3.2), sharey=True, squeeze=False)
    for ax, panel in zip(axes[0], spec["panels"]):
        for i, line in enumerate(panel["lines"]):
            runs = [r for r in records if r["strategy"] == line["strategy"]]
            for key, dash, split in (("table_valid_acc", "-", "valid"), ("table_test_acc", "--", "test")):
                epochs, errors, n = _mean_error(runs, key)
                if len(epochs):
                    ax.plot(epochs, errors, linestyle=dash, color=OKABE_ITO[i], marker=MARKERS[i], markersize=3,
                            linewidth=1.2, label=f"{line['label']} {split} ({n} cells)")
        ax.set_title(panel["title"], fontsize=9)
        ax.set_xlabel("epoch")
        if ax.get_lines():
            ax.legend(loc="best", frameon=False)
    axes[0][0].set_ylabel("error of the derived cell (%)")
    spaces = sorted({r["space"] for r in records})
    fig.suptitle(f"{', '.join(spaces)}: {joined['valid']} of {joined['cells']} derived cells (epochs x seeds) with an "
                 f"{spec.get('data_name', 'benchmark')} valid accuracy, {joined['test']} with a test accuracy\n(data: {joined['data']})", fontsize=7)
    return save_figure(fig, out_dir, spec["name"])


def _mean_error(records: list[dict], key: str) -> tuple[np.ndarray, np.ndarray, int]:
    """(epochs, mean error over the seeds that have ``key`` at that epoch, number of values)."""
    by_epoch: dict[int, list[float]] = {}
    for record in records:
        for row in record.get("trajectory", []):
            if row.get(key) is not None:
                by_epoch.setdefault(int(row["epoch"]), []).append(100.0 - float(row[key]))
    epochs = sorted(by_epoch)
    return np.array(epochs), np.array([np.mean(by_epoch[e]) for e in epochs]), sum(len(v) for v in by_epoch.values())
