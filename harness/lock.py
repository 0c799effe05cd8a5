"""One runner per experiment: an advisory lock on ``<results>/<experiment>/.lock``.

Two runners on one results folder used to delete each other's in-flight temporary files and
crash. Now the runner takes an exclusive ``flock`` before it touches anything (stale
temporaries, checkpoints, records); a second runner refuses at once and names the holder
(pid, host, start time, written into the lock file). The kernel drops the lock when its
holder dies, however it dies, so a killed sweep never leaves a stale lock behind. Workers of a
Dask cluster never write records (the driver does), so the driver's lock covers them too;
``flock`` is not reliable across hosts on some network file systems, so run the driver of one
experiment on one host.
"""
from __future__ import annotations

import os
import socket
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

LOCK_NAME = ".lock"


class ExperimentLocked(RuntimeError):
    """Another runner holds this experiment's results folder."""


@contextmanager
def experiment_lock(results_dir: Path) -> Iterator[None]:
    """Hold the experiment's lock for the duration of the block, or raise :class:`ExperimentLocked`."""
    import fcntl

    path = Path(results_dir) / LOCK_NAME
    with open(path, "a+", encoding="utf-8") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            raise ExperimentLocked(f"experiment folder {results_dir} is in use by another runner ({holder}); wait for "
                                   "it to finish or stop it, then run again: finished runs are kept") from None
        try:
            fh.seek(0)
            fh.truncate()
            fh.write(f"pid {os.getpid()} on {socket.gethostname()}, since "
                     f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime())}")
            fh.flush()
            yield
        finally:
            fh.seek(0)
            fh.truncate()
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
