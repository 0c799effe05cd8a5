"""Search data for one-shot strategies: the CIFAR-10 train split halved into search-train and
search-valid (class-balanced and seeded, or an official split file), batches in torch.

Each step takes one train batch (the train half shuffled once per epoch) and one random valid
batch; both get the NB201 training augmentation. The split comes from the run's ``split``
stream and every random choice of epoch ``e`` from its ``batches`` stream for ``e``
(:class:`nas_core.streams.Streams`), so a run resumed at an epoch boundary sees exactly the
batches an uninterrupted run would have seen, and no other random choice shifts them.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
import torch.nn.functional as F

from nas_core.streams import Streams
from spaces.augment import augment, normalise, to_tensor
from spaces.datasets import load_images


def balanced_split(labels: np.ndarray, seed: int, per_class: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Half of every class to search-train and half to search-valid (or ``per_class`` each)."""
    rng = np.random.default_rng(seed)
    train, valid = [], []
    for cls in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == cls))
        half = len(members) // 2 if per_class is None else min(per_class, len(members) // 2)
        train.append(members[:half])
        valid.append(members[half : 2 * half])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(valid))


def load_split_file(path: str | Path, n_images: int) -> tuple[np.ndarray, np.ndarray]:
    """A user-supplied split: JSON ``{"train": [indices], "valid": [indices]}``."""
    try:
        spec = json.loads(Path(path).read_text())
        train, valid = np.asarray(spec["train"], dtype=np.int64), np.asarray(spec["valid"], dtype=np.int64)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"split file {path}: expected JSON with 'train' and 'valid' index lists ({exc})") from None
    if len(np.intersect1d(train, valid)) or min(train.min(), valid.min()) < 0 or max(train.max(), valid.max()) >= n_images:
        raise ValueError(f"split file {path}: indices must be disjoint and within 0..{n_images - 1}")
    return train, valid


class SearchData:
    """Batches of search-train and search-valid images, optionally downsampled (CPU scale)."""

    def __init__(self, dataset: str, streams: Streams, batch_size: int = 64, image_size: int | None = None,
                 per_class: int | None = None, split_file: str | None = None, data_dir: str | None = None) -> None:
        images, labels = load_images("cifar10" if dataset == "cifar10-valid" else dataset, "train", data_dir)
        if split_file:
            train_idx, valid_idx = load_split_file(split_file, len(labels))
        else:
            train_idx, valid_idx = balanced_split(labels, streams.seed("split"), per_class)
        pixels = to_tensor(images)
        if image_size and image_size != pixels.shape[-1]:
            pixels = F.adaptive_avg_pool2d(pixels, image_size)
        self.dataset, self.streams, self.batch_size = dataset, streams, batch_size
        self.padding = max(1, pixels.shape[-1] // 8)
        self.train_x, self.train_y = pixels[train_idx], torch.from_numpy(labels[train_idx])
        self.valid_x, self.valid_y = pixels[valid_idx], torch.from_numpy(labels[valid_idx])

    @property
    def n_valid(self) -> int:
        """Search-valid images: the dataset size N of BaLeNAS's Variational Adam."""
        return len(self.valid_y)

    @property
    def steps_per_epoch(self) -> int:
        return len(self.train_y) // self.batch_size

    def _prepare(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return normalise(augment(x, generator, self.padding), self.dataset)

    def epoch(self, epoch: int) -> Iterator[tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]]:
        """``(train batch, valid batch)`` pairs of one epoch, determined by ``(run seed, "batches", epoch)``."""
        generator = self.streams.torch_generator("batches", epoch)
        order = torch.randperm(len(self.train_y), generator=generator)
        for step in range(self.steps_per_epoch):
            picks = order[step * self.batch_size : (step + 1) * self.batch_size]
            valid_picks = torch.randint(0, len(self.valid_y), (self.batch_size,), generator=generator)
            yield ((self._prepare(self.train_x[picks], generator), self.train_y[picks]),
                   (self._prepare(self.valid_x[valid_picks], generator), self.valid_y[valid_picks]))

    def fixed_valid_batch(self, size: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
        """The first ``size`` valid images, not augmented: for Hessian diagnostics."""
        return normalise(self.valid_x[:size], self.dataset), self.valid_y[:size]
