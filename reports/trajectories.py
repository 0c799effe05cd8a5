"""Per-epoch diagnostics of one-shot runs (BaLeNAS paper Figs. 2 and 3) as a Markdown table.

For every label: the mean over seeds of the derived cell's skip-connection count at each epoch,
the largest and the largest-magnitude eigenvalues of the validation-loss Hessian w.r.t. the
architecture parameters at the epochs where they were measured (the first only in records made
since the probe recorded it; :mod:`strategies.hessian`), (BaLeNAS) the mean posterior sigma
and (BayesNAS) the mean switch magnitude; then how sparse BayesNAS's switches ended. Built from
the run records alone; black-box runs have no epoch rows and are left out.
"""
from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable

import numpy as np

FIELDS = (("skip_connections", "skip", "{:.2f}"), ("hessian_max_eigenvalue", "λ_max", "{:.3g}"),
          ("hessian_eigenvalue", "|λ_dom|", "{:.3g}"),
          ("sigma_mean", "σ̄", "{:.3f}"), ("mean_abs_switch", "mean |s|", "{:.3f}"))
#: fields averaged by magnitude: power iteration returns the largest-|λ| eigenvalue with its sign, and a mean
#: of signed values across seeds would cancel (the curvature's size is what Eq. 19 and Fig. 3 are about)
MAGNITUDE = {"hessian_eigenvalue"}


def epoch_means(records: Iterable[dict[str, Any]]) -> dict[str, dict[str, dict[int, float]]]:
    """label -> field -> epoch -> mean over the label's finished runs."""
    values: dict[str, dict[str, dict[int, list[float]]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for record in records:
        if record.get("status") != "done":
            continue
        for row in record.get("trajectory") or []:
            if "epoch" not in row:
                continue
            for field, _, _ in FIELDS:
                value = row.get(field)
                if isinstance(value, (int, float)) and math.isfinite(value):
                    value = abs(value) if field in MAGNITUDE else value
                    values[record.get("label", record["strategy"])][field][int(row["epoch"])].append(float(value))
    return {label: {f: {e: float(np.mean(v)) for e, v in sorted(epochs.items())} for f, epochs in fields.items()}
            for label, fields in values.items()}


def to_markdown(means: dict[str, dict[str, dict[int, float]]], title: str) -> str:
    """One row per epoch; per label, the columns of the fields it has."""
    if not means:
        return ""
    columns = [(label, field, head, fmt) for label in sorted(means) for field, head, fmt in FIELDS if field in means[label]]
    epochs = sorted({e for fields in means.values() for per_epoch in fields.values() for e in per_epoch})
    lines = [f"### {title}", "", "| epoch | " + " | ".join(f"{label} {head}" for label, _, head, _ in columns) + " |",
             "|" + "---|" * (len(columns) + 1)]
    for epoch in epochs:
        cells = [fmt.format(means[label][field][epoch]) if epoch in means[label][field] else "–"
                 for label, field, _, fmt in columns]
        lines.append(f"| {epoch} | " + " | ".join(cells) + " |")
    lines += ["", "Mean over seeds: skip = skip connections in the cell derived at that epoch (of 6); "
              "λ_max = largest eigenvalue of the Hessian of the validation loss (RobustDARTS's dominant eigenvalue), "
              "signed, over the seeds that recorded it; "
              "|λ_dom| = its spectral norm (largest eigenvalue magnitude; the paper's Fig. 3 says 'Hessian norm'), "
              "w.r.t. alpha (BaLeNAS: mu; DrNAS: beta; BayesNAS: the child switches) at the expected edge weights; "
              "σ̄ = mean posterior standard deviation (BaLeNAS); mean |s| = mean child-switch magnitude (BayesNAS)."]
    return "\n".join(lines) + "\n"


def distinct_cells(records: Iterable[dict[str, Any]]) -> str:
    """BaLeNAS-TF samples: how many distinct cells the first K draws from q held (mean, min, max over seeds)."""
    counts: dict[tuple[str, int], list[int]] = defaultdict(list)
    for record in records:
        for k, n in ((record.get("selection") or {}).get("distinct") or {}).items():
            counts[(record.get("label", record["strategy"]), int(k))].append(int(n))
    if not counts:
        return ""
    lines = ["| run label | K draws | distinct cells: mean (min–max) over seeds |", "|---|---|---|"]
    lines += [f"| {label} | {k} | {np.mean(v):.1f} ({min(v)}–{max(v)}) |" for (label, k), v in sorted(counts.items())]
    return "\n".join(["### BaLeNAS-TF samples", "", *lines, ""]) + "\n"


def switch_sparsity(records: Iterable[dict[str, Any]]) -> str:
    """BayesNAS: per run, the last epoch's gammas and switch norms -- how sparse the switches became."""
    lines = []
    for record in sorted(records, key=lambda r: (r.get("label", ""), r.get("seed", 0))):
        rows = [r for r in record.get("trajectory") or [] if "gamma_parent" in r]
        if record.get("status") != "done" or not rows:
            continue
        last = rows[-1]
        gamma_parent = np.array(last["gamma_parent"])
        gamma_child = np.array(last["gamma_child"])[..., 1:]  # none excluded: it is never a child pick
        norms = np.array(last["child_norm"])[..., 1:]
        genotype = str(last["genotype"]).replace("|", "\\|")  # a bare | would split the Markdown cell
        # a space whose derivation keeps a fixed number of inputs per node (DARTS) prunes no edge: "–"
        edges = f"{int(last['pruned_edges'])}/{gamma_parent.size}" if "pruned_edges" in last else "–"
        lines.append(f"| {record.get('label', record['strategy'])} | {record.get('seed')} | {genotype} | "
                     f"{gamma_parent.min():.3g}–{gamma_parent.max():.3g} | {gamma_child.min():.3g}–{gamma_child.max():.3g} | "
                     f"{edges} | {int(last['pruned_child_groups'])}/{gamma_child.size} | "
                     f"{norms.min():.3f}–{norms.max():.3f} |")
    if not lines:
        return ""
    head = ["### BayesNAS switches at the last epoch", "",
            "| run label | seed | derived cell | γ parent (min–max) | γ child, ops ≠ none (min–max) | "
            "edges pruned | child groups pruned | ‖s_child‖ over cells (min–max) |", "|---|---|---|---|---|---|---|---|"]
    note = ["", "Pruned: γ below the run's `prune_threshold`; an edge whose parent is pruned derives `none`, "
            "and the HARD dependency drives its children's γ to 0."]
    return "\n".join([*head, *lines, *note, ""]) + "\n"


def report(folder: Path) -> str:
    from nas_core.records import iter_records

    records = list(iter_records(folder))
    return (to_markdown(epoch_means(records), f"{folder.name}: per-epoch diagnostics") + "\n" + distinct_cells(records)
            + switch_sparsity(records))
