"""A space is one package: a synthetic space in a plugin file outside the package goes through both
conformance suites, ``nas-harness run`` and ``nas-harness report`` for every strategy its
capabilities allow, with no edit anywhere else (tests/assets/plugins/toy_space.py)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from conftest import ASSETS
from harness.cli import main
from harness.conformance import check_space, check_strategy
from harness.records import iter_records
from strategies import registry

TOY = ASSETS / "plugins" / "toy_space.py"
BLACK_BOX = ["random_pick", "random_search", "rea", "zero_cost"]
ONE_SHOT = ["darts_v1", "darts_v2", "gdas", "drnas", "balenas_v1", "balenas_v2", "balenas_tf"]


@pytest.fixture(scope="module")
def toy():
    """The toy space, registered for this module only: later tests see the built-in registries."""
    import spaces
    from spaces import get_space

    registry.names()  # the built-ins are imported once: snapshot them with the rest
    saved = [dict(d) for d in (spaces._REGISTERED, spaces._INSTANCES, registry._REGISTRY, registry._PLUGIN_SOURCES)]
    registry.load_plugin(str(TOY))
    yield get_space("toy")
    for live, before in zip((spaces._REGISTERED, spaces._INSTANCES, registry._REGISTRY, registry._PLUGIN_SOURCES), saved):
        live.clear()
        live.update(before)
    for name, module in list(sys.modules.items()):
        if getattr(module, "__file__", None) and Path(module.__file__).resolve() == TOY.resolve():
            del sys.modules[name]  # so that a later test loading the plugin registers it again


def test_the_toy_space_passes_the_space_suite(toy):
    assert check_space(toy) == []


def test_the_space_suite_names_what_a_broken_space_gets_wrong(toy):
    class Broken(type(toy)):
        def from_str(self, text):  # loses the last edge
            arch = super().from_str(text)
            return type(arch)(arch.ops[:2] + (0,))

        def neighbours(self, arch):
            return [arch]

    problems = check_space(Broken())
    assert any("codec does not round-trip" in p for p in problems)
    assert any("contains the architecture itself" in p for p in problems)


def test_the_space_suite_catches_a_benchmark_whose_seal_lets_the_test_split_through(toy):
    import contextlib

    class LeakyBenchmark(type(toy.open_benchmark())):
        def sealed(self):  # a seal that seals nothing
            return contextlib.nullcontext()

        def own_seal(self):
            return self

    class Leaky(type(toy)):
        def open_benchmark(self, choice="auto", data_dir=None):
            return LeakyBenchmark()

    problems = check_space(Leaky())
    assert any("test split of cifar10 is readable while the benchmark is sealed" in p for p in problems)


@pytest.mark.parametrize("name", BLACK_BOX + ONE_SHOT)
def test_every_strategy_the_toy_space_allows_passes_the_strategy_suite(name, toy, image_data_dir):
    assert check_strategy(name, toy, data_dir=str(image_data_dir)) == []


def test_bayesnas_is_refused_by_name_of_the_missing_capability(toy):
    (problem,) = check_strategy("bayesnas", toy)
    assert "bayesnas needs what space 'toy' does not provide: SwitchWalks" in problem


def test_run_and_report_a_toy_experiment_from_the_command_line(tmp_path, image_data_dir, capsys):
    strategies = [{"name": n} for n in BLACK_BOX + ["darts_v1", "gdas", "drnas"]]
    strategies.append({"name": "balenas_v1", "tf_proxies": ["synflow"], "tf_draws": 6, "tf_k": [3, 6], "samples": 2})
    lines = ['name = "toy_run"', 'space = "toy"', 'datasets = ["cifar10"]', "seeds = [0, 1]", 'scale = "smoke"',
             f"plugins = [{json.dumps(str(TOY))}]", f"data_dir = {json.dumps(str(image_data_dir))}",
             'backend = "sequential"', "[budget]", "max_queries = 8"]
    for spec in strategies:
        lines.append("[[strategies]]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in spec.items()]
    config = tmp_path / "toy.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    results = tmp_path / "results"
    assert main(["run", str(config), "--results-dir", str(results), "--no-progress"]) == 0
    records = list(iter_records(results / "toy_run_smoke"))
    assert len(records) == 2 * len(strategies) and all(r["status"] == "done" for r in records)
    assert {r["provenance"]["measure"] for r in records} == {"Toy-formula accuracy (%) of the final cell (synthetic: "
                                                               "30 + 25 reachable + 9 conv + 2.5 skip)"}
    assert all(r["provenance"]["plugin_code"]["space"]["file"] == str(TOY.resolve()) for r in records)
    assert all(r["final"]["arch"].startswith("toy:") for r in records)
    capsys.readouterr()

    assert main(["report", "toy_run_smoke", "--results-dir", str(results)]) == 0
    report = capsys.readouterr().out
    assert "final cells on toy formula (synthetic)" in report and "Toy-formula accuracy (%)" in report
    for spec in strategies:
        assert f"| {spec['name']} |" in report
    assert "balenas_v1 TF(synflow, K=6)" in report
    assert main(["report", "toy_run_smoke", "--results-dir", str(results), "--format", "latex"]) == 0
    assert "Toy-formula accuracy" in capsys.readouterr().out

    bayes = tmp_path / "bayes.toml"
    bayes.write_text("\n".join(lines[:8] + ["[[strategies]]", 'name = "bayesnas"']) + "\n", encoding="utf-8")
    assert main(["run", str(bayes), "--results-dir", str(tmp_path / "refused"), "--no-progress"]) == 2
    assert "bayesnas needs what space 'toy' does not provide: SwitchWalks" in capsys.readouterr().err
    assert not (tmp_path / "refused").exists()


def test_conform_command_runs_both_suites_on_a_plugin_file(image_data_dir, capsys):
    assert main(["conform", "--plugins", str(TOY), "--space", "toy", "--strategy", "rea",
                 "--data-dir", str(image_data_dir)]) == 0
    out = capsys.readouterr().out
    assert "space toy: conforms" in out and "strategy rea on toy: conforms" in out
