"""The NAS-Bench-201 tabular benchmark: typed queries on the compact table.

``NB201Table.query(arch, dataset, split, epochs)`` is a dict lookup plus an array read
(about a microsecond); ``column(...)`` returns a whole column for vectorised work. The table
file lives in the user cache, is built by :func:`import_table` from the sources a user has,
and is rebuilt automatically from the CSVs the first time it is needed.

A search must not see the test split. The table therefore has a *seal*: inside
``with table.sealed():`` every test-split read raises :class:`TestSplitAccessError`. The
runner holds the seal for the whole search and lifts it only for the final evaluation.
"""
from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from nas_core.paths import ENV_DATA, DataNotFoundError, cache_dir, resolve_data_dir
from spaces.base import Benchmark
from spaces.nb201.codec import N_CELLS, Arch
from spaces.nb201.embedded import EMBEDDED_TABLE
from spaces.nb201.importers import DATASETS, MAIN_CSV, SCHEMA_VERSION, import_csvs
from nas_core.splits import Split
from spaces.tablefile import SUFFIX, read_table, write_table

EPOCHS: tuple[int, ...] = (200, 12)


class TestSplitAccessError(RuntimeError):
    """A test-split accuracy was read while a search was running."""

    __test__ = False  # not a pytest test class


@dataclass(frozen=True)
class Cost:
    """Cost figures of one cell on one dataset."""

    params_M: float
    flops_M: float
    train_time_s: float


def _not_an_arch(value: Any) -> TypeError:
    return TypeError(f"expected an Arch, got {type(value).__name__} {value!r:.80}; parse a string with Arch.from_str")


class NB201Table(Benchmark):
    """Query interface over the columns of one imported table; the NB201 space's benchmark."""

    kind = "tabular"
    #: NB201 tabulates training time for the 200-epoch runs only
    timed_epochs = 200

    def __init__(self, columns: dict[str, np.ndarray], header: dict[str, Any] | None = None) -> None:
        self.header = header or {}
        self.path: Path | None = None  # the file it was loaded from (set by load_table)
        self._columns = columns
        ops = np.asarray(columns["arch_ops"], dtype=np.int64)
        lex = ops @ (5 ** np.arange(5, -1, -1))
        if sorted(lex.tolist()) != list(range(N_CELLS)):
            raise ValueError("arch_ops does not hold every NB201 cell exactly once; re-import the table")
        self._official_of_lex = np.empty(N_CELLS, dtype=np.int64)
        self._official_of_lex[lex] = np.arange(N_CELLS)
        self._official_list = self._official_of_lex.tolist()  # list indexing beats numpy for scalars
        self._acc: dict[tuple[str, Split, int], np.ndarray] = {}
        for name, column in columns.items():
            if name.startswith("acc/"):  # acc/<dataset>/<split>/<epochs>
                _, dataset, split, epochs = name.split("/")
                self._acc[(dataset, Split(split), int(epochs))] = column
        self._sealed = 0

    # ---- index mapping -------------------------------------------------------------------
    def index_of(self, arch: Arch) -> int:
        """The official NB201 index of ``arch``."""
        try:
            return self._official_list[arch.lex_index]
        except AttributeError:
            raise _not_an_arch(arch) from None

    def arch_at(self, index: int) -> Arch:
        if not 0 <= int(index) < N_CELLS:
            raise IndexError(f"NB201 index {index} out of range 0..{N_CELLS - 1}")
        return Arch(tuple(int(o) for o in self._columns["arch_ops"][int(index)]))

    def indices_of(self, archs: list[Arch]) -> np.ndarray:
        return self._official_of_lex[np.fromiter((a.lex_index for a in archs), dtype=np.int64, count=len(archs))]

    # ---- queries -------------------------------------------------------------------------
    @property
    def datasets(self) -> tuple[str, ...]:
        return tuple(d for d in DATASETS if any(k[0] == d for k in self._acc))

    def column(self, dataset: str, split: Split | str = Split.VALID, epochs: int = 200) -> np.ndarray:
        """Accuracy (%) of every cell, by official index (read-only view)."""
        split = Split.parse(split)
        key = (dataset, split, int(epochs))
        array = self._acc.get(key)
        if array is None:
            raise self._missing(dataset, split, epochs)
        if split is Split.TEST and self._sealed:
            raise TestSplitAccessError(
                f"test accuracy of {dataset} requested during a search; strategies may only use the validation split"
            )
        return array

    def query(self, arch: Arch, dataset: str, split: Split | str = Split.VALID, epochs: int = 200) -> float:
        """Accuracy (%) of ``arch`` on ``dataset``'s ``split`` after ``epochs`` training epochs."""
        try:
            row = self._official_list[arch.lex_index]
        except AttributeError:
            raise _not_an_arch(arch) from None
        return float(self.column(dataset, split, epochs)[row])

    def cost(self, arch: Arch, dataset: str) -> Cost:
        i = self.index_of(arch)
        return Cost(
            params_M=float(self._cost_column("params_M", dataset)[i]),
            flops_M=float(self._cost_column("flops_M", dataset)[i]),
            train_time_s=float(self._cost_column("train_time_s", dataset)[i]),
        )

    def train_time(self, arch: Arch, dataset: str, epochs: int = 200) -> float:
        """Simulated training time (s) for ``epochs`` epochs; only the 200-epoch time is tabulated."""
        if epochs != 200:
            raise ValueError(
                f"the tables hold the training time of the 200-epoch schedule only, not {epochs} epochs; "
                "use a query budget (max_queries) for 12-epoch searches"
            )
        return float(self._cost_column("train_time_s", dataset)[self._official_list[arch.lex_index]])

    @property
    def latency_devices(self) -> list[str]:
        return sorted(name.split("/", 1)[1] for name in self._columns if name.startswith("latency_ms/"))

    def latency_ms(self, arch: Arch, device: str) -> float:
        column = self._columns.get(f"latency_ms/{device}")
        if column is None:
            raise KeyError(f"no latency for device {device!r}; available: {self.latency_devices}")
        return float(column[self.index_of(arch)])

    def _cost_column(self, metric: str, dataset: str) -> np.ndarray:
        column = self._columns.get(f"{metric}/{dataset}")
        if column is None:
            self._check_dataset(dataset)
            raise KeyError(f"the imported table has no {metric} for {dataset}")
        return column

    def _check_dataset(self, dataset: str) -> None:
        if dataset not in DATASETS:
            raise ValueError(f"unknown NB201 dataset {dataset!r}; expected one of {list(DATASETS)}")

    def _missing(self, dataset: str, split: Split, epochs: int) -> Exception:
        self._check_dataset(dataset)
        if int(epochs) not in EPOCHS:
            return ValueError(f"NB201 tabulates {list(EPOCHS)} epochs, not {epochs}")
        have = sorted(f"{d}/{s.value}/{e}" for d, s, e in self._acc)
        return KeyError(
            f"the imported table has no {split.value} accuracy for {dataset} at {epochs} epochs "
            f"(its source file was absent at import); available: {have}"
        )

    # ---- the benchmark protocol (spaces.base.Benchmark) ------------------------------------
    def final_evaluation(self, arch: Arch, dataset: str) -> dict[str, Any]:
        """The found cell's 200-epoch valid and test accuracy and its cost, read after the search."""
        cost = self.cost(arch, dataset)
        return {
            "arch": arch.to_str(),
            "arch_index": self.index_of(arch),
            "valid_acc": self.query(arch, dataset, "valid", 200),
            "test_acc": self.query(arch, dataset, "test", 200),
            "params_M": cost.params_M,
            "flops_M": cost.flops_M,
            "train_time_s": cost.train_time_s,
        }

    def annotate(self, rows: list[dict[str, Any]], dataset: str) -> None:
        """Each epoch's derived cell's 200-epoch valid and test accuracy, for plots only."""
        for row in rows:
            if "genotype" in row:
                arch = Arch.from_str(row["genotype"])
                row["table_valid_acc"] = self.query(arch, dataset, "valid", 200)
                row["table_test_acc"] = self.query(arch, dataset, "test", 200)

    def provenance(self) -> dict[str, Any]:
        return {"table": table_provenance(self)}

    # ---- test-split seal -----------------------------------------------------------------
    def own_seal(self) -> "NB201Table":
        """A view sharing this table's arrays but with a seal of its own: runs sharing one loaded
        table in one process (the threading backend) must not seal each other's evaluation."""
        view = copy.copy(self)
        view._sealed = 0
        return view

    @contextlib.contextmanager
    def sealed(self) -> Iterator[None]:
        """Refuse every test-split read inside this block (nested blocks are fine)."""
        self._sealed += 1
        try:
            yield
        finally:
            self._sealed -= 1


def tables_dir() -> Path:
    return cache_dir() / "tables"


def csv_table_path(nb201_dir: Path) -> Path:
    """Cache file of the table imported from ``nb201_dir``: keyed by the folder and its files'
    sizes and modification times, so another data directory or an edited CSV gets its own import."""
    stats = []
    for path in sorted(Path(nb201_dir).glob("*.csv")):
        st = path.stat()
        stats.append([path.name, st.st_size, st.st_mtime_ns])
    key = hashlib.sha256(json.dumps([str(Path(nb201_dir).resolve()), stats]).encode()).hexdigest()[:16]
    return tables_dir() / f"nb201-csv-{key}{SUFFIX}"


OFFICIAL_TABLE = f"nb201-official{SUFFIX}"


def import_table(data_dir: str | Path | None = None, official: Path | None = None) -> Path:
    """Build the compact table (from the CSVs, or from an official file) and return its path."""
    from spaces.nb201.importers import import_official_api, open_official_api

    if official is not None:
        columns, provenance = import_official_api(open_official_api(Path(official)))
        dest = tables_dir() / OFFICIAL_TABLE
    else:
        nb201_dir = resolve_data_dir(data_dir) / "nb201"
        columns, provenance = import_csvs(nb201_dir)
        dest = csv_table_path(nb201_dir)
    header = {
        "schema_version": SCHEMA_VERSION,
        "kind": "nb201",
        "n_rows": N_CELLS,
        "provenance": provenance,
        "imported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    write_table(dest, columns, header)
    return dest


def locate_table(data_dir: str | Path | None = None) -> Path:
    """The table to use: the import of the data directory's CSVs when there are CSVs (imported
    now if needed), else the newest table already in the cache (e.g. an official import), else
    the embedded table shipped in the package (:mod:`spaces.nb201.embedded`)."""
    try:
        nb201_dir = resolve_data_dir(data_dir) / "nb201"
    except DataNotFoundError as exc:
        if data_dir is not None or os.environ.get(ENV_DATA):
            raise  # an explicit choice (--data-dir or NAS_HARNESS_DATA) that does not exist is an error
        nb201_dir, reason = None, exc
    if nb201_dir is not None and (nb201_dir / MAIN_CSV).is_file():
        path = csv_table_path(nb201_dir)
        if not path.is_file():
            import_table(data_dir)
        return path
    imported = sorted(tables_dir().glob(f"nb201-*{SUFFIX}"), key=lambda p: p.stat().st_mtime)
    if imported:
        return imported[-1]

    if EMBEDDED_TABLE.is_file():  # the last fallback: the compact table shipped in the package
        return EMBEDDED_TABLE
    where = f"{nb201_dir}" if nb201_dir is not None else str(reason)
    raise DataNotFoundError(
        f"no NAS-Bench-201 table: {MAIN_CSV} is not in {where}, and nothing was imported into {tables_dir()}.\n"
        "Put the NB201 CSVs in <data-dir>/nb201/ (or pass --data-dir / set NAS_HARNESS_DATA), or import an official "
        "file with `nas-harness data import --official FILE` (README, section Data)."
    )


_LOADED: dict[tuple[Path, int, int], NB201Table] = {}


def load_table(data_dir: str | Path | None = None, path: Path | None = None, verify: bool = True) -> NB201Table:
    """Load the compact table (importing it from the CSVs on first use). Cached per process,
    keyed by the file's path, size and modification time, so a rebuilt file is read again."""
    path = Path(path) if path else locate_table(data_dir)
    stat = path.stat()
    key = (path, stat.st_size, stat.st_mtime_ns)
    if key not in _LOADED:
        header, columns = read_table(path, SCHEMA_VERSION, verify=verify)
        table = NB201Table(columns, header)
        table.path = path
        _LOADED[key] = table
    return _LOADED[key]


def table_provenance(table: NB201Table) -> dict[str, Any]:
    """Which table a run read: its file, source (csv / official-api) and whole-file SHA-256."""
    source = (table.header.get("provenance") or {}).get("source")
    return {"file": str(table.path) if table.path else None, "source": source, "sha256": table.header.get("sha256")}
