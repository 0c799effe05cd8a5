"""Name -> strategy class registry, filled by ``@register`` in each strategy's own module.

Built-in modules are imported lazily by name (they must not import torch at module level),
and user strategies come in as plugins: a module name or a ``.py`` file path. A plugin file may
register strategies, spaces (``spaces.register_space``) or both. The SHA-256 of each plugin's
source is kept (:func:`code_digest`): a run record stores the digest of the code that made it, so
that a re-run notices when a plugin changed instead of silently reusing its old records.
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
import threading
from pathlib import Path
from typing import Callable, TypeVar

_REGISTRY: dict[str, type] = {}
BUILTIN_MODULES: tuple[str, ...] = (
    "strategies.random_pick", "strategies.random_search", "strategies.rea", "strategies.zero_cost",
    "strategies.darts", "strategies.gdas", "strategies.balenas", "strategies.drnas",
    "strategies.bayesnas",
)
T = TypeVar("T", bound=type)
#: packages whose code is the harness's own (versioned by its code version, not hashed per record)
OWN_PACKAGES = frozenset({"nas_core", "harness", "strategies", "spaces", "reports"})
#: module name -> {"file", "sha256"} of every plugin loaded in this process, hashed as it was imported
_PLUGIN_SOURCES: dict[str, dict[str, str]] = {}


def register(name: str) -> Callable[[T], T]:
    """Class decorator: make a strategy available under ``name`` (a duplicate is an error)."""

    def decorate(cls: T) -> T:
        existing = _REGISTRY.get(name)
        if existing is not None and (existing.__module__, existing.__qualname__) != (cls.__module__, cls.__qualname__):
            raise ValueError(f"{cls.__module__}.{cls.__qualname__} cannot register the strategy name {name!r}: it is "
                             f"already registered by {existing.__module__}.{existing.__qualname__}; give it another name")
        problems = cls.definition_problems() if hasattr(cls, "definition_problems") else []
        if problems:  # an incomplete strategy is refused when it registers, not when a run reaches the gap
            raise TypeError(f"{cls.__module__}.{cls.__qualname__} cannot register as {name!r}: {'; '.join(problems)}")
        cls.name = name  # type: ignore[attr-defined]
        _REGISTRY[name] = cls
        return cls

    return decorate


def load_builtins() -> None:
    for module in BUILTIN_MODULES:
        importlib.import_module(module)


_PLUGIN_LOCK = threading.RLock()


def load_plugin(spec: str) -> None:
    """Import a user module (``pkg.mod``) or file (``path/to/my_strategy.py``) so it registers.

    Built-ins register first, so a plugin reusing a built-in name is the one blamed. Runs in
    threads (the threading backend, a dask worker) load plugins at the same time: one lock, or
    a second thread would see the module in ``sys.modules`` before its classes registered."""
    with _PLUGIN_LOCK:
        _load_plugin(spec)


def _load_plugin(spec: str) -> None:
    load_builtins()
    path = Path(spec)
    if spec.endswith(".py"):
        if not path.is_file():
            raise FileNotFoundError(f"plugin file {spec} not found")
        module_name = f"nas_harness_plugin_{path.stem}"
        known = _PLUGIN_SOURCES.get(module_name)
        if module_name in sys.modules and (known is None or known == _source_of(path)):
            return  # loaded already, from this very code (a file edited since is loaded again)
        loader_spec = importlib.util.spec_from_file_location(module_name, path)
        assert loader_spec and loader_spec.loader
        module = importlib.util.module_from_spec(loader_spec)
        sys.modules[module_name] = module
        source = _source_of(path)  # hashed before it runs: the code that registers is the code recorded
        try:
            loader_spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[module_name]  # a failed plugin is not half-loaded: the next attempt runs it again
            raise
        _PLUGIN_SOURCES[module_name] = source
    else:
        try:
            module = importlib.import_module(spec)
        except ModuleNotFoundError as exc:
            raise ModuleNotFoundError(f"plugin module {spec!r} could not be imported: {exc}") from None
        file = getattr(module, "__file__", None)
        if file and spec not in _PLUGIN_SOURCES:
            _PLUGIN_SOURCES[spec] = _source_of(Path(file))


def _source_of(path: Path) -> dict[str, str]:
    """``{"file", "sha256"}`` of a plugin's source file as it is now."""
    return {"file": str(path.resolve()), "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


def code_digest(cls: type) -> dict[str, str] | None:
    """``{"file", "sha256"}`` of the plugin source that defines ``cls`` (hashed when it was
    loaded), or ``None`` for the harness's own classes."""
    module = cls.__module__
    if module.split(".")[0] in OWN_PACKAGES:
        return None
    known = _PLUGIN_SOURCES.get(module)
    if known is not None:
        return dict(known)
    file = getattr(sys.modules.get(module), "__file__", None)  # imported some other way (a test, a notebook)
    if not file:
        return {"file": f"<{module}>", "sha256": "unknown"}
    return _source_of(Path(file))


def get(name: str) -> type:
    load_builtins()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown strategy {name!r}; registered strategies: {names()}") from None


def names() -> list[str]:
    load_builtins()
    return sorted(_REGISTRY)
