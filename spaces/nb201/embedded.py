"""The compact NAS-Bench-201 table shipped inside the package: the last fallback of the data search.

A fresh clone with no ``../shared/data``, no ``--data-dir`` and nothing imported can still run
every tabular experiment: :func:`spaces.nb201.table.locate_table` falls back to this file, and a
run that used it says so in its provenance (``source: "embedded"``).

It is built by this project's own importer (:func:`build_embedded`, ``nas-harness data embed``)
from the NB201 CSVs, and holds for all 15,625 cells: 200-epoch and 12-epoch valid/test accuracy
on cifar10-valid, cifar10, cifar100 and ImageNet16-120 (where tabulated), params, FLOPs and
train time, as float32 (relative error under 1e-7 against the CSV values), and each cell's
ops as uint8. No latencies, no images. The file is the same checksummed format 2 as the cache
tables (a SHA-256 over every byte), at most :data:`MAX_BYTES`. Its provenance and licences are in
``spaces/nb201/data/README.md``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from spaces.tablefile import SUFFIX, write_table

EMBEDDED_TABLE = Path(__file__).resolve().parent / "data" / f"nb201-embedded{SUFFIX}"
MAX_BYTES = 2_000_000
#: column families kept; latencies are left out to stay small (``data import`` keeps them)
KEPT_PREFIXES = ("acc/", "params_M/", "flops_M/", "train_time_s/")


def embedded_columns(columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The kept columns, accuracies and costs as float32, ops as uint8."""
    kept: dict[str, np.ndarray] = {"arch_ops": np.asarray(columns["arch_ops"], dtype=np.uint8)}
    for name, values in columns.items():
        if name.startswith(KEPT_PREFIXES):
            kept[name] = np.asarray(values, dtype=np.float32)
    return kept


def build_embedded(nb201_dir: Path, dest: Path = EMBEDDED_TABLE) -> Path:
    """Import the CSVs in ``nb201_dir`` and write the embedded table to ``dest``."""
    import time

    from spaces.nb201.codec import N_CELLS
    from spaces.nb201.importers import SCHEMA_VERSION, import_csvs

    columns, provenance = import_csvs(Path(nb201_dir))
    header: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION, "kind": "nb201", "n_rows": N_CELLS,
        "provenance": {"source": "embedded", "built_from": {"source": provenance["source"],
                                                            "files": provenance["files"]},
                       "precision": "float32", "excluded": "latencies"},
        "imported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    write_table(dest, embedded_columns(columns), header)
    size = dest.stat().st_size
    if size > MAX_BYTES:
        dest.unlink()
        raise ValueError(f"the embedded table would be {size} bytes, over the {MAX_BYTES}-byte limit")
    return dest
