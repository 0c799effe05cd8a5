"""Search spaces: one package per space, each with a cheap codec, a tabular backend and networks.

The registry maps a space name to its package so that configs and the CLI can refer to
spaces by name without importing heavy modules.
"""
from __future__ import annotations

from nas_core.splits import Split

SPACES: dict[str, str] = {"nb201": "spaces.nb201"}

__all__ = ["SPACES", "Split", "space_names"]


def space_names() -> list[str]:
    """Names accepted by configs and by ``nas-harness list``."""
    return sorted(SPACES)
