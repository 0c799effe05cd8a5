"""Search spaces as plug-ins: one package per space, each declaring a :class:`spaces.base.SearchSpace`.

A space registers like a strategy: ``@register_space("name")`` on its class, either in a
built-in package (listed lazily in :data:`BUILTIN_SPACES` as ``module:Class``, so that
configs and ``nas-harness list`` can name spaces without importing torch) or in a plugin
file named by a config's ``plugins`` (or ``nas-harness list --plugins FILE``), which the
strategy registry loads. Nothing outside a space's own package names it.
"""
from __future__ import annotations

import importlib
from typing import Any, Callable, TypeVar

from nas_core.splits import Split

#: built-in spaces, imported on first use
BUILTIN_SPACES: dict[str, str] = {
    "nb201": "spaces.nb201.space:NB201Space", "darts": "spaces.darts.space:DartsSpace",
    "nb1shot1-1": "spaces.nb1shot1.space:Space1", "nb1shot1-2": "spaces.nb1shot1.space:Space2",
    "nb1shot1-3": "spaces.nb1shot1.space:Space3",
}
#: spaces registered by ``@register_space`` (built-ins once imported, plugins once loaded)
_REGISTERED: dict[str, type] = {}
_INSTANCES: dict[str, Any] = {}
T = TypeVar("T", bound=type)

__all__ = ["BUILTIN_SPACES", "Split", "get_space", "register_space", "space_names"]


def register_space(name: str) -> Callable[[T], T]:
    """Class decorator: make a :class:`spaces.base.SearchSpace` available under ``name``.

    A second class under a taken name is an error naming both, as for strategies."""

    def decorate(cls: T) -> T:
        existing = _REGISTERED.get(name)
        builtin = BUILTIN_SPACES.get(name)
        ours = f"{cls.__module__}:{cls.__qualname__}"
        if (existing is not None and (existing.__module__, existing.__qualname__) != (cls.__module__, cls.__qualname__)) \
                or (builtin is not None and builtin != ours):
            owner = builtin or f"{existing.__module__}:{existing.__qualname__}"
            raise ValueError(f"{ours} cannot register the space name {name!r}: it is already registered by {owner}; "
                             "give it another name")
        cls.name = name  # type: ignore[attr-defined]
        _REGISTERED[name] = cls
        _INSTANCES.pop(name, None)
        return cls

    return decorate


def space_names() -> list[str]:
    """Names accepted by configs and by ``nas-harness list``: built-ins and loaded plugins."""
    return sorted(set(BUILTIN_SPACES) | set(_REGISTERED))


def get_space(name: str) -> Any:
    """The space plug-in called ``name`` (one instance per process); a ``KeyError`` listing the valid names otherwise."""
    space = _INSTANCES.get(name)
    if space is not None:
        return space
    if name not in _REGISTERED:
        if name not in BUILTIN_SPACES:
            raise KeyError(f"unknown space {name!r}; valid spaces: {space_names()}")
        module, _cls = BUILTIN_SPACES[name].split(":")
        importlib.import_module(module)  # its @register_space fills _REGISTERED
        if name not in _REGISTERED:
            raise KeyError(f"space module {module} does not register {name!r} (missing @register_space)")
    space = _INSTANCES[name] = _REGISTERED[name]()
    return space
