"""A wall-clock limit for one run, enforced inside the process that runs it.

A strategy that never returns used to hang the whole sweep. The runner wraps each search in
:func:`run_time_limit`: an interval timer delivers SIGALRM after ``seconds`` and its handler
raises :class:`RunTimeLimitExceeded` in the search, which the runner records as a failed run.
Python signal handlers run only in a process's main thread; the sequential backend (the
driver) and loky's worker processes run jobs there. Under the ``threading`` and ``dask``
backends jobs run in threads, where no limit can be enforced: the block then runs without one
and says so (``enforced`` is False), rather than pretending.
"""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator


class RunTimeLimitExceeded(Exception):
    """The run went past the experiment's ``max_run_seconds``."""


@contextmanager
def run_time_limit(seconds: float) -> Iterator[bool]:
    """Raise :class:`RunTimeLimitExceeded` in the block after ``seconds``; yields whether the limit is enforced."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield False
        return

    def expire(signum: int, frame: object) -> None:
        raise RunTimeLimitExceeded(f"the run took longer than max_run_seconds = {seconds:g}; raise it in the config "
                                   "if the search needs longer (a one-shot run resumes from its last checkpoint)")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield True
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
