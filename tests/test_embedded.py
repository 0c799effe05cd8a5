"""The embedded NB201 table: size, checksum, content against the real CSVs, and the fallback."""
from __future__ import annotations

import numpy as np
import pytest

from spaces.nb201.codec import N_CELLS
from spaces.nb201.embedded import EMBEDDED_TABLE, MAX_BYTES, embedded_columns
from spaces.nb201.table import NB201Table, SCHEMA_VERSION, load_table, locate_table
from spaces.tablefile import read_table

from conftest import write_config


def test_the_embedded_table_is_small_checksummed_and_complete():
    assert EMBEDDED_TABLE.is_file() and EMBEDDED_TABLE.stat().st_size <= MAX_BYTES
    header, columns = read_table(EMBEDDED_TABLE, SCHEMA_VERSION)  # verifies the whole-file digest
    assert header["provenance"]["source"] == "embedded"
    assert not [name for name in columns if name.startswith("latency")]
    table = NB201Table(columns, header)  # checks that arch_ops holds every cell exactly once
    assert set(table.datasets) == {"cifar10-valid", "cifar10", "cifar100", "ImageNet16-120"}
    for dataset in ("cifar10", "cifar100", "ImageNet16-120"):
        for split in ("valid", "test"):
            for epochs in (200, 12):
                values = table.column(dataset, split, epochs)
                assert values.shape == (N_CELLS,) and np.isfinite(values).all()


@pytest.mark.slow
def test_every_embedded_value_matches_the_csvs(real_data_dir):
    from spaces.nb201.importers import import_csvs

    source, _ = import_csvs(real_data_dir / "nb201")
    expected = embedded_columns(source)
    _, columns = read_table(EMBEDDED_TABLE, SCHEMA_VERSION)
    assert set(columns) == set(expected)
    np.testing.assert_array_equal(columns["arch_ops"], source["arch_ops"])
    for name, values in columns.items():
        if name != "arch_ops":
            truth = source[name]
            both_nan = np.isnan(values) & np.isnan(truth)
            gap = np.abs(values.astype(np.float64) - truth) / np.maximum(np.abs(truth), 1e-12)
            assert np.all(both_nan | (gap < 1e-7)), name


def test_with_no_data_anywhere_runs_use_the_embedded_table_and_say_so(tmp_path, monkeypatch):
    import nas_core.paths as paths
    from harness.config import load_config
    from harness.records import iter_records
    from harness.runner import run_experiment

    monkeypatch.delenv("NAS_HARNESS_DATA", raising=False)
    monkeypatch.setenv("NAS_HARNESS_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setattr(paths, "REPO_ROOT", tmp_path / "clone")  # no ../shared beside this "checkout"
    assert locate_table() == EMBEDDED_TABLE
    config = tmp_path / "c.toml"
    write_config(config, tmp_path, name="fresh", strategies=[{"name": "random_pick"}], seeds=[0])
    config.write_text(config.read_text().replace(f'data_dir = "{tmp_path}"\n', ""))
    summary = run_experiment(load_config(config), results_root=tmp_path / "results", progress=False)
    assert summary.done == 1
    (record,) = iter_records(summary.results_dir)
    assert record["provenance"]["table"]["source"] == "embedded"
    assert record["provenance"]["table"]["file"] == str(EMBEDDED_TABLE)
    assert 0 < record["final"]["test_acc"] < 100
    assert load_table().path == EMBEDDED_TABLE


def test_the_quickstart_config_runs_on_the_embedded_table(tmp_path, monkeypatch):
    """The main job's config, cut to one dataset and one seed, computes with no data folder and no score cache."""
    import tomllib

    from conftest import REPO
    from harness.config import parse_config
    from harness.records import iter_records
    from harness.runner import run_experiment

    monkeypatch.setenv("NAS_HARNESS_SCORES", str(tmp_path / "no-scores"))
    raw = tomllib.loads((REPO / "configs" / "quickstart.toml").read_text())
    config = parse_config({**raw, "datasets": ["cifar100"], "seeds": [0], "n_jobs": 1, "backend": "sequential"})
    summary = run_experiment(config, results_root=tmp_path / "results", progress=False)
    assert (summary.done, summary.failed) == (5, 0)
    records = list(iter_records(summary.results_dir))
    assert {r["provenance"]["table"]["source"] for r in records} == {"embedded"}
    assert {r["label"] for r in records} == {"random_pick", "random_search", "rea", "zero_cost_k10", "zero_cost_k100"}


def test_the_quickstart_one_shot_part_runs_when_images_are_there(tmp_path, image_data_dir):
    """configs/quickstart_oneshot.toml (what ./run.sh adds when CIFAR-10 is found), cut to one seed and one epoch."""
    import tomllib

    from conftest import REPO
    from harness.config import parse_config
    from harness.records import iter_records
    from harness.runner import run_experiment
    from spaces.datasets import has_cifar10

    assert has_cifar10(image_data_dir) and not has_cifar10(tmp_path)
    raw = tomllib.loads((REPO / "configs" / "quickstart_oneshot.toml").read_text())
    tiny = {"epochs": 1, "per_class": 4, "batch_size": 16, "image_size": 8}
    strategies = [{**s, **tiny, **({"tf_draws": 10, "tf_k": [10]} if s["name"] == "balenas_v1" else {})}
                  for s in raw["strategies"]]
    config = parse_config({**raw, "seeds": [0], "n_jobs": 1, "backend": "sequential", "strategies": strategies,
                           "data_dir": str(image_data_dir)})
    summary = run_experiment(config, results_root=tmp_path / "results", progress=False)
    assert (summary.done, summary.failed) == (2, 0) and summary.results_dir.name == "quickstart_oneshot_smoke"
    records = {r["strategy"]: r for r in iter_records(summary.results_dir)}
    assert set(records["balenas_v1"]["final"]["selections"]) >= {"synflow@10"}
    assert all(set(r["final"]["transfer"]) == {"cifar100", "ImageNet16-120"} for r in records.values())
