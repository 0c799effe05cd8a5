"""Load every record of an experiment into one flat pandas DataFrame (one row per run)."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from harness.records import iter_records

COLUMNS = [
    "run_id", "label", "strategy", "hyperparameters", "dataset", "seed", "status", "arch", "arch_index", "valid_acc", "test_acc",
    "params_M", "flops_M", "n_queries", "simulated_time_s", "search_wall_time_s",
]


def load_runs(results_dir: str | Path) -> pd.DataFrame:
    rows = []
    for record in iter_records(Path(results_dir)):
        final = record.get("final") or {}
        search = record.get("search") or {}
        rows.append({
            "run_id": record["run_id"], "label": record.get("label", record.get("strategy")),
            "strategy": record.get("strategy"),
            "hyperparameters": json.dumps(record.get("hyperparameters"), sort_keys=True), "dataset": record.get("dataset"), "seed": record.get("seed"),
            "status": record.get("status"), "arch": final.get("arch"), "arch_index": final.get("arch_index"),
            "valid_acc": final.get("valid_acc"), "test_acc": final.get("test_acc"),
            "params_M": final.get("params_M"), "flops_M": final.get("flops_M"),
            "n_queries": search.get("n_queries"), "simulated_time_s": search.get("simulated_time_s"),
            "search_wall_time_s": (record.get("timing") or {}).get("search_wall_time_s"),
        })
    return pd.DataFrame(rows, columns=COLUMNS)
