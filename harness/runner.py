"""Expand a config into jobs, run them with joblib, write one record per run.

Jobs share nothing: each worker loads the strategy registry, the (cached) benchmark of the
configured space and its own RNG derived from the run key. Records are written by the driver as results arrive, each
atomically, so a killed sweep leaves only complete records and re-running it skips every
run whose record says ``done`` (failed and unreadable ones are redone).
"""
from __future__ import annotations

import sys
import time
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterator, Mapping

from harness.config import DEFAULT_MAX_RUN_SECONDS, ExperimentConfig
from harness.lock import experiment_lock
from nas_core.problem import Budget, Problem, SearchLog, TabularOracle
from harness.provenance import provenance
from nas_core.records import (Evaluation, Picks, ResultsWriteError, RunRecord, SearchResult, check_writable, iter_records,
                              read_record, record_path, remove_stale_temporaries, write_record)
from harness.seeding import key_digest, numpy_rng
from harness.time_limit import run_time_limit


@dataclass(frozen=True)
class Job:
    experiment: str
    label: str
    strategy: str
    kwargs: dict[str, Any]
    space: str
    dataset: str
    seed: int
    epochs: int
    budget: Budget
    data_dir: str | None = None
    plugins: tuple[str, ...] = ()
    checkpoint_dir: str | None = None
    evaluate_on: tuple[str, ...] = ()
    device: str = "auto"
    max_run_seconds: float = DEFAULT_MAX_RUN_SECONDS
    table: str = "auto"
    #: the scale preset the hyperparameters came from (provenance only: the hyperparameters are in the key)
    scale: str = "paper"

    def key(self) -> dict[str, Any]:
        """What defines the run apart from its seed; the experiment name is deliberately left out."""
        return {
            "strategy": self.strategy, "hyperparameters": self.kwargs, "space": self.space,
            "dataset": self.dataset, "epochs": self.epochs, "budget": self.budget.as_dict(),
        }

    @property
    def run_id(self) -> str:
        return f"{self.label}__{self.dataset}__seed{self.seed}__{key_digest(self.key())[:8]}"


@dataclass
class SweepSummary:
    results_dir: Path
    total: int
    skipped: int = 0
    reused: int = 0
    done: int = 0
    failed: int = 0
    failures: list[str] = field(default_factory=list)


def expand(config: ExperimentConfig, checkpoint_dir: str | None = None) -> list[Job]:
    """strategies x datasets x seeds, in a fixed order."""
    return [
        Job(
            experiment=config.name, label=spec.label, strategy=spec.name, kwargs=dict(spec.kwargs),
            space=config.space, dataset=dataset, seed=seed, epochs=config.epochs, budget=config.budget,
            data_dir=config.data_dir, plugins=config.plugins, checkpoint_dir=checkpoint_dir,
            evaluate_on=tuple(d for d in config.evaluate_on if d != dataset), device=config.device,
            max_run_seconds=config.max_run_seconds, table=config.table, scale=config.scale,
        )
        for spec in config.strategies
        for dataset in config.datasets
        for seed in config.seeds
    ]


def run_job(job: Job) -> RunRecord:
    """Run one search and its final evaluation; never raises for a failing strategy."""
    exit_with_parent()
    from spaces import get_space
    from strategies import registry

    started = time.time()
    record = skeleton_record(job)
    provenance = dict(record.provenance)
    log = SearchLog()
    try:
        for plugin in job.plugins:
            registry.load_plugin(plugin)
        strategy = registry.get(job.strategy)(**job.kwargs)
        record = record.replace(hyperparameters=strategy.hyperparameters())
        code = plugin_code(job.strategy, job.space)
        if code:  # which plugin code made this record: a later edit of the plugin is noticed on re-run
            provenance["plugin_code"] = code
        space = get_space(job.space)
        benchmark = space.open_benchmark(job.table, job.data_dir).own_seal()  # runs in threads share the data, not the seal
        provenance.update(benchmark.provenance(), scale=job.scale, benchmark_name=space.benchmark_name,
                          measure=space.measure, strategy_kind=strategy.kind, benchmark_kind=benchmark.kind)
        oracle = TabularOracle(benchmark, job.dataset, job.epochs, job.budget, log)
        checkpoint = Path(job.checkpoint_dir) / f"{job.run_id}.pt" if job.checkpoint_dir else None
        problem = Problem(space=space, dataset=job.dataset, budget=job.budget, oracle=oracle, data_dir=job.data_dir,
                          checkpoint_path=checkpoint, device=job.device)
        rng = numpy_rng(job.key(), job.seed)
        t0 = time.perf_counter()
        with benchmark.sealed(), run_time_limit(job.max_run_seconds) as mechanism:
            provenance.update(time_limit_enforced=True, time_limit_mode=mechanism)
            found = SearchResult.of(strategy.search(problem, rng, log))
        search_wall = time.perf_counter() - t0
        provenance.update({"device": "cpu", **found.runtime})
        if not space.is_member(found.arch):
            raise TypeError(f"strategy {job.strategy!r} returned {found.arch!r}, which is not a cell of space {job.space!r}")
        picks = None
        if found.picks:  # several cells from one search (BaLeNAS-TF), each evaluated like the final one
            picks = Picks({key: evaluate_everywhere(benchmark, cell, job.dataset, job.evaluate_on)
                           for key, cell in found.picks.items()}, found.details)
        record = record.replace(final=evaluate_everywhere(benchmark, found.arch, job.dataset, job.evaluate_on), picks=picks,
                                search={"n_queries": oracle.n_queries, "simulated_time_s": oracle.simulated_seconds})
        benchmark.annotate(log.rows, job.dataset)
        record = record.replace(status="done")
        if checkpoint is not None:
            checkpoint.unlink(missing_ok=True)  # a finished run needs no resume point
    except (Exception, SystemExit) as exc:  # a failing run is recorded, the sweep goes on
        search_wall = time.time() - started
        if isinstance(exc, SystemExit):  # sys.exit in a strategy must not end the sweep
            error = f"SystemExit: the strategy called sys.exit({exc.code!r})\n{traceback.format_exc()}"
        else:
            error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"
        record = record.replace(status="failed", error=error)
    return record.replace(trajectory=tuple(log.rows), provenance=provenance, timing={
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "search_wall_time_s": search_wall,
    })


_WATCHING_PARENT = False


def exit_with_parent(poll_seconds: float = 1.0) -> None:
    """In a worker process, exit as soon as the driver that started it is gone.

    A driver killed with SIGKILL cannot tell its loky workers to stop, and they used to run on
    for minutes; a daemon thread now notices the reparenting and ends the worker. Nothing is
    lost: the driver writes the records, and an unfinished run resumes from its checkpoint.
    Does nothing in the driver itself (the sequential and threading backends)."""
    import multiprocessing
    import os
    import threading

    global _WATCHING_PARENT
    if _WATCHING_PARENT or multiprocessing.parent_process() is None:
        return
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(poll_seconds)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
    _WATCHING_PARENT = True


def skeleton_record(job: Job) -> RunRecord:
    """The record of ``job`` before anything ran."""
    return RunRecord(experiment=job.experiment, run_id=job.run_id, strategy=job.strategy, label=job.label,
                     hyperparameters=job.kwargs, space=job.space, dataset=job.dataset, seed=job.seed, epochs=job.epochs,
                     budget=job.budget.as_dict(), provenance=provenance())


def _instant_timing() -> dict[str, Any]:
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return {"started_at": now, "finished_at": now, "search_wall_time_s": None}


def crashed_record(job: Job, cause: BaseException) -> RunRecord:
    """The failed record of a job whose worker process died (``os._exit``, a segfault, the OOM killer)."""
    return skeleton_record(job).replace(
        status="failed", timing=_instant_timing(),
        error=f"WorkerDied: the worker process running this job exited abruptly ({type(cause).__name__}: "
              f"{str(cause).splitlines()[0] if str(cause) else 'no message'}); the strategy called os._exit "
              "or crashed the interpreter")


def evaluate_everywhere(benchmark: Any, arch: Any, dataset: str, evaluate_on: tuple[str, ...]) -> Evaluation:
    """The benchmark's final evaluation on the search dataset, plus ``transfer`` to each of ``evaluate_on``."""
    result = Evaluation.from_dict(benchmark.final_evaluation(arch, dataset))
    if evaluate_on:
        result = replace(result, transfer={d: Evaluation.from_dict(benchmark.final_evaluation(arch, d))
                                           for d in evaluate_on})
    return result


STALE_CHOICES = ("stop", "rerun", "keep")


class StaleRecords(ValueError):
    """Finished records were made by a plugin's earlier code; the message names them and the choices."""


def plugin_code(strategy: str, space: str) -> dict[str, dict[str, str]]:
    """``{"strategy"/"space": {"file", "sha256"}}`` for whichever of the two comes from a plugin
    (empty for the harness's own): stored in a record's provenance, compared on re-run."""
    from spaces import get_space
    from strategies import registry

    found = {"strategy": registry.code_digest(registry.get(strategy)),
             "space": registry.code_digest(type(get_space(space)))}
    return {role: digest for role, digest in found.items() if digest is not None}


def _digests(code: dict[str, Any] | None) -> dict[str, str]:
    return {role: str((entry or {}).get("sha256")) for role, entry in (code or {}).items()}


def pending_jobs(jobs: list[Job], results_dir: Path, stale: str = "stop") -> tuple[list[Job], int]:
    """The jobs without a finished record, and how many have one.

    A finished record of a plugin strategy or space whose source has changed since (its stored
    SHA-256 differs, or it has none) is *stale*: ``stale = "stop"`` refuses to go on and names
    those records, ``"rerun"`` computes them again (their records are replaced), ``"keep"``
    counts them as done. The run id does not change with the code, so without this check an
    edited plugin would silently keep its old results."""
    if stale not in STALE_CHOICES:
        raise ValueError(f"stale must be one of {STALE_CHOICES}, got {stale!r}")
    done = {r["run_id"]: r for r in iter_records(results_dir) if r.get("status") == "done"}
    todo, outdated = [], []
    current_code: dict[tuple[str, str], dict[str, str]] = {}
    for job in jobs:
        record = done.get(job.run_id)
        if record is None:
            todo.append(job)
        elif made_by_other_code(job, record.get("provenance") or {}, current_code):
            outdated.append(job)
    if outdated and stale == "stop":
        names = ", ".join(j.run_id for j in outdated[:5]) + (f" and {len(outdated) - 5} more" if len(outdated) > 5 else "")
        raise StaleRecords(f"{len(outdated)} finished record(s) in {results_dir} were made by different code of a plugin "
                           f"than the one loaded now ({names}); re-run with --stale rerun to compute them again with "
                           "the current code, or --stale keep to keep them as they are")
    if stale == "rerun":
        todo += outdated
    return todo, len(jobs) - len(todo)


def made_by_other_code(job: Job, provenance: Mapping[str, Any],
                       current_code: dict[tuple[str, str], dict[str, str]]) -> bool:
    """Whether a record of ``job`` was made by other code of its plugin strategy or space than the
    code loaded now (``current_code`` caches the digests per (strategy, space))."""
    key = (job.strategy, job.space)
    if key not in current_code:
        current_code[key] = _digests(plugin_code(*key))
    return bool(current_code[key]) and _digests(provenance.get("plugin_code")) != current_code[key]


def reuse_records(jobs: list[Job], results_dir: Path, sources: tuple[str, ...]) -> list[Job]:
    """Copy the finished record of each job that an experiment in ``sources`` already ran.

    The run id holds the label, dataset, seed and a digest of the run key (strategy,
    hyperparameters, space, dataset, fidelity, budget), and seeds derive from the key alone, so
    an equal run id is the same computation; a record is only taken if it was also evaluated on
    every dataset this job wants, and, for a plugin, only if the plugin's code is the code loaded
    now (a record of other code is not the same computation: the job runs). Returns the jobs still to run."""
    remaining = []
    current_code: dict[tuple[str, str], dict[str, str]] = {}
    for job in jobs:
        for source in sources:
            stored = read_record(record_path(results_dir.parent / source, job.run_id))
            record = None if stored is None else RunRecord.from_dict(stored, str(results_dir.parent / source))
            if record is None or record.status != "done" or record.final is None:
                continue
            if made_by_other_code(job, record.provenance, current_code):
                continue
            if set(job.evaluate_on) <= set(record.final.transfer) | {job.dataset}:
                write_record(results_dir, record.replace(experiment=job.experiment,
                                                         provenance={**record.provenance, "reused_from": source}))
                break
        else:
            remaining.append(job)
    return remaining


def _dispatch(config: ExperimentConfig, jobs: list[Job], n_jobs: int) -> Iterator[RunRecord]:
    if config.backend == "sequential" or (n_jobs == 1 and config.backend != "dask"):
        yield from (run_job(job) for job in jobs)
        return
    if config.backend == "threading":
        yield from _threaded(jobs, n_jobs)
        return
    import joblib

    if config.backend == "dask":
        from distributed import Client

        with Client(config.scheduler), joblib.parallel_config(backend="dask"):
            yield from joblib.Parallel(return_as="generator_unordered")(joblib.delayed(run_job)(j) for j in jobs)
        return
    with joblib.parallel_config(backend=config.backend, n_jobs=n_jobs):
        yield from joblib.Parallel(return_as="generator_unordered")(joblib.delayed(run_job)(j) for j in jobs)


def _threaded(jobs: list[Job], n_jobs: int, poll_seconds: float = 0.2) -> Iterator[RunRecord]:
    """The ``threading`` backend: each run in a daemon thread, at most ``n_jobs`` at once.

    A run that overruns its limit normally stops itself (the asynchronous exception of
    :mod:`harness.time_limit`). One blocked inside a C call cannot be stopped: past its limit
    plus :func:`grace_seconds` it is recorded as failed and its thread abandoned (a daemon, it
    ends with the process), so the sweep goes on; a late result of it is dropped."""
    import queue
    import threading

    from harness.time_limit import grace_seconds, limit_message

    finished: queue.Queue = queue.Queue()
    waiting, running = list(jobs), {}

    def work(job: Job) -> None:
        finished.put((job.run_id, run_job(job)))

    while waiting or running:
        while waiting and len(running) < max(1, n_jobs):
            job = waiting.pop(0)
            running[job.run_id] = (job, time.monotonic())
            threading.Thread(target=work, args=(job,), name=f"run-{job.run_id}", daemon=True).start()
        try:
            run_id, record = finished.get(timeout=poll_seconds)
        except queue.Empty:
            now = time.monotonic()
            for run_id, (job, started) in list(running.items()):
                if now - started > job.max_run_seconds + grace_seconds(job.max_run_seconds):
                    del running[run_id]
                    yield abandoned_record(job, limit_message(job.max_run_seconds))
            continue
        if running.pop(run_id, None) is not None:
            yield record


def abandoned_record(job: Job, message: str) -> RunRecord:
    """The failed record of a run whose thread ignored the time limit (blocked in a C call)."""
    return skeleton_record(job).replace(
        status="failed", timing=_instant_timing(),
        error=f"RunTimeLimitExceeded: {message}. The run's thread was blocked outside Python and did not "
              "stop; it was abandoned and its result, if any, is dropped",
        provenance={**provenance(), "time_limit_enforced": True, "time_limit_mode": "abandoned-thread"})


def run_experiment(
    config: ExperimentConfig,
    results_root: str | Path = "results",
    n_jobs: int | None = None,
    progress: bool = True,
    resume: bool = True,
    only: list[tuple[str, int | None]] | None = None,
    stale: str = "stop",
) -> SweepSummary:
    """Run every pending job of ``config``; records go to ``results_root/<config.name>/``.

    ``only``: (strategy label, seed or None) pairs; just those jobs run, in that order. A GPU
    lease of minutes is spent on the runs that matter first, and run ids do not change.
    ``stale``: what to do with finished records of a plugin whose code changed (:func:`pending_jobs`).
    """
    results_dir = Path(results_root) / config.name
    check_writable(results_dir)  # before computing anything: a run nobody can save is wasted
    with experiment_lock(results_dir):  # one runner per experiment; a second one refuses at once
        return _run_locked(config, results_dir, n_jobs, progress, resume, only, stale)


def select_jobs(jobs: list[Job], only: list[tuple[str, int | None]]) -> list[Job]:
    """The jobs named by ``only``, in its order; a label or seed the config lacks is an error."""
    selected: list[Job] = []
    for label, seed in only:
        matches = [j for j in jobs if j.label == label and (seed is None or j.seed == seed)]
        if not matches:
            labels = sorted({j.label for j in jobs})
            seeds = sorted({j.seed for j in jobs})
            raise ValueError(f"--only {label}{'' if seed is None else f':{seed}'} matches no run of this config "
                             f"(labels {labels}, seeds {seeds})")
        selected += [j for j in matches if j not in selected]
    return selected


def _run_locked(config: ExperimentConfig, results_dir: Path, n_jobs: int | None, progress: bool,
                resume: bool, only: list[tuple[str, int | None]] | None = None, stale: str = "stop") -> SweepSummary:
    remove_stale_temporaries(results_dir)
    jobs = expand(config, str(results_dir / "checkpoints"))
    if only:
        jobs = select_jobs(jobs, only)
    todo, skipped = pending_jobs(jobs, results_dir, stale)
    if not resume:  # start interrupted one-shot runs from scratch
        for job in todo:
            (results_dir / "checkpoints" / f"{job.run_id}.pt").unlink(missing_ok=True)
    summary = SweepSummary(results_dir=results_dir, total=len(jobs), skipped=skipped)
    if config.reuse_from:
        remaining = reuse_records(todo, results_dir, config.reuse_from)
        summary.reused, todo = len(todo) - len(remaining), remaining
    if not todo:
        return summary
    from spaces import get_space

    get_space(config.space).open_benchmark(config.table, config.data_dir)  # fail once, clearly, before fanning out; builds caches
    bar = _progress_bar(len(todo), config.name, progress)
    pending = {job.run_id: job for job in todo}

    def keep(record: RunRecord) -> None:
        try:
            write_record(results_dir, record)  # atomic: on failure no partial file remains
        except OSError as exc:
            raise ResultsWriteError(
                f"could not write the record of {record.run_id} to {results_dir} ({exc.strerror or exc}); "
                f"the {summary.done + summary.failed} records written before it are complete: free space or fix "
                "permissions, then re-run to compute the rest") from None
        pending.pop(record.run_id, None)
        if record.status == "done":
            summary.done += 1
        else:
            summary.failed += 1
            summary.failures.append(f"{record.run_id}: {(record.error or 'failed').splitlines()[0]}")
        bar.update(1)

    try:
        try:
            for record in _dispatch(config, todo, n_jobs if n_jobs is not None else config.n_jobs):
                keep(record)
        except _worker_death_errors():
            # a worker process died mid-run and took its batch down; which job killed it is unknown,
            # so run the jobs still pending one at a time: only the culprit fails, the sweep goes on
            for job in list(pending.values()):
                try:
                    (record,) = list(_dispatch(config, [job], 2))
                except _worker_death_errors() as exc:
                    record = crashed_record(job, exc)
                keep(record)
    finally:
        bar.close()
    return summary


def _worker_death_errors() -> tuple[type[BaseException], ...]:
    """What joblib raises in the driver when a loky worker process dies."""
    try:
        from joblib.externals.loky.process_executor import BrokenProcessPool, TerminatedWorkerError
    except ImportError:  # pragma: no cover - joblib always vendors loky
        return ()
    return (TerminatedWorkerError, BrokenProcessPool)


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress_bar(total: int, name: str, enabled: bool) -> Any:
    if not enabled:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, desc=name, unit="run", file=sys.stderr, dynamic_ncols=True)

