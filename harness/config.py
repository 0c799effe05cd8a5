"""Experiment configs (TOML): parsed, validated completely before anything runs.

A config names the space, datasets, seeds, fidelity, budget, backend and a list of strategies
with their keyword arguments. Every mistake is collected and reported at once, each with the
valid choices, so a sweep never dies an hour in because of a typo.
"""
from __future__ import annotations

import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nas_core.problem import Budget

BACKENDS = ("loky", "threading", "sequential", "dask")
#: one day: far above any CPU-preset or paper-scale GPU search, finite so a hung strategy cannot stall a sweep
DEFAULT_MAX_RUN_SECONDS = 86_400.0
#: an experiment name becomes a folder name: no separators, no "..", no leading dot
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
TOP_KEYS = {
    "name", "description", "space", "datasets", "seeds", "epochs", "budget", "strategies",
    "n_jobs", "backend", "scheduler", "plugins", "data_dir", "scale", "evaluate_on", "device", "reuse_from",
    "max_run_seconds", "table",
}
SCALE_NAMES = ("paper", "cpu", "smoke")
#: the space of a config that names none, and of the commands that take ``--space`` (the one
#: place outside ``spaces/`` that names a space: library code never falls back to one)
DEFAULT_SPACE = "nb201"
BUDGET_KEYS = {"max_queries", "max_seconds"}
RESERVED_STRATEGY_KEYS = {"name", "label"}


class ConfigError(ValueError):
    """The config is invalid; the message lists every problem found."""


@dataclass(frozen=True)
class StrategySpec:
    label: str
    name: str
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ExperimentConfig:
    name: str
    space: str
    datasets: tuple[str, ...]
    seeds: tuple[int, ...]
    strategies: tuple[StrategySpec, ...]
    budget: Budget = Budget()
    epochs: int = 200
    n_jobs: int = 1
    backend: str = "loky"
    scheduler: str | None = None
    plugins: tuple[str, ...] = ()
    data_dir: str | None = None
    description: str = ""
    #: extra datasets whose tables the final cell is also looked up in (transfer, e.g. CIFAR-10 search)
    evaluate_on: tuple[str, ...] = ()
    #: where one-shot strategies train: "auto" (CUDA when available), "cpu", "cuda", "cuda:N"
    device: str = "auto"
    #: experiments whose finished records of an identical run (same run id) are copied instead of recomputed
    reuse_from: tuple[str, ...] = ()
    #: wall-clock limit of one run; a run past it is recorded as failed and the sweep goes on
    max_run_seconds: float = DEFAULT_MAX_RUN_SECONDS
    #: "auto": the data search (data dir, cache, then the embedded table); "embedded": the package's table
    table: str = "auto"
    #: the one-shot scale preset ("paper", "cpu", "smoke"); stored in every record's provenance
    scale: str = "paper"


def load_config(path: str | Path, overrides: dict[str, Any] | None = None) -> ExperimentConfig:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} not found")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    raw.setdefault("name", path.stem)
    raw.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return parse_config(raw, source=str(path), base_dir=path.resolve().parent)


def resolve_plugin(spec: str, base_dir: Path | None) -> str:
    """A plugin file path resolved against the config's folder (``base_dir``), made absolute so
    that workers in any folder load the same file. A relative path that exists only from the
    current folder is taken from there (configs written before plugin paths were config-relative);
    a module name (``pkg.mod``) is left as it is."""
    if not spec.endswith(".py") or Path(spec).is_absolute():
        return spec
    for base in ([base_dir] if base_dir is not None else []) + [Path.cwd()]:
        candidate = (base / spec).resolve()
        if candidate.is_file():
            return str(candidate)
    return str(((base_dir or Path.cwd()) / spec).resolve())  # missing: the error names where it was looked for


def parse_config(raw: dict[str, Any], source: str = "<config>", base_dir: Path | None = None) -> ExperimentConfig:
    from spaces import get_space, space_names
    from strategies import registry

    errors: list[str] = []
    for key in sorted(set(raw) - TOP_KEYS):
        errors.append(f"unknown key {key!r}; valid keys: {sorted(TOP_KEYS)}")
    plugins = raw.get("plugins", [])
    if not isinstance(plugins, list) or not all(isinstance(p, str) and p for p in plugins):
        errors.append(f"plugins must be a list of .py file paths or module names, got {plugins!r}")
        plugins = []
    plugins = [resolve_plugin(p, base_dir) for p in plugins]
    for plugin in plugins:
        try:
            registry.load_plugin(plugin)
        except Exception as exc:  # report any plugin failure as a config error
            errors.append(f"plugin {plugin!r} failed to load: {exc}")

    name = raw.get("name")
    if not isinstance(name, str) or not SAFE_NAME.fullmatch(name):
        errors.append(f"name must be letters, digits, '_', '-' or '.' and start with a letter or digit (it names "
                      f"the results folder), got {name!r}")
    space = raw.get("space", DEFAULT_SPACE)
    if space not in space_names():
        errors.append(f"unknown space {space!r}; valid spaces: {space_names()}")
        space_plugin = get_space(DEFAULT_SPACE)  # go on checking the rest against something
    else:
        space_plugin = get_space(space)
    DATASETS = space_plugin.datasets
    datasets = raw.get("datasets", [])
    if isinstance(datasets, str):
        datasets = [datasets]
    if not datasets:
        errors.append(f"datasets must list at least one of {list(DATASETS)}")
    for dataset in datasets:
        if dataset not in DATASETS:
            errors.append(f"unknown dataset {dataset!r}; valid datasets for {space}: {list(DATASETS)}")
    seeds = raw.get("seeds", [0])
    if isinstance(seeds, int) and not isinstance(seeds, bool) and seeds > 0:
        seeds = list(range(seeds))
    if not isinstance(seeds, list) or not seeds or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds):
        errors.append(f"seeds must be a positive count or a list of non-negative integers, got {seeds!r}")
        seeds = []
    elif len(set(seeds)) != len(seeds):
        errors.append(f"seeds contain duplicates: {seeds}")
    device = raw.get("device", "auto")
    if not isinstance(device, str) or not (device in ("auto", "cpu") or device.startswith("cuda")):
        errors.append(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}")
    evaluate_on = raw.get("evaluate_on", [])
    for dataset in evaluate_on:
        if dataset not in DATASETS:
            errors.append(f"unknown dataset {dataset!r} in evaluate_on; valid datasets: {list(DATASETS)}")
    epochs = raw.get("epochs", space_plugin.default_epochs)
    if epochs not in space_plugin.fidelities:
        errors.append(f"epochs must be one of {list(space_plugin.fidelities)} (the {space} benchmark's fidelities), "
                      f"got {epochs!r}")
    budget_raw = raw.get("budget", {})
    budget = Budget()
    if not isinstance(budget_raw, dict):
        errors.append("budget must be a table with max_queries and/or max_seconds")
    else:
        for key in sorted(set(budget_raw) - BUDGET_KEYS):
            errors.append(f"unknown budget key {key!r}; valid keys: {sorted(BUDGET_KEYS)}")
        try:
            budget = Budget(budget_raw.get("max_queries"), budget_raw.get("max_seconds"))
        except ValueError as exc:
            errors.append(str(exc))
        timed = space_plugin.timed_epochs
        if budget.max_seconds is not None and epochs != timed:
            errors.append(f"budget.max_seconds needs epochs = {timed}: the {space} benchmark gives training time "
                          f"for {timed} epochs only")
    n_jobs = raw.get("n_jobs", 1)
    if not isinstance(n_jobs, int) or isinstance(n_jobs, bool) or n_jobs == 0 or n_jobs < -1:
        errors.append(f"n_jobs must be a positive integer or -1 (all cores), got {n_jobs!r}")
    backend = raw.get("backend", "loky")
    if backend not in BACKENDS:
        errors.append(f"unknown backend {backend!r}; valid backends: {list(BACKENDS)}")
    max_run_seconds = raw.get("max_run_seconds", DEFAULT_MAX_RUN_SECONDS)
    if isinstance(max_run_seconds, bool) or not isinstance(max_run_seconds, (int, float)) or not max_run_seconds > 0:
        errors.append(f"max_run_seconds must be a positive number of seconds, got {max_run_seconds!r}")
        max_run_seconds = DEFAULT_MAX_RUN_SECONDS
    table = raw.get("table", "auto")
    if table not in space_plugin.benchmark_choices:
        errors.append(f"table must be one of {list(space_plugin.benchmark_choices)} for space {space!r}, got {table!r}")
    scheduler = raw.get("scheduler")
    if backend == "dask" and not scheduler:
        errors.append("backend 'dask' needs scheduler = \"tcp://host:port\" (the address of a running Dask scheduler)")

    scale = raw.get("scale", "paper")
    if scale not in SCALE_NAMES:
        errors.append(f"unknown scale {scale!r}; valid scales: {list(SCALE_NAMES)}")
        scale = "paper"
    specs = _parse_strategies(raw.get("strategies", []), errors, space_plugin.scales[scale], space_plugin)
    _check_budget_ends_every_search(specs, budget, errors)
    reuse_from = raw.get("reuse_from", [])
    if not isinstance(reuse_from, list) or not all(isinstance(r, str) and r and "/" not in r for r in reuse_from):
        errors.append(f"reuse_from must be a list of experiment names, got {reuse_from!r}")
        reuse_from = []
    if scale != "paper":  # reduced-scale runs get their own results folder, never mixed with paper-scale ones
        name = name if not isinstance(name, str) or name.endswith(f"_{scale}") else f"{name}_{scale}"
        reuse_from = [r if r.endswith(f"_{scale}") else f"{r}_{scale}" for r in reuse_from]
    if errors:
        raise ConfigError(f"invalid config {source}:\n" + "\n".join(f"  - {e}" for e in errors))
    return ExperimentConfig(
        name=name, space=space, datasets=tuple(datasets), seeds=tuple(seeds), strategies=tuple(specs),
        budget=budget, epochs=epochs, n_jobs=n_jobs, backend=backend, scheduler=scheduler,
        plugins=tuple(plugins), data_dir=raw.get("data_dir"), description=raw.get("description", ""),
        evaluate_on=tuple(evaluate_on), device=device, reuse_from=tuple(reuse_from),
        max_run_seconds=float(max_run_seconds), table=table, scale=scale,
    )


def _check_budget_ends_every_search(specs: list[StrategySpec], budget: Budget, errors: list[str]) -> None:
    """A black-box search stops only when its budget is spent: refuse one that could never end."""
    from strategies import registry

    endless = [s.label for s in specs if getattr(registry.get(s.name), "needs_budget", False)]
    if not endless:
        return
    if budget.max_queries is None and budget.max_seconds is None:
        errors.append(f"{', '.join(endless)} search until the budget is spent, and no budget is set: add "
                      "[budget] with max_queries = N and/or max_seconds = S (simulated training seconds)")
    elif budget.max_queries == 0:
        errors.append(f"budget.max_queries = 0 lets {', '.join(endless)} evaluate nothing; set at least 1")


def _parse_strategies(entries: Any, errors: list[str], preset: dict[str, Any] | None = None,
                      space: Any = None) -> list[StrategySpec]:
    from strategies import registry
    from strategies.base import hyperparameter_names

    if not isinstance(entries, list) or not entries:
        errors.append(f"strategies must be a non-empty array of tables ([[strategies]]); registered: {registry.names()}")
        return []
    specs: list[StrategySpec] = []
    for position, entry in enumerate(entries):
        if not isinstance(entry, dict) or "name" not in entry:
            errors.append(f"strategies[{position}] needs a name; registered: {registry.names()}")
            continue
        name = entry["name"]
        kwargs = {k: v for k, v in entry.items() if k not in RESERVED_STRATEGY_KEYS}
        label = entry.get("label", name)
        try:
            cls = registry.get(name)
        except KeyError as exc:
            errors.append(str(exc.args[0]))
            continue
        if getattr(cls, "kind", "") == "one-shot" and preset:  # the space's scale preset fills what the entry leaves unset
            valid = hyperparameter_names(cls)
            kwargs = {**{k: v for k, v in preset.items() if k in valid}, **kwargs}
        if space is not None:  # then the defaults the space's capabilities set for this strategy
            kwargs = {**cls.space_defaults(space), **kwargs}
        problems = check_kwargs(cls, kwargs)
        errors.extend(f"strategies[{position}] ({name}): {e}" for e in problems)
        if not problems:  # store every hyperparameter, defaults included, so the run key is explicit
            try:
                strategy = cls(**kwargs)
            except (ValueError, TypeError) as exc:  # the strategy's own checks of its values
                errors.append(f"strategies[{position}] ({name}): {exc}")
                continue
            problems = strategy.space_problems(space) if space is not None else []
            if problems:  # an incompatible (strategy, space) pair is refused before anything runs
                errors.extend(f"strategies[{position}] ({label}): {problem}" for problem in problems)
                continue
            specs.append(StrategySpec(label=label, name=name, kwargs=strategy.hyperparameters()))
    labels = [s.label for s in specs]
    for label in sorted({l for l in labels if labels.count(l) > 1}):
        errors.append(f"two strategies share the label {label!r}; give each variant its own label = \"...\"")
    return specs


def check_kwargs(cls: type, kwargs: dict[str, Any]) -> list[str]:
    """Unknown names, wrong types, and whatever ``__init__`` itself rejects."""
    from strategies.base import hyperparameter_hints, hyperparameter_names

    valid = hyperparameter_names(cls)
    problems = [f"unknown hyperparameter {k!r}; valid: {valid}" for k in kwargs if k not in valid]
    hints = hyperparameter_hints(cls)
    for key, value in kwargs.items():
        expected = hints.get(key)
        if expected is not None and not _matches(value, expected):
            problems.append(f"{key} = {value!r} should be of type {getattr(expected, '__name__', expected)}")
    if not problems:
        try:
            cls(**kwargs)
        except (TypeError, ValueError) as exc:
            problems.append(str(exc))
    return problems


def _matches(value: Any, expected: Any) -> bool:
    origin = typing.get_origin(expected)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, arg) for arg in typing.get_args(expected))
    if expected is type(None):
        return value is None
    if expected is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(expected, type):
        return isinstance(value, expected)
    return True
