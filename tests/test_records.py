"""The typed, versioned run record (nas_core.records): every committed record still loads and
round-trips exactly, picks travel as a SearchResult, and an unknown schema is refused by name."""
from __future__ import annotations

import json

import pytest

from conftest import REPO, write_config
from harness.config import load_config
from harness.runner import run_experiment
from nas_core.records import (SCHEMA_VERSION, Evaluation, RecordSchemaError, RunRecord, SearchResult, is_run_record,
                              iter_records, iter_runs)


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
