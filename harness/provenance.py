"""Provenance stamped on every run record: code version, package versions, device."""
from __future__ import annotations

import platform
import subprocess
import sys
from functools import lru_cache
from importlib import metadata
from typing import Any

from nas_core.paths import REPO_ROOT

_PACKAGES = ("nas-harness", "numpy", "pandas", "joblib", "torch")


#: what counts as code: a run record written into results/ must not make the next run "dirty"
CODE_PATHS = ("nas_core", "harness", "strategies", "spaces", "reports", "configs", "pyproject.toml")


@lru_cache(maxsize=1)
def code_version() -> str:
    """The checkout's commit, with ``-dirty`` when the code (not results/) has uncommitted
    changes; else the installed package version."""
    if (REPO_ROOT / ".git").exists():
        try:
            git = ["git", "-C", str(REPO_ROOT)]
            head = subprocess.run([*git, "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True,
                                  timeout=10, check=True).stdout.strip()
            changes = subprocess.run([*git, "status", "--porcelain", "--", *CODE_PATHS], capture_output=True, text=True,
                                     timeout=10, check=True).stdout.strip()
            return head + ("-dirty" if changes else "")
        except (OSError, subprocess.SubprocessError):
            pass
    try:
        return metadata.version("nas-harness")
    except metadata.PackageNotFoundError:
        return "unknown"


@lru_cache(maxsize=1)
def provenance(device: str = "cpu") -> dict[str, Any]:
    versions = {"python": sys.version.split()[0]}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return {
        "code_version": code_version(),
        "packages": versions,
        "device": device,
        "machine": f"{platform.system()} {platform.machine()}",
    }
