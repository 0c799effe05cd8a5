"""The typed, versioned run record (nas_core.records): every committed record still loads and
round-trips exactly, picks travel as a SearchResult, and an unknown schema is refused by name."""
from __future__ import annotations

import json

import pytest

from conftest import REPO, write_config
from harness.config import load_config
from harness.runner import run_experiment
from nas_core.records import (SCHEMA_VERSION, Evaluation, RecordSchemaError, RunRecord, SearchResult,
                              deterministic_view, is_run_record, iter_records, iter_runs, reported_scale)


def _committed() -> list:
    found = []
    for path in sorted((REPO / "results").glob("*/*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if is_run_record(data):
            found.append((path, data))
    return found


def test_every_committed_record_loads_and_round_trips_exactly():
    committed = _committed()
    assert committed, "the repository holds committed records"
    for path, data in committed:
        record = RunRecord.from_dict(data, str(path))
        assert record.to_dict() == {**data, "schema_version": SCHEMA_VERSION}, path
        if data["final"] and data["final"].get("selections"):
            assert record.picks is not None and set(record.picks.evaluations) == set(data["final"]["selections"])
            assert record.picks.details == data.get("selection")


def test_a_new_record_states_its_version_scale_and_measure(tmp_path, synthetic_data_dir):
    config = load_config(write_config(tmp_path / "c.toml", synthetic_data_dir, seeds=[0],
                                      strategies=[{"name": "random_search"}]))
    summary = run_experiment(config, tmp_path / "r", progress=False)
    (stored,) = iter_records(summary.results_dir)
    assert stored["schema_version"] == SCHEMA_VERSION
    (record,) = iter_runs(summary.results_dir)
    assert record.scale == "paper" and record.measure == "Accuracy (%) of the final cell at 200 epochs"
    assert isinstance(record.final, Evaluation) and record.final.valid_acc == stored["final"]["valid_acc"]
    assert record.provenance["benchmark_name"] == "NAS-Bench-201 table (tabular)"
    assert record.provenance["strategy_kind"] == "tabular" and record.provenance["benchmark_kind"] == "tabular"
    assert reported_scale(stored) == "table"  # a lookup-only run: presets do not change it


def test_every_committed_record_states_what_reports_read():
    """The reports read the scale and kinds from the record, never from its folder's name."""
    from harness.records_upgrade import STATED

    for path, data in _committed():
        assert all(key in data["provenance"] for key in STATED), path
        assert reported_scale(data) in ("table", "surrogate", "cpu", "smoke", "paper"), path


def test_records_upgrade_states_the_scale_and_keeps_run_ids_and_results(tmp_path):
    from harness.cli import main

    path, data = next((p, d) for p, d in _committed() if d["strategy"] == "darts_v1")
    old = {k: v for k, v in data.items() if k != "schema_version"}
    old["provenance"] = {k: v for k, v in data["provenance"].items()
                         if k not in ("scale", "strategy_kind", "benchmark_kind", "benchmark_name", "measure")}
    folder = tmp_path / "exp_cpu"
    folder.mkdir()
    (folder / path.name).write_text(json.dumps(old), encoding="utf-8")
    assert reported_scale(old) == "unrecorded"
    assert main(["records", "upgrade", str(folder)]) == 2  # the scale is not guessed from the folder's name
    assert json.loads((folder / path.name).read_text(encoding="utf-8")) == old  # nothing written
    assert main(["records", "upgrade", str(folder), "--scale", "huge"]) == 2
    assert main(["records", "upgrade", str(folder), "--scale", "cpu"]) == 0
    (upgraded,) = iter_records(folder)
    assert upgraded["run_id"] == old["run_id"] and upgraded["schema_version"] == SCHEMA_VERSION
    assert deterministic_view(upgraded) == deterministic_view(old)
    assert reported_scale(upgraded) == "cpu" and upgraded["provenance"]["strategy_kind"] == "one-shot"
    assert main(["records", "upgrade", str(folder)]) == 0  # idempotent: nothing left to state


def test_an_unknown_schema_version_is_refused_by_name(tmp_path):
    _, data = _committed()[0]
    with pytest.raises(RecordSchemaError, match="schema_version 99 is not one this harness reads"):
        RunRecord.from_dict({**data, "schema_version": 99}, "x.json")
    (tmp_path / "future.json").write_text(json.dumps({**data, "schema_version": 99}), encoding="utf-8")
    skipped: list = []
    assert list(iter_records(tmp_path, skipped)) == [] and [p.name for p in skipped] == ["future.json"]
    with pytest.raises(RecordSchemaError, match="missing"):
        RunRecord.from_dict({"status": "done"}, "y.json")


def test_search_result_carries_picks_and_a_bare_architecture_is_one():
    assert SearchResult.of("cell").arch == "cell" and SearchResult.of("cell").picks == {}
    result = SearchResult("a", picks={"p": "b"}, details={"draws": 2})
    assert SearchResult.of(result) is result
