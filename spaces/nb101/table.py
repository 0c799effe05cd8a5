"""The NAS-Bench-101 backend: a user's own NB101 file imported into the compact checksummed format.

Sources (:func:`import_nb101`), none of them unpickled or executed:

* the official ``nasbench_only108.tfrecord`` / ``nasbench_full.tfrecord``
  (:mod:`spaces.nb101.tfrecord`: JSON rows with base64 protobuf metrics, checksums verified);
* a simple table, CSV or JSON (a list of objects), with the columns ``adjacency`` (n*n 0/1
  digits, row-major), ``ops`` (comma-separated NB101 op names, ``input`` first and ``output``
  last), ``valid_acc`` and optionally ``test_acc``, ``epochs`` (default 108), ``train_time``,
  ``params`` and ``hash`` (checked against the hash computed here when given); one row per
  training run, so repeats are averaged as NB101's are;
* the 500-cell NASLib subset (``nb101_subset/nb101_naslib_500.csv``: validation accuracy only).
  Its op codes are 2 = maxpool3x3, 3 = conv1x1-bn-relu, 4 = conv3x3-bn-relu: with that reading
  all 500 stored parameter counts equal NB101's network's (:mod:`spaces.nb101.params`), with
  the reading its PROVENANCE.md suggests (2 = conv3x3) only 171 do. Its 500 rows are 292
  distinct NB101 cells (isomorphic or prunable specs written differently), and the rows of one
  cell carry at most 3 distinct accuracies: samples of NB101's 3 repeats, which is why the
  import keeps each distinct value once.

Every row is keyed by the NB101 hash of its pruned cell (:mod:`spaces.nb101.spec`); a row
whose given hash disagrees is refused. Accuracies are stored in %, per (cell, epochs) with up
to 3 repeats; :meth:`NB101Table.query` returns their mean (NB101's authors' wrapper for
NAS-Bench-1shot1 reports the mean of the 3 runs as well).
"""
from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np

from nas_core.paths import DataNotFoundError, cache_dir, resolve_data_dir
from nas_core.splits import Split
from spaces.nb101.spec import INPUT, MAXPOOL3X3, OPS, OUTPUT, CONV1X1, CONV3X3, InvalidSpec, ModelSpec
from spaces.tablefile import SUFFIX, read_table, write_table

SCHEMA_VERSION = 1
REPEATS = 3
#: the NASLib subset's op codes, established by the parameter counts (module docstring)
NASLIB_CODES = {0: INPUT, 1: OUTPUT, 2: MAXPOOL3X3, 3: CONV1X1, 4: CONV3X3}
SUBSET_CSV = "nb101_subset/nb101_naslib_500.csv"


class NB101ImportError(ValueError):
    """The source file is not one of the supported NB101 formats (the message says what is wrong)."""


@dataclass(frozen=True)
class Run:
    """One training run of one cell, as every source reduces to."""

    spec: ModelSpec
    epochs: int
    valid_acc: float
    test_acc: float = float("nan")
    train_time: float = float("nan")
    params: int = -1
    #: a sample of one of NB101's repeats (the NASLib subset): rows of one cell may repeat a run
    sampled: bool = False


# ---- sources ----------------------------------------------------------------------------------------
def _runs_from_tfrecord(path: Path) -> Iterator[Run]:
    from spaces.nb101.tfrecord import iter_rows

    for row in iter_rows(path):
        spec = ModelSpec(row.matrix, row.ops)
        if spec.hash() != row.hash:
            raise NB101ImportError(f"{path}: the record of {row.hash} describes a cell whose hash is {spec.hash()}")
        if len(row.metrics.evaluations) < 3:
            raise NB101ImportError(f"{path}: the record of {row.hash} has {len(row.metrics.evaluations)} evaluations, "
                                   "NB101 stores 3 (start, halfway, end)")
        final = row.metrics.evaluations[2]
        yield Run(spec, row.epochs, 100 * final.validation_accuracy, 100 * final.test_accuracy, final.training_time,
                  row.metrics.trainable_parameters)


def _spec_of(adjacency: str, ops: list[str]) -> ModelSpec:
    n = int(round(len(adjacency) ** 0.5))
    if n * n != len(adjacency) or set(adjacency) - {"0", "1"}:
        raise NB101ImportError(f"adjacency {adjacency!r} is not n*n 0/1 digits")
    return ModelSpec(np.array([int(c) for c in adjacency]).reshape(n, n), tuple(ops))


def _runs_from_rows(rows: Iterable[dict[str, Any]], source: Path) -> Iterator[Run]:
    def number(row: dict, key: str, default: float = float("nan")) -> float:
        value = row.get(key)
        return default if value in (None, "") else float(value)

    for i, row in enumerate(rows, start=1):
        try:
            if "op_codes" in row:  # the NASLib subset
                codes = [int(c) for c in str(row["op_codes"]).split()]
                spec = _spec_of(str(row["adjacency_7x7_rowmajor"]), [NASLIB_CODES[c] for c in codes])
                yield Run(spec, 108, number(row, "val_accuracy"), params=int(round(number(row, "params_M") * 1e6)),
                          sampled=True)
                continue
            spec = _spec_of(str(row["adjacency"]), [op.strip() for op in str(row["ops"]).split(",")])
            given = row.get("hash")
            if given and given != spec.hash():
                raise NB101ImportError(f"hash {given} given, but the cell's NB101 hash is {spec.hash()}")
            yield Run(spec, int(number(row, "epochs", 108)), number(row, "valid_acc"), number(row, "test_acc"),
                      number(row, "train_time"), int(number(row, "params", -1)))
        except (KeyError, ValueError, InvalidSpec) as exc:
            raise NB101ImportError(f"{source}, row {i}: {type(exc).__name__}: {exc}") from None


def read_runs(path: Path) -> Iterator[Run]:
    """The runs of ``path``, its format told by its suffix."""
    suffix = path.suffix.lower()
    if suffix == ".tfrecord":
        yield from _runs_from_tfrecord(path)
    elif suffix == ".csv":
        with open(path, newline="", encoding="utf-8") as fh:
            yield from _runs_from_rows(csv.DictReader(fh), path)
    elif suffix == ".json":
        try:
            rows = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise NB101ImportError(f"{path} is not valid JSON: {exc}") from None
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise NB101ImportError(f"{path}: expected a JSON list of objects (one per training run)")
        yield from _runs_from_rows(rows, path)
    else:
        raise NB101ImportError(f"{path}: unknown NB101 format {suffix!r}; expected .tfrecord, .csv or .json")


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in 1 MB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# ---- the compact table ---------------------------------------------------------------------------------------
def _encode_ops(ops: tuple[str, ...]) -> list[int]:
    codes = [-1] + [OPS.index(op) for op in ops[1:-1]] + [-2]
    return codes + [-3] * (7 - len(codes))


def import_nb101(source: str | Path, out: str | Path | None = None) -> Path:
    """Import ``source`` into ``out`` (default: the cache's ``tables/nb101-<digest>`` file)."""
    source = Path(source)
    if not source.is_file():
        raise DataNotFoundError(f"NB101 source file {source} not found")
    digest = file_sha256(source)
    entries: dict[tuple[str, int], dict[str, Any]] = {}
    for run in read_runs(source):
        run.spec.check_in_space()
        entry = entries.setdefault((run.spec.hash(), run.epochs), {"spec": run.spec, "runs": [], "params": run.params})
        values = (run.valid_acc, run.test_acc, run.train_time)
        if run.sampled and any(np.allclose(values, v, equal_nan=True) for v in entry["runs"]):
            continue  # another row drew the same repeat of this cell
        if len(entry["runs"]) < REPEATS:
            entry["runs"].append(values)
    if not entries:
        raise NB101ImportError(f"{source} holds no NB101 rows")
    keys = sorted(entries)
    n = len(keys)
    hashes = np.array([np.frombuffer(bytes.fromhex(h), dtype=np.uint8) for h, _ in keys])
    matrices = np.zeros((n, 7, 7), dtype=np.int8)
    ops = np.full((n, 7), -3, dtype=np.int8)
    metrics = np.full((n, REPEATS, 3), np.nan)
    for i, key in enumerate(keys):
        spec = entries[key]["spec"]
        size = len(spec.pruned_ops)
        matrices[i, :size, :size] = spec.pruned_matrix
        ops[i] = _encode_ops(spec.pruned_ops)
        for r, values in enumerate(entries[key]["runs"]):
            metrics[i, r] = values
    columns = {"hash": hashes, "epochs": np.array([e for _, e in keys], dtype=np.int32), "matrix": matrices,
               "ops": ops, "metrics": metrics, "params": np.array([entries[k]["params"] for k in keys], dtype=np.int64)}
    header = {"schema_version": SCHEMA_VERSION, "kind": "nb101",
              "provenance": {"source": source.name, "source_sha256": digest, "rows": n,
                             "epochs": sorted({e for _, e in keys})}}
    path = Path(out) if out else cache_dir() / "tables" / f"nb101-{digest[:16]}{SUFFIX}"
    write_table(path, columns, header)
    return path


class NB101Table:
    """Queries by NB101 hash (or spec): mean validation / test accuracy (%) over the stored repeats."""

    kind = "tabular"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.header, columns = read_table(self.path, SCHEMA_VERSION)
        self._columns = columns
        self._index = {(bytes(h).hex(), int(e)): i for i, (h, e) in enumerate(zip(columns["hash"], columns["epochs"]))}

    def __len__(self) -> int:
        return len(self._index)

    @property
    def epochs(self) -> list[int]:
        return list(self.header["provenance"]["epochs"])

    def has(self, key: str | ModelSpec, epochs: int = 108) -> bool:
        return (key.hash() if isinstance(key, ModelSpec) else key, epochs) in self._index

    def query(self, key: str | ModelSpec, split: Split | str = Split.VALID, epochs: int = 108) -> float:
        """Mean accuracy (%) of the repeats; ``KeyError`` saying why when the cell or split is absent."""
        module_hash = key.hash() if isinstance(key, ModelSpec) else key
        i = self._index.get((module_hash, epochs))
        if i is None:
            raise KeyError(f"cell {module_hash} at {epochs} epochs is not in the imported NB101 data "
                           f"({self.header['provenance']['source']}, {len(self)} cells)")
        column = {Split.VALID: 0, Split.TEST: 1}[Split.parse(split)]
        values = self._columns["metrics"][i, :, column]
        if np.isnan(values).all():
            raise KeyError(f"the imported NB101 data ({self.header['provenance']['source']}) has no "
                           f"{Split.parse(split).value} accuracy")
        return float(np.nanmean(values))

    def params(self, key: str | ModelSpec, epochs: int = 108) -> int:
        module_hash = key.hash() if isinstance(key, ModelSpec) else key
        return int(self._columns["params"][self._index[(module_hash, epochs)]])


def load_subset(data_dir: str | Path | None = None) -> NB101Table:
    """The 500-cell subset of the shared data, imported into the cache on first use."""
    source = resolve_data_dir(data_dir) / SUBSET_CSV
    if not source.is_file():
        raise DataNotFoundError(f"the NB101 subset {source} was not found; see README, section Data")
    digest = file_sha256(source)
    path = cache_dir() / "tables" / f"nb101-{digest[:16]}{SUFFIX}"
    return NB101Table(path if path.is_file() else import_nb101(source, path))
