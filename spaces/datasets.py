"""Image datasets for proxies and supernet search, read where the user keeps them.

Sources, all under the data directory (see :mod:`nas_core.paths`):

* CIFAR-10: the standard python-pickle folder ``cifar-10-batches-py/`` if present, else the
  JPEG archive ``cifar10_jpeg/cifar10_{train,test}_jpeg.npz`` (decoded once with Pillow and
  cached as uint8 arrays in the user cache);
* CIFAR-100: ``cifar-100-python/{train,test}``;
* ImageNet16-120: ``ImageNet16/train_data_batch_{1..10}`` and ``ImageNet16/val_data`` (the
  downsampled-ImageNet pickles; labels 1..120 kept, shifted to 0..119).

Images are uint8 arrays ``[N, H, W, 3]``; augmentation and normalisation are done in torch.
"""
from __future__ import annotations

import io
import os
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nas_core.paths import DataNotFoundError, cache_dir, resolve_data_dir


@dataclass(frozen=True)
class DatasetInfo:
    num_classes: int
    image_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]


CIFAR_MEAN, CIFAR_STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)
INFO: dict[str, DatasetInfo] = {
    "cifar10": DatasetInfo(10, 32, CIFAR_MEAN, CIFAR_STD),
    "cifar10-valid": DatasetInfo(10, 32, CIFAR_MEAN, CIFAR_STD),
    "cifar100": DatasetInfo(100, 32, (0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)),
    "ImageNet16-120": DatasetInfo(120, 16, (122.68 / 255, 116.66 / 255, 104.01 / 255), (63.22 / 255, 61.26 / 255, 65.09 / 255)),
}


def dataset_info(dataset: str) -> DatasetInfo:
    try:
        return INFO[dataset]
    except KeyError:
        raise ValueError(f"unknown dataset {dataset!r}; expected one of {list(INFO)}") from None


def load_images(dataset: str, split: str = "train", data_dir: str | Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(images uint8 [N,H,W,3], labels int64 [N])`` of ``dataset``'s ``split`` (train or test)."""
    if split not in ("train", "test"):
        raise ValueError(f"unknown split {split!r}; expected 'train' or 'test'")
    root = resolve_data_dir(data_dir)
    if dataset in ("cifar10", "cifar10-valid"):
        return _cifar10(root, split)
    if dataset == "cifar100":
        return _cifar_pickles(root / "cifar-100-python", ["train" if split == "train" else "test"], b"fine_labels", "CIFAR-100")
    if dataset == "ImageNet16-120":
        return _imagenet16(root / "ImageNet16", split)
    dataset_info(dataset)
    raise AssertionError("unreachable")


def has_cifar10(data_dir: str | Path | None = None) -> bool:
    """Whether CIFAR-10's training images can be found (either form), without reading them."""
    try:
        root = resolve_data_dir(data_dir)
    except DataNotFoundError:
        return False
    return (root / "cifar-10-batches-py" / "data_batch_1").is_file() or \
        (root / "cifar10_jpeg" / "cifar10_train_jpeg.npz").is_file()


def _missing(name: str, expected: list[Path], how: str) -> DataNotFoundError:
    listed = "\n".join(f"  - {p}" for p in expected)
    return DataNotFoundError(f"{name} not found; expected:\n{listed}\n{how}")


def _unpickle(path: Path) -> dict:
    with open(path, "rb") as fh:
        return pickle.load(fh, encoding="bytes")


def _cifar_pickles(folder: Path, files: list[str], label_key: bytes, name: str) -> tuple[np.ndarray, np.ndarray]:
    paths = [folder / f for f in files]
    if not all(p.is_file() for p in paths):
        raise _missing(name, paths, "Put the standard python version of the dataset in the data directory.")
    images, labels = [], []
    for path in paths:
        batch = _unpickle(path)
        images.append(np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
        labels.append(np.asarray(batch[label_key], dtype=np.int64))
    return np.ascontiguousarray(np.concatenate(images)), np.concatenate(labels)


def _cifar10(root: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    pickles = root / "cifar-10-batches-py"
    if pickles.is_dir():
        files = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
        return _cifar_pickles(pickles, files, b"labels", "CIFAR-10")
    archive = root / "cifar10_jpeg" / f"cifar10_{split}_jpeg.npz"
    if not archive.is_file():
        raise _missing("CIFAR-10", [pickles / "data_batch_1", archive], "Either form is read; see README, section Data.")
    return _decoded_jpeg_archive(archive)


def _decoded_jpeg_archive(archive: Path) -> tuple[np.ndarray, np.ndarray]:
    """Decode every JPEG once with Pillow; later calls read the uint8 cache (keyed by size+mtime)."""
    stat = archive.stat()
    cached = cache_dir() / "datasets" / f"{archive.stem}-{stat.st_size}-{stat.st_mtime_ns}.npz"
    if cached.is_file():
        with np.load(cached) as z:
            return z["images"], z["labels"]
    from PIL import Image

    with np.load(archive, allow_pickle=False) as z:
        blob, offsets, labels = z["jpeg_bytes"], z["offsets"], z["labels"].astype(np.int64)
    images = np.empty((len(labels), 32, 32, 3), dtype=np.uint8)
    for i in range(len(labels)):
        with Image.open(io.BytesIO(blob[offsets[i] : offsets[i + 1]].tobytes())) as img:
            images[i] = np.asarray(img.convert("RGB"))
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_name(f".{cached.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as fh:
            np.savez(fh, images=images, labels=labels)
        os.replace(tmp, cached)
    finally:
        tmp.unlink(missing_ok=True)
    return images, labels


def _imagenet16(folder: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    files = [f"train_data_batch_{i}" for i in range(1, 11)] if split == "train" else ["val_data"]
    paths = [folder / f for f in files]
    if not all(p.is_file() for p in paths):
        raise _missing("ImageNet16-120", paths, "These are the downsampled ImageNet 16x16 pickles used by NAS-Bench-201.")
    images, labels = [], []
    for path in paths:
        with open(path, "rb") as fh:
            batch = pickle.load(fh)
        keep = np.asarray(batch["labels"]) <= 120
        images.append(np.asarray(batch["data"], dtype=np.uint8)[keep].reshape(-1, 3, 16, 16).transpose(0, 2, 3, 1))
        labels.append(np.asarray(batch["labels"], dtype=np.int64)[keep] - 1)
    return np.ascontiguousarray(np.concatenate(images)), np.concatenate(labels)
