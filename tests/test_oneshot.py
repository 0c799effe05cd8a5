"""The supernet and the one-shot loop: plain = fast, resume = uninterrupted, NaN ends a run."""
from __future__ import annotations

from harness.conformance import quick_settings

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from nas_core.problem import Budget, Problem, SearchLog
from harness.seeding import numpy_rng
from spaces.nb201.space import NB201Space
from spaces.nb201.supernet import Supernet
from strategies.registry import get

TINY = {"epochs": 3, "channels": 4, "cells_per_stage": 1, "image_size": 8, "per_class": 4, "batch_size": 16,
        "hessian_every": 2}


def _grads(net, x, y, weights, alpha):
    net.zero_grad(set_to_none=True)
    alpha.grad = None
    out = net(x, weights(alpha))
    F.cross_entropy(out, y).backward()
    # the fast cells skip the conv biases (train-mode BN cancels them): no gradient reaches them at all
    grads = {n: p.grad.clone() if p.grad is not None else torch.zeros_like(p) for n, p in net.named_parameters()}
    return out.detach(), alpha.grad.clone(), grads


@pytest.mark.parametrize("edge_weights", ["softmax", "dirichlet", "gaussian"])
def test_fast_supernet_equals_the_plain_one(edge_weights):
    torch.manual_seed(0)
    net = Supernet(10, channels=6, cells_per_stage=2, impl="plain", generator=3)
    x, y = torch.randn(8, 3, 16, 16), torch.randint(0, 10, (8,))
    alpha = (1e-1 * torch.randn(6, 5)).requires_grad_()
    noise = torch.rand(6, 5) + 0.1
    weights = {
        "softmax": lambda a: torch.softmax(a, -1),
        "dirichlet": lambda a: (F.elu(a) + 1) * noise / ((F.elu(a) + 1) * noise).sum(-1, keepdim=True),
        "gaussian": lambda a: torch.softmax(a + noise, -1),
    }[edge_weights]
    plain = _grads(net, x, y, weights, alpha)
    net.set_impl("fast")
    fast = _grads(net, x, y, weights, alpha)
    assert torch.allclose(plain[0], fast[0], atol=1e-5)
    assert torch.allclose(plain[1], fast[1], atol=1e-5)
    assert plain[2].keys() == fast[2].keys()
    assert all(torch.allclose(plain[2][n], fast[2][n], atol=1e-5) for n in plain[2])
    biases = [n for n in plain[2] if n.endswith((".b1", ".b3"))]
    assert biases and all(plain[2][n].abs().max() < 1e-5 for n in biases)  # BN cancels the conv bias


def test_chosen_ops_compute_one_op_but_pass_gradient_to_every_alpha():
    net = Supernet(10, channels=4, cells_per_stage=1, impl="fast", generator=1)
    alpha = torch.randn(6, 5, generator=torch.Generator().manual_seed(0)).requires_grad_()
    probs = torch.softmax(alpha, -1)
    hard = F.one_hot(probs.argmax(-1), 5).float() - probs.detach() + probs
    out = net(torch.randn(4, 3, 8, 8), hard, chosen=probs.argmax(-1).tolist())
    F.cross_entropy(out, torch.tensor([0, 1, 2, 3])).backward()
    assert (alpha.grad != 0).sum() >= 6  # every edge's alpha row gets gradient


def problem(image_data_dir, checkpoint=None, callback=None):
    return Problem(space=NB201Space(), dataset="cifar10", budget=Budget(), data_dir=str(image_data_dir),
                   checkpoint_path=checkpoint, epoch_callback=callback)


class Stop(Exception):
    pass


@pytest.mark.parametrize("name", ["darts_v1", "darts_v2", "gdas", "balenas_v1", "balenas_v2", "balenas_tf", "drnas", "bayesnas"])
def test_resumed_run_ends_exactly_like_an_uninterrupted_one(name, image_data_dir, tmp_path):
    from harness.records import strip_volatile

    # BaLeNAS: a small BaLeNAS-TF selection, so the resumed run's after-search step is covered too
    kwargs = {**TINY, **{k: v for k, v in quick_settings(name).items()
                         if k.startswith("tf_") or k == "select"}}
    full_log = SearchLog()
    full = get(name)(**kwargs).search(problem(image_data_dir), numpy_rng({"r": name}, 0), full_log)

    def stop_after_first(epoch):
        if epoch == 1:
            raise Stop

    checkpoint = tmp_path / "run.pt"
    with pytest.raises(Stop):
        get(name)(**kwargs).search(problem(image_data_dir, checkpoint, stop_after_first), numpy_rng({"r": name}, 0), SearchLog())
    assert checkpoint.is_file()
    resumed_log = SearchLog()
    strategy = get(name)(**kwargs)
    resumed = strategy.search(problem(image_data_dir, checkpoint), numpy_rng({"r": name}, 0), resumed_log)
    assert resumed == full
    assert [strip_volatile(r) for r in resumed_log.rows] == [strip_volatile(r) for r in full_log.rows]


def test_trajectory_has_the_diagnostics(image_data_dir):
    log = SearchLog()
    get("darts_v1")(**TINY).search(problem(image_data_dir), numpy_rng({"d": 1}, 0), log)
    assert [r["epoch"] for r in log.rows] == [1, 2, 3]
    row = log.rows[-1]
    for key in ("genotype", "skip_connections", "train_loss", "train_acc", "valid_loss", "valid_acc", "alpha",
                "epoch_wall_s", "w_lr"):
        assert key in row
    assert "hessian_eigenvalue" in log.rows[1] and "hessian_eigenvalue" not in log.rows[0]
    assert math.isfinite(row["hessian_eigenvalue"]) and np.array(row["alpha"]).shape == (6, 5)
    assert row["w_lr"] < TINY.get("w_lr", 0.025)  # cosine schedule has moved
    # NB201's 30 coordinates: the exact Hessian; the dominant eigenvalue is one of its two extremes
    assert row["hessian_method"] == "exact" and row["hessian_min_eigenvalue"] <= row["hessian_max_eigenvalue"]
    assert row["hessian_eigenvalue"] in (row["hessian_min_eigenvalue"], row["hessian_max_eigenvalue"])


def test_the_probe_options_reach_the_trajectory_and_stay_out_of_default_run_keys(image_data_dir):
    """Power iteration (the earlier probe) tracks the larger-magnitude extreme of the exact spectrum."""
    assert "hessian_method" not in get("darts_v1")(**TINY).hyperparameters()  # earlier records keep their keys
    kwargs = {**TINY, "epochs": 2, "hessian_every": 2}
    exact_log, power_log = SearchLog(), SearchLog()
    get("darts_v1")(**kwargs).search(problem(image_data_dir), numpy_rng({"h": 1}, 0), exact_log)
    power = get("darts_v1")(**kwargs, hessian_method="power", hessian_iterations=300)
    assert power.hyperparameters()["hessian_method"] == "power"
    power.search(problem(image_data_dir), numpy_rng({"h": 1}, 0), power_log)
    exact, approx = exact_log.rows[-1], power_log.rows[-1]
    assert approx["hessian_method"] == "power" and "hessian_max_eigenvalue" not in approx
    assert approx["hessian_eigenvalue"] == pytest.approx(exact["hessian_eigenvalue"], rel=1e-2)


def test_nan_loss_fails_with_epoch_and_step(image_data_dir):
    from strategies.oneshot import NonFiniteLoss

    strategy = get("darts_v1")(**{**TINY, "w_lr": 1e30, "grad_clip": 1e30})
    with pytest.raises(NonFiniteLoss, match=r"loss is (nan|inf|-inf) at epoch \d+, step \d+"):
        strategy.search(problem(image_data_dir), numpy_rng({"n": 1}, 0), SearchLog())


def test_gdas_defaults_follow_the_nb201_schedule():
    assert get("gdas")().epochs == 250 and get("darts_v1")().epochs == 50
    with pytest.raises(ValueError, match="tau_min"):
        get("gdas")(tau_min=5.0, tau_max=1.0)


def test_cpu_scale_preset_fills_one_shot_hyperparameters():
    from harness.config import parse_config

    config = parse_config({"name": "x", "datasets": ["cifar10"], "scale": "cpu",
                           "strategies": [{"name": "darts_v1"}, {"name": "gdas", "epochs": 3}, {"name": "rea"}],
                           "budget": {"max_queries": 5}})
    darts, gdas, rea = (s.kwargs for s in config.strategies)
    assert (darts["channels"], darts["cells_per_stage"], darts["image_size"], darts["epochs"]) == (8, 5, 8, 30)
    smoke = parse_config({"name": "x", "datasets": ["cifar10"], "scale": "smoke", "strategies": [{"name": "darts_v1"}]})
    assert smoke.name == "x_smoke" and smoke.strategies[0].kwargs["cells_per_stage"] == 1
    assert gdas["epochs"] == 3 and gdas["channels"] == 8  # explicit values win over the preset
    assert "channels" not in rea


def test_balanced_split_and_split_file(tmp_path):
    import json

    from spaces.search_data import balanced_split, load_split_file

    labels = np.repeat(np.arange(10), 20)
    train, valid = balanced_split(labels, seed=0)
    assert len(np.intersect1d(train, valid)) == 0 and len(train) == len(valid) == 100
    assert np.bincount(labels[train]).tolist() == [10] * 10
    assert not np.array_equal(train, balanced_split(labels, seed=1)[0])
    good = tmp_path / "split.json"
    good.write_text(json.dumps({"train": [0, 1, 2], "valid": [3, 4]}))
    assert [a.tolist() for a in load_split_file(good, 200)] == [[0, 1, 2], [3, 4]]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"train": [0, 1], "valid": [1]}))
    with pytest.raises(ValueError, match="disjoint"):
        load_split_file(bad, 200)


def test_no_resume_restarts_from_scratch(tmp_path, synthetic_data_dir, image_data_dir):
    import shutil

    from harness.config import parse_config
    from harness.runner import expand, run_experiment

    data = tmp_path / "data"
    shutil.copytree(synthetic_data_dir, data)
    shutil.copytree(image_data_dir / "cifar-10-batches-py", data / "cifar-10-batches-py")
    config = parse_config({"name": "r", "datasets": ["cifar10"], "seeds": [0], "data_dir": str(data),
                           "backend": "sequential", "strategies": [{"name": "darts_v1", **TINY}]})
    (job,) = expand(config)
    stale = tmp_path / "results" / "r" / "checkpoints" / f"{job.run_id}.pt"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"not a checkpoint")  # would fail to load if it were resumed
    summary = run_experiment(config, results_root=tmp_path / "results", progress=False, resume=False)
    assert summary.done == 1 and not stale.exists()


def test_corrupt_checkpoint_gives_a_clear_error(image_data_dir, tmp_path):
    checkpoint = tmp_path / "run.pt"
    checkpoint.write_bytes(b"torn")
    with pytest.raises(ValueError, match="--no-resume"):
        get("darts_v1")(**TINY).search(problem(image_data_dir, checkpoint), numpy_rng({"c": 1}, 0), SearchLog())
