"""The GPU path of the one-shot loop: what can be checked on a CPU, and the CUDA-only checks
(which skip cleanly without a GPU; CI has none, the device machine runs them).

* the batched crop/flip equals the per-image reference, and the epoch plan gives exactly the
  batches of a step-by-step draw, so a device-resident data path (same plan, same gather)
  gives the CPU path's batches;
* deferred loss checks still name the first non-finite step;
* a search resumed from a checkpoint written by another *process* equals an uninterrupted one;
* on CUDA: CUDA-graph replays equal eager passes, device batches equal CPU batches, and a
  whole search runs with graphs on.
"""
from __future__ import annotations

from harness.conformance import quick_settings

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from harness.seeding import numpy_rng
from nas_core.problem import Budget, Problem, SearchLog
from nas_core.streams import Streams
from spaces.augment import crop_and_flip, draw_augmentation
from spaces.nb201.space import NB201Space
from spaces.nb201.supernet import Supernet
from spaces.search_data import SearchData
from strategies.registry import get

ROOT = Path(__file__).resolve().parent.parent
TINY = {"epochs": 3, "channels": 4, "cells_per_stage": 1, "image_size": 8, "per_class": 4, "batch_size": 16,
        "hessian_every": 2}
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (CI has none)")


def _reference_augment(batch: torch.Tensor, generator: torch.Generator, padding: int) -> torch.Tensor:
    """The per-image loop the batched gather replaced (crop, then mirror)."""
    n, _, h, w = batch.shape
    padded = F.pad(batch, (padding,) * 4)
    dy, dx, flip = draw_augmentation(n, generator, padding)
    out = torch.empty_like(batch)
    for i in range(n):
        crop = padded[i, :, dy[i] : dy[i] + h, dx[i] : dx[i] + w]
        out[i] = crop.flip(-1) if flip[i] else crop
    return out


@pytest.mark.parametrize("padding,size", [(4, 32), (1, 8), (2, 16)])
def test_batched_crop_and_flip_equals_the_per_image_loop(padding, size):
    batch = torch.rand(12, 3, size, size, generator=torch.Generator().manual_seed(size))
    expected = _reference_augment(batch, torch.Generator().manual_seed(3), padding)
    dy, dx, flip = draw_augmentation(12, torch.Generator().manual_seed(3), padding)
    assert flip.any() and (~flip).any()
    assert torch.equal(crop_and_flip(batch, dy, dx, flip, padding), expected)


def test_epoch_plan_gives_the_batches_of_a_step_by_step_draw(image_data_dir):
    data = SearchData("cifar10", Streams(11), batch_size=8, image_size=8, per_class=4, data_dir=str(image_data_dir))
    generator = data.streams.torch_generator("batches", 2)  # what a step-by-step loop would draw, in its order
    order = torch.randperm(len(data.train_y), generator=generator)
    batches = list(data.epoch(2))
    assert len(batches) == data.steps_per_epoch > 1
    for step, ((tx, ty), (vx, vy)) in enumerate(batches):
        picks = order[step * 8 : (step + 1) * 8]
        valid_picks = torch.randint(0, len(data.valid_y), (8,), generator=generator)
        expected_train = (_reference_augment(data.train_x[picks], generator, data.padding) - data._mean) / data._std
        expected_valid = (_reference_augment(data.valid_x[valid_picks], generator, data.padding) - data._mean) / data._std
        assert torch.equal(tx, expected_train) and torch.equal(ty, data.train_y[picks])
        assert torch.equal(vx, expected_valid) and torch.equal(vy, data.valid_y[valid_picks])


def test_deferred_loss_checks_name_the_first_bad_step():
    from strategies.finite_guard import FiniteLossGuard, NonFiniteLoss

    guard = FiniteLossGuard()
    guard.pending = [(torch.tensor(v), "training", 0, step) for step, v in
                     enumerate([1.0, 2.0, float("nan"), float("inf")])]
    with pytest.raises(NonFiniteLoss, match="training loss is nan at epoch 1, step 3"):
        guard.flush()
    assert guard.pending == []
    guard.flush()  # nothing pending: no error


def _problem(data_dir, checkpoint=None, callback=None, device="cpu") -> Problem:
    """On the CPU unless told: CPU runs are bit-for-bit reproducible, also on a machine with a GPU."""
    return Problem(space=NB201Space(), dataset="cifar10", budget=Budget(), data_dir=str(data_dir),
                   checkpoint_path=checkpoint, epoch_callback=callback, device=device)


_WRITER = """
import sys
from harness.seeding import numpy_rng
from nas_core.problem import Budget, Problem, SearchLog
from spaces.nb201.space import NB201Space
from strategies.registry import get, load_builtins
import json
load_builtins()
import torch; torch.set_num_threads(int(sys.argv[5]))
name, data_dir, checkpoint, kwargs = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
class Stop(Exception):
    pass
def stop_after_first(epoch):
    if epoch == 1:
        raise Stop
problem = Problem(space=NB201Space(), dataset="cifar10", budget=Budget(), data_dir=data_dir,
                  checkpoint_path=checkpoint, epoch_callback=stop_after_first, device="cpu")
try:
    get(name)(**kwargs).search(problem, numpy_rng({"r": name}, 0), SearchLog())
except Stop:
    print("stopped after epoch 1")
"""


@pytest.mark.parametrize("name", ["darts_v1", "drnas"])
def test_search_resumed_from_another_processes_checkpoint_equals_an_uninterrupted_one(name, image_data_dir, tmp_path):
    from harness.records import strip_volatile

    full_log = SearchLog()
    full = get(name)(**TINY).search(_problem(image_data_dir), numpy_rng({"r": name}, 0), full_log)
    checkpoint = tmp_path / "run.pt"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", _WRITER, name, str(image_data_dir), str(checkpoint), json.dumps(TINY),
                          str(torch.get_num_threads())],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert "stopped after epoch 1" in out.stdout, out.stderr
    assert checkpoint.is_file() and checkpoint.stat().st_size < 16 * 2**20  # fits the device's file limit
    resumed_log = SearchLog()
    resumed = get(name)(**TINY).search(_problem(image_data_dir, checkpoint), numpy_rng({"r": name}, 0), resumed_log)
    assert resumed == full
    assert [strip_volatile(r) for r in resumed_log.rows] == [strip_volatile(r) for r in full_log.rows]


def test_paper_scale_checkpoint_is_small_and_self_contained(tmp_path):
    """What a GPU machine must hand back to resume a paper-scale search elsewhere: < 16 MiB."""
    net = Supernet(10, 16, 5, "fast", generator=0)
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    F.cross_entropy(net(torch.randn(2, 3, 32, 32), torch.softmax(torch.zeros(6, 5), -1)), torch.tensor([0, 1])).backward()
    opt.step()  # creates the momentum buffers a real checkpoint carries
    path = tmp_path / "state.pt"
    torch.save({"supernet": net.state_dict(), "w_opt": opt.state_dict()}, path)
    assert path.stat().st_size < 16 * 2**20


def test_graphed_wrapper_is_eager_on_the_cpu():
    from strategies.cuda_graphs import GraphedSupernet, graphs_enabled

    assert not graphs_enabled("cpu")
    net = Supernet(10, 4, 1, "fast", generator=0)
    x, w = torch.randn(4, 3, 8, 8), torch.softmax(torch.randn(6, 5), -1)
    assert torch.equal(GraphedSupernet(net)(x, w), net(x, w))


# ---- CUDA only ------------------------------------------------------------------------------------
@needs_cuda
@pytest.mark.parametrize("arch_pass", [False, True])
def test_graph_replays_equal_eager_passes(arch_pass):
    from strategies.cuda_graphs import GraphedSupernet

    torch.backends.cudnn.allow_tf32 = False
    net = Supernet(10, 8, 2, "fast", generator=0).cuda()
    graphed = GraphedSupernet(net)
    g = torch.Generator().manual_seed(0)
    for _ in range(3):  # fresh inputs each time: the static buffers must take them
        x, y = torch.randn(16, 3, 16, 16, generator=g).cuda(), torch.randint(0, 10, (16,), generator=g).cuda()
        alpha = torch.randn(6, 5, generator=g).cuda()
        results = []
        for call in (net, graphed):
            a = alpha.clone().requires_grad_(arch_pass)
            logits = call(x, torch.softmax(a, -1))
            inputs = [p for p in net.parameters()] + ([a] if arch_pass else [])
            grads = torch.autograd.grad(F.cross_entropy(logits, y), inputs, allow_unused=True)
            results.append((logits, grads))
        (ref_logits, ref_grads), (out_logits, out_grads) = results
        torch.testing.assert_close(out_logits, ref_logits, rtol=1e-5, atol=1e-5)
        for r, o in zip(ref_grads, out_grads):
            assert (r is None) == (o is None)
            if r is not None:
                torch.testing.assert_close(o, r, rtol=1e-4, atol=1e-6)


@needs_cuda
def test_a_later_forward_before_backward_raises():
    from strategies.cuda_graphs import GraphedSupernet

    net = Supernet(10, 4, 1, "fast", generator=0).cuda()
    graphed = GraphedSupernet(net)
    x, w = torch.randn(8, 3, 8, 8).cuda(), torch.softmax(torch.randn(6, 5), -1).cuda()
    first = graphed(x, w).sum()
    graphed(x, w)
    with pytest.raises(RuntimeError, match="differentiate each pass before the next"):
        first.backward()


@needs_cuda
def test_device_batches_equal_cpu_batches(image_data_dir):
    cpu = SearchData("cifar10", Streams(4), 8, 8, 4, data_dir=str(image_data_dir))
    gpu = SearchData("cifar10", Streams(4), 8, 8, 4, data_dir=str(image_data_dir), device="cuda")
    for ((cx, cy), (cvx, cvy)), ((gx, gy), (gvx, gvy)) in zip(cpu.epoch(1), gpu.epoch(1)):
        assert gx.is_cuda and torch.equal(gx.cpu(), cx) and torch.equal(gy.cpu(), cy)
        assert torch.equal(gvx.cpu(), cvx) and torch.equal(gvy.cpu(), cvy)


@needs_cuda
@pytest.mark.parametrize("name", ["darts_v1", "darts_v2", "drnas", "balenas_v1"])
def test_a_search_runs_on_cuda_with_graphs_and_tracks_the_eager_one(name, image_data_dir, monkeypatch):
    torch.backends.cudnn.allow_tf32 = False
    results = {}
    for graphs in ("1", "0"):
        monkeypatch.setenv("NAS_HARNESS_CUDA_GRAPHS", graphs)
        selection = {k: v for k, v in quick_settings(name).items() if k.startswith("tf_")}
        strategy = get(name)(**TINY, **selection)  # a small BaLeNAS-TF selection, as in test_oneshot
        log = SearchLog()
        problem = _problem(image_data_dir, device="cuda")
        strategy.search(problem, numpy_rng({"r": name}, 0), log)
        assert strategy.last_search.runtime.cuda_graphs == (graphs == "1")
        results[graphs] = np.array([row["train_loss"] for row in log.rows])
    np.testing.assert_allclose(results["1"], results["0"], rtol=1e-3)


@needs_cuda
def test_progressive_drnas_recaptures_its_graphs_after_widening(image_data_dir):
    strategy = get("drnas")(**{**TINY, "channels": 8, "progressive": True, "stage_epochs": [1, 2]})
    log = SearchLog()
    strategy.search(_problem(image_data_dir, device="cuda"), numpy_rng({"p": 1}, 0), log)
    assert strategy.last_search.runtime.cuda_graphs and [row["stage"] for row in log.rows] == [1, 2, 2]
    assert all(np.isfinite(row["train_loss"]) for row in log.rows)
