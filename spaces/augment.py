"""NB201 training augmentation in torch (no torchvision): random crop with padding, horizontal
flip, normalisation. Every random choice comes from an explicit ``torch.Generator``."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from spaces.datasets import dataset_info, load_images


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 [N,H,W,3] -> float32 [N,3,H,W] in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div_(255.0)


def draw_augmentation(n: int, generator: torch.Generator, padding: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The random choices of :func:`augment` for ``n`` images: row and column offsets, flips."""
    dy = torch.randint(0, 2 * padding + 1, (n,), generator=generator)
    dx = torch.randint(0, 2 * padding + 1, (n,), generator=generator)
    flip = torch.rand(n, generator=generator) < 0.5
    return dy, dx, flip


def crop_and_flip(batch: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor, flip: torch.Tensor,
                  padding: int) -> torch.Tensor:
    """Zero-pad by ``padding``, crop at (dy, dx) and mirror where ``flip``, all images in one
    gather, on whatever device the tensors are (so a GPU augments its own batches)."""
    n, channels, h, w = batch.shape
    padded = F.pad(batch, (padding, padding, padding, padding))
    device = batch.device
    rows = dy.to(device).view(n, 1, 1, 1) + torch.arange(h, device=device).view(1, 1, h, 1)
    forward = torch.arange(w, device=device)
    cols = dx.to(device).view(n, 1, 1, 1) + torch.where(flip.to(device).view(n, 1), w - 1 - forward, forward).view(n, 1, 1, w)
    images = torch.arange(n, device=device).view(n, 1, 1, 1)
    planes = torch.arange(channels, device=device).view(1, channels, 1, 1)
    return padded[images, planes, rows, cols]


def augment(batch: torch.Tensor, generator: torch.Generator, padding: int) -> torch.Tensor:
    """Random crop (zero padding ``padding``) and random horizontal flip, per image."""
    return crop_and_flip(batch, *draw_augmentation(len(batch), generator, padding), padding)


def normalise(batch: torch.Tensor, dataset: str) -> torch.Tensor:
    info = dataset_info(dataset)
    mean = torch.tensor(info.mean, dtype=batch.dtype).view(1, 3, 1, 1).to(batch.device)
    std = torch.tensor(info.std, dtype=batch.dtype).view(1, 3, 1, 1).to(batch.device)
    return (batch - mean) / std


def fixed_batch(dataset: str, batch_size: int = 64, seed: int = 0, data_dir=None) -> tuple[torch.Tensor, torch.Tensor]:
    """One augmented training batch chosen and augmented from ``seed`` alone (the proxies' batch)."""
    images, labels = load_images(dataset, "train", data_dir)
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(labels), size=batch_size, replace=False)
    generator = torch.Generator().manual_seed(int(rng.integers(2**62)))
    padding = 4 if dataset_info(dataset).image_size == 32 else 2
    inputs = normalise(augment(to_tensor(images[picks]), generator, padding), dataset)
    return inputs, torch.from_numpy(labels[picks].astype(np.int64))
