"""The harness on the DARTS space: config checks, the surrogate as benchmark, every strategy
through the runner, space-specific refusals, and Table 3 from records."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from conftest import write_config
from harness.config import ConfigError, parse_config
from harness.records import VOLATILE_ROW_KEYS
from spaces import get_space
from spaces.darts.genotype import DARTS_V2, Genotype, canonical, mutate, neighbours, sample


def darts_raw(**changes):
    raw = {"name": "d", "space": "darts", "datasets": ["cifar10"], "seeds": [0], "budget": {"max_queries": 5},
           "strategies": [{"name": "random_search"}]}
    raw.update(changes)
    return raw


# ---- the plug-in and the config -----------------------------------------------------------------------
def test_both_spaces_are_plug_ins_with_their_own_datasets_and_fidelities():
    nb201, darts = get_space("nb201"), get_space("darts")
    assert (nb201.fidelities, darts.fidelities) == ((200, 12), (98,))
    assert darts.datasets == ("cifar10",) and "cifar100" in nb201.datasets
    assert darts.arch_shape == (2, 14, 8) and nb201.arch_shape == (6, 5)
    with pytest.raises(KeyError, match="unknown space 'nb301'; valid spaces: \\['darts', 'nb1shot1-1', 'nb1shot1-2', 'nb1shot1-3', 'nb201'\\]"):
        get_space("nb301")


@pytest.mark.parametrize("changes, message", [
    ({"datasets": ["cifar100"]}, "unknown dataset 'cifar100'; valid datasets for darts: ['cifar10']"),
    ({"epochs": 200}, "epochs must be one of [98] (the darts benchmark's fidelities)"),
    ({"table": "embedded"}, "table must be one of ['auto'] for space 'darts'"),
    ({"space": "nb301"}, "unknown space 'nb301'; valid spaces: ['darts', 'nb1shot1-1', 'nb1shot1-2', 'nb1shot1-3', 'nb201']"),
])
def test_darts_configs_are_checked_against_the_darts_space(changes, message):
    with pytest.raises(ConfigError) as info:
        parse_config(darts_raw(**changes))
    assert message in str(info.value)


def test_a_darts_config_takes_the_spaces_epochs_and_scale_presets():
    config = parse_config(darts_raw(strategies=[{"name": "darts_v1"}], scale="cpu"))
    assert config.epochs == 98 and config.name == "d_cpu"
    kwargs = config.strategies[0].kwargs
    assert (kwargs["channels"], kwargs["cells_per_stage"], kwargs["image_size"], kwargs["w_weight_decay"]) == (8, 1, 8, 3e-4)
    # the NB201 presets are unchanged (committed run keys depend on them)
    nb201 = parse_config({**darts_raw(strategies=[{"name": "darts_v1"}], scale="cpu"), "space": "nb201",
                          "epochs": 200})
    assert nb201.strategies[0].kwargs["w_weight_decay"] == 5e-4 and nb201.strategies[0].kwargs["cells_per_stage"] == 5


def test_a_time_budget_is_charged_the_surrogates_runtime_prediction():
    config = parse_config(darts_raw(budget={"max_seconds": 1e6}))
    assert config.budget.max_seconds == 1e6


# ---- genotype codec extras --------------------------------------------------------------------------------
def test_neighbours_are_exactly_the_single_mutations():
    rng = np.random.default_rng(0)
    g = sample(rng)
    found = neighbours(g)
    assert len(found) == len(set(found)) and g not in found
    assert all(Genotype.from_str(n.to_str()) == n for n in found)
    reachable = {mutate(g, np.random.default_rng(s)) for s in range(400)}
    assert reachable <= set(found)
    # 16 edges x 6 other ops, plus every input move to a node not yet used
    moves = sum(len([i for i in range(2 + slot // 2) if i not in (src, cell[slot ^ 1][1])])
                for cell in (g.normal, g.reduce) for slot, (_, src) in enumerate(cell))
    assert len(found) == 16 * 6 + moves


def test_canonical_form_ignores_the_order_within_a_node(nb301_benchmark):
    swapped = Genotype(tuple(DARTS_V2.normal[1::-1]) + DARTS_V2.normal[2:], DARTS_V2.reduce)
    assert swapped != DARTS_V2 and canonical(swapped) == canonical(DARTS_V2)
    assert nb301_benchmark.query(swapped, "cifar10") == nb301_benchmark.query(DARTS_V2, "cifar10")


# ---- the surrogate as benchmark -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def nb301_benchmark(darts_data_dir):
    return get_space("darts").open_benchmark("auto", str(darts_data_dir))


def test_the_surrogate_has_no_test_split_and_labels_its_predictions(nb301_benchmark):
    from spaces.darts.benchmark import SurrogateHasNoTestSplit

    assert nb301_benchmark.query(DARTS_V2, "cifar10") == pytest.approx(92.91, abs=0.01)
    with pytest.raises(SurrogateHasNoTestSplit, match="validation split only"):
        nb301_benchmark.query(DARTS_V2, "cifar10", "test")
    with pytest.raises(ValueError, match="covers \\['cifar10'\\] only"):
        nb301_benchmark.query(DARTS_V2, "cifar100")
    with pytest.raises(TypeError, match="expected a DARTS Genotype"):
        nb301_benchmark.query("Genotype(...)", "cifar10")
    final = nb301_benchmark.final_evaluation(DARTS_V2, "cifar10")
    assert final["test_acc"] is None and final["arch_index"] is None and final["flops_M"] is None
    assert final["params_M"] == pytest.approx(3.349342) and final["train_time_s"] > 0
    assert "surrogate" in final["accuracy_source"] and "not a measured accuracy" in final["accuracy_source"]
    assert nb301_benchmark.provenance()["benchmark"]["kind"] == "surrogate"


# ---- strategies through the runner ----------------------------------------------------------------------------
def _run(tmp_path, data_dir, strategies, **fields):
    from harness.config import load_config
    from harness.runner import run_experiment
    from harness.records import iter_records

    fields = {"space": "darts", "epochs": 98, **fields}
    tmp_path.mkdir(parents=True, exist_ok=True)
    config = load_config(write_config(tmp_path / "c.toml", data_dir, strategies=strategies, **fields))
    summary = run_experiment(config, tmp_path / "results", progress=False)
    records = {r["label"] + f"/{r['seed']}": r for r in iter_records(summary.results_dir)}
    return summary, records


def test_black_box_strategies_search_the_surrogate_within_their_budget(tmp_path, darts_data_dir):
    summary, records = _run(tmp_path, darts_data_dir, [{"name": "random_search"}, {"name": "rea", "population_size": 5,
                                                                                      "sample_size": 2},
                                                       {"name": "random_pick"}, {"name": "zero_cost", "k": 3}])
    assert summary.failed == 0 and summary.done == 8, summary.failures
    for key, record in records.items():
        final = record["final"]
        assert Genotype.from_str(final["arch"]) and final["test_acc"] is None and 80 < final["valid_acc"] < 100
        assert record["provenance"]["benchmark"]["kind"] == "surrogate" and record["space"] == "darts"
        if key.startswith(("random_search", "rea")):
            assert record["search"]["n_queries"] == 20
            best = max(r["valid_acc"] for r in record["trajectory"])
            assert final["valid_acc"] == best  # the incumbent is what the search recommends
            assert record["trajectory"][-1]["simulated_time_s"] > 0  # charged the predicted runtime
    # same config and seed, same record (determinism), and different seeds search differently
    assert records["random_search/0"]["final"]["arch"] != records["random_search/1"]["final"]["arch"]
    _, again = _run(tmp_path / "again", darts_data_dir, [{"name": "random_search"}])
    assert again["random_search/0"]["trajectory"] == records["random_search/0"]["trajectory"]


def test_the_experiment_report_of_a_darts_run_says_what_its_numbers_are(tmp_path, darts_data_dir, capsys):
    from harness.cli import main

    _run(tmp_path, darts_data_dir, [{"name": "random_search"}])
    assert main(["report", "t", "--results-dir", str(tmp_path / "results")]) == 0
    out = capsys.readouterr().out
    assert "final cells on NAS-Bench-301 surrogate" in out and "surrogate-predicted validation accuracy" in out
    line = next(l for l in out.splitlines() if l.startswith("| random_search"))
    assert line.split("|")[3].strip() == "–"  # no test split: "–", never 0
    assert "NAS-Bench-201" not in out and "optimal (paper)" not in out


def test_a_time_budget_stops_a_surrogate_search(tmp_path, darts_data_dir):
    summary, records = _run(tmp_path, darts_data_dir, [{"name": "random_search"}], budget={"max_seconds": 50_000.0})
    assert summary.failed == 0
    for record in records.values():
        assert record["search"]["simulated_time_s"] <= 50_000.0
        assert 1 <= record["search"]["n_queries"] < 100


TINY = {"epochs": 2, "channels": 4, "cells_per_stage": 1, "image_size": 8, "per_class": 4, "batch_size": 8,
        "hessian_every": 2}


@pytest.mark.parametrize("strategy", [
    {"name": "darts_v1"},
    pytest.param({"name": "darts_v2"}, marks=pytest.mark.slow),
    pytest.param({"name": "gdas"}, marks=pytest.mark.slow),
    pytest.param({"name": "drnas"}, marks=pytest.mark.slow),
    pytest.param({"name": "balenas_v1", "samples": 2, "tf_proxies": ["synflow"], "tf_draws": 4, "tf_k": [2, 4]},
                 marks=pytest.mark.slow),
])
def test_one_shot_strategies_search_the_darts_space_through_the_same_seam(tmp_path, darts_data_dir, strategy):
    summary, records = _run(tmp_path, darts_data_dir, [{**strategy, **TINY}], seeds=[0])
    assert summary.failed == 0, summary.failures
    (record,) = records.values()
    final = record["final"]
    genotype = Genotype.from_str(final["arch"])
    rows = record["trajectory"]
    assert [r["epoch"] for r in rows] == [1, 2]
    assert rows[-1]["genotype"] == genotype.to_str()  # the last epoch's derivation is the answer
    assert all(r["skip_connections"] == sum(op == "skip_connect" for op, _ in Genotype.from_str(r["genotype"]).normal)
               for r in rows)
    assert all(80 < r["surrogate_valid_acc"] < 100 for r in rows)
    assert math.isfinite(rows[-1]["hessian_eigenvalue"]) and np.asarray(rows[-1]["alpha"]).shape == (2, 14, 8)
    if strategy["name"] == "balenas_v1":
        chosen = record["selection"]["chosen"]
        assert set(chosen) == {"synflow@2", "synflow@4"} and all(Genotype.from_str(g) for g in chosen.values())
        assert set(final["selections"]) == {"argmax_mu", "synflow@2", "synflow@4"}


def test_a_darts_space_search_resumes_to_the_uninterrupted_result(tmp_path, darts_data_dir):
    from nas_core.problem import Budget, Problem, SearchLog
    from strategies import registry

    def search(checkpoint, stop_after=None):
        def stop(epoch):
            if epoch == stop_after:
                raise KeyboardInterrupt

        problem = Problem(space=get_space("darts"), dataset="cifar10", budget=Budget(), data_dir=str(darts_data_dir),
                          checkpoint_path=checkpoint, device="cpu", epoch_callback=stop)
        log = SearchLog()
        arch = registry.get("darts_v1")(**{**TINY, "epochs": 3, "hessian_every": 0}).search(
            problem, np.random.default_rng(5), log)
        return arch, log.rows

    arch, rows = search(None)
    with pytest.raises(KeyboardInterrupt):
        search(tmp_path / "ck.pt", stop_after=2)
    resumed, resumed_rows = search(tmp_path / "ck.pt")
    assert resumed == arch
    strip = lambda rs: [{k: v for k, v in r.items() if k not in VOLATILE_ROW_KEYS} for r in rs]  # noqa: E731
    assert strip(resumed_rows) == strip(rows)


def test_progressive_drnas_is_refused_before_running_naming_the_missing_capability(tmp_path, darts_data_dir):
    from harness.config import ConfigError

    with pytest.raises(ConfigError, match="drnas needs what space 'darts' does not provide: PartialChannels"):
        _run(tmp_path, darts_data_dir, [{"name": "drnas", **TINY, "progressive": True, "stage_epochs": [1, 1]}],
             seeds=[0])
    assert not (tmp_path / "results").exists()  # nothing ran, nothing was written


def test_bayesnas_searches_the_darts_space_with_per_cell_type_switch_groups(tmp_path, darts_data_dir):
    summary, records = _run(tmp_path, darts_data_dir, [{"name": "bayesnas", **TINY, "hessian_batches": 2}], seeds=[0],
                            scale="smoke")
    assert summary.failed == 0, summary.failures
    (record,) = records.values()
    assert record["hyperparameters"]["switch_init"] == 1.0  # the DARTS space's switch walk: the original initialisation
    genotype = Genotype.from_str(record["final"]["arch"])
    rows = record["trajectory"]
    assert rows[-1]["genotype"] == genotype.to_str()
    gamma_child = np.asarray(rows[-1]["gamma_child"])
    assert gamma_child.shape == (2, 14, 8) and np.asarray(rows[-1]["gamma_parent"]).shape == (2, 14)
    assert not np.allclose(gamma_child, 1.0)  # the HARD update ran after the joint epoch
    from reports.trajectories import switch_sparsity

    row = switch_sparsity([record]).splitlines()[4]  # the experiment's report lists its switches, sized for DARTS
    assert "| – | " in row and "/196 |" in row and "pruned_edges" not in rows[-1]


# ---- Table 3 ------------------------------------------------------------------------------------------------------
def test_table3_sets_surrogate_accuracy_params_and_cost_beside_the_paper(tmp_path, darts_data_dir):
    from reports.paper import build, to_latex, to_markdown

    _run(tmp_path, darts_data_dir, [{"name": "random_search"}, {"name": "darts_v1", **TINY, "epochs": 1,
                                                                  "hessian_every": 0}], seeds=[0, 1])
    (table,) = build(["table3"], tmp_path / "results")
    rows = {row.name: row for row in table.rows}
    darts = rows["DARTS (1st)"]
    assert darts.seeds == 2 and darts.scale == "paper"
    assert darts.published[("cifar10", "acc")][0] == pytest.approx(100 - 2.94)
    assert darts.published[("cost", "hours")][0] == pytest.approx(1.5 * 24)
    assert 80 < darts.measured[("cifar10", "acc")][0] < 100 and darts.measured[("params", "M")][0] > 0
    assert rows["BayesNAS"].measured == {}  # not run: published figures only, measured cells print "–"
    text = to_markdown(table)
    assert "predicted validation accuracy" in text and "not the same measure" in text
    params_delta = f"{darts.measured[('params', 'M')][0] - 2.9:+.2f}"
    line = next(l for l in text.splitlines() if l.startswith("| DARTS (1st)"))
    assert params_delta in line and line.count("+") + line.count("-") >= 1
    assert "\\begin{tabular}" in to_latex(table)
    # the NB201 tables never take DARTS-space runs
    (table1,) = build(["table1"], tmp_path / "results")
    assert all(not row.measured for row in table1.rows if "DARTS" in row.name)
