"""Provenance stamped on every run record: code version, package versions, device."""
from __future__ import annotations

import platform
import subprocess
import sys
from functools import lru_cache
from importlib import metadata
from typing import Any

from harness.paths import REPO_ROOT

_PACKAGES = ("nas-harness", "numpy", "pandas", "joblib", "torch")


@lru_cache(maxsize=1)
def code_version() -> str:
    """``git describe --always --dirty`` of the checkout, else the installed package version."""
    if (REPO_ROOT / ".git").exists():
        try:
            out = subprocess.run(
                ["git", "-C", str(REPO_ROOT), "describe", "--always", "--dirty", "--abbrev=12"],
                capture_output=True, text=True, timeout=10, check=True,
            )
            return out.stdout.strip()
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
