"""The docs' worked examples are the files that run: docs/adding_a_strategy.md's one-shot plugin,
written from the docs alone, searches, and appears in the experiment's table and in the figures
under its label."""
from __future__ import annotations

import json
import re

from conftest import REPO
from harness.cli import main
from harness.conformance import TINY_ONE_SHOT, check_strategy
from harness.records import iter_records

DOC = REPO / "docs" / "adding_a_strategy.md"
EXAMPLE = REPO / "docs" / "examples" / "noisy_darts.py"


def _one_shot_block() -> str:
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("## A one-shot strategy"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_docs_one_shot_example_is_the_example_file():
    assert _one_shot_block() == EXAMPLE.read_text(encoding="utf-8")


def test_the_docs_black_box_example_shows_its_imports():
    text = DOC.read_text(encoding="utf-8")
    block = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    assert "import numpy as np" in block and "np.inf" in block


def test_the_one_shot_plugin_conforms_and_is_reported_under_its_label(tmp_path, image_data_dir, synthetic_data_dir,
                                                                       capsys):
    from reports.figures import _one_shot_records
    from spaces import get_space
    from strategies import registry

    registry.load_plugin(str(EXAMPLE))
    settings = {**TINY_ONE_SHOT, "epochs": 2, "epsilon": 0.3}
    assert check_strategy("noisy_darts", get_space("nb201"), data_dir=str(image_data_dir), table="embedded",
                          settings=settings) == []

    lines = ['name = "docs_one_shot"', 'space = "nb201"', 'table = "embedded"', 'datasets = ["cifar10"]', "seeds = [0]",
             f"plugins = [{json.dumps(str(EXAMPLE))}]", f"data_dir = {json.dumps(str(image_data_dir))}",
             'backend = "sequential"']
    for name in ("darts_v1", "noisy_darts"):
        lines += ["[[strategies]]", f'name = "{name}"'] + [f"{k} = {json.dumps(v)}" for k, v in settings.items()
                                                          if name == "noisy_darts" or k != "epsilon"]
    config = tmp_path / "c.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    results = tmp_path / "results"
    assert main(["run", str(config), "--results-dir", str(results), "--no-progress"]) == 0
    records = {r["label"]: r for r in iter_records(results / "docs_one_shot")}
    assert set(records) == {"darts_v1", "noisy_darts"} and all(r["status"] == "done" for r in records.values())
    assert [row["epoch"] for row in records["noisy_darts"]["trajectory"]] == [1, 2]
    capsys.readouterr()
    assert main(["report", "docs_one_shot", "--results-dir", str(results)]) == 0
    assert "| noisy_darts |" in capsys.readouterr().out
    groups = _one_shot_records([results / "docs_one_shot"], "nb201")
    assert set(groups) == {"DARTS (1st) [paper]", "noisy_darts [paper]"}
