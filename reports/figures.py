"""The paper's figures from run records, as PNG and PDF, in one style with a colour-blind-safe palette.

* ``skip_connections``: skip connections in the derived cell per epoch, per strategy (paper Fig. 2);
* ``hessian`` and ``hessian_norm``: the paper's Fig. 3 ("Hessian norm", read as RobustDARTS's
  dominant eigenvalue) both ways: the largest eigenvalue of the validation-loss Hessian per
  epoch, and its spectral norm, the largest magnitude (what earlier records hold;
  :mod:`strategies.hessian` says why the two differ);
* ``cell_error``: validation and test error of each epoch's derived cell, looked up in the
  table after the search (Fig. 1 style);
* ``anytime``: black-box incumbents (validation accuracy) against simulated training time,
  median and interquartile range over seeds;
* ``fig1_nb1shot1``: NAS-Bench-1shot1, DARTS against BaLeNAS (paper Fig. 1;
  :mod:`reports.fig_nb1shot1`, joined with the NB101 data found at report time);
* ``tf_sample_size``: BaLeNAS-TF's test accuracy against the sample size K, per proxy;
* ``darts_skip_connections``, ``darts_hessian`` and ``darts_hessian_norm``: the same curves for DARTS-space runs
  (skip connections in the *normal* cell, of 8 ops: the paper's Figures 2 and 3 are drawn in
  that space), and ``darts_surrogate_acc``: the NB301 surrogate's predicted accuracy of each
  epoch's derived genotype.

Each space's runs are drawn apart; NB201 figures never include DARTS-space runs, or the reverse.

One-shot curves are means over seeds with a band of ± one std (ddof = 0). The palette is
Okabe and Ito's, which stays distinguishable under the common colour-vision deficiencies;
lines also differ in marker, so the figures survive grey-scale printing. The proxy–accuracy
correlation plots are made by ``nas-harness proxies correlate`` (:mod:`reports.correlation`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import numpy as np

from nas_core.records import iter_records
from reports.paper import PROXY_TITLE
from reports.style import MARKERS, OKABE_ITO, save_figure, style


def _registered(strategy: Any) -> Any:
    """The registered class of ``strategy``, or ``None`` (a plugin not loaded in this process)."""
    from strategies import registry

    try:
        return registry.get(str(strategy))
    except KeyError:
        return None


def _one_shot_records(folders: Iterable[Path], space: str = "nb201") -> dict[str, list[dict]]:
    """Finished one-shot records of ``space`` by display name and scale (M = 3 BaLeNAS only; other
    M are Table 5).

    A record is one-shot when its trajectory has per-epoch derived cells, so a plugin's one-shot
    strategy is drawn too. Runs are grouped by label: a strategy run under its own name shows
    its declared ``display_name``, any other label (a plugin, a variant) shows as itself. The scale
    is the record's own (older records: the folder's ``_cpu`` / ``_smoke`` suffix)."""
    by_name: dict[str, list[dict]] = {}
    seen: set[str] = set()
    for folder in folders:
        for record in iter_records(folder):
            strategy, label = record.get("strategy"), record.get("label", record.get("strategy"))
            rows = record.get("trajectory") or []
            cls = _registered(strategy)
            one_shot = getattr(cls, "kind", None) == "one-shot" or any("epoch" in row and "genotype" in row for row in rows)
            if record.get("status") != "done" or not one_shot or record["run_id"] in seen:
                continue
            if record["space"] != space:
                continue
            if str(strategy).startswith("balenas") and (record.get("hyperparameters") or {}).get("samples", 3) != 3:
                continue
            seen.add(record["run_id"])
            scale = (record.get("provenance") or {}).get("scale") or (
                "cpu" if folder.name.endswith("_cpu") else "smoke" if folder.name.endswith("_smoke") else "paper")
            name = (cls.display_name or label) if label == strategy and cls is not None else str(label)
            by_name.setdefault(f"{name} [{scale}]", []).append(record)
    return dict(sorted(by_name.items()))


def _per_epoch(records: list[dict], key: str, absolute: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(epochs, mean, std) of ``key`` (of its absolute value: ``absolute``) over records, at the
    epochs every record has it."""
    series = [{row["epoch"]: row[key] for row in r.get("trajectory", []) if row.get(key) is not None} for r in records]
    epochs = sorted(set.intersection(*(set(s) for s in series))) if series else []
    values = np.array([[s[e] for e in epochs] for s in series], dtype=float)
    if absolute:
        values = np.abs(values)
    if not epochs:
        return np.array([]), np.array([]), np.array([])
    return np.array(epochs), values.mean(axis=0), values.std(axis=0)


def _curve_figure(groups: dict[str, list[dict]], key: str, ylabel: str, title: str, out_dir: Path, name: str,
                  symlog: bool = False, absolute: bool = False) -> list[Path]:
    plt = style()
    fig, ax = plt.subplots()
    drawn = 0
    for i, (label, records) in enumerate(groups.items()):
        epochs, mean, std = _per_epoch(records, key, absolute)
        if not len(epochs):
            continue
        ax.plot(epochs, mean, marker=MARKERS[i % len(MARKERS)], markersize=3, linewidth=1.2,
                color=OKABE_ITO[i % len(OKABE_ITO)], label=f"{label} (n={len(records)})")
        lower = np.maximum(mean - std, 0.0) if absolute else mean - std  # a magnitude's band stops at 0
        ax.fill_between(epochs, lower, mean + std, color=OKABE_ITO[i % len(OKABE_ITO)], alpha=0.15, linewidth=0)
        drawn += 1
    if not drawn:
        plt.close(fig)
        return []
    low, high = ax.get_ylim()
    if symlog and max(abs(low), abs(high)) > 1.0:
        # eigenvalues span orders of magnitude and both signs: linear within +-1, logarithmic beyond
        # (curves that stay inside +-1 keep a plain linear axis, whose ticks read better)
        ax.set_yscale("symlog", linthresh=1.0)
    if absolute:
        ax.set_ylim(bottom=0.0)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.legend(loc="best", frameon=False)
    return save_figure(fig, out_dir, name)


def skip_connections(groups: dict[str, list[dict]], out_dir: Path) -> list[Path]:
    return _curve_figure(groups, "skip_connections", "skip connections in the derived cell (of 6)",
                         "Skip connections per epoch (mean ± std over seeds)", out_dir, "skip_connections")


def _having(groups: dict[str, list[dict]], key: str) -> dict[str, list[dict]]:
    """Each group's records that recorded ``key`` in some epoch (records from before a field existed
    are left out of its curve, so a mean never mixes two definitions; ``n=`` says how many remain)."""
    kept = {label: [r for r in records if any(key in row for row in r.get("trajectory") or [])]
            for label, records in groups.items()}
    return {label: records for label, records in kept.items() if records}


def hessian(groups: dict[str, list[dict]], out_dir: Path, space_title: str = "", name: str = "hessian") -> list[Path]:
    """Fig. 3 as RobustDARTS's dominant eigenvalue: the largest eigenvalue of the validation-loss Hessian."""
    return _curve_figure(_having(groups, "hessian_max_eigenvalue"), "hessian_max_eigenvalue",
                         "largest Hessian eigenvalue", f"{space_title}Largest eigenvalue of the val.-loss Hessian",
                         out_dir, name, symlog=True)


def hessian_norm(groups: dict[str, list[dict]], out_dir: Path, space_title: str = "",
                 name: str = "hessian_norm") -> list[Path]:
    """Fig. 3 as its caption reads: the Hessian's spectral norm, max |eigenvalue| (every record has it)."""
    return _curve_figure(groups, "hessian_eigenvalue", "Hessian spectral norm (max |eigenvalue|)",
                         f"{space_title}Spectral norm of the val.-loss Hessian", out_dir, name, symlog=True,
                         absolute=True)


def cell_error(groups: dict[str, list[dict]], out_dir: Path) -> list[Path]:
    """Validation (solid) and test (dashed) error of each epoch's derived cell, from the table."""
    plt = style()
    fig, ax = plt.subplots(figsize=(7.6, 3.6))
    drawn = 0
    for i, (label, records) in enumerate(groups.items()):
        colour = OKABE_ITO[i % len(OKABE_ITO)]
        for key, dash, split in (("table_valid_acc", "-", "valid"), ("table_test_acc", "--", "test")):
            epochs, mean, _ = _per_epoch(records, key)
            if len(epochs):
                ax.plot(epochs, 100 - mean, linestyle=dash, color=colour, linewidth=1.2,
                        marker=MARKERS[i % len(MARKERS)], markersize=2.5, label=f"{label} {split}")
                drawn += 1
    if not drawn:
        plt.close(fig)
        return []
    ax.set_xlabel("epoch")
    ax.set_ylabel("error of the derived cell (%)")
    ax.set_title("Validation and test error of the derived cell (NB201 table, CIFAR-10)", fontsize=9)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)  # outside: the curves cross everywhere
    return save_figure(fig, out_dir, "cell_error")


def anytime(folders: Iterable[Path], out_dir: Path) -> list[Path]:
    """Median and IQR over seeds of the incumbent's validation accuracy against simulated time."""
    curves: dict[tuple[str, str], list[tuple[np.ndarray, np.ndarray]]] = {}
    for folder in folders:
        for record in iter_records(folder):
            rows = [r for r in record.get("trajectory", []) if "incumbent_valid_acc" in r and "simulated_time_s" in r]
            if record.get("status") == "done" and rows and record["space"] == "nb201":
                key = (record.get("label") or record["strategy"], record["dataset"])
                curves.setdefault(key, []).append((np.array([r["simulated_time_s"] for r in rows]),
                                                   np.array([r["incumbent_valid_acc"] for r in rows])))
    if not curves:
        return []
    plt = style()
    order = ("cifar10-valid", "cifar10", "cifar100", "ImageNet16-120")
    datasets = sorted({d for _, d in curves}, key=lambda d: (order.index(d) if d in order else len(order), d))
    fig, axes = plt.subplots(1, len(datasets), figsize=(3.2 * len(datasets), 3.0), squeeze=False)
    for ax, dataset in zip(axes[0], datasets):
        labels = sorted(label for label, d in curves if d == dataset)
        for i, label in enumerate(labels):
            runs = curves[(label, dataset)]
            grid = np.geomspace(max(min(t[0] for t, _ in runs), 1.0), max(t[-1] for t, _ in runs), 60)
            values = np.array([[acc[max(0, np.searchsorted(t, g, side="right") - 1)] if g >= t[0] else np.nan
                                for g in grid] for t, acc in runs])
            median = np.nanmedian(values, axis=0)
            low, high = np.nanpercentile(values, 25, axis=0), np.nanpercentile(values, 75, axis=0)
            colour = OKABE_ITO[i % len(OKABE_ITO)]
            ax.plot(grid, median, color=colour, linewidth=1.2, label=f"{label} (n={len(runs)})")
            ax.fill_between(grid, low, high, color=colour, alpha=0.2, linewidth=0)
        ax.set_xscale("log")
        ax.set_xlabel("simulated training time (s)")
        ax.set_title(dataset, fontsize=9)
    axes[0][0].set_ylabel("incumbent validation accuracy (%)")
    axes[0][-1].legend(loc="lower right", frameon=False)
    return save_figure(fig, out_dir, "anytime")


def tf_sample_size(runs: Any, out_dir: Path) -> list[Path]:
    """BaLeNAS-TF test accuracy (mean ± std over seeds) against K, per proxy, on each dataset."""
    picks = runs[runs["selection"].notna() & runs["selection"].astype(str).str.contains("@")] if len(runs) else runs
    if picks is None or not len(picks):
        return []
    picks = picks[(picks["strategy"] == "balenas_v2") & (picks["samples"] == 3)]
    if not len(picks):
        return []
    plt = style()
    datasets = [d for d in ("cifar10", "cifar100", "ImageNet16-120") if d in set(picks["dataset"])]
    fig, axes = plt.subplots(1, len(datasets), figsize=(3.2 * len(datasets), 3.0), squeeze=False)
    for ax, dataset in zip(axes[0], datasets):
        sub = picks[picks["dataset"] == dataset]
        for i, proxy in enumerate(("snip", "grasp", "synflow")):
            ks, means, stds = [], [], []
            for k in (10, 50, 100):
                values = sub[sub["selection"] == f"{proxy}@{k}"]["test_acc"].astype(float)
                if len(values):
                    ks.append(k)
                    means.append(values.mean())
                    stds.append(values.std(ddof=0))
            if ks:
                ax.errorbar(ks, means, yerr=stds, marker=MARKERS[i], color=OKABE_ITO[i], capsize=2, linewidth=1.2,
                            label=PROXY_TITLE[proxy])
        ax.set_xscale("log")
        ax.set_xticks([10, 50, 100], ["10", "50", "100"])
        ax.set_xlabel("sample size K")
        ax.set_title(dataset, fontsize=9)
    axes[0][0].set_ylabel("test accuracy (%)")
    axes[0][-1].legend(loc="best", frameon=False)
    return save_figure(fig, out_dir, "tf_sample_size")


FIGURE_CAPTIONS = {
    "skip_connections": "Skip connections in the derived cell per epoch (paper Fig. 2), mean $\\pm$ std over seeds.",
    "hessian": "Largest eigenvalue of the validation-loss Hessian w.r.t. the architecture parameters per epoch "
               "(paper Fig. 3 read as RobustDARTS's dominant eigenvalue), mean $\\pm$ std over the seeds that "
               "recorded it.",
    "hessian_norm": "Spectral norm (largest eigenvalue magnitude) of the same Hessian per epoch (paper Fig. 3 read "
                    "as its caption, 'Hessian norm'), mean $\\pm$ std over seeds.",
    "cell_error": "Validation (solid) and test (dashed) error of each epoch's derived cell, from the NB201 table "
                  "after the search (paper Fig. 1 style).",
    "anytime": "Black-box strategies: incumbent validation accuracy against simulated training time, median and "
               "interquartile range over seeds.",
    "tf_sample_size": "BaLeNAS-TF test accuracy against the sample size K per proxy, mean $\\pm$ std over seeds.",
    "darts_skip_connections": "DARTS space: skip connections in the derived normal cell (of 8 ops) per epoch (the "
                              "paper's Fig. 2 setting), mean $\\pm$ std over seeds.",
    "darts_hessian": "DARTS space: largest eigenvalue of the validation-loss Hessian w.r.t. the architecture "
                     "parameters per epoch (the paper's Fig. 3 setting), mean $\\pm$ std over the seeds that recorded "
                     "it; BayesNAS's is w.r.t. its child switches, a different parameter.",
    "darts_hessian_norm": "DARTS space: spectral norm (largest eigenvalue magnitude) of the same Hessian per epoch, "
                          "mean $\\pm$ std over seeds.",
    "darts_surrogate_acc": "DARTS space: NAS-Bench-301 surrogate-predicted validation accuracy of each epoch's "
                           "derived genotype (a prediction, not a measured accuracy), mean $\\pm$ std over seeds.",
    "fig1_nb1shot1": "NAS-Bench-1shot1: validation (solid) and test (dashed) error of each epoch's derived cell, "
                     "DARTS against BaLeNAS, first and second order (paper Fig. 1), mean over the seeds whose cell "
                     "is in the NB101 data found; the title says how many were.",
    "correlation": "Proxy score against NB201 test accuracy, one panel per proxy and dataset (written by "
                   "nas-harness proxies correlate from the committed score cache; synflow on a log scale).",
}


def make_all(results_root: Path, out_dir: Path, runs: Any) -> dict[str, list[Path]]:
    """Every figure the records allow; a figure without data is left out (and says so)."""
    folders = sorted(p for p in results_root.iterdir() if p.is_dir() and p != out_dir and p.name != out_dir.name)
    groups = _one_shot_records(folders)
    darts = _one_shot_records(folders, "darts")
    nb201_runs = runs[runs["space"] == "nb201"] if "space" in runs else runs
    from reports.fig_nb1shot1 import figure1

    return {"skip_connections": skip_connections(groups, out_dir), "hessian": hessian(groups, out_dir),
            "hessian_norm": hessian_norm(groups, out_dir),
            "fig1_nb1shot1": figure1(folders, out_dir),
            "cell_error": cell_error(groups, out_dir), "anytime": anytime(folders, out_dir),
            "tf_sample_size": tf_sample_size(nb201_runs, out_dir),
            "darts_skip_connections": _curve_figure(
                darts, "skip_connections", "skip connections in the normal cell (of 8)",
                "DARTS space: skip connections in the normal cell", out_dir,
                "darts_skip_connections"),
            "darts_hessian": hessian(darts, out_dir, "DARTS space: ", "darts_hessian"),
            "darts_hessian_norm": hessian_norm(darts, out_dir, "DARTS space: ", "darts_hessian_norm"),
            "darts_surrogate_acc": _curve_figure(
                darts, "surrogate_valid_acc", "NB301 surrogate-predicted accuracy (%)",
                "DARTS space: NB301-predicted accuracy per epoch", out_dir,
                "darts_surrogate_acc")}
