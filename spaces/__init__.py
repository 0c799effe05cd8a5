"""Search spaces as plug-ins: one package per space, each declaring a :class:`spaces.base.SearchSpace`.

The registry maps a space name to the class that implements it (``module:Class``), so that
configs and the CLI can refer to spaces by name without importing heavy modules.
"""
from __future__ import annotations

import importlib
from functools import lru_cache
from typing import Any

from nas_core.splits import Split

SPACES: dict[str, str] = {"nb201": "spaces.nb201.space:NB201Space", "darts": "spaces.darts.space:DartsSpace",
                          "nb1shot1-1": "spaces.nb1shot1.space:Space1", "nb1shot1-2": "spaces.nb1shot1.space:Space2",
                          "nb1shot1-3": "spaces.nb1shot1.space:Space3"}

__all__ = ["SPACES", "Split", "get_space", "space_names"]


def space_names() -> list[str]:
    """Names accepted by configs and by ``nas-harness list``."""
    return sorted(SPACES)


@lru_cache(maxsize=None)
def get_space(name: str) -> Any:
    """The space plug-in called ``name`` (a ``KeyError`` listing the valid names otherwise)."""
    try:
        module, cls = SPACES[name].split(":")
    except KeyError:
        raise KeyError(f"unknown space {name!r}; valid spaces: {space_names()}") from None
    return getattr(importlib.import_module(module), cls)()
