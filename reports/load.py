"""Load every record of an experiment into one flat pandas DataFrame.

One row per run and evaluated dataset: the search dataset first, then every dataset the final
cell was also looked up in (``evaluate_on``, e.g. a CIFAR-10 search evaluated on all three)."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from harness.records import iter_records

COLUMNS = [
    "run_id", "search_dataset", "label", "strategy", "hyperparameters", "dataset", "seed", "status", "arch",
    "arch_index", "valid_acc", "test_acc", "params_M", "flops_M", "n_queries", "simulated_time_s", "search_wall_time_s",
]


def load_runs(results_dir: str | Path) -> pd.DataFrame:
    rows = []
    for record in iter_records(Path(results_dir)):
        final = record.get("final") or {}
        search = record.get("search") or {}
        base = {
            "run_id": record["run_id"], "search_dataset": record.get("dataset"),
            "label": record.get("label", record.get("strategy")), "strategy": record.get("strategy"),
            "hyperparameters": json.dumps(record.get("hyperparameters"), sort_keys=True), "seed": record.get("seed"),
            "status": record.get("status"), "n_queries": search.get("n_queries"),
            "simulated_time_s": search.get("simulated_time_s"),
            "search_wall_time_s": (record.get("timing") or {}).get("search_wall_time_s"),
        }
        # one row per dataset the final cell was evaluated on: the search dataset, then transfers
        evaluations = {record.get("dataset"): final, **(final.get("transfer") or {})}
        for dataset, result in evaluations.items():
            rows.append({**base, "dataset": dataset, **{k: result.get(k) for k in (
                "arch", "arch_index", "valid_acc", "test_acc", "params_M", "flops_M")}})
    return pd.DataFrame(rows, columns=COLUMNS)
