"""NAS-Bench-301 as the DARTS space's benchmark: the YAHPO v2 surrogate behind the oracle.

Every accuracy it gives is a *surrogate prediction of the validation split* at the final epoch
(98) of NB301's training protocol: not a measured accuracy, and not the paper's 600-epoch
test error. There is no test split and no architecture index, so the record's ``test_acc``
and ``arch_index`` stay ``None`` (the reports print "–"), and every record says where its
accuracy came from (``final.accuracy_source``, ``provenance.benchmark``). A query is charged
the surrogate's predicted training runtime, so time budgets work as on NB201.

Parameters in ``final`` are those of the standard evaluation network (20 cells, C = 36, no
auxiliary head), as in the paper's Table 3.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from nas_core.splits import Split
from spaces.base import Benchmark
from spaces.darts.genotype import Genotype
from spaces.darts.nb301 import FINAL_EPOCH, MODEL_SHA256, NB301Surrogate, locate

DATASETS = ("cifar10",)
ACCURACY_SOURCE = (f"NAS-Bench-301 surrogate (YAHPO Gym v2 ONNX): predicted validation accuracy at epoch "
                   f"{FINAL_EPOCH}, not a measured accuracy")


class SurrogateHasNoTestSplit(KeyError):
    """NB301 predicts validation accuracy only."""


@lru_cache(maxsize=4)
def _surrogate(folder: Path) -> NB301Surrogate:
    return NB301Surrogate(folder.parent)


class NB301Benchmark(Benchmark):
    """Validation-accuracy predictions (%) for DARTS genotypes, memoised per genotype."""

    kind = "surrogate"
    timed_epochs = FINAL_EPOCH

    def __init__(self, data_dir: str | Path | None = None) -> None:
        self.folder = locate(data_dir)
        self.surrogate = _surrogate(self.folder)
        self._memo: dict[Genotype, tuple[float, float]] = {}

    def _predict(self, genotypes: list[Genotype]) -> list[tuple[float, float]]:
        missing = [g for g in dict.fromkeys(genotypes) if g not in self._memo]
        if missing:
            out = self.surrogate.predict(missing)
            for g, acc, runtime in zip(missing, out.valid_acc, out.runtime_s):
                self._memo[g] = (float(acc), float(runtime))
        return [self._memo[g] for g in genotypes]

    def _check(self, arch: Any, dataset: str) -> None:
        if not isinstance(arch, Genotype):
            raise TypeError(f"expected a DARTS Genotype, got {type(arch).__name__} {arch!r:.80}")
        if dataset not in DATASETS:
            raise ValueError(f"NAS-Bench-301 covers {list(DATASETS)} only, got dataset {dataset!r}")

    def query(self, arch: Any, dataset: str, split: Any = Split.VALID, epochs: int | None = None) -> float:
        self._check(arch, dataset)
        if Split.parse(split) is not Split.VALID:
            raise SurrogateHasNoTestSplit("the NAS-Bench-301 surrogate predicts the validation split only; "
                                          "it has no test split")
        if epochs not in (None, FINAL_EPOCH):
            raise ValueError(f"the surrogate is queried at epoch {FINAL_EPOCH} only, got epochs = {epochs}")
        return self._predict([arch])[0][0]

    def train_time(self, arch: Any, dataset: str) -> float:
        self._check(arch, dataset)
        return self._predict([arch])[0][1]

    def final_evaluation(self, arch: Any, dataset: str) -> dict[str, Any]:
        from spaces.darts.network import param_count

        self._check(arch, dataset)
        acc, runtime = self._predict([arch])[0]
        return {"arch": arch.to_str(), "arch_index": None, "valid_acc": acc, "test_acc": None,
                "params_M": param_count(arch) / 1e6, "flops_M": None, "train_time_s": runtime,
                "accuracy_source": ACCURACY_SOURCE}

    def annotate(self, rows: list[dict[str, Any]], dataset: str) -> None:
        """Each epoch's derived genotype's predicted validation accuracy (one batch), for plots only."""
        marked = [row for row in rows if "genotype" in row]
        predictions = self._predict([Genotype.from_str(row["genotype"]) for row in marked])
        for row, (acc, _) in zip(marked, predictions):
            row["surrogate_valid_acc"] = acc

    def provenance(self) -> dict[str, Any]:
        return {"benchmark": {"name": "nb301", "kind": self.kind, "model": "YAHPO Gym v2 nb301 (ONNX)",
                              "file": str(self.folder / "model_v2.onnx"), "sha256": MODEL_SHA256,
                              "accuracy": ACCURACY_SOURCE}}
