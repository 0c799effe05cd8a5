"""Search data for one-shot strategies: the CIFAR-10 train split halved into search-train and
search-valid (class-balanced and seeded, or an official split file), batches in torch.

Each step takes one train batch (the train half shuffled once per epoch) and one random valid
batch; both get the NB201 training augmentation.

On a GPU (``device="cuda"``) the split's images live on the device and are cropped, flipped
and normalised there: every random choice of an epoch is drawn on the host at the epoch's
start, in the order the step-by-step path draws them, and copied to the device once, so no
step copies anything from the host and the batches equal the CPU path's exactly. The split comes from the run's ``split``
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
from spaces.augment import crop_and_flip, draw_augmentation, to_tensor
from spaces.datasets import dataset_info
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
                 per_class: int | None = None, split_file: str | None = None, data_dir: str | None = None,
                 device: str | torch.device = "cpu") -> None:
        images, labels = load_images("cifar10" if dataset == "cifar10-valid" else dataset, "train", data_dir)
        if split_file:
            train_idx, valid_idx = load_split_file(split_file, len(labels))
        else:
            train_idx, valid_idx = balanced_split(labels, streams.seed("split"), per_class)
        pixels = to_tensor(images)
        if image_size and image_size != pixels.shape[-1]:
            pixels = F.adaptive_avg_pool2d(pixels, image_size)
        self.dataset, self.streams, self.batch_size = dataset, streams, batch_size
        self.device = torch.device(device)
        self.padding = max(1, pixels.shape[-1] // 8)
        self.train_x, self.train_y = pixels[train_idx].to(self.device), torch.from_numpy(labels[train_idx]).to(self.device)
        self.valid_x, self.valid_y = pixels[valid_idx].to(self.device), torch.from_numpy(labels[valid_idx]).to(self.device)
        info = dataset_info(dataset)
        self._mean = torch.tensor(info.mean, dtype=pixels.dtype).view(1, 3, 1, 1).to(self.device)
        self._std = torch.tensor(info.std, dtype=pixels.dtype).view(1, 3, 1, 1).to(self.device)

    @property
    def n_valid(self) -> int:
        """Search-valid images: the dataset size N of BaLeNAS's Variational Adam."""
        return len(self.valid_y)

    @property
    def steps_per_epoch(self) -> int:
        return len(self.train_y) // self.batch_size

    def plan(self, epoch: int) -> dict[str, torch.Tensor]:
        """Every random choice of epoch ``epoch``, drawn from ``(run seed, "batches", epoch)`` in
        the order a step-by-step loop would draw them: the train order, then per step the valid
        picks, the train batch's crops and flips, the valid batch's crops and flips."""
        generator = self.streams.torch_generator("batches", epoch)
        steps, size = self.steps_per_epoch, self.batch_size
        order = torch.randperm(len(self.train_y), generator=generator)
        fields: dict[str, list[torch.Tensor]] = {name: [] for name in
                                                 ("valid_picks", "train_dy", "train_dx", "train_flip",
                                                  "valid_dy", "valid_dx", "valid_flip")}
        for _ in range(steps):
            fields["valid_picks"].append(torch.randint(0, len(self.valid_y), (size,), generator=generator))
            for part in ("train", "valid"):
                dy, dx, flip = draw_augmentation(size, generator, self.padding)
                fields[f"{part}_dy"].append(dy)
                fields[f"{part}_dx"].append(dx)
                fields[f"{part}_flip"].append(flip)
        plan = {"train_picks": order[: steps * size].view(steps, size)}
        plan.update({name: torch.stack(values) if values else torch.empty(0, size, dtype=torch.long)
                     for name, values in fields.items()})
        return {name: tensor.to(self.device) for name, tensor in plan.items()}  # one copy per epoch

    def _prepare(self, x: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor, flip: torch.Tensor) -> torch.Tensor:
        batch = (crop_and_flip(x, dy, dx, flip, self.padding) - self._mean) / self._std
        # on a GPU, channels-last order: cuDNN's fast convolutions use it (same values, other layout)
        return batch.contiguous(memory_format=torch.channels_last) if batch.is_cuda else batch

    def epoch(self, epoch: int) -> Iterator[tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]]:
        """``(train batch, valid batch)`` pairs of one epoch, determined by ``(run seed, "batches", epoch)``."""
        plan = self.plan(epoch)
        for step in range(self.steps_per_epoch):
            picks, valid_picks = plan["train_picks"][step], plan["valid_picks"][step]
            yield ((self._prepare(self.train_x[picks], plan["train_dy"][step], plan["train_dx"][step],
                                  plan["train_flip"][step]), self.train_y[picks]),
                   (self._prepare(self.valid_x[valid_picks], plan["valid_dy"][step], plan["valid_dx"][step],
                                  plan["valid_flip"][step]), self.valid_y[valid_picks]))

    def fixed_valid_batch(self, size: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
        """The first ``size`` valid images, not augmented: for Hessian diagnostics."""
        return (self.valid_x[:size] - self._mean) / self._std, self.valid_y[:size]
