"""Build the compact NB201 table from the sources a user has.

Two sources, one output (the columns read by :mod:`spaces.nb201.table`):

* the converted CSVs in ``<data-dir>/nb201/`` (see their PROVENANCE.md);
* the official API objects (``nats_bench.create(path, "tss", fast_mode=True)`` or the older
  ``nas_201_api.NASBench201API(path)``), queried once per cell and dataset.

Column names: ``acc/<dataset>/<split>/<epochs>``, ``params_M/<dataset>``, ``flops_M/<dataset>``,
``train_time_s/<dataset>`` (200 epochs), ``latency_ms/<device>``, and ``arch_ops`` (the 6 op
codes of each official index). Every importer checks that all its sources agree on the
index -> arch mapping and refuses to build a table otherwise.

NB201 conventions applied here, all documented in docs/nb201.md:
``cifar10``'s validation accuracy is ``cifar10-valid``/``x-valid`` (a model trained on all 50k
images has no held-out split; this is the "CIFAR-10 Valid" column of NB201-style tables), and
its simulated training time is that of the ``cifar10-valid`` run, as the NATS-Bench search
scripts do.
"""
from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, Callable

import numpy as np

from spaces.nb201.codec import N_CELLS, Arch

DATASETS: tuple[str, ...] = ("cifar10-valid", "cifar10", "cifar100", "ImageNet16-120")
MAIN_CSV = "nb201_nats_tss_200ep.csv"
#: version of the column layout the importers produce (a compact table file stores it and is refused when it differs)
SCHEMA_VERSION = 1
OPTIONAL_CSVS = ("nb201_v1_cifar10_naswot.csv", "nb201_12ep_minibench.csv", "nb201_latency_help.csv")

# (column in the compact table) <- (csv file, csv column)
_CSV_COLUMNS: dict[str, tuple[str, str]] = {
    "acc/cifar10-valid/valid/200": (MAIN_CSV, "cifar10_valid_xvalid_acc"),
    "acc/cifar10-valid/test/200": ("nb201_v1_cifar10_naswot.csv", "cifar10_valid_ori_test_acc"),
    "acc/cifar10/valid/200": (MAIN_CSV, "cifar10_valid_xvalid_acc"),
    "acc/cifar10/test/200": (MAIN_CSV, "cifar10_ori_test_acc"),
    "acc/cifar100/valid/200": (MAIN_CSV, "cifar100_xvalid_acc_derived"),
    "acc/cifar100/test/200": (MAIN_CSV, "cifar100_xtest_acc"),
    "acc/ImageNet16-120/valid/200": (MAIN_CSV, "imagenet16_xvalid_acc_derived"),
    "acc/ImageNet16-120/test/200": (MAIN_CSV, "imagenet16_xtest_acc"),
    "acc/cifar10-valid/valid/12": ("nb201_12ep_minibench.csv", "cifar10_valid_xvalid_acc_12ep"),
    "acc/cifar10/valid/12": ("nb201_12ep_minibench.csv", "cifar10_valid_xvalid_acc_12ep"),
    "acc/cifar10/test/12": ("nb201_12ep_minibench.csv", "cifar10_ori_test_acc_12ep"),
    "acc/cifar100/valid/12": ("nb201_12ep_minibench.csv", "cifar100_xvalid_acc_12ep"),
    "acc/cifar100/test/12": ("nb201_12ep_minibench.csv", "cifar100_xtest_acc_12ep"),
    "acc/ImageNet16-120/valid/12": ("nb201_12ep_minibench.csv", "imagenet16_xvalid_acc_12ep"),
    "acc/ImageNet16-120/test/12": ("nb201_12ep_minibench.csv", "imagenet16_xtest_acc_12ep"),
    "params_M/cifar10-valid": (MAIN_CSV, "params_M_cifar10"),
    "params_M/cifar10": (MAIN_CSV, "params_M_cifar10"),
    "params_M/cifar100": (MAIN_CSV, "params_M_cifar100"),
    "params_M/ImageNet16-120": (MAIN_CSV, "params_M_imagenet16"),
    "flops_M/cifar10-valid": (MAIN_CSV, "flops_M_cifar10_derived"),
    "flops_M/cifar10": (MAIN_CSV, "flops_M_cifar10_derived"),
    "flops_M/cifar100": (MAIN_CSV, "flops_M_cifar100_derived"),
    "flops_M/ImageNet16-120": (MAIN_CSV, "flops_M_imagenet16_derived"),
    "train_time_s/cifar10-valid": (MAIN_CSV, "train_time_s_cifar10_valid"),
    "train_time_s/cifar10": (MAIN_CSV, "train_time_s_cifar10_valid"),
    "train_time_s/cifar100": (MAIN_CSV, "train_time_s_cifar100"),
    "train_time_s/ImageNet16-120": (MAIN_CSV, "train_time_s_imagenet16"),
}
LATENCY_CSV = "nb201_latency_help.csv"


class TableImportError(ValueError):
    """A source is missing, malformed, or disagrees with another source."""


def _ops_from_strings(strings: list[str], source: str) -> np.ndarray:
    ops = np.empty((len(strings), 6), dtype=np.uint8)
    for row, text in enumerate(strings):
        try:
            ops[row] = Arch.from_str(text).ops
        except ValueError as exc:
            raise TableImportError(f"{source}, row {row}: {exc}") from None
    return ops


def import_csvs(nb201_dir: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read the converted CSVs; return ``(columns, provenance)``."""
    import pandas as pd  # only the importer needs pandas; queries never do

    main = nb201_dir / MAIN_CSV
    if not main.is_file():
        raise TableImportError(
            f"no NAS-Bench-201 table in {nb201_dir}: expected {MAIN_CSV} (and optionally {', '.join(OPTIONAL_CSVS)}); "
            "see README, section Data"
        )
    frames: dict[str, Any] = {}
    for name in (MAIN_CSV, *OPTIONAL_CSVS):
        path = nb201_dir / name
        if not path.is_file():
            continue
        try:
            frame = pd.read_csv(path)
        except Exception as exc:  # pandas raises many types for a bad file
            raise TableImportError(f"{path} could not be read as CSV ({exc}); restore it from its source") from None
        if len(frame) != N_CELLS or "arch_index" not in frame or "arch_str" not in frame:
            raise TableImportError(f"{path}: expected {N_CELLS} rows with arch_index and arch_str, got {len(frame)} rows")
        if not np.array_equal(frame["arch_index"].to_numpy(), np.arange(N_CELLS)):
            frame = frame.sort_values("arch_index").reset_index(drop=True)
            if not np.array_equal(frame["arch_index"].to_numpy(), np.arange(N_CELLS)):
                raise TableImportError(f"{path}: arch_index is not a permutation of 0..{N_CELLS - 1}")
        frames[name] = frame
    reference = frames[MAIN_CSV]["arch_str"].tolist()
    arch_ops = _ops_from_strings(reference, str(main))
    for name, frame in frames.items():
        if frame["arch_str"].tolist() != reference:
            bad = int(np.flatnonzero(frame["arch_str"].to_numpy() != np.asarray(reference))[0])
            raise TableImportError(f"{name} and {MAIN_CSV} disagree on the arch of index {bad}; the sources are inconsistent")
    columns: dict[str, np.ndarray] = {"arch_ops": arch_ops}
    for column, (file, source_column) in _CSV_COLUMNS.items():
        if file in frames:
            if source_column not in frames[file]:
                raise TableImportError(f"{nb201_dir / file}: missing column {source_column!r}")
            columns[column] = _numeric(frames[file][source_column], nb201_dir / file)
    if LATENCY_CSV in frames:
        for device in frames[LATENCY_CSV].columns.drop(["arch_index", "arch_str"]):
            columns[f"latency_ms/{device}"] = _numeric(frames[LATENCY_CSV][device], nb201_dir / LATENCY_CSV)
    provenance = {
        "source": "csv",
        "files": {name: {"size": (nb201_dir / name).stat().st_size} for name in frames},
        "directory": str(nb201_dir),
    }
    return columns, provenance


def _numeric(series: Any, path: Path) -> np.ndarray:
    """The column as float64; a value that is not a number names its file, column and line."""
    import pandas as pd

    values = pd.to_numeric(series, errors="coerce")
    bad = values.isna() & series.notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise TableImportError(f"{path}, column {series.name!r}, line {row + 2}: {series.iloc[row]!r} is not a number; "
                               "fix or re-export the file")
    return values.to_numpy(dtype=np.float64)


def import_official_api(api: Any, progress: Callable[[int], None] | None = None) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Query an official API object once per cell and dataset.

    ``api`` must offer ``len(api)``, ``api.arch(i) -> str``, ``api.get_more_info(i, dataset, ...)``
    (keys ``valid-accuracy``, ``test-accuracy``, ``train-all-time``) and
    ``api.get_cost_info(i, dataset, ...) -> {"params", "flops", "latency"}``. NATS-Bench's
    ``hp="200"/"12"`` keyword and nas_201_api's ``use_12epochs_result`` are both understood.
    """
    if len(api) != N_CELLS:
        raise TableImportError(f"the official API object holds {len(api)} cells, expected {N_CELLS} (the 'tss' space)")
    nats_style = "hp" in inspect.signature(api.get_more_info).parameters

    def more(i: int, dataset: str, epochs: int) -> dict[str, Any]:
        if nats_style:
            return api.get_more_info(i, dataset, hp=str(epochs), is_random=False)
        return api.get_more_info(i, dataset, use_12epochs_result=(epochs == 12), is_random=False)

    def cost(i: int, dataset: str) -> dict[str, Any]:
        return api.get_cost_info(i, dataset, hp="200") if nats_style else api.get_cost_info(i, dataset)

    arch_ops = _ops_from_strings([api.arch(i) for i in range(N_CELLS)], "official API")
    columns: dict[str, np.ndarray] = {"arch_ops": arch_ops}
    sources = {"cifar10-valid": "cifar10-valid", "cifar10": "cifar10", "cifar100": "cifar100", "ImageNet16-120": "ImageNet16-120"}
    for epochs in (200, 12):
        for dataset in DATASETS:
            valid, test = np.full(N_CELLS, np.nan), np.full(N_CELLS, np.nan)
            for i in range(N_CELLS):
                # cifar10 has no held-out split: its valid column is cifar10-valid/x-valid (NB201 convention)
                info = more(i, sources[dataset], epochs)
                test[i] = info.get("test-accuracy", np.nan)
                valid_info = info if dataset != "cifar10" else more(i, "cifar10-valid", epochs)
                valid[i] = valid_info.get("valid-accuracy", np.nan)
                if epochs == 200 and dataset != "cifar10":
                    columns.setdefault(f"train_time_s/{dataset}", np.full(N_CELLS, np.nan))[i] = info.get("train-all-time", np.nan)
            columns[f"acc/{dataset}/valid/{epochs}"] = valid
            if not np.isnan(test).all():
                columns[f"acc/{dataset}/test/{epochs}"] = test
            if progress:
                progress(1)
    columns["train_time_s/cifar10"] = columns["train_time_s/cifar10-valid"].copy()
    for dataset in DATASETS:
        infos = [cost(i, dataset) for i in range(N_CELLS)]
        columns[f"params_M/{dataset}"] = np.array([c["params"] for c in infos], dtype=np.float64)
        columns[f"flops_M/{dataset}"] = np.array([c["flops"] for c in infos], dtype=np.float64)
        columns[f"latency_ms/official_{dataset}"] = 1000.0 * np.array([c["latency"] for c in infos], dtype=np.float64)
    return columns, {"source": "official-api", "api_type": type(api).__name__}


def open_official_api(path: Path) -> Any:
    """Open an official benchmark file with whichever official package is installed."""
    try:
        import nats_bench  # type: ignore[import-not-found]

        return nats_bench.create(str(path), "tss", fast_mode=True, verbose=False)
    except ModuleNotFoundError:
        pass
    try:
        from nas_201_api import NASBench201API  # type: ignore[import-not-found]

        return NASBench201API(str(path), verbose=False)
    except ModuleNotFoundError:
        raise TableImportError(
            "importing official files needs the `nats_bench` (or `nas_201_api`) package: pip install nats_bench"
        ) from None
