"""The runner: records, determinism, resume, failures, the test-split seal, backends."""
from __future__ import annotations

import json
import time

import pytest

from harness.config import load_config
from harness.records import deterministic_view, iter_records, read_record
from harness.runner import expand, run_experiment

from conftest import ASSETS, write_config

PLUGIN = str(ASSETS / "plugins" / "misbehaving.py")


def run(tmp_path, data_dir, results="results", **fields):
    config = load_config(write_config(tmp_path / "c.toml", data_dir, **fields))
    return config, run_experiment(config, results_root=tmp_path / results, progress=False)


def records(summary):
    return {r["run_id"]: r for r in iter_records(summary.results_dir)}


def test_one_complete_record_per_run(tmp_path, synthetic_data_dir):
    config, summary = run(tmp_path, synthetic_data_dir)
    assert (summary.total, summary.done, summary.failed) == (4, 4, 0)
    recs = records(summary)
    assert set(recs) == {j.run_id for j in expand(config)}
    rec = recs[next(r for r in recs if r.startswith("rea__"))]
    assert rec["status"] == "done" and rec["error"] is None
    assert rec["hyperparameters"] == {"population_size": 5, "sample_size": 2}
    assert rec["search"]["n_queries"] == 20 and len(rec["trajectory"]) == 20
    row = rec["trajectory"][-1]
    assert set(row) == {"step", "arch", "valid_acc", "simulated_time_s", "incumbent", "incumbent_valid_acc"}
    assert rec["final"]["valid_acc"] == max(r["valid_acc"] for r in rec["trajectory"])
    assert rec["final"]["test_acc"] == rec["final"]["valid_acc"] + 3.0  # synthetic table: test = valid + 3
    assert {"code_version", "packages", "device"} <= set(rec["provenance"])
    assert rec["timing"]["search_wall_time_s"] >= 0
    # the record names the table it read: file, source and the whole file's SHA-256
    import hashlib
    from pathlib import Path

    table = rec["provenance"]["table"]
    assert table["source"] == "csv" and table["file"].endswith(".v2.nht")
    assert table["sha256"] == hashlib.sha256(Path(table["file"]).read_bytes()[:-32]).hexdigest()


def test_same_config_and_seed_give_identical_records(tmp_path, synthetic_data_dir):
    _, first = run(tmp_path, synthetic_data_dir, results="a")
    _, second = run(tmp_path, synthetic_data_dir, results="b", name="other_name")
    a, b = records(first), records(second)
    assert set(a) == set(b)
    for run_id in a:
        view_a, view_b = deterministic_view(a[run_id]), deterministic_view(b[run_id])
        view_a.pop("experiment"), view_b.pop("experiment")
        assert view_a == view_b


def test_different_seeds_give_different_runs(tmp_path, synthetic_data_dir):
    _, summary = run(tmp_path, synthetic_data_dir, seeds=[0, 1, 2, 3], strategies=[{"name": "random_search"}])
    trajectories = {json.dumps(r["trajectory"]) for r in records(summary).values()}
    assert len(trajectories) == 4


def test_rerun_skips_finished_runs(tmp_path, synthetic_data_dir):
    _, first = run(tmp_path, synthetic_data_dir)
    stamps = {p: p.stat().st_mtime_ns for p in first.results_dir.glob("*.json")}
    _, again = run(tmp_path, synthetic_data_dir)
    assert (again.skipped, again.done) == (4, 0)
    assert stamps == {p: p.stat().st_mtime_ns for p in again.results_dir.glob("*.json")}


def test_failed_run_is_recorded_and_the_sweep_goes_on_then_retried(tmp_path, synthetic_data_dir):
    fields = dict(plugins=[PLUGIN], datasets=["cifar10", "cifar100"], strategies=[{"name": "test_failing"}])
    _, summary = run(tmp_path, synthetic_data_dir, **fields)
    assert (summary.done, summary.failed) == (2, 2)
    failed = [r for r in records(summary).values() if r["status"] == "failed"]
    assert all(r["dataset"] == "cifar100" and "RuntimeError: boom on purpose" in r["error"] for r in failed)
    assert all("Traceback" in r["error"] for r in failed)
    _, again = run(tmp_path, synthetic_data_dir, **fields)
    assert (again.skipped, again.failed) == (2, 2)  # failed runs are retried, done ones are not


@pytest.mark.parametrize("strategy, error", [("test_peeking", "TestSplitAccessError"), ("test_garbage", "TypeError")])
def test_misbehaving_strategies_fail_their_run(tmp_path, synthetic_data_dir, strategy, error):
    _, summary = run(tmp_path, synthetic_data_dir, plugins=[PLUGIN], seeds=[0], strategies=[{"name": strategy}])
    (rec,) = records(summary).values()
    assert rec["status"] == "failed" and rec["error"].startswith(error)


def test_corrupt_record_is_redone_and_stale_temporaries_are_removed(tmp_path, synthetic_data_dir):
    _, summary = run(tmp_path, synthetic_data_dir)
    victim = sorted(summary.results_dir.glob("*.json"))[0]
    victim.write_text('{"run_id": "x", "status": "do')  # a torn write by some other tool
    (summary.results_dir / ".leftover.json.tmp-123").write_text("{")
    assert read_record(victim) is None
    _, again = run(tmp_path, synthetic_data_dir)
    assert (again.skipped, again.done) == (3, 1)
    assert read_record(victim)["status"] == "done"
    assert [p.name for p in summary.results_dir.glob(".*")] == [".lock"]  # only the (released) runner lock


def test_loky_processes_give_the_same_records_as_sequential(tmp_path, synthetic_data_dir):
    _, seq = run(tmp_path, synthetic_data_dir, results="seq")
    _, par = run(tmp_path, synthetic_data_dir, results="par", backend="loky", n_jobs=2)
    a, b = records(seq), records(par)
    assert {k: deterministic_view(v) for k, v in a.items()} == {k: deterministic_view(v) for k, v in b.items()}


def test_12_epoch_search_reports_200_epoch_final(tmp_path, real_data_dir):
    _, summary = run(tmp_path, real_data_dir, epochs=12, seeds=[0], strategies=[{"name": "random_search"}])
    (rec,) = records(summary).values()
    assert rec["status"] == "done", rec["error"]
    assert rec["trajectory"][0]["simulated_time_s"] is None
    assert rec["final"]["valid_acc"] != max(r["valid_acc"] for r in rec["trajectory"])  # 200-ep vs 12-ep values


@pytest.mark.slow
def test_dask_backend_on_a_loopback_local_cluster(tmp_path, synthetic_data_dir):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None,
                                  processes=True) as cluster:
        _, summary = run(tmp_path, synthetic_data_dir, results="dask", backend="dask", scheduler=cluster.scheduler_address)
    _, reference = run(tmp_path, synthetic_data_dir, results="seq")
    assert summary.done == 4
    assert {k: deterministic_view(v) for k, v in records(summary).items()} == {
        k: deterministic_view(v) for k, v in records(reference).items()
    }


@pytest.mark.slow
def test_time_limit_stops_a_spinning_run_on_a_dask_worker(tmp_path, synthetic_data_dir):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, host="127.0.0.1", dashboard_address=None,
                                  processes=True) as cluster:
        _, summary = run(tmp_path, synthetic_data_dir, plugins=[PLUGIN], seeds=[0], max_run_seconds=1.5,
                         backend="dask", scheduler=cluster.scheduler_address,
                         strategies=[{"name": "test_spin"}, {"name": "random_pick"}])
    recs = {r["strategy"]: r for r in records(summary).values()}
    assert recs["test_spin"]["status"] == "failed"
    assert recs["test_spin"]["provenance"]["time_limit_mode"] == "async-exception"
    assert recs["random_pick"]["status"] == "done"


def test_one_shot_run_records_diagnostics_and_transfer(tmp_path, synthetic_data_dir, image_data_dir):
    """The table accuracies of each epoch's cell are added after the search; the checkpoint goes."""
    import shutil

    data = tmp_path / "data"
    shutil.copytree(synthetic_data_dir, data)
    shutil.copytree(image_data_dir / "cifar-10-batches-py", data / "cifar-10-batches-py")
    tiny = {"name": "darts_v1", "epochs": 2, "channels": 4, "cells_per_stage": 1, "image_size": 8, "per_class": 4,
            "batch_size": 16, "hessian_every": 1}
    _, summary = run(tmp_path, data, seeds=[0], strategies=[tiny], evaluate_on=["cifar10", "cifar100"])
    (rec,) = records(summary).values()
    assert rec["status"] == "done", rec["error"]
    assert [r["epoch"] for r in rec["trajectory"]] == [1, 2]
    assert all("table_test_acc" in r and "hessian_eigenvalue" in r for r in rec["trajectory"])
    assert set(rec["final"]["transfer"]) == {"cifar100"}
    assert not list((summary.results_dir / "checkpoints").glob("*.pt"))
    from reports.load import load_runs

    assert sorted(load_runs(summary.results_dir)["dataset"]) == ["cifar10", "cifar100"]


def test_reuse_from_copies_identical_runs_of_another_experiment(tmp_path, synthetic_data_dir):
    _, first = run(tmp_path, synthetic_data_dir, name="first")
    strategies = [{"name": "random_search"}, {"name": "rea", "population_size": 4, "sample_size": 2}]
    _, second = run(tmp_path, synthetic_data_dir, name="second", reuse_from=["first"], strategies=strategies)
    assert (second.total, second.reused, second.done) == (4, 2, 2)  # random_search copied, the changed rea computed
    copied = {k: v for k, v in records(second).items() if k.startswith("random_search")}
    original = records(first)
    assert len(copied) == 2
    for run_id, record in copied.items():
        assert record["experiment"] == "second" and record["provenance"]["reused_from"] == "first"
        assert deterministic_view({**record, "experiment": "first"}) == deterministic_view(original[run_id])


def test_sys_exit_and_a_hung_strategy_fail_their_run_and_the_sweep_goes_on(tmp_path, synthetic_data_dir):
    _, summary = run(tmp_path, synthetic_data_dir, plugins=[PLUGIN], seeds=[0], max_run_seconds=1.5,
                     strategies=[{"name": "test_exit"}, {"name": "test_hang"}, {"name": "random_pick"}])
    recs = {r["strategy"]: r for r in records(summary).values()}
    assert recs["test_exit"]["status"] == "failed"
    assert recs["test_exit"]["error"].startswith("SystemExit: the strategy called sys.exit(3)")
    assert recs["test_hang"]["status"] == "failed"
    assert recs["test_hang"]["error"].startswith("RunTimeLimitExceeded: the run took longer than max_run_seconds = 1.5")
    assert recs["test_hang"]["provenance"]["time_limit_enforced"] is True
    assert recs["test_hang"]["provenance"]["time_limit_mode"] == "signal"
    assert recs["random_pick"]["status"] == "done"
    assert (summary.done, summary.failed) == (1, 2)


def test_time_limit_holds_in_the_threading_backend(tmp_path, synthetic_data_dir):
    """A Python loop gets the asynchronous exception; a thread blocked in C (sleep) is abandoned."""
    started = time.monotonic()
    _, summary = run(tmp_path, synthetic_data_dir, plugins=[PLUGIN], seeds=[0], max_run_seconds=1.5,
                     backend="threading", n_jobs=2,
                     strategies=[{"name": "test_spin"}, {"name": "test_hang"}, {"name": "random_pick"}])
    assert time.monotonic() - started < 60
    recs = {r["strategy"]: r for r in records(summary).values()}
    assert recs["test_spin"]["status"] == "failed"
    assert recs["test_spin"]["error"].startswith("RunTimeLimitExceeded: the run took longer than max_run_seconds = 1.5")
    assert recs["test_spin"]["provenance"]["time_limit_mode"] == "async-exception"
    assert recs["test_hang"]["status"] == "failed" and "abandoned" in recs["test_hang"]["error"]
    assert recs["test_hang"]["provenance"]["time_limit_mode"] == "abandoned-thread"
    assert recs["random_pick"]["status"] == "done"
    assert (summary.done, summary.failed) == (1, 2)


def test_the_asynchronous_limit_leaves_a_run_that_finishes_in_time_alone():
    import threading

    from harness.time_limit import RunTimeLimitExceeded, run_time_limit

    outcome = {}

    def quick() -> None:
        with run_time_limit(0.3) as mechanism:
            outcome["mechanism"] = mechanism
        time.sleep(0.6)  # past the limit, outside the block: nothing may be raised here
        outcome["after"] = "fine"

    def slow() -> None:
        try:
            with run_time_limit(0.3):
                while True:
                    pass
        except RunTimeLimitExceeded as exc:
            outcome["slow"] = str(exc)

    threads = [threading.Thread(target=quick), threading.Thread(target=slow)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert outcome["mechanism"] == "async-exception" and outcome["after"] == "fine"
    assert outcome["slow"].startswith("the run took longer than max_run_seconds = 0.3")


def test_a_worker_killed_by_os_exit_fails_only_its_own_run(tmp_path, synthetic_data_dir):
    _, summary = run(tmp_path, synthetic_data_dir, plugins=[PLUGIN], seeds=[0, 1], backend="loky", n_jobs=2,
                     strategies=[{"name": "test_hard_exit", "label": "crash"},
                                 {"name": "test_hard_exit", "label": "fine", "crash": False}])
    recs = list(records(summary).values())
    assert len(recs) == 4
    for rec in recs:
        if rec["label"] == "crash":
            assert rec["status"] == "failed" and rec["error"].startswith("WorkerDied: the worker process")
        else:
            assert rec["status"] == "done"
    assert (summary.done, summary.failed) == (2, 2)


def test_max_run_seconds_is_validated():
    from harness.config import ConfigError, parse_config

    with pytest.raises(ConfigError, match="max_run_seconds must be a positive number"):
        parse_config({"name": "x", "datasets": ["cifar10"], "strategies": [{"name": "random_pick"}], "max_run_seconds": 0})


def test_only_runs_the_named_jobs_in_order_with_unchanged_run_ids(tmp_path, synthetic_data_dir):
    """``--only rea:1 --only random_search`` runs those three jobs; their records equal a full sweep's."""
    from harness.runner import select_jobs

    config = load_config(write_config(tmp_path / "c.toml", synthetic_data_dir))
    jobs = expand(config)
    chosen = select_jobs(jobs, [("rea", 1), ("random_search", None)])
    assert [(j.label, j.seed) for j in chosen] == [("rea", 1), ("random_search", 0), ("random_search", 1)]
    with pytest.raises(ValueError, match=r"rea:7 matches no run.*seeds \[0, 1\]"):
        select_jobs(jobs, [("rea", 7)])
    summary = run_experiment(config, results_root=tmp_path / "only", progress=False, only=[("rea", 1)])
    assert (summary.total, summary.done) == (1, 1)
    _, full = run(tmp_path, synthetic_data_dir, results="full")
    (only_record,) = records(summary).values()
    assert deterministic_view(only_record) == deterministic_view(records(full)[only_record["run_id"]])
