"""The BaLeNAS paper's Figure 1 on NAS-Bench-1shot1: validation and test error of each epoch's
derived cell, DARTS against BaLeNAS, first order (left) and second order (right).

Accuracies are joined at report time, by each epoch's NB101 hash (recorded with the run), with
the NB101 data found now (:func:`spaces.nb1shot1.benchmark.open_nb101`): importing the full
NAS-Bench-101 after the searches fills the figure without re-running anything. Where the data
has no value, the one stored in the record (if any) is used. Each point is the mean error over
the seeds whose derived cell at that epoch has an accuracy; the legend says how many of the
derived cells (epochs x seeds) could be joined, so a sparse figure says it is sparse.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import numpy as np

from nas_core.records import iter_records

PANELS = (("first order", ("darts_v1", "balenas_v1")), ("second order", ("darts_v2", "balenas_v2")))
NAMES = {"darts_v1": "DARTS", "darts_v2": "DARTS", "balenas_v1": "BaLeNAS", "balenas_v2": "BaLeNAS"}


def nb1shot1_records(folders: Iterable[Path]) -> list[dict]:
    """Finished DARTS / BaLeNAS records on any NAS-Bench-1shot1 space."""
    names = {s for _, strategies in PANELS for s in strategies}
    return [r for folder in folders for r in iter_records(folder)
            if r.get("status") == "done" and str(r.get("space", "")).startswith("nb1shot1-") and r.get("strategy") in names]


def join_accuracies(records: list[dict], data_dir: str | None = None) -> dict[str, Any]:
    """Fill each trajectory row's ``table_valid_acc`` / ``table_test_acc`` from the NB101 data found
    now (in place); returns what was joined: derived cells, how many have a valid / test accuracy,
    and the data's description."""
    from spaces.nb1shot1.benchmark import NB1shot1Benchmark

    benchmark = NB1shot1Benchmark("auto", data_dir)
    cells = valid = test = 0
    for record in records:
        for row in record.get("trajectory", []):
            module_hash = row.get("nb101_hash")
            if module_hash is None:
                continue
            cells += 1
            found = benchmark.accuracies(module_hash)
            for split in ("valid", "test"):
                if found[f"{split}_acc"] is not None:  # else keep what the record has, if anything
                    row[f"table_{split}_acc"] = found[f"{split}_acc"]
            valid += row.get("table_valid_acc") is not None
            test += row.get("table_test_acc") is not None
    return {"cells": cells, "valid": valid, "test": test, "data": benchmark.description}


def figure1(folders: Iterable[Path], out_dir: Path, data_dir: str | None = None) -> list[Path]:
    """Fig. 1 as ``fig1_nb1shot1.{png,pdf}``; nothing when no derived cell has an accuracy."""
    from reports.style import MARKERS, OKABE_ITO, save_figure, style

    records = nb1shot1_records(folders)
    joined = join_accuracies(records, data_dir)
    if not joined["valid"] and not joined["test"]:
        return []
    plt = style()
    fig, axes = plt.subplots(1, 2, figsize=(7.6, 3.2), sharey=True)
    for ax, (title, strategies) in zip(axes, PANELS):
        for i, strategy in enumerate(strategies):
            runs = [r for r in records if r["strategy"] == strategy]
            for key, dash, split in (("table_valid_acc", "-", "valid"), ("table_test_acc", "--", "test")):
                epochs, errors, n = _mean_error(runs, key)
                if len(epochs):
                    ax.plot(epochs, errors, linestyle=dash, color=OKABE_ITO[i], marker=MARKERS[i], markersize=3,
                            linewidth=1.2, label=f"{NAMES[strategy]} {split} ({n} cells)")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("epoch")
        if ax.get_lines():
            ax.legend(loc="best", frameon=False)
    axes[0].set_ylabel("error of the derived cell (%)")
    spaces = sorted({r["space"] for r in records})
    fig.suptitle(f"{', '.join(spaces)}: {joined['valid']} of {joined['cells']} derived cells (epochs x seeds) with an "
                 f"NB101 valid accuracy, {joined['test']} with a test accuracy\n(data: {joined['data']})", fontsize=7)
    return save_figure(fig, out_dir, "fig1_nb1shot1")


def _mean_error(records: list[dict], key: str) -> tuple[np.ndarray, np.ndarray, int]:
    """(epochs, mean error over the seeds that have ``key`` at that epoch, number of values)."""
    by_epoch: dict[int, list[float]] = {}
    for record in records:
        for row in record.get("trajectory", []):
            if row.get(key) is not None:
                by_epoch.setdefault(int(row["epoch"]), []).append(100.0 - float(row[key]))
    epochs = sorted(by_epoch)
    return np.array(epochs), np.array([np.mean(by_epoch[e]) for e in epochs]), sum(len(v) for v in by_epoch.values())
