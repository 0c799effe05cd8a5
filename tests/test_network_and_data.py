"""The standalone NB201 network (parameter counts vs the real table) and the image datasets."""
from __future__ import annotations

import io
import pickle

import numpy as np
import pytest
import torch

from nas_core.paths import DataNotFoundError
from spaces.augment import augment, fixed_batch, normalise, to_tensor
from spaces.datasets import load_images
from spaces.nb201.codec import Arch
from spaces.nb201.network import NB201Network, build_proxy_network, count_parameters

BEST = Arch.from_str("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|")


@pytest.mark.parametrize("classes, size", [(10, 32), (100, 32), (120, 16)])
def test_network_shapes(classes, size):
    net = NB201Network(BEST, classes)
    assert net(torch.randn(2, 3, size, size)).shape == (2, classes)


def test_param_count_follows_the_op_count_formula():
    # 73,306 for the skeleton + 243,040 per 3x3 conv edge + 28,000 per 1x1 edge (CIFAR-10 head)
    assert count_parameters(NB201Network(BEST, 10)) == 73306 + 4 * 243040 + 28000


@pytest.mark.slow
def test_param_count_equals_the_table_for_300_cells_and_three_heads(real_table):
    rng = np.random.default_rng(0)
    for index in rng.choice(15625, size=300, replace=False):
        arch = real_table.arch_at(int(index))
        for classes, dataset in ((10, "cifar10"), (100, "cifar100"), (120, "ImageNet16-120")):
            assert count_parameters(NB201Network(arch, classes)) / 1e6 == pytest.approx(real_table.cost(arch, dataset).params_M, abs=5e-7)


def test_proxy_network_weights_do_not_depend_on_the_arch():
    a = build_proxy_network(BEST, 10, seed=3, channels=4, cells_per_stage=1)
    b = build_proxy_network(Arch((0,) * 6), 10, seed=3, channels=4, cells_per_stage=1)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    state = torch.random.get_rng_state()
    build_proxy_network(BEST, 10, seed=4, channels=4, cells_per_stage=1)
    assert torch.equal(state, torch.random.get_rng_state()), "building must not move the global RNG"


def test_set_arch_switches_the_function():
    net = build_proxy_network(BEST, 10, seed=0, channels=4, cells_per_stage=1).eval()
    x = torch.randn(2, 3, 32, 32)
    before = net(x)
    net.set_arch(Arch((1,) * 6))
    assert not torch.allclose(before, net(x))
    with pytest.raises(ValueError, match="all_ops"):
        NB201Network(BEST, 10, channels=4, cells_per_stage=1).set_arch(BEST)


def _jpeg(pixels: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


def test_cifar10_jpeg_archive_is_decoded_once_and_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("NAS_HARNESS_CACHE", str(tmp_path / "cache"))
    images = [np.full((32, 32, 3), v, dtype=np.uint8) for v in (10, 128, 250)]
    blobs = [_jpeg(img) for img in images]
    offsets = np.cumsum([0] + [len(b) for b in blobs])
    folder = tmp_path / "data" / "cifar10_jpeg"
    folder.mkdir(parents=True)
    np.savez(folder / "cifar10_train_jpeg.npz", jpeg_bytes=np.frombuffer(b"".join(blobs), dtype=np.uint8),
             offsets=offsets, labels=np.array([3, 1, 4], dtype=np.uint8))
    pixels, labels = load_images("cifar10", "train", tmp_path / "data")
    assert pixels.shape == (3, 32, 32, 3) and labels.tolist() == [3, 1, 4]
    assert np.abs(pixels.astype(int) - np.stack(images).astype(int)).max() <= 2  # flat JPEGs decode ~exactly
    assert len(list((tmp_path / "cache" / "datasets").glob("*.npz"))) == 1
    again, _ = load_images("cifar10", "train", tmp_path / "data")
    assert np.array_equal(again, pixels)


def test_cifar100_and_imagenet16_pickles(tmp_path):
    rng = np.random.default_rng(1)
    (tmp_path / "cifar-100-python").mkdir()
    with open(tmp_path / "cifar-100-python" / "train", "wb") as fh:
        pickle.dump({b"data": rng.integers(0, 256, (5, 3072), dtype=np.uint8), b"fine_labels": [0, 99, 5, 6, 7]}, fh)
    x, y = load_images("cifar100", "train", tmp_path)
    assert x.shape == (5, 32, 32, 3) and y.max() == 99
    (tmp_path / "ImageNet16").mkdir()
    for name in [f"train_data_batch_{i}" for i in range(1, 11)]:
        with open(tmp_path / "ImageNet16" / name, "wb") as fh:
            pickle.dump({"data": rng.integers(0, 256, (4, 768), dtype=np.uint8), "labels": [1, 120, 121, 999]}, fh)
    x, y = load_images("ImageNet16-120", "train", tmp_path)
    assert x.shape == (20, 16, 16, 3) and sorted(set(y.tolist())) == [0, 119]  # labels > 120 dropped, 1-based -> 0-based


def test_missing_images_name_the_expected_files(tmp_path):
    with pytest.raises(DataNotFoundError, match="cifar10_train_jpeg.npz"):
        load_images("cifar10", "train", tmp_path)
    with pytest.raises(DataNotFoundError, match="train_data_batch_1"):
        load_images("ImageNet16-120", "train", tmp_path)
    with pytest.raises(ValueError, match="expected one of"):
        load_images("mnist", "train", tmp_path)


def test_augmentation_is_seeded_and_shape_preserving():
    batch = to_tensor(np.random.default_rng(0).integers(0, 256, (4, 32, 32, 3), dtype=np.uint8))
    a = augment(batch, torch.Generator().manual_seed(1), padding=4)
    b = augment(batch, torch.Generator().manual_seed(1), padding=4)
    assert torch.equal(a, b) and a.shape == batch.shape
    assert not torch.equal(a, augment(batch, torch.Generator().manual_seed(2), padding=4))
    assert normalise(torch.ones(1, 3, 2, 2) * 0.4914, "cifar10")[0, 0].abs().max() < 1e-6


@pytest.mark.slow
def test_real_cifar10_pixels_have_the_known_statistics(real_data_dir):
    images, labels = load_images("cifar10", "train", real_data_dir)
    assert images.shape == (50000, 32, 32, 3) and np.bincount(labels).tolist() == [5000] * 10
    mean = images.reshape(-1, 3).mean(0) / 255
    std = (images.reshape(-1, 3) / 255).std(0)
    print(f"CIFAR-10 JPEG train mean {mean.round(4)} (published 0.4914 0.4822 0.4465), std {std.round(4)} "
          "(published 0.2470 0.2435 0.2616; JPEG re-encoding smooths a little)")
    assert np.allclose(mean, (0.4914, 0.4822, 0.4465), atol=0.002)
    assert np.allclose(std, (0.2470, 0.2435, 0.2616), atol=0.004)
    inputs, targets = fixed_batch("cifar10", 64, 0, real_data_dir)
    assert inputs.shape == (64, 3, 32, 32) and torch.equal(targets, fixed_batch("cifar10", 64, 0, real_data_dir)[1])
