"""Plugin authors are first-class: plugin code is tracked per record, the generator reaches every
ask/tell hook, and ``nas-harness list --plugins`` shows what a file registers."""
from __future__ import annotations

import json

import pytest

from conftest import write_config
from harness.cli import main
from harness.config import load_config
from harness.records import iter_records
from harness.runner import StaleRecords, run_experiment
from strategies import registry

ANNEALING = '''
import math

from strategies.base import AskTellStrategy
from strategies.registry import register


@register("{name}")
class Annealing(AskTellStrategy):
    """Simulated annealing over neighbours; the acceptance draw uses the run's generator."""

    def __init__(self, temperature: float = 1.0) -> None:
        self.temperature = temperature

    def reset(self, problem, rng):
        self.current, self.current_acc, self.draws = None, -math.inf, 0

    def ask(self, problem, rng):
        if self.current is None:
            return problem.space.sample(rng)
        return problem.space.mutate(self.current, rng)

    def tell(self, arch, valid_acc, rng):
        self.draws += 1
        if valid_acc >= self.current_acc or rng.random() < math.exp((valid_acc - self.current_acc) / {scale}):
            self.current, self.current_acc = arch, valid_acc
'''


def _plugin(tmp_path, name: str, scale: str = "self.temperature"):
    path = tmp_path / f"{name}.py"
    path.write_text(ANNEALING.format(name=name, scale=scale), encoding="utf-8")
    return path


def _config(tmp_path, data_dir, name: str):
    return write_config(tmp_path / "c.toml", data_dir, name="plug", plugins=[f"{name}.py"], seeds=[0, 1],
                        strategies=[{"name": name}])


def test_tell_and_reset_get_the_runs_generator_and_stay_deterministic(tmp_path, synthetic_data_dir):
    _plugin(tmp_path, "anneal_rng")
    config = load_config(_config(tmp_path, synthetic_data_dir, "anneal_rng"))
    first = run_experiment(config, tmp_path / "a", progress=False)
    second = run_experiment(config, tmp_path / "b", progress=False)
    assert first.done == second.done == 2 and first.failed == 0
    trajectories = [[r["trajectory"] for r in sorted(iter_records(s.results_dir), key=lambda r: r["seed"])]
                    for s in (first, second)]
    assert trajectories[0] == trajectories[1]


def test_an_edited_plugin_does_not_reuse_its_old_records_silently(tmp_path, synthetic_data_dir, capsys):
    path = _plugin(tmp_path, "anneal_edit")
    config_file = _config(tmp_path, synthetic_data_dir, "anneal_edit")
    results = tmp_path / "results"
    summary = run_experiment(load_config(config_file), results, progress=False)
    records = list(iter_records(summary.results_dir))
    assert summary.done == 2 and all(r["provenance"]["plugin_code"]["strategy"]["file"] == str(path.resolve())
                                     for r in records)
    old_digest = records[0]["provenance"]["plugin_code"]["strategy"]["sha256"]
    assert run_experiment(load_config(config_file), results, progress=False).skipped == 2  # unchanged code: reused

    _plugin(tmp_path, "anneal_edit", scale="(2 * self.temperature)")  # other code, same options: same run ids
    with pytest.raises(StaleRecords, match=r"2 finished record\(s\).*--stale rerun.*--stale keep"):
        run_experiment(load_config(config_file), results, progress=False)
    assert main(["run", str(config_file), "--results-dir", str(results), "--no-progress"]) == 2
    assert "made by different code of a plugin" in capsys.readouterr().err

    kept = run_experiment(load_config(config_file), results, progress=False, stale="keep")
    assert kept.skipped == 2 and kept.done == 0
    redone = run_experiment(load_config(config_file), results, progress=False, stale="rerun")
    assert redone.done == 2
    new_digests = {r["provenance"]["plugin_code"]["strategy"]["sha256"] for r in iter_records(redone.results_dir)}
    assert new_digests != {old_digest} and len(new_digests) == 1
    assert run_experiment(load_config(config_file), results, progress=False).skipped == 2


def test_list_shows_what_a_plugin_file_registers(tmp_path, capsys):
    path = _plugin(tmp_path, "anneal_list")
    assert main(["list", "--plugins", str(path)]) == 0
    out = capsys.readouterr().out
    line = next(l for l in out.splitlines() if l.strip().startswith("anneal_list"))
    assert "temperature=1.0" in line and f"[plugin: {path.resolve()}]" in line
    assert "random_search" in out  # the built-ins stay listed
    broken = tmp_path / "broken_plugin.py"
    broken.write_text("import no_such_module_here\n", encoding="utf-8")
    assert main(["list", "--plugins", str(broken)]) == 2
    assert "failed to load: ModuleNotFoundError" in capsys.readouterr().err


def test_builtin_records_carry_no_plugin_code(tmp_path, synthetic_data_dir):
    config = load_config(write_config(tmp_path / "c.toml", synthetic_data_dir, seeds=[0],
                                      strategies=[{"name": "random_search"}]))
    summary = run_experiment(config, tmp_path / "r", progress=False)
    (record,) = iter_records(summary.results_dir)
    assert "plugin_code" not in record["provenance"]
    json.dumps(record)


def test_reuse_from_copies_a_plugins_records_only_while_its_code_is_unchanged(tmp_path, synthetic_data_dir):
    _plugin(tmp_path, "anneal_reuse")
    results = tmp_path / "results"

    def config(name: str, reuse: list[str] | None = None):
        extra = {"reuse_from": reuse} if reuse else {}
        return load_config(write_config(tmp_path / f"{name}.toml", synthetic_data_dir, name=name,
                                        plugins=["anneal_reuse.py"], seeds=[0, 1],
                                        strategies=[{"name": "anneal_reuse"}], **extra))

    assert run_experiment(config("first"), results, progress=False).done == 2
    assert run_experiment(config("second", ["first"]), results, progress=False).reused == 2  # same code: same runs
    _plugin(tmp_path, "anneal_reuse", scale="(2 * self.temperature)")  # other code, same options: same run ids
    third = run_experiment(config("third", ["first"]), results, progress=False)
    assert third.reused == 0 and third.done == 2  # first's records were made by other code: computed again


def test_a_one_shot_strategy_without_a_distribution_is_refused_when_it_registers():
    from strategies.oneshot import OneShotStrategy

    with pytest.raises(TypeError, match="cannot register as 'no_distribution': a one-shot strategy defines "
                                        r"make_distribution\(\)"):
        @registry.register("no_distribution")
        class NoDistribution(OneShotStrategy):
            """Declares settings and nothing else."""
    assert "no_distribution" not in registry.names()
