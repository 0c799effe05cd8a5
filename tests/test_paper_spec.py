"""The paper's tables as data: the shipped file is complete and checked, a wrong field is named."""
from __future__ import annotations

from pathlib import Path

import pytest

from reports.paper_spec import PaperSpecError, load_spec
from reports.published import published_methods


def test_every_published_row_the_spec_names_exists_and_every_strategy_is_registered():
    from spaces import space_names
    from strategies import registry

    spec = load_spec()
    assert list(spec.tables) == ["table1", "table2", "table3", "table4", "table5"]
    for key, table in spec.tables.items():
        assert table.space in space_names(), key
        for row in table.rows:
            assert row.published is None or row.published in published_methods(key), (key, row.name)
            for strategy in filter(None, (row.strategy, row.compare_strategy)):
                registry.get(strategy)  # KeyError names a row whose strategy does not exist


def test_a_run_finds_the_published_row_it_reproduces():
    spec = load_spec()
    assert spec.published_row_of("nb201", "darts_v1", {}, None)[0] == "DARTS (1st) (Table 1)"
    assert spec.published_row_of("nb201", "balenas_v2", {"samples": 2}, None)[0] == "BaLeNAS (2nd), M = 2 (Table 5)"
    assert spec.published_row_of("nb201", "balenas_v2", {}, "snip@50")[0] == "BaLeNAS with SNIP, K = 50 (Table 4)"
    name, values = spec.published_row_of("nb201", "zero_cost", {"proxy": "synflow", "k": 10}, None)
    assert name == "Zero-cost NAS(10) (Table 2)" and values["cifar10"][0][1] is None  # Table 2 has no valid split
    # Table 1's zero-cost row is synflow at K = 100 (its test means are Table 2's K = 100 ones); it has valid figures too
    name, values = spec.published_row_of("nb201", "zero_cost", {"proxy": "synflow", "k": 100}, None)
    assert name == "Zero-cost NAS (Table 1)" and values["cifar10"] == ((90.19, 0.66), (93.45, 0.28))
    assert spec.published_row_of("darts", "darts_v1", {}, None) is None  # Table 3 is not offered beside experiments
    assert spec.published_row_of("nb201", "darts_v1", {}, "synflow@100") is None


@pytest.mark.parametrize("text, match", [
    ('[tables.t]\ntitle = "T"\nspace = "x"\nlayout = "pie"\nrows = []\n', "layout 'pie' is not one of"),
    ('[tables.t]\ntitle = "T"\nspace = "x"\nlayout = "accuracy"\nrows = [{ name = "a", strategy = "s", colour = 1 }]\n',
     r"rows\[0\] \('a'\): unknown field\(s\) \['colour'\]"),
    ('[tables.t]\ntitle = "T"\nspace = "x"\nlayout = "accuracy"\nrows = [{ name = "a" }]\n', "either a `strategy`"),
    ('compare_order = ["t9"]\n', "compare_order names"),
    ("not toml [", "cannot read"),
])
def test_a_wrong_spec_is_refused_naming_the_field(tmp_path: Path, text: str, match: str):
    path = tmp_path / "tables.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PaperSpecError, match=match):
        load_spec(path)
