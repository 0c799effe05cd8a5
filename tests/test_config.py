"""Configs are validated completely before anything runs, with the valid choices in the message."""
from __future__ import annotations

import pytest

from harness.config import ConfigError, load_config, parse_config

from conftest import write_config

GOOD = {"name": "x", "datasets": ["cifar10"], "seeds": 2, "strategies": [{"name": "rea"}], "budget": {"max_queries": 10}}


def errors_of(**changes):
    with pytest.raises(ConfigError) as info:
        parse_config({**GOOD, **changes})
    return str(info.value)


def test_good_config_parses_with_defaults():
    config = parse_config(GOOD)
    assert config.seeds == (0, 1) and config.epochs == 200 and config.backend == "loky"
    assert config.strategies[0].label == "rea"
    assert config.strategies[0].kwargs == {"population_size": 10, "sample_size": 3}  # defaults made explicit


def test_explicit_defaults_give_the_same_runs_as_implicit_ones():
    from harness.runner import expand

    implicit = expand(parse_config(GOOD))
    explicit = expand(parse_config({**GOOD, "strategies": [{"name": "rea", "population_size": 10, "sample_size": 3}]}))
    assert [j.run_id for j in implicit] == [j.run_id for j in explicit]


def test_shipped_configs_are_valid():
    from conftest import REPO

    for path in (REPO / "configs").glob("*.toml"):
        assert load_config(path).strategies


@pytest.mark.parametrize(
    "changes, fragment",
    [
        ({"strategies": [{"name": "evolution"}]}, "unknown strategy 'evolution'; registered strategies: ["),
        ({"datasets": ["cifar-10"]}, "unknown dataset 'cifar-10'; valid datasets for nb201: ['cifar10-valid'"),
        ({"space": "nb101"}, "unknown space 'nb101'; valid spaces: ['darts', 'nb1shot1-1', 'nb1shot1-2', 'nb1shot1-3', 'nb201']"),
        ({"strategies": [{"name": "rea", "population": 5}]}, "unknown hyperparameter 'population'; valid: ['population_size', 'sample_size']"),
        ({"strategies": [{"name": "rea", "population_size": "ten"}]}, "population_size = 'ten' should be of type int"),
        ({"strategies": [{"name": "rea", "population_size": 3, "sample_size": 5}]}, "sample_size must be an integer in 1..population_size=3"),
        ({"seeds": [0, 0]}, "seeds contain duplicates"),
        ({"seeds": "a"}, "seeds must be"),
        ({"epochs": 100}, "epochs must be one of [200, 12] (the nb201 benchmark's fidelities)"),
        ({"budget": {"max_querys": 5}}, "unknown budget key 'max_querys'; valid keys: ['max_queries', 'max_seconds']"),
        ({"budget": {"max_queries": -1}}, "max_queries must be a non-negative integer"),
        ({"epochs": 12, "budget": {"max_seconds": 100}}, "max_seconds needs epochs = 200"),
        ({"backend": "ray"}, "unknown backend 'ray'; valid backends: ['loky', 'threading', 'sequential', 'dask']"),
        ({"backend": "dask"}, "needs scheduler"),
        ({"n_jobs": 0}, "n_jobs must be"),
        ({"colour": "red"}, "unknown key 'colour'"),
        ({"strategies": [{"name": "rea"}, {"name": "rea", "sample_size": 2}]}, "share the label 'rea'"),
        ({"plugins": ["no/such/file.py"]}, "no/such/file.py' failed to load"),
    ],
)
def test_bad_values_are_rejected_with_the_valid_choices(changes, fragment):
    assert fragment in errors_of(**changes)


def test_all_problems_are_reported_at_once():
    message = errors_of(datasets=["mnist"], epochs=7, backend="mpi")
    assert "mnist" in message and "epochs" in message and "mpi" in message


def test_labels_allow_variants_of_one_strategy():
    config = parse_config({**GOOD, "strategies": [{"name": "rea"}, {"name": "rea", "label": "rea_p20", "population_size": 20}]})
    assert [s.label for s in config.strategies] == ["rea", "rea_p20"]


def test_config_file_errors(tmp_path, synthetic_data_dir):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = [unclosed\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)
    path = write_config(tmp_path / "ok.toml", synthetic_data_dir)
    assert load_config(path).name == "t"


def test_a_black_box_search_without_a_budget_is_refused_before_anything_runs():
    """It used to pass validation and then run forever (17 MB/s of trajectory)."""
    raw = {k: v for k, v in GOOD.items() if k != "budget"}
    with pytest.raises(ConfigError, match=r"rea search until the budget is spent, and no budget is set: add \[budget\]"):
        parse_config(raw)
    assert "evaluate nothing" in errors_of(budget={"max_queries": 0})
    # strategies that end by themselves need no budget
    assert parse_config({**raw, "strategies": [{"name": "random_pick"}, {"name": "zero_cost"}]})


def test_the_oracle_stops_at_the_hard_cap_whatever_the_budget(monkeypatch, synthetic_table):
    import nas_core.problem as problem
    from nas_core.problem import Budget, BudgetExhausted, SearchLog, TabularOracle
    from spaces.nb201.codec import Arch

    monkeypatch.setattr(problem, "HARD_QUERY_CAP", 5)
    oracle = TabularOracle(synthetic_table, "cifar10", 200, Budget(max_seconds=1e15), SearchLog())
    for _ in range(5):
        oracle.evaluate(Arch((3,) * 6))
    with pytest.raises(BudgetExhausted, match="hard cap of 5"):
        oracle.evaluate(Arch((3,) * 6))


@pytest.mark.parametrize("name", ["..", ".", "a/b", "", ".hidden", "a b", "x\\y"])
def test_the_experiment_name_must_be_a_safe_folder_name(name):
    assert "name must be letters, digits" in errors_of(name=name)


def test_plugin_paths_resolve_against_the_config_file(tmp_path, monkeypatch):
    """A config in one folder names its plugin relative to itself; it loads from any working folder."""
    folder = tmp_path / "experiment"
    (folder / "plugins").mkdir(parents=True)
    (folder / "plugins" / "walk.py").write_text(
        "from strategies.random_search import RandomSearch\nfrom strategies.registry import register\n\n"
        "@register('relative_walk')\nclass RelativeWalk(RandomSearch):\n    pass\n", encoding="utf-8")
    config_file = folder / "c.toml"
    config_file.write_text('name = "rel"\ndatasets = ["cifar10"]\nplugins = ["plugins/walk.py"]\n'
                           '[budget]\nmax_queries = 3\n[[strategies]]\nname = "relative_walk"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # not the config's folder
    config = load_config(config_file)
    assert config.plugins == (str((folder / "plugins" / "walk.py").resolve()),)
    assert [s.name for s in config.strategies] == ["relative_walk"]


def test_a_space_sets_a_strategys_space_dependent_default_through_its_capability(tmp_path, synthetic_data_dir):
    """BayesNAS's switch_init comes from the space's switch walk (NB201 0.2, DARTS 1.0), not from a
    preset; an entry's own value wins."""
    from spaces import get_space
    from strategies.bayesnas import BayesNAS

    assert BayesNAS.space_defaults(get_space("nb201")) == {"switch_init": 0.2}
    assert BayesNAS.space_defaults(get_space("darts")) == {"switch_init": 1.0}
    assert all("switch_init" not in preset for preset in get_space("darts").scales.values())
    config = load_config(write_config(tmp_path / "c.toml", synthetic_data_dir, seeds=[0],
                                      strategies=[{"name": "bayesnas"}, {"name": "bayesnas", "label": "b2",
                                                                         "switch_init": 0.5}]))
    assert [s.kwargs["switch_init"] for s in config.strategies] == [0.2, 0.5]
