"""One-shot search on the NAS-Bench-1shot1 spaces: the packed architecture parameters, the
authors' one-shot model, the NB101 benchmark with and without data, the runner and Fig. 1."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch

from conftest import shared_data_with, write_config
from spaces import get_space
from spaces.nb1shot1.cells import OPS, SPACES, Cell, from_str, mutate, neighbours, sample
from spaces.nb1shot1.layout import ArchLayout

TINY = {"epochs": 2, "channels": 4, "cells_per_stage": 1, "image_size": 8, "per_class": 4, "batch_size": 8,
        "hessian_every": 2}


# ---- the packed architecture parameters -------------------------------------------------------------------
@pytest.mark.parametrize("space, shape, widths", [
    (1, (7, 5), (3, 3, 3, 3, 5, 3, 4)),  # 4 mixed ops, output over {0..4}, inputs of nodes 3 and 4
    (2, (8, 5), (3, 3, 3, 3, 5, 2, 3, 4)),
    (3, (10, 6), (3, 3, 3, 3, 3, 6, 2, 3, 4, 5)),
])
def test_the_layout_packs_the_authors_arch_parameters_in_their_order(space, shape, widths):
    layout = ArchLayout(space)
    assert layout.shape == shape and layout.widths == widths
    assert layout.mask.sum(axis=1).tolist() == list(widths)
    assert get_space(f"nb1shot1-{space}").arch_shape == shape


def test_derivation_takes_the_argmax_op_then_the_top_parents():
    layout = ArchLayout(3)
    w = np.zeros(layout.shape)
    for b, op in enumerate((2, 1, 0, 1, 2)):  # conv1x1, conv3x3, maxpool, conv3x3, conv1x1
        w[b, op] = 1.0
    w[layout.input_row(2), :2] = [0.9, 0.1]              # node 2: 1 of {0, 1}
    w[layout.input_row(3), :3] = [0.1, 0.2, 0.7]         # node 3: 1 of {0, 1, 2}
    w[layout.input_row(4), :4] = [0.4, 0.1, 0.3, 0.2]    # node 4: 2 of {0..3}
    w[layout.input_row(5), :5] = [0.1, 0.1, 0.2, 0.3, 0.3]  # a tie: the lower index wins
    w[layout.output_row, :6] = [0.3, 0.0, 0.0, 0.0, 0.2, 0.5]
    cell = layout.derive(w)
    assert cell == Cell(3, (OPS[2], OPS[1], OPS[0], OPS[1], OPS[2]), ((0,), (0,), (2,), (0, 2), (3, 4)), (0, 5))


@pytest.mark.parametrize("space", [1, 2, 3])
def test_any_weights_derive_a_valid_cell_and_cells_round_trip_as_text(space):
    rng = np.random.default_rng(space)
    layout = ArchLayout(space)
    for _ in range(30):
        cell = layout.derive(rng.random(layout.shape))  # Cell validates itself
        assert len(cell.model_spec().hash()) == 32
        assert from_str(cell.to_str()) == cell
    for _ in range(10):
        cell = sample(space, rng)
        options = neighbours(cell)
        assert len(set(options)) == len(options) and cell not in options
        definition = SPACES[space]
        expected = definition.blocks * (len(OPS) - 1) + sum(len(c) - 1 for c in definition.parent_choices()) \
            + len(definition.output_choices()) - 1
        assert len(options) == expected
        assert mutate(cell, rng) in options


@pytest.mark.parametrize("text, message", [
    ("nb1shot1-3[conv3x3<-0]", "malformed NAS-Bench-1shot1 cell"),
    ("nb1shot1-3[conv3x3-bn-relu-0 a<-1 | out<-1,2]", "malformed block"),
    ("nb1shot1-3[maxpool3x3<-0 maxpool3x3<-0 maxpool3x3<-0 maxpool3x3<-0,1 maxpool3x3<-0,9 | out<-1,2]",
     "node 5: parents"),
])
def test_malformed_cells_are_refused_with_the_reason(text, message):
    with pytest.raises(ValueError, match=message):
        from_str(text)
    with pytest.raises(ValueError, match="space 3, not 1|malformed|parents"):
        get_space("nb1shot1-1").from_str(text)


# ---- masked distributions ----------------------------------------------------------------------------------
def _init(distribution, space=3):
    layout = ArchLayout(space)
    distribution.init(torch.Generator().manual_seed(0), "cpu", 100, layout.shape, layout.mask)
    return distribution, torch.as_tensor(layout.mask)


def test_masked_distributions_give_padding_no_weight_and_no_gradient():
    from strategies.balenas import GaussianDistribution
    from strategies.distributions import GumbelDistribution, SoftmaxDistribution

    for dist in (SoftmaxDistribution(), GaussianDistribution(3e-4, 1.0, 1.0, 1, 1.0)):
        dist, mask = _init(dist)
        w = dist.expected_weights()
        assert torch.all(w[~mask] == 0) and torch.allclose(w.sum(-1), torch.ones(len(w)))
        (grad,) = torch.autograd.grad((w * torch.randn(w.shape)).sum(), [dist.alpha])
        assert torch.all(grad[~mask] == 0) and torch.all(torch.isfinite(grad))
    gumbel, mask = _init(GumbelDistribution())
    gumbel.noise = torch.Generator().manual_seed(1)

    class Ctx:
        epoch_fraction = 0.0

    for _ in range(200):
        hard, chosen = gumbel.edge_weights(Ctx(), "arch")
        assert all(mask[row, index] for row, index in enumerate(chosen))
        assert torch.all(hard[~mask] == 0)


# ---- the one-shot model ------------------------------------------------------------------------------------
def test_the_one_shot_model_downsamples_as_the_authors_and_gdas_passes_equal_full_ones():
    from spaces.nb1shot1.supernet import NB1shot1Supernet

    net = NB1shot1Supernet(3, 10, channels=4, layers=9, generator=torch.Generator().manual_seed(0))
    sizes = []
    for cell in net.cells:
        cell.register_forward_hook(lambda m, i, o: sizes.append((o.shape[1], o.shape[2])))
    layout = ArchLayout(3)
    logits = torch.randn(layout.shape).masked_fill(~torch.as_tensor(layout.mask), float("-inf"))
    index = logits.argmax(-1)
    weights = torch.softmax(logits, -1)
    weights[:5] = torch.nn.functional.one_hot(index[:5], layout.shape[1]).float()  # GDAS-style hard mixed ops
    weights.requires_grad_()
    x = torch.randn(4, 3, 32, 32)
    full = net(x, weights)
    # MaxPool(2, 2, padding=1) before cells 3 and 6: 32 -> 17 -> 9; width C doubles, k = 5 blocks concatenated
    assert sizes == [(20, 32)] * 3 + [(40, 17)] * 3 + [(80, 9)] * 3 and full.shape == (4, 10)
    chosen = net(x, weights, index.tolist())
    assert torch.allclose(full, chosen, atol=1e-5)
    (grad,) = torch.autograd.grad((chosen * torch.randn(chosen.shape)).sum(), [weights])
    unchosen = torch.as_tensor(layout.mask)[:5] & (weights[:5] == 0)
    assert torch.all(grad[:5][unchosen] != 0)  # unchosen ops still get a gradient through their hard weight


# ---- the benchmark -----------------------------------------------------------------------------------------
def _table_csv(path, cells, valid=93.0):
    """A simple NB101 CSV holding ``cells`` (two repeats each): what a user's own file may look like."""
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["adjacency", "ops", "valid_acc", "test_acc"])
        writer.writeheader()
        for i, cell in enumerate(cells):
            spec = cell.model_spec()
            for repeat in (0.0, 0.2):
                writer.writerow({"adjacency": "".join(str(v) for v in spec.matrix.reshape(-1)), "ops": ",".join(spec.ops),
                                 "valid_acc": valid - 0.01 * i + repeat, "test_acc": valid - 1 - 0.01 * i + repeat})
    return path


def test_without_nb101_data_cells_keep_their_hash_and_say_why_accuracies_are_missing():
    from spaces.nb1shot1.benchmark import CellNotInData, NB1shot1Benchmark

    bench = NB1shot1Benchmark("none", space=3)
    cell = sample(3, np.random.default_rng(0))
    with pytest.raises(CellNotInData, match=f"no accuracy for cell {cell.model_spec().hash()}"):
        bench.query(cell, "cifar10")
    final = bench.final_evaluation(cell, "cifar10")
    assert final["valid_acc"] is None and final["test_acc"] is None and "table = 'none'" in final["accuracy_missing"]
    assert final["nb101_hash"] == cell.model_spec().hash() and final["params_M"] > 0
    with pytest.raises(ValueError, match="cifar10 only"):
        bench.query(cell, "cifar100")


def test_an_imported_nb101_table_answers_by_hash_and_seals_the_test_split(tmp_path, monkeypatch):
    from spaces.nb101.table import import_nb101
    from spaces.nb1shot1.benchmark import CellNotInData, NB1shot1Benchmark, TestSplitSealed

    monkeypatch.setenv("NAS_HARNESS_CACHE", str(tmp_path / "cache"))
    rng = np.random.default_rng(1)
    cells = [sample(3, rng) for _ in range(3)]
    import_nb101(_table_csv(tmp_path / "mine.csv", cells))
    bench = NB1shot1Benchmark("auto", space=3)
    assert "mine.csv" not in bench.description and "nb101-" in bench.description
    assert bench.query(cells[0], "cifar10") == pytest.approx(93.1)
    assert bench.query(cells[0], "cifar10", "test") == pytest.approx(92.1)
    with bench.sealed(), pytest.raises(TestSplitSealed):
        bench.query(cells[0], "cifar10", "test")
    other = next(c for c in (sample(3, rng) for _ in range(100)) if c.model_spec().hash() not in
                 {x.model_spec().hash() for x in cells})
    with pytest.raises(CellNotInData, match="is not in the NB101 table"):
        bench.query(other, "cifar10")


def test_the_real_subset_gives_validation_accuracy_only_with_the_reason_for_test():
    from spaces.nb1shot1.benchmark import NB1shot1Benchmark
    from spaces.nb101.table import load_subset

    data = shared_data_with("nb101_subset/nb101_naslib_500.csv", "the NB101 500-cell subset")
    bench = NB1shot1Benchmark("subset", data, space=3)
    table = load_subset(data)
    hit = next((c for c in (ArchLayout(3).derive(w) for w in np.random.default_rng(0).random((400,) + ArchLayout(3).shape))
                if table.has(c.model_spec())), None)
    if hit is None:
        pytest.skip("no derived cell of 400 random weights is in the subset")
    found = bench.lookup(hit)
    assert found["valid_acc"] == table.query(hit.model_spec()) and found["test_acc"] is None
    assert "has no test accuracy" in found["accuracy_missing"]


# ---- through the runner ------------------------------------------------------------------------------------
def _run(tmp_path, data_dir, strategies, results="results", **fields):
    from harness.config import load_config
    from harness.records import iter_records
    from harness.runner import run_experiment

    base = {"space": "nb1shot1-3", "epochs": 108, "seeds": [0], "strategies": strategies, "table": "none", **fields}
    config = load_config(write_config(tmp_path / f"{results}.toml", data_dir, **base))
    summary = run_experiment(config, results_root=tmp_path / results, progress=False)
    return summary, {r["run_id"]: r for r in iter_records(summary.results_dir)}


@pytest.mark.parametrize("strategy", [
    {"name": "darts_v1"},
    pytest.param({"name": "darts_v2"}, marks=pytest.mark.slow),
    pytest.param({"name": "gdas"}, marks=pytest.mark.slow),
    pytest.param({"name": "balenas_v1", "samples": 2, "tf_proxies": [], "tf_k": []}, marks=pytest.mark.slow),
    pytest.param({"name": "balenas_v2", "samples": 2, "tf_proxies": [], "tf_k": []}, marks=pytest.mark.slow),
])
def test_one_shot_strategies_search_space_3_and_record_each_epochs_cell_without_data(tmp_path, image_data_dir,
                                                                                      strategy):
    summary, records = _run(tmp_path, image_data_dir, [{**strategy, **TINY}])
    assert summary.failed == 0, summary.failures
    (record,) = records.values()
    final, rows = record["final"], record["trajectory"]
    cell = from_str(final["arch"])
    assert final["nb101_hash"] == cell.model_spec().hash() and final["valid_acc"] is None
    assert final["accuracy_missing"].startswith(f"no accuracy for cell {final['nb101_hash']}")
    assert [r["epoch"] for r in rows] == [1, 2] and rows[-1]["genotype"] == cell.to_str()
    for row in rows:
        assert row["nb101_hash"] == from_str(row["genotype"]).model_spec().hash()
        assert row["table_valid_acc"] is None and row["accuracy_missing"] and row["skip_connections"] is None
        assert np.asarray(row["alpha"]).shape == (10, 6)
    assert np.isfinite(rows[-1]["hessian_eigenvalue"])
    assert record["provenance"]["benchmark"]["name"] == "nb101"


@pytest.mark.parametrize("strategy", ["drnas", "bayesnas"])
def test_strategies_not_built_for_the_packed_rows_refuse_nb1shot1_clearly(tmp_path, image_data_dir, strategy):
    """Refused by the config check, before anything runs, naming the capability the space lacks."""
    from harness.config import ConfigError

    with pytest.raises(ConfigError, match=f"{strategy} needs what space 'nb1shot1-3' does not provide: .*DenseEdgeRows"):
        _run(tmp_path, image_data_dir, [{"name": strategy, **TINY}])


def test_with_nb101_data_every_epochs_cell_gets_its_errors_and_fig1_joins_them_later(tmp_path, image_data_dir,
                                                                                     monkeypatch):
    """A run without data, then the user imports NB101: the report joins the recorded hashes."""
    from reports.fig_panels import figure, join_accuracies, panel_records
    from reports.paper_spec import load_spec
    from spaces.nb101.table import import_nb101

    monkeypatch.setenv("NAS_HARNESS_CACHE", str(tmp_path / "cache"))
    _, first = _run(tmp_path, image_data_dir, [{"name": "darts_v1", **TINY}, {"name": "balenas_v1", **TINY,
                    "samples": 2, "tf_proxies": [], "tf_k": []}], results="before")
    derived = {from_str(row["genotype"]) for r in first.values() for row in r["trajectory"]}
    no_subset = tmp_path / "no_subset"  # not the developer's ../shared/data and its 500-cell subset
    no_subset.mkdir()
    fig1 = load_spec().figures["fig1"]
    assert figure([tmp_path / "before" / "t"], tmp_path / "figs", fig1, str(no_subset)) == []  # nothing to draw yet
    import_nb101(_table_csv(tmp_path / "nb101.csv", sorted(derived, key=lambda c: c.to_str())))
    records = panel_records([tmp_path / "before" / "t"], fig1)
    joined = join_accuracies(records, str(no_subset))
    assert joined["cells"] == joined["valid"] == joined["test"] == 4  # 2 runs x 2 epochs
    paths = figure([tmp_path / "before" / "t"], tmp_path / "figs", fig1, str(no_subset))
    assert [p.name for p in paths] == ["fig1_nb1shot1.png", "fig1_nb1shot1.pdf"] and all(p.stat().st_size for p in paths)
    # a run made with the data has the accuracies in its record already
    summary, after = _run(tmp_path, image_data_dir, [{"name": "darts_v1", **TINY}], results="after", table="auto")
    (record,) = after.values()
    assert all(90 < row["table_valid_acc"] < 94 and 89 < row["table_test_acc"] < 93 for row in record["trajectory"])
    assert record["final"]["accuracy_missing"] is None and record["final"]["test_acc"] is not None


@pytest.mark.slow
def test_random_search_runs_through_the_nb101_backend(tmp_path, image_data_dir, monkeypatch):
    """Space 1 with a (synthetic) NB101 table covering every one of its 2,685 distinct cells."""
    from spaces.nb101.table import import_nb101
    from spaces.nb1shot1.cells import cells

    monkeypatch.setenv("NAS_HARNESS_CACHE", str(tmp_path / "cache"))
    distinct = {c.model_spec().hash(): c for c in cells(1)}
    import_nb101(_table_csv(tmp_path / "all.csv", list(distinct.values()), valid=95.0))
    summary, records = _run(tmp_path, image_data_dir, [{"name": "random_search"}], space="nb1shot1-1", table="auto",
                            budget={"max_queries": 30})
    assert summary.failed == 0, summary.failures
    (record,) = records.values()
    assert record["search"]["n_queries"] == 30
    assert record["final"]["valid_acc"] == max(r["valid_acc"] for r in record["trajectory"])
    assert json.dumps(record["final"]["nb101_spec"])
