"""NAS-Bench-101 as the benchmark of the NAS-Bench-1shot1 spaces.

A cell is looked up by the NB101 hash of its pruned 7x7 spec at 108 epochs
(:meth:`spaces.nb1shot1.cells.Cell.model_spec`), the mean of the repeats stored, as the
authors' wrapper reports it. Which NB101 data (``table`` in a config):

* ``auto``: the largest NB101 table imported into the cache (``nas-harness data import
  --nb101 FILE``: a user's official TFRecord or CSV/JSON), else the 500-cell NASLib subset of
  the data directory, else none;
* ``subset``: the 500-cell subset (validation accuracy only; 292 distinct cells);
* ``none``: no accuracies at all.

Without data for a cell, searches still run: the record holds the cell, its spec and hash, and
its accuracies stay ``None`` with a one-line reason (``final.accuracy_missing``). Parameter
counts never need the data: they are computed from NB101's network (:mod:`spaces.nb101.params`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from nas_core.paths import DataNotFoundError, cache_dir
from nas_core.splits import Split
from spaces.base import Benchmark, FlagSealed
from spaces.nb101.params import param_count
from spaces.nb101.table import SUBSET_CSV, NB101Table, load_subset
from spaces.nb1shot1.cells import Cell, from_str
from spaces.tablefile import SUFFIX

EPOCHS = 108
IMPORT_HINT = "import NAS-Bench-101 with `nas-harness data import --nb101 nasbench_only108.tfrecord`"


class CellNotInData(KeyError):
    """The NB101 data at hand has no entry (or no such split) for this cell."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class TestSplitSealed(RuntimeError):
    """A test accuracy was asked for while a search was running."""


def open_nb101(choice: str = "auto", data_dir: str | Path | None = None) -> tuple[NB101Table | None, str]:
    """(the NB101 table ``choice`` names, a one-line description of it or of why there is none)."""
    if choice == "none":
        return None, "no NB101 data (table = 'none')"
    if choice == "auto":  # the largest import first (same format: size follows the rows); the subset is not one
        for path in sorted((cache_dir() / "tables").glob(f"nb101-*{SUFFIX}"), key=lambda p: -p.stat().st_size):
            table = NB101Table(path)
            if table.header["provenance"]["source"] != Path(SUBSET_CSV).name:
                return table, f"NB101 table {table.path.name} ({len(table):,} cells)"
    try:
        table = load_subset(data_dir)
    except DataNotFoundError as exc:
        if choice == "subset":
            raise
        return None, f"no NB101 data found ({str(exc).splitlines()[0]}); {IMPORT_HINT}"
    return table, f"500-row NASLib subset of NB101 ({len(table)} cells, validation accuracy only)"


class NB1shot1Benchmark(FlagSealed, Benchmark):
    """Validation / test accuracy (%) of NAS-Bench-1shot1 cells from whatever NB101 data there is."""

    kind = "tabular"
    timed_epochs = None

    def __init__(self, choice: str = "auto", data_dir: str | Path | None = None, space: int | None = None) -> None:
        self.table, self.description = open_nb101(choice, data_dir)
        self.space = space

    @property
    def data_description(self) -> str:
        return self.description

    def _spec_hash(self, arch: Any) -> tuple[Any, str]:
        if not isinstance(arch, Cell):
            raise TypeError(f"expected a NAS-Bench-1shot1 Cell, got {type(arch).__name__} {arch!r:.80}")
        if self.space is not None and arch.space != self.space:
            raise ValueError(f"cell of space {arch.space} given to the benchmark of space {self.space}")
        spec = arch.model_spec()
        return spec, spec.hash()

    def query(self, arch: Any, dataset: str, split: Any = Split.VALID, epochs: int | None = None) -> float:
        """Accuracy (%); :class:`CellNotInData` says why when the data has none."""
        if dataset != "cifar10":
            raise ValueError(f"NAS-Bench-101 covers cifar10 only, got dataset {dataset!r}")
        if epochs not in (None, EPOCHS):
            raise ValueError(f"NAS-Bench-1shot1 queries NB101 at {EPOCHS} epochs, got epochs = {epochs}")
        return self._query_hash(self._spec_hash(arch)[1], Split.parse(split))

    def _query_hash(self, module_hash: str, split: Split) -> float:
        if split is Split.TEST and self.is_sealed:
            raise TestSplitSealed("the test split is sealed while a search runs")
        if self.table is None:
            raise CellNotInData(f"no accuracy for cell {module_hash}: {self.description}")
        if not self.table.has(module_hash, EPOCHS):
            raise CellNotInData(f"cell {module_hash} is not in the {self.description}; {IMPORT_HINT}")
        try:
            return self.table.query(module_hash, split, EPOCHS)
        except KeyError as exc:
            raise CellNotInData(f"cell {module_hash}: {exc.args[0]}") from None

    def accuracies(self, module_hash: str) -> dict[str, Any]:
        """Valid and test accuracy of the NB101 cell ``module_hash`` (``None`` where missing) and
        the reason for the first miss; also what Fig. 1 joins recorded hashes with."""
        out: dict[str, Any] = {}
        reasons = []
        for split in (Split.VALID, Split.TEST):
            try:
                out[f"{split.value}_acc"] = self._query_hash(module_hash, split)
            except CellNotInData as exc:
                out[f"{split.value}_acc"] = None
                reasons.append(str(exc))
        out["accuracy_missing"] = reasons[0] if reasons else None
        return out

    def lookup(self, arch: Cell) -> dict[str, Any]:
        """The cell's hash and :meth:`accuracies`."""
        module_hash = self._spec_hash(arch)[1]
        return {"nb101_hash": module_hash, **self.accuracies(module_hash)}

    def final_evaluation(self, arch: Any, dataset: str) -> dict[str, Any]:
        spec, module_hash = self._spec_hash(arch)
        found = self.accuracies(module_hash)
        return {"arch": arch.to_str(), "arch_index": None, "nb101_hash": module_hash,
                "nb101_spec": {"matrix": spec.pruned_matrix.tolist(), "ops": list(spec.pruned_ops)},
                "valid_acc": found["valid_acc"], "test_acc": found["test_acc"],
                "params_M": param_count(spec) / 1e6, "flops_M": None, "train_time_s": None,
                "accuracy_source": self.description, "accuracy_missing": found["accuracy_missing"]}

    def annotate(self, rows: list[dict[str, Any]], dataset: str) -> None:
        """Each epoch's derived cell: its NB101 hash and, where the data has them, valid / test accuracy (Fig. 1)."""
        for row in rows:
            if "genotype" not in row:
                continue
            found = self.lookup(from_str(row["genotype"]))
            row["nb101_hash"] = found["nb101_hash"]
            row["table_valid_acc"], row["table_test_acc"] = found["valid_acc"], found["test_acc"]
            if found["accuracy_missing"]:
                row["accuracy_missing"] = found["accuracy_missing"]

    def provenance(self) -> dict[str, Any]:
        table = None if self.table is None else {"file": str(self.table.path), "rows": len(self.table),
                                                  **self.table.header["provenance"]}
        return {"benchmark": {"name": "nb101", "kind": self.kind, "accuracy": self.description, "table": table}}

