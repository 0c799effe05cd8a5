"""The one-shot loop's checkpoints: one file per run, written atomically every epoch, read on resume.

A component with its own state (the path), not methods of the loop's base class. What goes in
is the loop's business (supernet, distribution, weight optimizer, trajectory, epoch); this
module only writes it so that a killed process never leaves a torn file, and reads it back
with a clear error when the file is unreadable or from an older version.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any


class CheckpointStore:
    """``save(state)`` atomically (temporary file, then rename); ``load(map_location)`` or ``None``."""

    def __init__(self, path: str | os.PathLike[str] | None) -> None:
        self.path = None if path is None else Path(path)

    def exists(self) -> bool:
        return self.path is not None and self.path.is_file()

    def save(self, state: dict[str, Any]) -> None:
        import torch

        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.tmp-{os.getpid()}")
        try:
            torch.save(state, tmp)
            os.replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)

    def load(self, map_location: Any = "cpu") -> dict[str, Any] | None:
        """The saved state, or ``None`` when there is none; an unreadable file is a ``ValueError``
        that names it and the two ways on."""
        import torch

        if not self.exists():
            return None
        try:
            state = torch.load(self.path, weights_only=False, map_location=map_location)
            if "distribution" not in state:
                raise KeyError("no distribution state (a checkpoint of an older version)")
        except Exception as exc:  # torch raises many types for a torn or foreign file
            raise ValueError(f"checkpoint {self.path} is unreadable ({type(exc).__name__}: {exc}); delete it or re-run "
                             "with --no-resume to start this run over") from None
        return state
