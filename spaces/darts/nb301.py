"""NAS-Bench-301 through the YAHPO Gym v2 ONNX surrogate (ALGORITHMS.md, "DARTS space and NAS-Bench-301").

Why not ``nasbench301``: it does not install on Python 3.11 and downloads its models at run
time. The YAHPO v2 surrogate in ``<data>/nb301_yahpo/`` is a small MLP exported to ONNX; we
feed it directly with onnxruntime (the PyPI ``yahpo-gym`` 1.0.2 knows only the v1 targets and
would mislabel the v2 outputs).

Encoding (``x_cat``, int32 [batch, 34], columns in *numeric* order): ``edge_normal_0..13``,
``edge_reduce_0..13``, ``inputs_node_normal_3,4,5``, ``inputs_node_reduce_3,4,5``, each code
from ``encoding_v2.json``; an inactive edge is ``#na#`` = 0. Intermediate node k (DARTS node
2+k) owns edges ``START[k] + input`` with START = (0, 2, 5, 9); ``inputs_node_<cell>_<n>`` is
the sorted pair ``"i_j"`` of node n's inputs (node 2's are always 0 and 1). ``x_cont`` is the
raw epoch (float32 [batch, 1]); 98 is the final one.

Outputs, already back-transformed: validation accuracy (reported here in %), validation
cross-entropy, cumulative runtime (s), a model-size figure. These are *surrogate predictions of
the validation split*, not measured accuracies and not the paper's 600-epoch test error; every
caller must label them so.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from nas_core.paths import DataNotFoundError, resolve_data_dir
from spaces.darts.genotype import N_NODES, Genotype

PREFIX = "NetworkSelectorDatasetInfo_COLON_darts_COLON_"
START = (0, 2, 5, 9)
FINAL_EPOCH = 98
MODEL_SHA256 = "e7168d495cf7fe6419b69234a052571536c2a5f6d7a8a2aead4e9d04dffac1d6"
COLUMNS = ([f"edge_normal_{i}" for i in range(14)] + [f"edge_reduce_{i}" for i in range(14)]
           + [f"inputs_node_normal_{n}" for n in (3, 4, 5)] + [f"inputs_node_reduce_{n}" for n in (3, 4, 5)])


@dataclass(frozen=True)
class Prediction:
    """Surrogate outputs for a batch: validation accuracy (%), cross-entropy, runtime (s), size."""

    valid_acc: np.ndarray
    valid_ce: np.ndarray
    runtime_s: np.ndarray
    size: np.ndarray


def locate(data_dir: str | Path | None = None) -> Path:
    folder = resolve_data_dir(data_dir) / "nb301_yahpo"
    needed = [folder / "model_v2.onnx", folder / "encoding_v2.json"]
    if not all(p.is_file() for p in needed):
        listed = "\n".join(f"  - {p}" for p in needed)
        raise DataNotFoundError(f"NAS-Bench-301 surrogate (YAHPO Gym v2) not found; expected:\n{listed}\n"
                                "See README, section Data.")
    return folder


class NB301Surrogate:
    """Batch predictions of the YAHPO v2 NB301 surrogate for DARTS genotypes."""

    def __init__(self, data_dir: str | Path | None = None, threads: int = 1) -> None:
        import onnxruntime as ort

        folder = locate(data_dir)
        model = (folder / "model_v2.onnx").read_bytes()
        digest = hashlib.sha256(model).hexdigest()
        if digest != MODEL_SHA256:
            raise ValueError(f"{folder / 'model_v2.onnx'} has SHA-256 {digest}, expected {MODEL_SHA256} "
                             "(the YAHPO v2 file of its PROVENANCE.md); the file is corrupt or another model")
        try:
            encoding = json.loads((folder / "encoding_v2.json").read_text())
            self.codes = [encoding[PREFIX + column] for column in COLUMNS]
        except (ValueError, KeyError) as exc:
            raise ValueError(f"{folder / 'encoding_v2.json'} is not the YAHPO v2 encoding ({exc})") from None
        options = ort.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = threads
        self.session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        self.path = folder

    def encode(self, genotypes: Sequence[Genotype]) -> np.ndarray:
        """``x_cat`` rows (int32 [len(genotypes), 34])."""
        rows = np.zeros((len(genotypes), len(COLUMNS)), dtype=np.int32)
        for r, genotype in enumerate(genotypes):
            for c, kind in enumerate(("normal", "reduce")):
                pairs = genotype.normal if kind == "normal" else genotype.reduce
                for slot, (op, src) in enumerate(pairs):
                    column = 14 * c + START[slot // 2] + src
                    rows[r, column] = self._code(column, op)
                for k, inputs in enumerate(genotype.node_inputs(kind)[1:], start=1):  # nodes 3, 4, 5
                    column = 28 + 3 * c + (k - 1)
                    rows[r, column] = self._code(column, f"{inputs[0]}_{inputs[1]}")
        return rows

    def _code(self, column: int, level: str) -> int:
        try:
            return int(self.codes[column][level])
        except KeyError:
            raise ValueError(f"{COLUMNS[column]} has no level {level!r} in the surrogate's encoding") from None

    def predict(self, genotypes: Iterable[Genotype], epoch: int = FINAL_EPOCH) -> Prediction:
        """Surrogate outputs at ``epoch`` (1..98) for every genotype, in one batch."""
        genotypes = list(genotypes)
        if not 1 <= epoch <= FINAL_EPOCH:
            raise ValueError(f"epoch must be in 1..{FINAL_EPOCH}, got {epoch}")
        if not genotypes:
            empty = np.zeros(0)
            return Prediction(empty, empty, empty, empty)
        x_cat = self.encode(genotypes)
        x_cont = np.full((len(genotypes), 1), float(epoch), dtype=np.float32)
        names = [i.name for i in self.session.get_inputs()]
        feeds = {name: (x_cat if "cat" in name else x_cont) for name in names}
        (out,) = self.session.run(None, feeds)
        out = np.asarray(out, dtype=np.float64)
        return Prediction(100 * out[:, 0], out[:, 1], out[:, 2], out[:, 3])


