"""Shared fixtures: an isolated cache, a synthetic NB201-shaped data folder, the real data when present."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest

# One intra-op thread: the suite also runs worker processes, and oversubscribed OpenMP threads
# spin instead of working (a tiny supernet step went from 50 ms to 160 ms with two threads).
import torch  # noqa: E402

torch.set_num_threads(1)

# Never touch the user's cache: every test session imports tables into a fresh folder.
os.environ["NAS_HARNESS_CACHE"] = tempfile.mkdtemp(prefix="nas-harness-test-cache-")
os.environ["NAS_HARNESS_SCORES"] = tempfile.mkdtemp(prefix="nas-harness-test-scores-")

REPO = Path(__file__).resolve().parent.parent
ASSETS = Path(__file__).resolve().parent / "assets"
SYNTHETIC_SEED = 1234


def synthetic_accuracy(ops: np.ndarray) -> np.ndarray:
    """A smooth, op-dependent fake accuracy so that searches have something to find."""
    weights = np.array([0.0, 2.0, 4.0, 7.0, 1.0])
    return 40.0 + weights[ops].sum(axis=1) + 0.37 * (ops * np.arange(1, 7)).sum(axis=1) % 3


@pytest.fixture(scope="session")
def synthetic_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with NB201-shaped CSVs built here (no real data): shuffled index order."""
    import pandas as pd

    from spaces.nb201.codec import all_archs

    root = tmp_path_factory.mktemp("synthetic-data")
    (root / "nb201").mkdir()
    archs = list(all_archs())
    order = np.random.default_rng(SYNTHETIC_SEED).permutation(len(archs))
    ops = np.array([archs[i].ops for i in order])
    acc = synthetic_accuracy(ops)
    n_conv3, n_conv1 = (ops == 3).sum(axis=1), (ops == 2).sum(axis=1)
    frame = pd.DataFrame({
        "arch_index": np.arange(len(archs)),
        "arch_str": [archs[i].to_str() for i in order],
        "cifar10_valid_xvalid_acc": acc,
        "cifar10_ori_test_acc": acc + 3.0,
        "cifar100_xvalid_acc_derived": acc - 20.0,
        "cifar100_xtest_acc": acc - 19.5,
        "imagenet16_xvalid_acc_derived": acc - 40.0,
        "imagenet16_xtest_acc": acc - 39.0,
        "params_M_cifar10": 0.073306 + 0.24304 * n_conv3 + 0.028 * n_conv1,
        "params_M_cifar100": 0.079156 + 0.24304 * n_conv3 + 0.028 * n_conv1,
        "params_M_imagenet16": 0.080456 + 0.24304 * n_conv3 + 0.028 * n_conv1,
        "flops_M_cifar10_derived": 7.9 + 35.8 * n_conv3,
        "flops_M_cifar100_derived": 7.9 + 35.8 * n_conv3,
        "flops_M_imagenet16_derived": 2.0 + 8.9 * n_conv3,
        "train_time_s_cifar10_valid": 1000.0 + 200.0 * n_conv3,
        "train_time_s_cifar100": 2000.0 + 400.0 * n_conv3,
        "train_time_s_imagenet16": 6000.0 + 1200.0 * n_conv3,
    })
    frame.to_csv(root / "nb201" / "nb201_nats_tss_200ep.csv", index=False)
    return root


@pytest.fixture(scope="session")
def synthetic_order(synthetic_data_dir: Path) -> np.ndarray:
    """official index -> lexicographic index of the synthetic table."""
    from spaces.nb201.codec import N_CELLS

    return np.random.default_rng(SYNTHETIC_SEED).permutation(N_CELLS)


@pytest.fixture(scope="session")
def synthetic_table(synthetic_data_dir: Path):
    from spaces.nb201.table import load_table

    return load_table(synthetic_data_dir)


def shared_data_with(marker: str, what: str) -> Path:
    """The shared data folder holding ``marker`` (``$NAS_HARNESS_DATA``, else ``../shared/data``),
    or a skip that names ``what`` was missing and how to provide it."""
    from nas_core.paths import REPO_ROOT, ENV_DATA

    candidates = [Path(os.environ[ENV_DATA])] if os.environ.get(ENV_DATA) else []
    candidates.append(REPO_ROOT.parent / "shared" / "data")
    for path in candidates:
        if (path / marker).is_file():
            return path
    pytest.skip(f"{what} not found in {[str(c) for c in candidates]}; set {ENV_DATA} to the shared data folder")


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The real shared data, or a skip that says how to provide it."""
    return shared_data_with("nb201/nb201_nats_tss_200ep.csv", "real NAS-Bench-201 CSVs")


@pytest.fixture(scope="session")
def real_table(real_data_dir: Path):
    from spaces.nb201.table import load_table

    return load_table(real_data_dir)


def write_config(path: Path, data_dir: Path, **fields) -> Path:
    """A small TOML experiment config for tests; ``strategies`` is a list of dicts."""
    import json

    base = {
        "name": "t", "space": "nb201", "datasets": ["cifar10"], "seeds": [0, 1], "epochs": 200,
        "n_jobs": 1, "backend": "sequential", "data_dir": str(data_dir),
        "budget": {"max_queries": 20},
        "strategies": [{"name": "random_search"}, {"name": "rea", "population_size": 5, "sample_size": 2}],
    }
    base.update(fields)
    lines = []
    for key, value in base.items():
        if key not in ("budget", "strategies"):
            lines.append(f"{key} = {json.dumps(value)}")
    lines.append("[budget]")
    lines += [f"{k} = {json.dumps(v)}" for k, v in base["budget"].items()]
    for spec in base["strategies"]:
        lines.append("[[strategies]]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in spec.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="session")
def image_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with a tiny CIFAR-10 pickle set (random images, 40 per batch file), built here."""
    import pickle

    root = tmp_path_factory.mktemp("images")
    folder = root / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        labels = (np.arange(40) % 10).tolist()
        batch = {b"data": rng.integers(0, 256, size=(40, 3072), dtype=np.uint8), b"labels": labels}
        with open(folder / name, "wb") as fh:
            pickle.dump(batch, fh)
    return root


@pytest.fixture(scope="session")
def darts_data_dir(tmp_path_factory: pytest.TempPathFactory, image_data_dir: Path) -> Path:
    """The tiny CIFAR-10 image folder beside the real NB301 surrogate (linked, never copied), or a skip."""
    pytest.importorskip("onnxruntime")
    shared = shared_data_with("nb301_yahpo/model_v2.onnx", "the NB301 YAHPO surrogate")
    root = tmp_path_factory.mktemp("darts_data")
    (root / "cifar-10-batches-py").symlink_to(image_data_dir / "cifar-10-batches-py")
    (root / "nb301_yahpo").symlink_to(shared / "nb301_yahpo")
    return root
