"""Where the harness looks for benchmark data and keeps its caches.

Data directory, first match wins: ``--data-dir`` (explicit), ``NAS_HARNESS_DATA``,
``../shared/data`` beside the checkout (the developer fallback), then ``<cache>/data``.
An explicit choice that does not exist is an error rather than a silent fallback, so a typo
never ends up reading different data than the user asked for.
"""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
ENV_DATA = "NAS_HARNESS_DATA"
ENV_CACHE = "NAS_HARNESS_CACHE"


class DataNotFoundError(FileNotFoundError):
    """Benchmark data is missing; the message says what, where we looked, and how to get it."""


def cache_dir() -> Path:
    """The user cache: ``NAS_HARNESS_CACHE``, else ``$XDG_CACHE_HOME/nas-harness``, else ``~/.cache/nas-harness``."""
    if os.environ.get(ENV_CACHE):
        return Path(os.environ[ENV_CACHE]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "nas-harness"


def data_dir_candidates(explicit: str | os.PathLike[str] | None = None) -> list[tuple[str, Path]]:
    """The places searched, in order, each with the reason it is on the list."""
    found: list[tuple[str, Path]] = []
    if explicit is not None:
        found.append(("--data-dir", Path(explicit).expanduser()))
    if os.environ.get(ENV_DATA):
        found.append((ENV_DATA, Path(os.environ[ENV_DATA]).expanduser()))
    found.append(("../shared/data beside the checkout", REPO_ROOT.parent / "shared" / "data"))
    found.append(("user cache", cache_dir() / "data"))
    return found


def resolve_data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The first existing data directory; an explicit or environment choice must exist."""
    candidates = data_dir_candidates(explicit)
    for reason, path in candidates:
        if path.is_dir():
            return path
        if reason in ("--data-dir", ENV_DATA):
            raise DataNotFoundError(f"data directory {path} (from {reason}) does not exist; fix the path or unset it")
    looked = "\n".join(f"  - {p} ({r})" for r, p in candidates)
    raise DataNotFoundError(
        f"no benchmark data directory found; looked in:\n{looked}\n"
        "Pass --data-dir or set NAS_HARNESS_DATA to the folder holding nb201/ (see README, section Data)."
    )
