"""Kill a real sweep mid-way (SIGKILL and Ctrl-C), re-run it, and check nothing is lost or duplicated."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.records import read_record

from conftest import ASSETS, REPO, write_config

pytestmark = pytest.mark.slow
N_RUNS = 10


def _default_sigint() -> None:
    """A suite started in the background by a shell without job control (``cmd &``, ``nohup``)
    inherits SIGINT ignored, and so would the sweep: give it the default, as a terminal would."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_sweep(config: Path, results: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "run", str(config), "--results-dir", str(results), "--no-progress"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        preexec_fn=_default_sigint,
    )


def wait_for_records(folder: Path, at_least: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if len(list(folder.glob("*.json"))) >= at_least:
            return
        if proc.poll() is not None:
            pytest.fail(f"sweep ended early: {proc.communicate()}")
        time.sleep(0.05)
    pytest.fail("sweep produced no records in time")


def make_config(tmp_path: Path, data_dir: Path) -> Path:
    return write_config(
        tmp_path / "sweep.toml", data_dir, name="sweep", seeds=list(range(N_RUNS)), backend="loky", n_jobs=2,
        plugins=[str(ASSETS / "plugins" / "misbehaving.py")], strategies=[{"name": "test_slow", "delay": 0.4}],
    )


def check_complete(folder: Path) -> dict[str, dict]:
    records = {p.name: read_record(p) for p in folder.glob("*.json")}
    assert all(r is not None and r["status"] == "done" for r in records.values()), "a record is partial or not done"
    return records


@pytest.mark.parametrize("how", ["SIGKILL", "Ctrl-C"])
def test_interrupted_sweep_resumes_with_nothing_lost_or_duplicated(tmp_path, synthetic_data_dir, how):
    config, results = make_config(tmp_path, synthetic_data_dir), tmp_path / "results"
    folder = results / "sweep"
    proc = start_sweep(config, results)
    wait_for_records(folder, 3, proc)
    if how == "SIGKILL":
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    else:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130 and "run the same command again to resume" in err
        os.killpg(proc.pid, signal.SIGKILL) if proc.poll() is None else None
    before = {name: path.read_bytes() for name, path in ((p.name, p) for p in folder.glob("*.json"))}
    check_complete(folder)
    assert 0 < len(before) < N_RUNS, "the kill came too late to test anything"

    done = subprocess.run(
        [sys.executable, "-m", "harness.cli", "run", str(config), "--results-dir", str(results), "--no-progress"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert f"{len(before)} already done" in done.stdout
    records = check_complete(folder)
    assert len(records) == N_RUNS and len({r["run_id"] for r in records.values()}) == N_RUNS
    assert {r["seed"] for r in records.values()} == set(range(N_RUNS))
    assert all(folder.joinpath(name).read_bytes() == blob for name, blob in before.items()), "a finished run was redone"
    assert not [p for p in folder.iterdir() if p.name.startswith(".") and p.name != ".lock"], \
        "a temporary file was left behind"


def test_concurrent_runners_on_one_experiment_never_crash_or_duplicate(tmp_path, synthetic_data_dir):
    """Several runners started at once on one experiment: one computes, the others refuse at once
    naming the holder (exit 2, one line); every run is done exactly once, all records parse, and
    no temporary file is left. (Before the lock, the second runner deleted the first's in-flight
    temporary file and the first sweep died.)"""
    config = make_config(tmp_path, synthetic_data_dir)
    results = tmp_path / "results"
    runners = [start_sweep(config, results) for _ in range(3)]
    outcomes = [(proc.wait(timeout=120), *proc.communicate()) for proc in runners]
    codes = [code for code, _, _ in outcomes]
    assert codes.count(0) >= 1 and set(codes) <= {0, 2}, outcomes
    for code, _, err in outcomes:
        if code == 2:
            assert err.startswith("error: experiment folder") and "in use by another runner (pid " in err
            assert "Traceback" not in err
    folder = results / "sweep"
    records = check_complete(folder)
    assert len(records) == N_RUNS and len({r["run_id"] for r in records.values()}) == N_RUNS
    assert not list(folder.glob(".*.tmp-*")) and not list(folder.glob(".write-probe*"))
    # and a runner started after them finds everything done and computes nothing
    late = start_sweep(config, results)
    out, _ = late.communicate(timeout=120)
    assert late.returncode == 0 and f"{N_RUNS} already done, 0 finished now" in out


def alive(pid: int) -> bool:
    """Running (not gone, not a zombie waiting for a reaper)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def children_of(pid: int) -> list[int]:
    """Live processes whose parent is ``pid`` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_workers_exit_soon_after_their_driver_is_killed(tmp_path, synthetic_data_dir):
    """SIGKILL to the driver alone (not its process group): its loky workers used to linger for
    minutes; each now watches its parent and exits within a few seconds."""
    config, results = make_config(tmp_path, synthetic_data_dir), tmp_path / "results"
    proc = start_sweep(config, results)
    wait_for_records(results / "sweep", 2, proc)
    workers = children_of(proc.pid)
    assert workers, "no worker processes found"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    deadline = time.time() + 15
    while time.time() < deadline and any(alive(w) for w in workers):
        time.sleep(0.2)
    lingering = [w for w in workers if alive(w)]
    for w in lingering:  # clean up before failing
        os.kill(w, signal.SIGKILL)
    assert not lingering, f"workers {lingering} outlived their driver by 15 s"
