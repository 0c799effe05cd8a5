"""Run records: one JSON file per run, written atomically, read back for resume and reports.

The schema lives here, in the bottom package, so that the runner writes and the reports read
the same thing without the reports importing the harness. In memory a record is a frozen
:class:`RunRecord`: identity (experiment, run id, strategy, label, hyperparameters, space,
dataset, seed, fidelity, budget), outcome (status, error, the final :class:`Evaluation`, the
:class:`Picks` of a search that chose several architectures, search counters), the trajectory,
timing and provenance (with the ``scale`` preset, the benchmark's name and ``measure``). On
disk it is one JSON object with the top-level fields of :data:`FIELDS` plus
``schema_version``; records written before the version existed (version 1, the same layout)
are read as they are, and a version this code does not know is refused by name.

Volatile fields (timestamps, wall time, provenance) sit under ``timing`` and ``provenance`` so
that :func:`deterministic_view` can compare two runs of the same config and seed exactly.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping

STATUSES = ("done", "failed", "running")
FIELDS = (
    "experiment", "run_id", "strategy", "label", "hyperparameters", "space", "dataset", "seed",
    "epochs", "budget", "status", "error", "final", "search", "trajectory", "timing", "provenance",
)
#: the version this code writes; 1 is the same layout without the field (records before it existed)
SCHEMA_VERSION = 2
KNOWN_VERSIONS = (1, 2)
#: what says how a record is stored, not what the run did (left out of same-seed comparisons too)
VOLATILE = ("timing", "provenance", "schema_version")
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


def write_record(results_dir: Path, record: RunRecord | dict[str, Any]) -> Path:
    """Write to a temporary file in the same folder, fsync, then rename over the target."""
    record = record.to_dict() if isinstance(record, RunRecord) else {"schema_version": SCHEMA_VERSION, **record}
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
    """A dict with every field of :data:`FIELDS`, a known status and a known schema version (not
    some other JSON file, nor a record of a newer harness)."""
    return (isinstance(record, dict) and all(f in record for f in FIELDS) and record.get("status") in STATUSES
            and record.get("schema_version", 1) in KNOWN_VERSIONS)


def iter_runs(results_dir: Path, skipped: list[Path] | None = None) -> Iterator[RunRecord]:
    """Every run record in ``results_dir`` as a typed :class:`RunRecord`."""
    for record in iter_records(results_dir, skipped):
        yield RunRecord.from_dict(record)


def iter_records(results_dir: Path, skipped: list[Path] | None = None) -> Iterator[dict[str, Any]]:
    """Every run record in ``results_dir``; other ``.json`` files are left out (and listed in ``skipped``)."""
    for path in sorted(Path(results_dir).glob("*.json")):
        record = read_record(path)
        if record is not None:
            yield record
        elif skipped is not None:
            skipped.append(path)


#: how a report names the source of a black-box run's figures, by the benchmark's kind (its
#: numbers are lookups or predictions, the same at any scale preset)
LOOKUP_SCALES = {"tabular": "table", "surrogate": "surrogate"}
#: the scale of a record that does not state one (written before records stored it: run
#: ``nas-harness records upgrade FOLDER --scale S`` to state it)
UNRECORDED_SCALE = "unrecorded"


def reported_scale(record: Mapping[str, Any]) -> str:
    """Where a record's numbers come from, as the reports' ``scale`` column prints it: the scale
    preset of a search that trains ("paper", "cpu", "smoke"), or, for a strategy that is not
    one-shot on a benchmark that is looked up ("tabular", "surrogate"), "table" / "surrogate",
    since presets do not change such a run. Read from the record's provenance only."""
    provenance = record.get("provenance") or {}
    scale = provenance.get("scale")
    if scale is None:
        return UNRECORDED_SCALE
    lookup = LOOKUP_SCALES.get(str(provenance.get("benchmark_kind")))
    if provenance.get("strategy_kind") not in (None, "one-shot") and lookup:
        return lookup
    return str(scale)


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


# ---- the typed schema -----------------------------------------------------------------------------
#: the fields every benchmark's final evaluation may state; anything else it reports goes to ``extra``
EVALUATION_FIELDS = ("arch", "arch_index", "valid_acc", "test_acc", "params_M", "flops_M")


@dataclass(frozen=True)
class Evaluation:
    """What the benchmark says of one architecture on one dataset (``None``: it has no such field),
    with the same architecture's evaluations on other datasets under ``transfer``."""

    arch: str | None = None
    arch_index: int | None = None
    valid_acc: float | None = None
    test_acc: float | None = None
    params_M: float | None = None
    flops_M: float | None = None
    #: benchmark-specific fields (train_time_s, nb101_hash, accuracy_source, ...)
    extra: Mapping[str, Any] = field(default_factory=dict)
    transfer: Mapping[str, Evaluation] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Evaluation:
        known = {k: data.get(k) for k in EVALUATION_FIELDS}
        extra = {k: v for k, v in data.items() if k not in EVALUATION_FIELDS and k not in ("transfer", "selections")}
        transfer = {d: cls.from_dict(e) for d, e in (data.get("transfer") or {}).items()}
        return cls(**known, extra=extra, transfer=transfer)

    def to_dict(self) -> dict[str, Any]:
        out = {**{k: getattr(self, k) for k in EVALUATION_FIELDS}, **self.extra}
        if self.transfer:
            out["transfer"] = {d: e.to_dict() for d, e in self.transfer.items()}
        return out


@dataclass(frozen=True)
class Picks:
    """Several architectures chosen by one search (BaLeNAS-TF: ``argmax_mu`` and a cell per
    (proxy, K)), each evaluated, and the search's own account of how it chose (``details``: the
    draws, scores and choices)."""

    evaluations: Mapping[str, Evaluation]
    details: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class SearchResult:
    """What ``Strategy.search`` may return instead of a bare architecture: the architecture, and the
    other picks of the same search (name -> architecture) with how they were chosen."""

    arch: Any
    picks: Mapping[str, Any] = field(default_factory=dict)
    details: Mapping[str, Any] | None = None
    #: where the search ran (device, GPU, CUDA graphs...), merged into the record's provenance
    runtime: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, found: Any) -> SearchResult:
        return found if isinstance(found, SearchResult) else cls(found)


class RecordSchemaError(ValueError):
    """A record file is not a run record this code can read; the message names the file and field."""


@dataclass(frozen=True)
class RunRecord:
    """One run: identity, outcome, trajectory, timing and provenance (module docstring)."""

    experiment: str
    run_id: str
    strategy: str
    label: str
    hyperparameters: Mapping[str, Any]
    space: str
    dataset: str
    seed: int
    epochs: int
    budget: Mapping[str, Any]
    status: str = "running"
    error: str | None = None
    final: Evaluation | None = None
    picks: Picks | None = None
    search: Mapping[str, Any] | None = None
    trajectory: tuple[Mapping[str, Any], ...] = ()
    timing: Mapping[str, Any] = field(default_factory=dict)
    provenance: Mapping[str, Any] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise RecordSchemaError(f"record {self.run_id}: status {self.status!r} is not one of {STATUSES}")

    @property
    def scale(self) -> str | None:
        """The scale preset the run's hyperparameters came from (records before it was stored: ``None``)."""
        return self.provenance.get("scale")

    @property
    def measure(self) -> str | None:
        return self.provenance.get("measure")

    def replace(self, **changes: Any) -> RunRecord:
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "record") -> RunRecord:
        """Read a stored record of any known schema version; a missing field or an unknown version
        is a :class:`RecordSchemaError` naming ``source`` and the field."""
        version = data.get("schema_version", 1)
        if version not in KNOWN_VERSIONS:
            raise RecordSchemaError(f"{source}: schema_version {version!r} is not one this harness reads "
                                    f"({KNOWN_VERSIONS}); update nas-harness to read it")
        missing = [f for f in FIELDS if f not in data]
        if missing:
            raise RecordSchemaError(f"{source}: not a run record, missing {missing}")
        final = data.get("final")
        picks = None
        if final and final.get("selections"):
            picks = Picks({k: Evaluation.from_dict(v) for k, v in final["selections"].items()}, data.get("selection"))
        return cls(
            experiment=data["experiment"], run_id=data["run_id"], strategy=data["strategy"],
            label=data.get("label") or data["strategy"], hyperparameters=dict(data["hyperparameters"] or {}),
            space=data["space"], dataset=data["dataset"], seed=data["seed"], epochs=data["epochs"],
            budget=dict(data["budget"] or {}), status=data["status"], error=data["error"],
            final=Evaluation.from_dict(final) if final else None, picks=picks, search=data["search"],
            trajectory=tuple(data["trajectory"] or ()), timing=dict(data.get("timing") or {}),
            provenance=dict(data.get("provenance") or {}), schema_version=SCHEMA_VERSION,
        )

    def to_dict(self) -> dict[str, Any]:
        """The on-disk layout (:data:`FIELDS` plus ``schema_version``; picks under
        ``final.selections`` and ``selection``, where version 1 kept them)."""
        final = None if self.final is None else self.final.to_dict()
        if final is not None and self.picks is not None:
            final["selections"] = {k: e.to_dict() for k, e in self.picks.evaluations.items()}
        out = {
            "schema_version": self.schema_version, "experiment": self.experiment, "run_id": self.run_id,
            "strategy": self.strategy, "label": self.label, "hyperparameters": dict(self.hyperparameters),
            "space": self.space, "dataset": self.dataset, "seed": self.seed, "epochs": self.epochs,
            "budget": dict(self.budget), "status": self.status, "error": self.error, "final": final,
            "search": None if self.search is None else dict(self.search), "trajectory": list(self.trajectory),
            "timing": dict(self.timing), "provenance": dict(self.provenance),
        }
        if self.picks is not None and self.picks.details is not None:
            out["selection"] = dict(self.picks.details)
        return out


__all__ = ["EVALUATION_FIELDS", "Evaluation", "FIELDS", "KNOWN_VERSIONS", "Picks", "RecordSchemaError",
           "ResultsWriteError", "RunRecord", "SCHEMA_VERSION", "STATUSES", "SearchResult", "TMP_MARK", "VOLATILE",
           "VOLATILE_ROW_KEYS", "LOOKUP_SCALES", "UNRECORDED_SCALE", "check_writable", "deterministic_view", "is_run_record", "iter_records", "iter_runs",
           "read_record", "record_path", "reported_scale", "remove_stale_temporaries", "strip_volatile", "write_record"]
