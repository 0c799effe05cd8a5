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
  :mod:`reports.fig_panels`, joined with the NB101 data found at report time);
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
import pandas as pd

from nas_core.records import iter_records, reported_scale
from reports.paper_spec import load_spec, matches
from reports.published import PROXY_TITLE
from reports.style import MARKERS, OKABE_ITO, save_figure, style


def _registered(strategy: Any) -> Any:
    """The registered class of ``strategy``, or ``None`` (a plugin not loaded in this process)."""
    from strategies import registry

    try:
        return registry.get(str(strategy))
    except KeyError:
        return None


def _kept(record: dict, keep_only: Iterable[dict]) -> bool:
    """Whether ``record`` passes the figures' ``keep_only`` filters (a strategy listed there is drawn
    only with the hyperparameters given, e.g. M = 3 BaLeNAS; other M are Table 5)."""
    for rule in keep_only:
        if rule["strategy"] == record.get("strategy"):
            return matches(rule.get("where") or {}, str(record["strategy"]), record.get("hyperparameters") or {})
    return True


def _one_shot_records(folders: Iterable[Path], space: str) -> dict[str, list[dict]]:
    """Finished one-shot records of ``space`` by display name and scale, filtered by the figures'
    ``keep_only`` (``paper_tables.toml``).

    A record is one-shot when its strategy says so or its trajectory has per-epoch derived
    cells, so a plugin's one-shot strategy is drawn too. Runs are grouped by label: a strategy
    run under its own name shows its declared ``display_name``, any other label (a plugin, a
    variant) shows as itself. The scale is the record's own (:func:`nas_core.records.reported_scale`)."""
    keep_only = load_spec().figures.get("keep_only", [])
    by_name: dict[str, list[dict]] = {}
    seen: set[str] = set()
    for folder in folders:
        for record in iter_records(folder):
            strategy, label = record.get("strategy"), record.get("label", record.get("strategy"))
            rows = record.get("trajectory") or []
            cls = _registered(strategy)
            kind = (record.get("provenance") or {}).get("strategy_kind") or getattr(cls, "kind", None)
            one_shot = kind == "one-shot" or any("epoch" in row and "genotype" in row for row in rows)
            if record.get("status") != "done" or not one_shot or record["run_id"] in seen:
                continue
            if record["space"] != space or not _kept(record, keep_only):
                continue
            seen.add(record["run_id"])
            name = (cls.display_name or label) if label == strategy and cls is not None else str(label)
            by_name.setdefault(f"{name} [{reported_scale(record)}]", []).append(record)
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


def skip_connections(groups: dict[str, list[dict]], out_dir: Path, ylabel: str, title: str,
                     name: str = "skip_connections") -> list[Path]:
    return _curve_figure(groups, "skip_connections", ylabel, title, out_dir, name)


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


def cell_error(groups: dict[str, list[dict]], out_dir: Path, title: str) -> list[Path]:
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
    ax.set_title(title, fontsize=9)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)  # outside: the curves cross everywhere
    return save_figure(fig, out_dir, "cell_error")


def anytime(folders: Iterable[Path], out_dir: Path, space: str) -> list[Path]:
    """Median and IQR over seeds of the incumbent's validation accuracy against simulated time (``space``'s runs)."""
    curves: dict[tuple[str, str], list[tuple[np.ndarray, np.ndarray]]] = {}
    for folder in folders:
        for record in iter_records(folder):
            rows = [r for r in record.get("trajectory", []) if "incumbent_valid_acc" in r and "simulated_time_s" in r]
            if record.get("status") == "done" and rows and record["space"] == space:
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


def tf_sample_size(runs: Any, out_dir: Path, spec: dict[str, Any]) -> list[Path]:
    """BaLeNAS-TF test accuracy (mean ± std over seeds) against K, per proxy, on each dataset, of
    the runs ``spec`` names (its space, strategy and hyperparameters)."""
    picks = runs[runs["selection"].notna() & runs["selection"].astype(str).str.contains("@")] if len(runs) else runs
    if picks is None or not len(picks):
        return []
    picks = picks[(picks["space"] == spec["space"]) & (picks["strategy"] == spec["strategy"])]
    keep = [matches(spec.get("where") or {}, spec["strategy"], hp) for hp in picks["hyperparameter_values"]]
    picks = picks[pd.Series(keep, index=picks.index, dtype=bool)]
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


def captions() -> dict[str, str]:
    """Each figure's caption (LaTeX), from ``paper_tables.toml``."""
    return dict(load_spec().figures.get("captions", {}))


def make_all(results_root: Path, out_dir: Path, runs: Any, data_dir: str | None = None) -> dict[str, list[Path]]:
    """Every figure ``paper_tables.toml`` describes that the records allow, in its order; a figure
    without data is left out (and says so)."""
    from reports.fig_panels import figure as panel_figure

    spec = load_spec().figures
    folders = sorted(p for p in results_root.iterdir() if p.is_dir() and p != out_dir and p.name != out_dir.name)
    made: dict[str, list[Path]] = {}
    by_space = {}
    for curves in spec.get("curve_spaces", []):
        groups = by_space[curves["space"]] = _one_shot_records(folders, curves["space"])
        prefix, title = curves["prefix"], curves["title"]
        made[f"{prefix}skip_connections"] = skip_connections(groups, out_dir, curves["skip_label"], curves["skip_title"],
                                                             f"{prefix}skip_connections")
        made[f"{prefix}hessian"] = hessian(groups, out_dir, title, f"{prefix}hessian")
        made[f"{prefix}hessian_norm"] = hessian_norm(groups, out_dir, title, f"{prefix}hessian_norm")
    if "fig1" in spec:
        made[spec["fig1"]["name"]] = panel_figure(folders, out_dir, spec["fig1"], data_dir)
    if "cell_error" in spec:
        space = spec["cell_error"]["space"]
        groups = by_space.get(space) or _one_shot_records(folders, space)
        made["cell_error"] = cell_error(groups, out_dir, spec["cell_error"]["title"])
    if "anytime" in spec:
        made["anytime"] = anytime(folders, out_dir, spec["anytime"]["space"])
    if "tf_sample_size" in spec:
        made["tf_sample_size"] = tf_sample_size(runs, out_dir, spec["tf_sample_size"])
    if "surrogate_acc" in spec:
        acc = spec["surrogate_acc"]
        groups = by_space.get(acc["space"]) or _one_shot_records(folders, acc["space"])
        made[acc["name"]] = _curve_figure(groups, acc["key"], acc["ylabel"], acc["title"], out_dir, acc["name"])
    order = spec.get("order", [])
    return dict(sorted(made.items(), key=lambda item: order.index(item[0]) if item[0] in order else len(order)))
