"""Load every record of an experiment into one flat pandas DataFrame.

One row per run and evaluated dataset: the search dataset first, then every dataset the final
cell was also looked up in (``evaluate_on``, e.g. a CIFAR-10 search evaluated on all three).
A run that selected several cells from one search (BaLeNAS-TF) adds the rows of each other
selection under the label ``"<label> TF(<proxy>, K=<k>)"`` (or ``"<label> argmax-mu"``), with
``selection`` naming it; the run's own final cell has ``selection`` = its ``select``."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from nas_core.records import iter_records, reported_scale

COLUMNS = [
    "run_id", "search_dataset", "label", "strategy", "hyperparameters", "dataset", "seed", "status", "arch",
    "arch_index", "valid_acc", "test_acc", "params_M", "flops_M", "n_queries", "simulated_time_s", "search_wall_time_s",
    "selection", "code_version", "space", "scale",
]


def selection_label(label: str, key: str) -> str:
    """Report label of a selection: ``balenas_v2 TF(synflow, K=100)``, ``balenas_tf argmax-mu``."""
    if key == "argmax_mu":
        return f"{label} argmax-mu"
    proxy, _, k = key.partition("@")
    return f"{label} TF({proxy}, K={k})"


def load_runs(results_dir: str | Path, skipped: list[Path] | None = None) -> pd.DataFrame:
    """One row per (run, evaluated dataset, selection); JSON files that are not run records are
    left out and, when ``skipped`` is given, listed there."""
    rows = []
    for record in iter_records(Path(results_dir), skipped):
        final = record.get("final") or {}
        search = record.get("search") or {}
        base = {
            "run_id": record["run_id"], "search_dataset": record.get("dataset"),
            "label": record.get("label", record.get("strategy")), "strategy": record.get("strategy"),
            "hyperparameters": json.dumps(record.get("hyperparameters"), sort_keys=True), "seed": record.get("seed"),
            "status": record.get("status"), "n_queries": search.get("n_queries"),
            "simulated_time_s": search.get("simulated_time_s"),
            "search_wall_time_s": (record.get("timing") or {}).get("search_wall_time_s"),
            "code_version": str((record.get("provenance") or {}).get("code_version", "unknown")),
            "space": record["space"], "scale": reported_scale(record),
        }
        own = (record.get("hyperparameters") or {}).get("select") if final.get("selections") else None
        rows += _evaluation_rows(base, record.get("dataset"), final, own)
        for key, evaluated in (final.get("selections") or {}).items():
            if key != own:
                rows += _evaluation_rows({**base, "label": selection_label(base["label"], key)}, record.get("dataset"),
                                         evaluated, key)
    return pd.DataFrame(rows, columns=COLUMNS)


def _evaluation_rows(base: dict, search_dataset: str, final: dict, selection: str | None) -> list[dict]:
    """One row per dataset the cell was evaluated on: the search dataset, then transfers."""
    evaluations = {search_dataset: final, **(final.get("transfer") or {})}
    return [{**base, "dataset": dataset, "selection": selection, **{k: result.get(k) for k in (
        "arch", "arch_index", "valid_acc", "test_acc", "params_M", "flops_M")}} for dataset, result in evaluations.items()]


def space_presentation(results_dir: str | Path, space: str) -> tuple[str, str]:
    """``(benchmark name, measure)`` of an experiment's space, as its records state them (a plugin
    space need not be loaded to report it); records written before they stated them fall back
    to the registered space."""
    for record in iter_records(Path(results_dir)):
        provenance = record.get("provenance") or {}
        if record.get("space") == space and provenance.get("benchmark_name") and provenance.get("measure"):
            return str(provenance["benchmark_name"]), str(provenance["measure"])
    from spaces import get_space

    found = get_space(space)
    return found.benchmark_name, found.measure
