"""nas-harness: run NAS strategies under one protocol and keep one record per run.

From Python::

    from harness import load_config, run_experiment
    summary = run_experiment(load_config("configs/nb201_blackbox.toml"))
"""
from __future__ import annotations

from typing import Any

__all__ = ["load_config", "parse_config", "run_experiment"]


def __getattr__(name: str) -> Any:  # keep `import harness` cheap
    if name in ("load_config", "parse_config"):
        from harness import config

        return getattr(config, name)
    if name == "run_experiment":
        from harness.runner import run_experiment

        return run_experiment
    raise AttributeError(name)
