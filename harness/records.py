"""Run records: one JSON file per run, written atomically, read back for resume and reports.

A record is a plain dict with a fixed set of top-level fields (see :data:`FIELDS`). Volatile
fields (timestamps, wall time, provenance) sit under ``timing`` and ``provenance`` so that
:func:`deterministic_view` can compare two runs of the same config and seed exactly.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, Iterator

STATUSES = ("done", "failed", "running")
FIELDS = (
    "experiment", "run_id", "strategy", "label", "hyperparameters", "space", "dataset", "seed",
    "epochs", "budget", "status", "error", "final", "search", "trajectory", "timing", "provenance",
)
VOLATILE = ("timing", "provenance")
#: trajectory fields that measure the machine, not the search (left out of same-seed comparisons)
VOLATILE_ROW_KEYS = ("epoch_wall_s", "hessian_wall_s")
TMP_MARK = ".tmp-"


def _clean(value: Any) -> Any:
    """JSON cannot hold NaN/inf portably: store them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


class ResultsWriteError(RuntimeError):
    """The results folder cannot be written; the message names the folder, the cause and the fix."""


def check_writable(results_dir: Path) -> None:
    """Create ``results_dir`` and prove a file can be written there, before any run is computed."""
    results_dir = Path(results_dir)
    probe = results_dir / f".write-probe-{os.getpid()}"  # not a TMP_MARK name: no other runner removes it
    try:
        results_dir.mkdir(parents=True, exist_ok=True)
        with open(probe, "wb") as fh:
            fh.write(b"probe")
            fh.flush()
            os.fsync(fh.fileno())
        probe.unlink()
    except OSError as exc:
        if probe.parent.is_dir():
            probe.unlink(missing_ok=True)
        raise ResultsWriteError(f"results folder {results_dir} is not writable ({exc.strerror or exc}); fix its "
                                "permissions or free space, or pass --results-dir") from None


def record_path(results_dir: Path, run_id: str) -> Path:
    return Path(results_dir) / f"{run_id}.json"


def write_record(results_dir: Path, record: dict[str, Any]) -> Path:
    """Write to a temporary file in the same folder, fsync, then rename over the target."""
    missing = [f for f in FIELDS if f not in record]
    if missing or record["status"] not in STATUSES:
        raise ValueError(f"malformed run record: missing {missing} or bad status {record.get('status')!r}")
    path = record_path(results_dir, record["run_id"])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}{TMP_MARK}{os.getpid()}")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(_clean(record), fh, indent=1, sort_keys=True, allow_nan=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def read_record(path: Path) -> dict[str, Any] | None:
    """The record at ``path``, or ``None`` when it is unreadable (then the run is redone)."""
    try:
        with open(path, encoding="utf-8") as fh:
            record = json.load(fh)
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    return record if is_run_record(record) else None


def is_run_record(record: Any) -> bool:
    """A dict with every field of :data:`FIELDS` and a known status (not some other JSON file)."""
    return isinstance(record, dict) and all(f in record for f in FIELDS) and record.get("status") in STATUSES


def iter_records(results_dir: Path, skipped: list[Path] | None = None) -> Iterator[dict[str, Any]]:
    """Every run record in ``results_dir``; other ``.json`` files are left out (and listed in ``skipped``)."""
    for path in sorted(Path(results_dir).glob("*.json")):
        record = read_record(path)
        if record is not None:
            yield record
        elif skipped is not None:
            skipped.append(path)


def remove_stale_temporaries(results_dir: Path) -> int:
    """Delete temporary files left by a killed writer; returns how many were removed."""
    removed = 0
    for tmp in Path(results_dir).glob(f".*{TMP_MARK}*"):
        tmp.unlink(missing_ok=True)
        removed += 1
    return removed


def deterministic_view(record: dict[str, Any]) -> dict[str, Any]:
    """The record without its volatile parts (timings, provenance), for same-seed comparisons."""
    view = {k: v for k, v in record.items() if k not in VOLATILE}
    view["trajectory"] = [strip_volatile(row) for row in record.get("trajectory", [])]
    return view


def strip_volatile(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in VOLATILE_ROW_KEYS}
