"""The bad-input catalogue: for each class of mistake (config, CLI, data, table, results folder,
plugin) the exit code, one readable line naming the problem and the fix, and no traceback
unless NAS_HARNESS_DEBUG=1. Other files test the deeper behaviour of each fix."""
from __future__ import annotations

import json

import numpy as np
import pytest

from harness.cli import main

from conftest import write_config


def one_clear_line(capsys, *needles: str) -> str:
    err = capsys.readouterr().err
    first = err.splitlines()[0]
    assert first.startswith("error: ") and "Traceback" not in err, err
    for needle in needles:
        assert needle in first, (needle, first)
    return first


# ---- config ------------------------------------------------------------------------------------
@pytest.mark.parametrize("fields, needle", [
    ({"budget": {}}, "no budget is set: add [budget]"),
    ({"name": ".."}, "name must be letters, digits"),
    ({"max_run_seconds": -1}, "max_run_seconds must be a positive number"),
    ({"strategies": [{"name": "darts_v1", "w_lr": -1.0}]}, "w_lr must be a positive number"),
])
def test_config_mistakes(fields, needle, tmp_path, capsys, synthetic_data_dir):
    config = write_config(tmp_path / "c.toml", synthetic_data_dir, **fields)
    assert main(["run", str(config), "--results-dir", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: invalid config") and needle in err and "Traceback" not in err


# ---- CLI ---------------------------------------------------------------------------------------
def test_cli_override_is_validated_like_the_file(tmp_path, capsys, synthetic_data_dir):
    config = write_config(tmp_path / "c.toml", synthetic_data_dir)
    assert main(["run", str(config), "--results-dir", str(tmp_path / "r"), "--n-jobs", "0"]) == 2
    err = capsys.readouterr().err
    assert "n_jobs must be a positive integer or -1" in err and not (tmp_path / "r").exists()


# ---- data and table ------------------------------------------------------------------------------
def test_a_wrong_nas_harness_data_is_an_error(tmp_path, capsys, monkeypatch, synthetic_data_dir):
    text = (write_config(tmp_path / "c.toml", synthetic_data_dir).read_text()
            .replace(f'data_dir = {json.dumps(str(synthetic_data_dir))}\n', ""))
    config = tmp_path / "c.toml"
    config.write_text(text)
    monkeypatch.setenv("NAS_HARNESS_DATA", str(tmp_path / "nonexistent"))
    assert main(["run", str(config), "--results-dir", str(tmp_path / "r"), "--no-progress"]) == 2
    one_clear_line(capsys, "nonexistent", "NAS_HARNESS_DATA", "does not exist")


def test_a_non_numeric_csv_value_names_file_column_and_line(tmp_path, capsys, synthetic_data_dir):
    import shutil

    data = tmp_path / "data"
    shutil.copytree(synthetic_data_dir, data)
    main_csv = next((data / "nb201").glob("nb201_nats_tss_200ep.csv"))
    lines = main_csv.read_text().splitlines()
    header = lines[0].split(",")
    column = next(i for i, name in enumerate(header) if "acc" in name or "valid" in name)
    cells = lines[5].split(",")
    cells[column] = "oops"
    lines[5] = ",".join(cells)
    main_csv.write_text("\n".join(lines) + "\n")
    assert main(["data", "import", "--data-dir", str(data)]) == 2
    one_clear_line(capsys, "nb201_nats_tss_200ep.csv", f"column {header[column]!r}", "line 6", "'oops' is not a number")


def test_wrong_types_at_the_table_and_the_codec(synthetic_table):
    from spaces.nb201.codec import Arch

    with pytest.raises(TypeError, match="expected an Arch, got str"):
        synthetic_table.query("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|", "cifar10")
    with pytest.raises(ValueError, match="integer op indices"):
        Arch((0.5, 1, 1, 1, 1, 1))
    assert Arch(tuple(np.array([3, 3, 3, 1, 3, 2]))).ops == (3, 3, 3, 1, 3, 2)  # numpy integers are fine


# ---- results folder ------------------------------------------------------------------------------
def test_a_foreign_json_in_the_results_folder_is_skipped_with_a_note(tmp_path, capsys, synthetic_data_dir):
    config = write_config(tmp_path / "c.toml", synthetic_data_dir, name="mixed", strategies=[{"name": "random_pick"}])
    results = tmp_path / "r"
    assert main(["run", str(config), "--results-dir", str(results), "--no-progress"]) == 0
    (results / "mixed" / "notes.json").write_text(json.dumps({"run_id": "mine", "comment": "not a record"}))
    capsys.readouterr()
    assert main(["report", "mixed", "--results-dir", str(results)]) == 0
    captured = capsys.readouterr()
    assert "skipped 1 file(s)" in captured.err and "notes.json" in captured.err
    assert "| random_pick |" in captured.out


# ---- plugin ----------------------------------------------------------------------------------------
def test_a_plugin_reusing_a_builtin_name_is_the_one_blamed(tmp_path, capsys, synthetic_data_dir):
    plugin = tmp_path / "clash.py"
    plugin.write_text("from strategies.base import Strategy\nfrom strategies.registry import register\n\n"
                      "@register('rea')\nclass MyRea(Strategy):\n    def __init__(self):\n        pass\n\n"
                      "    def search(self, problem, rng, log):\n        return problem.space.sample(rng)\n")
    config = write_config(tmp_path / "c.toml", synthetic_data_dir, plugins=[str(plugin)])
    assert main(["run", str(config), "--results-dir", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "nas_harness_plugin_clash.MyRea cannot register the strategy name 'rea'" in err
    assert "already registered by strategies.rea" in err and "Traceback" not in err


def test_debug_mode_shows_the_traceback(tmp_path, monkeypatch, synthetic_data_dir):
    from harness.config import ConfigError

    config = write_config(tmp_path / "c.toml", synthetic_data_dir, name="..")
    monkeypatch.setenv("NAS_HARNESS_DEBUG", "1")
    with pytest.raises(ConfigError):
        main(["run", str(config)])
