"""Search strategies behind one interface; see :mod:`strategies.base` and docs/adding_a_strategy.md."""
from __future__ import annotations

from strategies.registry import get, load_plugin, names, register

__all__ = ["get", "load_plugin", "names", "register"]
